package bench

import (
	"strings"

	"github.com/google/pprof/profile"
)

// The components a CPU sample is charged to.
const (
	bucketServer   = "temporal server"
	bucketSQLite   = "sqlite"
	bucketSDK      = "temporal sdk"
	bucketPayflow  = "payflow"
	bucketSandbox  = "sandboxes"
	bucketHTTP     = "http (fiber/fasthttp)"
	bucketPGDriver = "postgres driver (lib/pq, sqlx)"
	bucketBench    = "bench"
	bucketGC       = "gc"
	bucketOther    = "other"
)

// buckets is the order they are reported in.
var buckets = []string{bucketServer, bucketSQLite, bucketSDK, bucketPayflow, bucketSandbox, bucketHTTP, bucketPGDriver, bucketBench, bucketGC, bucketOther}

// gcFrames are the runtime's garbage collection: its background workers,
// the assists an allocating goroutine is made to do, sweeping and
// scavenging, and the profiler's pseudo-frame for GC it cannot unwind.
var gcFrames = []string{"runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.gcAssistAlloc1", "runtime.gcStart",
	"runtime.gcMarkDone", "runtime.gcMarkTermination", "runtime.bgsweep", "runtime.bgscavenge", "runtime._GC"}

const payflowModule = "github.com/payflow/payflow"

// frameComponent is the component a function belongs to, "" for a
// library (Go runtime, stdlib, gRPC, protobuf, golang.org/x, go.uber.org,
// the Temporal API's generated types...). driver is true for the
// database client layer (lib/pq, pgx, sqlx, database/sql): it is
// payflow's PostgreSQL driver unless the Temporal server called it (its SQL
// persistence uses sqlx too).
func frameComponent(fn string) (component string, driver bool) {
	for _, g := range gcFrames {
		if fn == g || strings.HasPrefix(fn, g+".") {
			return bucketGC, false
		}
	}
	pkg := funcPackage(fn)
	in := func(prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }
	switch {
	case in("go.temporal.io/server"):
		return bucketServer, false
	case in("modernc.org"): // modernc.org/sqlite and the libc it is translated onto
		return bucketSQLite, false
	case in("go.temporal.io/sdk"):
		return bucketSDK, false
	case in(payflowModule + "/sandbox"):
		return bucketSandbox, false
	case in(payflowModule + "/bench"):
		return bucketBench, false
	case in(payflowModule):
		return bucketPayflow, false
	case in("github.com/gofiber") || in("github.com/valyala"):
		return bucketHTTP, false
	case in("github.com/lib/pq") || in("github.com/jackc") || in("github.com/jmoiron/sqlx") || in("database/sql"):
		return bucketPGDriver, true
	}
	return "", false
}

// funcPackage is the import path of a profile's function name:
// "github.com/lib/pq.(*conn).recv" → "github.com/lib/pq".
func funcPackage(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}

// sampleBucket walks a sample's stack from the leaf up and charges it to
// the first component it meets; a driver frame is charged to the driver
// unless the next component above it is the Temporal server. A stack of
// library frames only (gRPC's transport, net/http's connection loops, the
// scheduler) is "other", and lib names the library that started it.
func sampleBucket(s *profile.Sample) (bucket, lib string) {
	driver := false
	root := ""
	for _, loc := range s.Location {
		for _, ln := range loc.Line { // Line[0] is the innermost inlined call
			if ln.Function == nil {
				continue
			}
			c, isDriver := frameComponent(ln.Function.Name)
			switch {
			case c == "":
				if lib := libraryName(funcPackage(ln.Function.Name)); lib != "runtime" || root == "" {
					root = lib
				}
				continue
			case isDriver:
				driver = true
				continue
			case driver && c != bucketServer:
				return bucketPGDriver, ""
			}
			return c, ""
		}
	}
	if driver {
		return bucketPGDriver, ""
	}
	if root == "" {
		root = "unknown"
	}
	return bucketOther, root
}

