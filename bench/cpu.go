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
	postgres time.Duration // exited included
	// exited is the part of postgres that PostgreSQL's processes left
	// when they exited (of any database: an exit does not say whose).
	exited  time.Duration
	pgKnown bool // false where /proc is missing or shows no PostgreSQL
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
	r.postgres, r.exited, r.pgKnown = postgresCPU(scope)
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

// postgresCPU sums utime+stime of the postgres processes in scope, and
// the postmaster's cutime+cstime: the time of the backends it reaped. A
// pool that closes connections beyond its idle limit has backends come and
// go within a round, each with its own authentication and start-up; that
// is CPU of the round's too, but an exit does not say whose database it
// was, so on a shared machine the other databases' exits come with it
// (exited says how much, and a baseline round, which opens no connection,
// measures that noise).
func postgresCPU(scope pgScope) (total, exited time.Duration, ok bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, false
	}
	var ticks, reaped int64
	found := false
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone since the listing
		}
		st, ok := parseStat(stat)
		if !ok || st.comm != "postgres" {
			continue
		}
		title, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		db, isDB := titleDatabase(title)
		if scope.database != "" && isDB && db != scope.database {
			continue
		}
		found = true
		ticks += st.ticks
		if isPostmaster(title) {
			reaped += st.childTicks
		}
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }
	return tick(ticks + reaped), tick(reaped), found
}

// procStat is what postgresCPU needs of /proc/<pid>/stat, times in clock
// ticks.
type procStat struct {
	comm       string
	ticks      int64 // utime+stime
	childTicks int64 // cutime+cstime: of the children it reaped
}

// parseStat reads a /proc/<pid>/stat line. comm is in parentheses and may
// hold spaces and parentheses itself, so the fields are counted from the
// last ')'.
func parseStat(b []byte) (procStat, bool) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	// After comm: state ppid pgrp session tty_nr tpgid flags minflt
	// cminflt majflt cmajflt utime stime cutime cstime (fields 3 to 17).
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 15 {
		return procStat{}, false
	}
	var t [4]int64
	for i := range t {
		v, err := strconv.ParseInt(f[11+i], 10, 64)
		if err != nil {
			return procStat{}, false
		}
		t[i] = v
	}
	return procStat{comm: string(b[open+1 : end]), ticks: t[0] + t[1], childTicks: t[2] + t[3]}, true
}

// isPostmaster is true for the command line of PostgreSQL's server
// process; its children (backends, background processes) run under a
// process title ("postgres: ...") instead.
func isPostmaster(cmdline []byte) bool { return !bytes.HasPrefix(cmdline, []byte("postgres: ")) }

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
