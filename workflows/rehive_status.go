package workflows

import "fmt"

// RehiveStatus is Rehive's own status of a transaction, in Rehive's words.
// It is translated from the provider's answers in one place
// (ParseRehiveStatus), so the workflows branch only on the values below; it
// is not payflow's status of the transaction (TxStatus).
type RehiveStatus string

// Rehive's transaction statuses (PROVIDERS.md); Complete and Failed are final.
const (
	RehiveTxInitiating RehiveStatus = "Initiating"
	RehiveTxQuoted     RehiveStatus = "Quoted"
	RehiveTxPending    RehiveStatus = "Pending"
	RehiveTxComplete   RehiveStatus = "Complete"
	RehiveTxFailed     RehiveStatus = "Failed"
)

// ParseRehiveStatus translates a status word of Rehive's. A word outside the
// statuses above is an error, not a status: a workflow that took it for one
// would branch on something Rehive never promised.
func ParseRehiveStatus(word string) (RehiveStatus, error) {
	switch s := RehiveStatus(word); s {
	case RehiveTxInitiating, RehiveTxQuoted, RehiveTxPending, RehiveTxComplete, RehiveTxFailed:
		return s, nil
	}
	return "", fmt.Errorf("unknown Rehive transaction status %q", word)
}

// Final reports whether Rehive can no longer change the status.
func (s RehiveStatus) Final() bool { return s == RehiveTxComplete || s == RehiveTxFailed }
