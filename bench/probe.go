package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

const (
	// probeQueue has no worker: a probe's workflow is only started, and
	// terminated after the round.
	probeQueue = "bench-probe"
	// probeEvery keeps the probe light next to the round it measures (a
	// start every 200 ms against tens of checkouts a second).
	probeEvery = 200 * time.Millisecond
)

// startProbe measures a bare SDK ExecuteWorkflow at the load of the round
// it runs beside (payflow's), so that POST /v1/checkouts is compared with a
// start made under the same load, not only with the baseline round's
// starts. stop ends it; cleanup, after the measured round, terminates the
// probes' workflows.
func startProbe(ctx context.Context, c client.Client, tag string, starts *samples) (stop, cleanup func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var ids []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(probeEvery)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			id := fmt.Sprintf("bench-probe-%s-%d", tag, i)
			began := time.Now()
			if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: probeQueue}, baselineWorkflow, Shape{}); err == nil {
				starts.add(time.Since(began))
				ids = append(ids, id)
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(done); wg.Wait() }) }
	cleanup = func() {
		stop()
		var twg sync.WaitGroup
		for _, id := range ids {
			twg.Add(1)
			go func() {
				defer twg.Done()
				_ = c.TerminateWorkflow(ctx, id, "", "bench probe")
			}()
		}
		twg.Wait()
	}
	return stop, cleanup
}
