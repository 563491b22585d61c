package bench

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/google/pprof/profile"
)

// CPUSplit is CPU time split by where it was spent: this process (API,
// worker, sandboxes, the bench and, with the embedded server, Temporal and
// its SQLite) and PostgreSQL (payflow's store). Postgres and Total are
// null where PostgreSQL's processes cannot be read.
type CPUSplit struct {
	Process  float64  `json:"process"`
	Postgres *float64 `json:"postgres"`
	Total    *float64 `json:"total"`
	// PostgresExited is the part of Postgres left by backends that exited
	// during the round (see exitTracker).
	PostgresExited *float64 `json:"postgres_exited"`
}

// RoundCPU is one measured round's CPU.
type RoundCPU struct {
	// MsPerWorkflow is the CPU of the round and its tail over its
	// completions.
	MsPerWorkflow CPUSplit `json:"cpu_ms_per_workflow"`
	// CoresUsed is the CPU until the round's last completion over its
	// wall-clock time: 2 on this 2-core machine is saturated.
	CoresUsed CPUSplit `json:"cores_used"`
	Seconds   float64  `json:"seconds"`
	// TailSeconds is how long after its last completion the process took
	// to fall quiet (the server's tasks after a completion, a checkout's
	// steps after fulfilled): that work is the round's too.
	TailSeconds float64 `json:"tail_seconds"`
	// ExitedElsewhereMs is the CPU of PostgreSQL backends of other
	// databases (other test runs) that exited during the round, left out;
	// null where the postmaster's children could not be listed, and every
	// exit was counted.
	ExitedElsewhereMs *float64 `json:"postgres_exited_elsewhere_ms"`
}

// The tail ends at the first settleWindow in which the process used less
// than settleIdle of a core, or after settleMax.
const (
	settleWindow = 100 * time.Millisecond
	settleIdle   = 0.1
	settleMax    = 2 * time.Second
)

// sideRun is one side's measured rounds.
type sideRun struct {
	name     string
	rates    []float64
	cpu      []RoundCPU
	profiles []*profile.Profile
	buckets  *bucketTotals
}

func newSideRun(name string) *sideRun { return &sideRun{name: name, buckets: newBucketTotals()} }

// measure runs one round of n workflows under a CPU profile, with the
// process's and PostgreSQL's CPU read around it, and returns its rate. A
// profile that cannot start (another one is running: someone asked the
// API's pprof) leaves the round out of the attribution only.
func (s *sideRun) measure(scope pgScope, n int, round func() (float64, error)) (float64, error) {
	exits := trackExits(scope)
	defer exits.stop()
	var buf bytes.Buffer
	profiling := pprof.StartCPUProfile(&buf) == nil
	before := readCPU(scope, exits)
	rate, err := round()
	end := readCPU(scope, exits)
	settle()
	tail := readCPU(scope, exits)
	if profiling {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return 0, err
	}
	s.rates = append(s.rates, rate)
	rc := RoundCPU{
		MsPerWorkflow: split(before, tail, func(d time.Duration) float64 { return float64(d) / 1e6 / float64(n) }),
		CoresUsed:     split(before, end, func(d time.Duration) float64 { return d.Seconds() / end.at.Sub(before.at).Seconds() }),
		Seconds:       round3(end.at.Sub(before.at).Seconds()),
		TailSeconds:   round3(tail.at.Sub(end.at).Seconds()),
	}
	if exits != nil {
		ms := round3(float64(exits.elsewhere()) / 1e6)
		rc.ExitedElsewhereMs = &ms
	}
	s.cpu = append(s.cpu, rc)
	if profiling {
		p, err := profile.Parse(&buf)
		if err != nil {
			return 0, fmt.Errorf("bench: the %s round's CPU profile: %w", s.name, err)
		}
		s.profiles = append(s.profiles, p)
		s.buckets.add(p, n, int64(tail.postgres-before.postgres), int64(tail.watcher-before.watcher), before.pgKnown && tail.pgKnown)
	}
	return rate, nil
}

// side is the side's figures, with its start and end-point latencies.
func (s *sideRun) side(starts, ends *samples) Side {
	return Side{Throughput: newSeries(s.rates), Start: starts.latency(), Latency: ends.latency(), CPURounds: s.cpu,
		CPUPerWorkflow: medianCPU(s.cpu, func(r RoundCPU) CPUSplit { return r.MsPerWorkflow }),
		CoresUsed:      medianCPU(s.cpu, func(r RoundCPU) CPUSplit { return r.CoresUsed })}
}

// split is the CPU between two readings, each part through f.
func split(a, b cpuReading, f func(time.Duration) float64) CPUSplit {
	s := CPUSplit{Process: round3(f(b.process - a.process))}
	if a.pgKnown && b.pgKnown {
		pg := round3(f(b.postgres - a.postgres))
		total := round3(f(b.process - a.process + b.postgres - a.postgres))
		exited := round3(f(b.exited - a.exited))
		s.Postgres, s.Total, s.PostgresExited = &pg, &total, &exited
	}
	return s
}

// settle waits until the process falls quiet after a round.
func settle() {
	last := processCPU()
	for deadline := time.Now().Add(settleMax); time.Now().Before(deadline); {
		time.Sleep(settleWindow)
		now := processCPU()
		if float64(now-last) < settleIdle*float64(settleWindow) {
			return
		}
		last = now
	}
}

// medianCPU is each part's median over the rounds; Postgres and Total only
// if every round knew them.
func medianCPU(rounds []RoundCPU, part func(RoundCPU) CPUSplit) CPUSplit {
	var proc, pg, total, exited []float64
	for _, r := range rounds {
		s := part(r)
		proc = append(proc, s.Process)
		if s.Postgres != nil {
			pg = append(pg, *s.Postgres)
			total = append(total, *s.Total)
			exited = append(exited, *s.PostgresExited)
		}
	}
	out := CPUSplit{Process: newSeries(proc).Median}
	if len(rounds) > 0 && len(pg) == len(rounds) {
		p, t, e := newSeries(pg).Median, newSeries(total).Median, newSeries(exited).Median
		out.Postgres, out.Total, out.PostgresExited = &p, &t, &e
	}
	return out
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// writeProfiles writes each side's round profiles merged
// (cpu-<side>.pprof), all of them merged (cpu.pprof), and a heap profile.
func writeProfiles(dir string, sides ...*sideRun) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var all []*profile.Profile
	for _, s := range sides {
		all = append(all, s.profiles...)
		if err := writeMerged(filepath.Join(dir, "cpu-"+s.name+".pprof"), s.profiles); err != nil {
			return err
		}
	}
	if err := writeMerged(filepath.Join(dir, "cpu.pprof"), all); err != nil {
		return err
	}
	h, err := os.Create(filepath.Join(dir, "heap.pprof"))
	if err != nil {
		return err
	}
	defer h.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(h)
}

func writeMerged(path string, ps []*profile.Profile) error {
	if len(ps) == 0 {
		return nil
	}
	p, err := profile.Merge(ps)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
