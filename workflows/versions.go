package workflows

import "go.temporal.io/sdk/workflow"

// Change ids for workflow.GetVersion, one per change to the logic of a
// workflow that may be running: runs that started before a change keep the
// old path. Recorded histories in testdata/ guard the paths they cover.
const (
	// versionLatePayments keeps an expired or cancelled checkout open for a
	// while to refund a payment that still arrives.
	versionLatePayments = "late-payments"

	// Not versioned, on purpose: the changes of 2026-11-22 05:25–06:01
	// (wallet payments handled in the refund window, sleeps between card
	// status checks and Rehive verifications, release on a refused refund).
	// A checkout lives at most payment timeout + refund window + late window
	// (15 m + 24 h + 1 h), so every run started on the code before them had
	// closed by 2026-11-23 07:20; DefaultVersion below is the code after
	// them, which is what running workflows execute. The two oldest recorded
	// histories (checkout_card_declined, checkout_card_refunded) predate
	// them and still replay.

	// Checkout, issue 8. Each id is asked where its branch first differs, so
	// a run that started before the change keeps the old path up to there.

	// versionCardCaptured: payment_approved is an authorisation, not money
	// taken; only a capture (event or GET) pays the order, and a declined
	// capture voids what is left and fails the order.
	versionCardCaptured = "card-paid-means-captured"
	// versionCardAfterFulfilment: card events in the refund window are acted
	// on (a capture declined after an old run fulfilled on approval).
	versionCardAfterFulfilment = "card-events-after-fulfilment"
	// versionConfirmedActions: a void or refund is done only when
	// Checkout.com confirms it; declined ones are retried with a new key a
	// bounded number of times, then the order needs attention.
	versionConfirmedActions = "card-actions-confirmed"
	// versionChargeLookup: a charge whose answer was lost is found by
	// reference instead of failing the order.
	versionChargeLookup = "charge-lookup"
	// versionRehiveFind: at the timeout the merchant's recent credits are
	// listed for the order, so a transfer whose webhooks never came is found.
	versionRehiveFind = "rehive-find-payment"
	// versionStrayRetry: a stray or mismatched wallet payment whose
	// verification or reversal fails is retried, not dropped.
	versionStrayRetry = "stray-payment-retry"
	// versionOperatorCancel: a Cancel from the Web UI or CLI settles the
	// order like the API's cancel (the run goes on in a disconnected
	// context), and the cancel signal is no longer listened to.
	// Its version 2 (versionLean) is asked at the same place, a checkout's
	// first step.
	versionOperatorCancel = "operator-cancel"

	// versionAPIRefunds: the refund window takes the API's refunds (the
	// refund update), full or partial; older runs refund through a cancel.
	versionAPIRefunds = "api-refunds"

	// Checkout, issue 13: version 2 of versionOperatorCancel, a lean
	// checkout. Price, reserve and commit run as local activities; the
	// status "paid" is saved but not upserted as PayflowStatus (it normally
	// lasts only the workflow task that commits the stock; while a commit
	// retries, search shows the status before it); and the run asks none of the
	// checkout changes above again: it started on code that has them all
	// (every GetVersion asked is a marker and a TemporalChangeVersion upsert,
	// a visibility write, in each run). A later checkout change gets a
	// change id of its own, asked with workflow.GetVersion as before.
	versionLean workflow.Version = 2

	// Currency manager, issue 8 (rehive-tx/<id>).

	// versionAwaitApproval: an approval Rehive answers queued or pending is
	// not success; the run waits (event or poll) until the transaction moved.
	versionAwaitApproval = "await-queued-approval"
	// versionApproveBeforeRelease: Pending->Complete approves while the
	// ledger still holds the payout and releases it only once Rehive is
	// Complete, so a transaction Rehive fails leaves no payout standing.
	versionApproveBeforeRelease = "approve-before-release"
	// versionCompleteMirrored: Complete on Rehive before the ledger has the
	// payout creates it (or needs attention), and a released payout is
	// followed until the ledger is final.
	versionCompleteMirrored = "complete-mirrored-on-ledger"
	// versionFindTransition: a run waiting for a transition looks for one
	// on Rehive every findInterval, not only on its webhook.
	versionFindTransition = "find-waiting-transition"
	// versionLedgerPollWithinStall: the ledger is polled within the stall
	// timeout and asked once more before a wait gives up.
	versionLedgerPollWithinStall = "ledger-poll-within-stall"
)
