package workflows

// Change ids for workflow.GetVersion, one per change to the logic of a
// workflow that may be running: runs that started before a change keep the
// old path. Recorded histories in testdata/ guard the paths they cover.
const (
	// versionLatePayments keeps an expired or cancelled checkout open for a
	// while to refund a payment that still arrives.
	versionLatePayments = "late-payments"

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
)
