package workflows

// Change ids for workflow.GetVersion, one per change to the logic of a
// workflow that may be running. Recorded histories in testdata/ replay the
// code paths from before each change.
const (
	// versionLatePayments keeps an expired or cancelled checkout open for a
	// while to refund a payment that still arrives.
	versionLatePayments = "late-payments"
)
