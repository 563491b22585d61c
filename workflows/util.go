package workflows

import (
	"sort"
	"time"
)

// sortedKeys iterates maps deterministically, as workflow code must.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// backoff is first doubled attempt times, at most max.
func backoff(attempt int, first, max time.Duration) time.Duration {
	d := first
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