// libraryName shortens a package path to its module, as far as its shape
// tells: "google.golang.org/grpc/internal/transport" →
// "google.golang.org/grpc", "github.com/a/b/c" → "github.com/a/b";
// standard library packages stay whole ("net/http"), but the runtime's
// are "runtime".
func libraryName(pkg string) string {
	if pkg == "runtime" || strings.HasPrefix(pkg, "runtime/") || strings.HasPrefix(pkg, "internal/runtime/") {
		return "runtime"
	}
	parts := strings.Split(pkg, "/")
	if !strings.Contains(parts[0], ".") {
		return pkg
	}
	n := 2
	if parts[0] == "github.com" || parts[0] == "golang.org" || parts[0] == "gopkg.in" {
		n = 3
	}
	return strings.Join(parts[:min(n, len(parts))], "/")
}

// bucketTotals adds up, for one side, the CPU its rounds' profiles charge
// to each component.
type bucketTotals struct {
	ns          map[string]int64
	otherByLib  map[string]int64
	samples     int64
	rounds      int
	completions int
	postgres    int64 // ns of PostgreSQL CPU (from /proc) in the same rounds
	watcher     int64 // ns of the bench's watcher's backend in them
	pgKnown     bool
}

func newBucketTotals() *bucketTotals {
	return &bucketTotals{ns: map[string]int64{}, otherByLib: map[string]int64{}, pgKnown: true}
}

// add charges a round's profile, in which the side completed completions
// workflows, and the PostgreSQL CPU of that round (the app's and the
// bench's watcher's).
func (b *bucketTotals) add(p *profile.Profile, completions int, postgres, watcher int64, pgKnown bool) {
	cpu, count := valueIndex(p, "cpu"), valueIndex(p, "samples")
	if cpu < 0 {
		return
	}
	for _, s := range p.Sample {
		v := s.Value[cpu]
		bucket, lib := sampleBucket(s)
		b.ns[bucket] += v
		if bucket == bucketOther {
			b.otherByLib[lib] += v
		}
		if count >= 0 {
			b.samples += s.Value[count]
		}
	}
	b.rounds++
	b.completions += completions
	b.postgres += postgres
	b.watcher += watcher
	b.pgKnown = b.pgKnown && pgKnown
}

// valueIndex is where a profile's samples hold the value of that type
// ("cpu" time, "samples" count); -1 if they do not.
func valueIndex(p *profile.Profile, typ string) int {
	for i, t := range p.SampleType {
		if t.Type == typ {
			return i
		}
	}
	return -1
}

// perWorkflow is the CPU in ms per completed workflow, by component.
func (b *bucketTotals) perWorkflow() Buckets {
	out := Buckets{MsPerWorkflow: map[string]float64{}, OtherByLibrary: map[string]float64{}, Rounds: b.rounds, Samples: b.samples}
	if b.completions == 0 {
		return out
	}
	per := func(ns int64) float64 { return round3(float64(ns) / 1e6 / float64(b.completions)) }
	var total int64
	for _, k := range buckets {
		out.MsPerWorkflow[k] = per(b.ns[k])
		total += b.ns[k]
	}
	out.ProfiledMs = per(total)
	for k, v := range b.otherByLib {
		out.OtherByLibrary[k] = per(v)
	}
	if b.pgKnown && b.rounds > 0 {
		pg, w := per(b.postgres), per(b.watcher)
		out.PostgresMs, out.WatcherPostgresMs = &pg, &w
	}
	return out
}

// Buckets is one side's CPU per workflow by component, from the CPU
// profiles of its measured rounds (their total over their completions).
type Buckets struct {
	MsPerWorkflow map[string]float64 `json:"cpu_ms_per_workflow"`
	// ProfiledMs is their sum: the process's CPU the profiles saw.
	ProfiledMs float64 `json:"profiled_cpu_ms_per_workflow"`
	// PostgresMs is PostgreSQL's CPU in the same rounds (/proc; null
	// where unknown): outside the profile, beside it.
	PostgresMs *float64 `json:"postgres_server_cpu_ms_per_workflow"`
	// WatcherPostgresMs is the backend of the bench's watcher (its query
	// every 5 ms while checkouts are in flight): the bench's, not payflow's.
	WatcherPostgresMs *float64 `json:"bench_watcher_postgres_cpu_ms_per_workflow"`
	// OtherByLibrary splits "other" by the library whose goroutine it was.
	OtherByLibrary map[string]float64 `json:"other_by_library"`
	Rounds         int                `json:"rounds_profiled"`
	Samples        int64              `json:"samples"`
}

