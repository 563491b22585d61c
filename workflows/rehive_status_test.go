package workflows

import "testing"

func TestParseRehiveStatus(t *testing.T) {
	for _, word := range []string{"Initiating", "Quoted", "Pending", "Complete", "Failed"} {
		s, err := ParseRehiveStatus(word)
		if err != nil || string(s) != word {
			t.Errorf("%q: got %q, %v", word, s, err)
		}
	}
	// Rehive's words are case-sensitive; payflow's own words are not Rehive's.
	for _, word := range []string{"", "complete", "Cancelled", string(TxStatusComplete)} {
		if s, err := ParseRehiveStatus(word); err == nil {
			t.Errorf("%q: accepted as %q", word, s)
		}
	}
	if !RehiveTxComplete.Final() || !RehiveTxFailed.Final() || RehiveTxPending.Final() || RehiveTxInitiating.Final() || RehiveTxQuoted.Final() {
		t.Error("only Complete and Failed are final")
	}
}
