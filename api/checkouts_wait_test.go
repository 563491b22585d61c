package api

import (
	"testing"
	"time"
)

func TestPreferWait(t *testing.T) {
	for header, want := range map[string]time.Duration{
		"":                           0,
		"wait=5":                     5 * time.Second,
		"respond-async, wait=3":      3 * time.Second,
		"return=minimal; WAIT=\"2\"": 2 * time.Second,
		"wait=600":                   maxPreferWait,
		"wait=0":                     0,
		"wait=-4":                    0,
		"wait=soon":                  0,
		"handling=lenient":           0,
	} {
		if got := preferWait(header); got != want {
			t.Errorf("preferWait(%q) = %s, want %s", header, got, want)
		}
	}
}
