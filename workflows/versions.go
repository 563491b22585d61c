package workflows

// Change ids for workflow.GetVersion, one per change to the logic of a
// workflow that may be running: runs that started before a change keep the
// old path. Recorded histories in testdata/ guard the paths they cover.
const (
	// versionLatePayments keeps an expired or cancelled checkout open for a
	// while to refund a payment that still arrives.
	versionLatePayments = "late-payments"
)
