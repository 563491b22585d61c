package rehive

import "net/http"

// transferSpecLocked builds a user-created transfer: a debit on from and a
// credit on to, partners of each other, in one collection.
func (s *Sandbox) transferSpecLocked(from, to *account, amount int64, code, status string, debitMeta, creditMeta map[string]any) (collectionSpec, error) {
	if err := s.checkAmountLocked(amount, code); err != nil {
		return collectionSpec{}, err
	}
	if from == to {
		return collectionSpec{}, fieldError("recipient", "You cannot transfer to the account you pay from.")
	}
	return collectionSpec{transfer: true, lifecycle: true, txs: []txSpec{
		{txType: debit, subtype: "send", amount: amount, currency: code, account: from, metadata: debitMeta, status: status},
		{txType: credit, subtype: "receive", amount: amount, currency: code, account: to, metadata: creditMeta, status: status},
	}}, nil
}

func (s *Sandbox) checkAmountLocked(amount int64, code string) error {
	if amount <= 0 {
		return fieldError("amount", "Ensure this value is greater than 0.")
	}
	if _, ok := s.st.currencies[code]; !ok {
		return fieldError("currency", "Invalid currency.")
	}
	return nil
}

// transfer handles POST /3/transactions/transfer/ as the token's owner and
// answers with the sender's (debit) side.
func (s *Sandbox) transfer(w http.ResponseWriter, r *http.Request, u *user) {
	var req struct {
		Amount         int64          `json:"amount"`
		Currency       string         `json:"currency"`
		Recipient      string         `json:"recipient"`
		DebitAccount   string         `json:"debit_account"`
		DebitMetadata  map[string]any `json:"debit_metadata"`
		CreditMetadata map[string]any `json:"credit_metadata"`
		// No plain reference: each side has its own, as on Rehive.
		DebitReference  string `json:"debit_reference"`
		CreditReference string `json:"credit_reference"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	var v txView
	err := s.write(func(ob *outbox) error {
		to := s.st.findUser(req.Recipient)
		if to == nil {
			return fieldError("recipient", "Recipient does not exist.")
		}
		from := u.primary
		if req.DebitAccount != "" {
			if from = s.st.accounts[req.DebitAccount]; from == nil || from.owner != u {
				return fieldError("debit_account", "Account does not exist.")
			}
		}
		spec, err := s.transferSpecLocked(from, to.primary, req.Amount, req.Currency, pending, req.DebitMetadata, req.CreditMetadata)
		if err != nil {
			return err
		}
		spec.txs[0].reference, spec.txs[1].reference = req.DebitReference, req.CreditReference
		if err != nil {
			return err
		}
		col, err := s.createLocked(spec, ob)
		if err != nil {
			return err
		}
		v = s.st.txView(col.txs[0])
		s.startLocked(col, ob)
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeData(w, http.StatusCreated, v)
}
