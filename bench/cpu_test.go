package bench

import (
	"os"
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
	a := readCPU(pgScope{})
	for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); {
	}
	b := readCPU(pgScope{})
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