// Attribution is the CPU per workflow by component on each side, and
// payflow's difference to each baseline: which part of the gap is whose.
type Attribution struct {
	Buckets    []string `json:"buckets"`
	Baseline   Buckets  `json:"baseline"`
	FiledShape Buckets  `json:"baseline_filed_shape"`
	Payflow    Buckets  `json:"payflow"`
	// PayflowMinusBaseline is payflow's ms per workflow less the
	// baseline's, by component, plus "postgresql server" and the bench's
	// watcher's backend where known, and "total" (profiled process CPU
	// plus PostgreSQL).
	PayflowMinusBaseline   map[string]float64 `json:"payflow_minus_baseline"`
	PayflowMinusFiledShape map[string]float64 `json:"payflow_minus_filed_shape"`
	// The same differences summed by whose work it is (parts).
	PayflowMinusBaselineByPart   map[string]float64 `json:"payflow_minus_baseline_by_part"`
	PayflowMinusFiledShapeByPart map[string]float64 `json:"payflow_minus_filed_shape_by_part"`
}

// parts group the components by whose work they are: the engine's, payflow's
// own, the test harness's (the sandboxes stand for the providers), and
// work of the whole process (GC, gRPC's transport, the scheduler) that
// each part causes as it allocates and calls.
var parts = []struct {
	name       string
	components []string
}{
	{"engine", []string{bucketServer, bucketSQLite, bucketSDK}},
	{"payflow", []string{bucketPayflow, bucketHTTP, bucketPGDriver, pgServerRow}},
	{"sandboxes and bench", []string{bucketSandbox, bucketBench, watcherRow}},
	{"gc and other", []string{bucketGC, bucketOther}},
}

func byPart(d map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for _, p := range parts {
		var sum float64
		for _, c := range p.components {
			sum += d[c]
		}
		out[p.name] = round3(sum)
	}
	return out
}

// pgServerRow and totalRow complete the table: PostgreSQL is outside the
// process's profile.
const (
	pgServerRow = "postgresql server"
	watcherRow  = "postgresql, bench's watcher"
	totalRow    = "total"
)

func newAttribution(base, filed, pay *bucketTotals) Attribution {
	a := Attribution{Buckets: buckets, Baseline: base.perWorkflow(), FiledShape: filed.perWorkflow(), Payflow: pay.perWorkflow()}
	a.PayflowMinusBaseline = difference(a.Payflow, a.Baseline)
	a.PayflowMinusFiledShape = difference(a.Payflow, a.FiledShape)
	a.PayflowMinusBaselineByPart = byPart(a.PayflowMinusBaseline)
	a.PayflowMinusFiledShapeByPart = byPart(a.PayflowMinusFiledShape)
	return a
}

func difference(a, b Buckets) map[string]float64 {
	d := map[string]float64{}
	for _, k := range buckets {
		d[k] = round3(a.MsPerWorkflow[k] - b.MsPerWorkflow[k])
	}
	total := a.ProfiledMs - b.ProfiledMs
	if a.PostgresMs != nil && b.PostgresMs != nil {
		d[pgServerRow] = round3(*a.PostgresMs - *b.PostgresMs)
		d[watcherRow] = round3(*a.WatcherPostgresMs - *b.WatcherPostgresMs)
		total += *a.PostgresMs - *b.PostgresMs + *a.WatcherPostgresMs - *b.WatcherPostgresMs
	}
	d[totalRow] = round3(total)
	return d
}
