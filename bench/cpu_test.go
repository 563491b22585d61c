package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// comm may hold spaces and parentheses; utime and stime are fields 14
	// and 15.
	line := []byte("4242 (postgres) S 30980 30980 30980 0 -1 4194624 1200 0 0 0 731 269 0 0 20 0 1 0 81234 226095104 3000 18446744073709551615\n")
	st, ok := parseStat(line)
	if !ok || st != (procStat{comm: "postgres", ticks: 1000}) {
		t.Fatalf("got %+v %v, want postgres 1000 true", st, ok)
	}
	if st, ok := parseStat([]byte("7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 5 6 30 40 20")); !ok || st != (procStat{comm: "a (b) c", ticks: 11, childTicks: 70}) {
		t.Fatalf("odd comm: %+v %v", st, ok)
	}
	if _, ok := parseStat([]byte("7 (x) R 1 2")); ok {
		t.Fatal("a short line parsed")
	}
	if !isPostmaster([]byte("/usr/lib/postgresql/15/bin/postgres\x00-D\x00/x\x00")) || isPostmaster([]byte("postgres: 15/main: walwriter ")) {
		t.Fatal("isPostmaster")
	}
}

func TestTitleDatabase(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		db      string
		ok      bool
	}{
		{"postgres: 15/main: payflow payflow_test_96b2 127.0.0.1(60422) idle\x00\x00\x00", "payflow_test_96b2", true},
		{"postgres: payflow bench_db [local] SELECT", "bench_db", true},
		{"postgres: 15/main: autovacuum worker payflow_test_1", "payflow_test_1", true},
		{"postgres: 15/main: checkpointer ", "", false},
		{"postgres: walwriter", "", false},
		{"postgres: 15/main: autovacuum launcher", "", false},
		{"/usr/lib/postgresql/15/bin/postgres\x00-D\x00/var/lib/postgresql/15/main\x00", "", false},
	} {
		db, ok := titleDatabase([]byte(tc.cmdline))
		if db != tc.db || ok != tc.ok {
			t.Errorf("%q: %q %v, want %q %v", tc.cmdline, db, ok, tc.db, tc.ok)
		}
	}
	if db := databaseName("postgres://payflow:secret@127.0.0.1:5432/payflow_bench_x?sslmode=disable"); db != "payflow_bench_x" {
		t.Errorf("databaseName: %q", db)
	}
}

func TestReadCPU(t *testing.T) {
	a := readCPU(pgScope{}, nil)
	for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); {
	}
	b := readCPU(pgScope{}, nil)
	if b.process-a.process < 10*time.Millisecond {
		t.Fatalf("30 ms of spinning read as %v of process CPU", b.process-a.process)
	}
	if _, ok := parseStat(mustRead(t, "/proc/self/stat")); !ok {
		t.Fatal("this process's /proc/self/stat did not parse")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err) // no /proc: PostgreSQL's CPU reads as unknown
	}
	return b
}

func TestMedianCPU(t *testing.T) {
	pg := func(v float64) *float64 { return &v }
	rounds := []RoundCPU{
		{MsPerWorkflow: CPUSplit{Process: 10, Postgres: pg(2), Total: pg(12), PostgresExited: pg(0)}},
		{MsPerWorkflow: CPUSplit{Process: 30, Postgres: pg(1), Total: pg(31), PostgresExited: pg(1)}},
		{MsPerWorkflow: CPUSplit{Process: 20, Postgres: pg(9), Total: pg(29), PostgresExited: pg(5)}},
	}
	m := medianCPU(rounds, func(r RoundCPU) CPUSplit { return r.MsPerWorkflow })
	if m.Process != 20 || *m.Postgres != 2 || *m.Total != 29 || *m.PostgresExited != 1 {
		t.Fatalf("median %v %v %v %v, want 20 2 29 1", m.Process, *m.Postgres, *m.Total, *m.PostgresExited)
	}
	rounds[1].MsPerWorkflow.Postgres, rounds[1].MsPerWorkflow.Total = nil, nil
	if m := medianCPU(rounds, func(r RoundCPU) CPUSplit { return r.MsPerWorkflow }); m.Postgres != nil || m.Total != nil {
		t.Fatal("PostgreSQL unknown in a round, yet a median")
	}
}

// TestExitTracker lays out a procfs of a postmaster (pid 1) with children
// of the bench's database, of another, a background process and one not
// started yet, and has them exit.
func TestExitTracker(t *testing.T) {
	proc := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		path = filepath.Join(proc, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reaped := func(ticks int) {
		write("1/stat", fmt.Sprintf("1 (postgres) S 0 1 1 0 -1 0 0 0 0 0 7 3 %d 0 20", ticks))
	}
	children := func(pids ...int) {
		var s []string
		for _, p := range pids {
			s = append(s, fmt.Sprint(p))
		}
		write("1/task/1/children", strings.Join(s, " "))
	}
	write("10/cmdline", "postgres: 15/main: payflow bench_db 127.0.0.1(1) idle\x00")
	write("11/cmdline", "postgres: 15/main: payflow other_db 127.0.0.1(2) idle\x00")
	write("12/cmdline", "postgres: 15/main: walwriter \x00")
	write("13/cmdline", "/usr/lib/postgresql/15/bin/postgres\x00-D\x00x\x00") // forked, no title yet
	write("14/cmdline", "postgres: 15/main: payflow bench_db 127.0.0.1(3) idle\x00")
	reaped(1000)
	children(10, 11, 12, 13)
	tr := newExitTracker(proc, 1, pgScope{database: "bench_db"})
	if !tr.poll() {
		t.Fatal("first poll failed")
	}
	step := func(ticks int, pids ...int) {
		reaped(ticks)
		children(pids...)
		tr.poll()
	}
	step(1050, 11, 12, 13) // ours (10) exited with 50 ticks
	step(1080, 12, 13)     // the other database's (11): 30
	step(1100, 12, 13, 14) // a rise with none gone: whose is unknown, 20
	step(1140, 12, 13)     // ours (14): 40
	step(1150, 12)         // the one never titled: unknown, 10
	if got, want := tr.ours(), ticksDuration(90); got != want {
		t.Errorf("ours %v, want %v", got, want)
	}
	if got, want := tr.elsewhere(), ticksDuration(60); got != want {
		t.Errorf("elsewhere %v, want %v", got, want)
	}
	write("20/cmdline", "postgres: 15/main: payflow bench_db 127.0.0.1(4) idle\x00")
	write("21/cmdline", "postgres: 15/main: payflow other_db 127.0.0.1(5) idle\x00")
	step(1150, 12, 20, 21)
	step(1250, 12) // one of each: shared by count
	if got, want := tr.ours(), ticksDuration(140); got != want {
		t.Errorf("after a shared exit, ours %v, want %v", got, want)
	}
}
