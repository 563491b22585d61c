package checkoutcom

// behaviour is what a test card does.
type behaviour struct {
	resp           gatewayResponse // the authorization's outcome
	threeDS        bool            // needs strong customer authentication
	declineCapture bool
	declineRefunds bool
	declineVoids   bool
}

var (
	respSCARequired  = gatewayResponse{"20154", "3DS Authentication Required"}
	respExpiredCard  = gatewayResponse{"20054", "Expired Card"}
	respFraud        = gatewayResponse{"20059", "Suspected Fraud"}
	respReferIssuer  = gatewayResponse{"20001", "Refer to Card Issuer"}
	respActionFailed = gatewayResponse{"20005", "Declined - Do Not Honour"}
)

// testCards are the sandbox's documented cards: Checkout.com's own, the
// numbers API.md lists, and three whose later actions are declined. Any
// other valid card is approved.
var testCards = map[string]behaviour{
	"4242424242424242": {resp: respApproved},
	"4544249167673670": {resp: respInsufficientFunds},
	"4724117215951699": {resp: respExpiredCard},
	"4897453568485113": {resp: respFraud},
	"4111111111111129": {resp: respReferIssuer},
	"4000000000000002": {resp: respDoNotHonour},
	"4000000000009995": {resp: respInsufficientFunds},
	"4000000000003220": {resp: respApproved, threeDS: true},
	"4000000000000259": {resp: respApproved, declineCapture: true},
	"4000000000000267": {resp: respApproved, declineRefunds: true},
	"4000000000000275": {resp: respApproved, declineVoids: true},
}

func behaviourOf(c card) behaviour {
	if b, ok := testCards[c.number]; ok {
		return b
	}
	return behaviour{resp: respApproved}
}
