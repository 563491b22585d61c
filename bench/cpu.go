package bench

import (
	"bytes"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuReading is the CPU time used so far by this process (API, worker,
// sandboxes, the bench and, with the embedded server, Temporal and its
// SQLite) and by PostgreSQL (payflow's store).
type cpuReading struct {
	at       time.Time
	process  time.Duration
	postgres time.Duration
	pgKnown  bool // false where /proc is missing or shows no PostgreSQL
}

// pgScope says which PostgreSQL processes count. PostgreSQL on a
// developer's machine also serves other test runs: a backend of another
// database is their work, not the bench's. Processes that belong to no
// database (checkpointer, WAL writer, background writer...) count.
type pgScope struct {
	database string // "": every postgres process
}

// databaseName is a postgres:// URL's database.
func databaseName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

func readCPU(scope pgScope) cpuReading {
	r := cpuReading{at: time.Now(), process: processCPU()}
	r.postgres, r.pgKnown = postgresCPU(scope)
	return r
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go runs on.
const clockTicks = 100

// postgresCPU sums utime+stime of the postgres processes in scope. A
// backend that exits between two readings takes its time with it; the
// app's pool keeps its connections, so that is rare.
func postgresCPU(scope pgScope) (time.Duration, bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	var ticks int64
	found := false
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone since the listing
		}
		comm, t, ok := parseStat(stat)
		if !ok || comm != "postgres" {
			continue
		}
		if scope.database != "" {
			title, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err != nil {
				continue
			}
			if db, ok := titleDatabase(title); ok && db != scope.database {
				continue
			}
		}
		found = true
		ticks += t
	}
	return time.Duration(ticks) * time.Second / clockTicks, found
}

// parseStat reads comm and utime+stime (in clock ticks) from a
// /proc/<pid>/stat line. comm is in parentheses and may hold spaces and
// parentheses itself, so the fields are counted from the last ')'.
func parseStat(b []byte) (comm string, ticks int64, ok bool) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	// After comm: state ppid pgrp session tty_nr tpgid flags minflt
	// cminflt majflt cmajflt utime stime (fields 3 to 15).
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return "", 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, false
	}
	return string(b[open+1 : end]), u + s, true
}

// titleDatabase is the database of a PostgreSQL backend or autovacuum
// worker from its process title ("postgres: [cluster: ]user db
// host(port) state", "postgres: [cluster: ]autovacuum worker db"); ok is
// false for processes of no database.
func titleDatabase(cmdline []byte) (string, bool) {
	title := strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	rest, found := strings.CutPrefix(title, "postgres: ")
	if !found {
		return "", false // the postmaster: its command line, not a title
	}
	f := strings.Fields(rest)
	if len(f) > 0 && strings.HasSuffix(f[0], ":") { // cluster_name
		f = f[1:]
	}
	switch {
	case len(f) >= 3 && f[0] == "autovacuum" && f[1] == "worker":
		return f[2], true
	case len(f) >= 3 && (strings.HasSuffix(f[2], ")") || f[2] == "[local]"):
		return f[1], true
	}
	return "", false
}
