package bench

import (
	"testing"

	"github.com/google/pprof/profile"
)

// synthetic builds a CPU profile whose samples have these stacks (each
// leaf first, one function per frame; a frame "a|b" is b with a inlined
// into it) and CPU times, with the CPU value second as in Go's profiles.
func synthetic(stacks [][]string, ns []int64) *profile.Profile {
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}}
	funcs := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if f, ok := funcs[name]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(funcs) + 1), Name: name}
		funcs[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	for i, stack := range stacks {
		s := &profile.Sample{Value: []int64{1, ns[i]}}
		for _, frame := range stack {
			loc := &profile.Location{ID: uint64(len(p.Location) + 1)}
			for _, name := range splitInlined(frame) {
				loc.Line = append(loc.Line, profile.Line{Function: fn(name)})
			}
			p.Location = append(p.Location, loc)
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

func splitInlined(frame string) []string {
	var out []string
	for start, i := 0, 0; i <= len(frame); i++ {
		if i == len(frame) || frame[i] == '|' {
			out = append(out, frame[start:i])
			start = i + 1
		}
	}
	return out
}

func TestSampleBucket(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stack []string
		want  string
		lib   string // for "other"
	}{
		{"payflow under stdlib", []string{"runtime.memmove", "encoding/json.(*encodeState).marshal", "github.com/payflow/payflow/api.(*server).createCheckout", "github.com/gofiber/fiber/v2.(*App).next", "runtime.goexit"}, bucketPayflow, ""},
		{"fasthttp leaf wins over its payflow caller", []string{"github.com/valyala/fasthttp.(*Response).SetBody", "github.com/payflow/payflow/api.(*server).createCheckout", "github.com/gofiber/fiber/v2.(*App).next"}, bucketHTTP, ""},
		{"sqlite engine", []string{"modernc.org/libc.Xmemcpy", "modernc.org/sqlite/lib.Xsqlite3VdbeExec", "modernc.org/sqlite.(*conn).step", "database/sql.(*Rows).Next", "github.com/jmoiron/sqlx.(*Rows).StructScan", "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite.(*db).SelectContext"}, bucketSQLite, ""},
		{"sqlx under the temporal server is the server's", []string{"reflect.Value.Field", "github.com/jmoiron/sqlx/reflectx.(*Mapper).TraversalsByName", "github.com/jmoiron/sqlx.scanAll", "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite.(*db).SelectContext", "go.temporal.io/server/service/history.(*Handler).RecordActivityTaskStarted"}, bucketServer, ""},
		{"database/sql under the temporal server", []string{"database/sql.(*DB).conn", "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite.(*db).ExecContext"}, bucketServer, ""},
		{"lib/pq under payflow's store", []string{"syscall.Syscall", "net.(*conn).Write", "github.com/lib/pq.(*conn).send", "database/sql.(*DB).execDC", "github.com/jmoiron/sqlx.(*DB).ExecContext", "github.com/payflow/payflow/store.(*Store).SaveOrder"}, bucketPGDriver, ""},
		{"sqlx with nothing above", []string{"github.com/jmoiron/sqlx.scanAll", "runtime.goexit"}, bucketPGDriver, ""},
		{"sdk under payflow's workflow", []string{"go.temporal.io/sdk/internal.(*workflowEnvironmentImpl).ExecuteActivity", "github.com/payflow/payflow/workflows.Checkout", "go.temporal.io/sdk/internal.(*coroutineState).call"}, bucketSDK, ""},
		{"payflow's workflow under the sdk", []string{"runtime.mapaccess2", "github.com/payflow/payflow/workflows.(*checkout).onSignal", "go.temporal.io/sdk/internal.(*selectorImpl).Select"}, bucketPayflow, ""},
		{"sandbox", []string{"crypto/sha256.block", "github.com/payflow/payflow/sandbox/checkoutcom.(*Sandbox).sign", "net/http.(*conn).serve"}, bucketSandbox, ""},
		{"bench", []string{"github.com/payflow/payflow/bench.(*watcher).run"}, bucketBench, ""},
		{"gc worker", []string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker.func2", "runtime.systemstack", "runtime.gcBgMarkWorker", "runtime.goexit"}, bucketGC, ""},
		{"gc assist, before the allocating caller", []string{"runtime.scanobject", "runtime.gcDrainN", "runtime.gcAssistAlloc1", "runtime.gcAssistAlloc", "runtime.mallocgc", "go.temporal.io/server/service/history.newMutableState"}, bucketGC, ""},
		{"gc pseudo-frame", []string{"runtime._GC"}, bucketGC, ""},
		{"temporal server", []string{"go.temporal.io/server/service/matching.(*taskQueuePartitionManager).AddTask", "google.golang.org/grpc.(*Server).processUnaryRPC"}, bucketServer, ""},
		{"temporal api types are a library", []string{"go.temporal.io/api/history/v1.(*HistoryEvent).Size", "google.golang.org/protobuf/proto.Size", "go.temporal.io/sdk/internal.(*workflowTaskPoller).poll"}, bucketSDK, ""},
		{"grpc transport only", []string{"syscall.Syscall", "golang.org/x/net/http2.(*Framer).WriteData", "google.golang.org/grpc/internal/transport.(*loopyWriter).run", "google.golang.org/grpc/internal/transport.NewServerTransport.func2", "runtime.goexit"}, bucketOther, "google.golang.org/grpc"},
		{"net/http only", []string{"bufio.(*Reader).fill", "net/http.(*persistConn).readLoop", "runtime.goexit"}, bucketOther, "net/http"},
		{"scheduler only", []string{"internal/runtime/syscall/linux.Syscall6", "runtime.netpoll", "runtime.findRunnable", "runtime.schedule", "runtime.mcall"}, bucketOther, "runtime"},
		{"a syscall under grpc is grpc's", []string{"internal/runtime/syscall/linux.Syscall6", "syscall.write", "internal/poll.(*FD).Write", "google.golang.org/grpc/internal/transport.(*bufWriter).Flush", "runtime.goexit"}, bucketOther, "google.golang.org/grpc"},
		{"inlined frames, innermost first", []string{"modernc.org/sqlite/lib.Xsqlite3Step|go.temporal.io/server/common/persistence/sql.(*store).get"}, bucketSQLite, ""},
		{"inlined library frames are skipped", []string{"strings.Index|github.com/payflow/payflow/api.route|go.temporal.io/sdk/client.Dial"}, bucketPayflow, ""},
	} {
		p := synthetic([][]string{tc.stack}, []int64{10})
		got, lib := sampleBucket(p.Sample[0])
		if got != tc.want || lib != tc.lib {
			t.Errorf("%s: bucket %q (library %q), want %q (%q)", tc.name, got, lib, tc.want, tc.lib)
		}
	}
}

func TestBucketTotalsPerWorkflow(t *testing.T) {
	server := []string{"go.temporal.io/server/service/history.(*Handler).StartWorkflowExecution"}
	pay := []string{"github.com/payflow/payflow/api.(*server).createCheckout"}
	grpc := []string{"google.golang.org/grpc/internal/transport.(*loopyWriter).run"}
	b := newBucketTotals()
	// Two rounds of 10 workflows: 40 ms of server and 20 of payflow in
	// the first, 60 of server and 10 of gRPC's in the second; 5 ms and
	// 15 ms of PostgreSQL.
	b.add(synthetic([][]string{server, pay, server}, []int64{30e6, 20e6, 10e6}), 10, 5e6, 1e6, true)
	b.add(synthetic([][]string{server, grpc}, []int64{60e6, 10e6}), 10, 15e6, 1e6, true)
	got := b.perWorkflow()
	want := map[string]float64{bucketServer: 5, bucketPayflow: 1, bucketOther: 0.5}
	for _, k := range buckets {
		if got.MsPerWorkflow[k] != want[k] {
			t.Errorf("%s: %v ms per workflow, want %v", k, got.MsPerWorkflow[k], want[k])
		}
	}
	if got.ProfiledMs != 6.5 || got.PostgresMs == nil || *got.PostgresMs != 1 || *got.WatcherPostgresMs != 0.1 || got.Rounds != 2 || got.Samples != 5 {
		t.Errorf("profiled %v ms, postgres %v, watcher %v, rounds %d, samples %d; want 6.5, 1, 0.1, 2, 5", got.ProfiledMs, got.PostgresMs, got.WatcherPostgresMs, got.Rounds, got.Samples)
	}
	if got.OtherByLibrary["google.golang.org/grpc"] != 0.5 {
		t.Errorf("other by library: %v", got.OtherByLibrary)
	}

	base := newBucketTotals()
	base.add(synthetic([][]string{server}, []int64{30e6}), 10, 0, 0, false)
	d := newAttribution(base, base, b).PayflowMinusBaseline
	if d[bucketServer] != 2 || d[bucketPayflow] != 1 || d[totalRow] != 3.5 {
		t.Errorf("payflow − baseline: %v, want server 2, payflow 1, total 3.5", d)
	}
	if _, ok := d[pgServerRow]; ok {
		t.Errorf("PostgreSQL unknown on one side, yet differenced: %v", d)
	}
	known := newBucketTotals()
	known.add(synthetic([][]string{server}, []int64{30e6}), 10, 2e6, 0, true)
	if d := newAttribution(known, known, b).PayflowMinusBaseline; d[pgServerRow] != 0.8 || d[watcherRow] != 0.1 || d[totalRow] != 4.4 {
		t.Errorf("payflow − baseline with PostgreSQL: %v, want postgresql 0.8, watcher 0.1, total 4.4", d)
	}
	if p := byPart(map[string]float64{bucketServer: 1, bucketSQLite: 2, bucketSDK: 0.5, bucketPayflow: 3, pgServerRow: 4, bucketGC: 1, bucketBench: 0.25}); p["engine"] != 3.5 || p["payflow"] != 7 || p["sandboxes and bench"] != 0.25 || p["gc and other"] != 1 {
		t.Errorf("by part: %v", p)
	}
}
