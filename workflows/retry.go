package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// askAgain is how a workflow asks a provider again until the answer
// settles (a payment's status, a void's outcome, a transaction Rehive has
// not answered for): one schedule, with backoff, for every such loop.
// Activities already retry failed calls (the retry policy); askAgain is for
// answers that are not final yet, and for retries the workflow decides on
// (a declined refund tried again with a new key).
type askAgain struct {
	// The wait after attempt n (from 0) is first doubled n times, at most max.
	first, max time.Duration
	// attempts bounds the tries (0: no bound).
	attempts int
	// within bounds the time from the first try: once it has passed, a try
	// that does not settle is the last (0: no bound).
	within time.Duration
	// wait is how the workflow waits between tries (workflow.Sleep if nil);
	// it may end early, on a hint such as a webhook.
	wait func(ctx workflow.Context, d time.Duration) error
}

// until calls try (attempt 0, 1, ...) until it reports the answer settled,
// and reports whether it did: false when the schedule ran out, or with the
// error of a wait cut short (the workflow was cancelled).
func (a askAgain) until(ctx workflow.Context, try func(attempt int) bool) (bool, error) {
	wait := a.wait
	if wait == nil {
		wait = workflow.Sleep
	}
	deadline := workflow.Now(ctx).Add(a.within)
	for attempt := 0; ; attempt++ {
		if try(attempt) {
			return true, nil
		}
		if (a.attempts > 0 && attempt+1 >= a.attempts) || (a.within > 0 && !workflow.Now(ctx).Before(deadline)) {
			return false, nil
		}
		if err := wait(ctx, backoff(attempt, a.first, a.max)); err != nil {
			return false, err
		}
	}
}

// backoff is first doubled attempt times, at most max.
func backoff(attempt int, first, max time.Duration) time.Duration {
	d := first
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// untilAnswered asks again, without bound, a provider that has not answered:
// a payment whose state is unknown must never end an order.
var untilAnswered = askAgain{first: 10 * time.Second, max: 5 * time.Minute}
