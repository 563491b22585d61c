package bench

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
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
	// exited is the part of postgres that backends in scope left when
	// they exited (see exitTracker).
	exited time.Duration
	// watcher is the bench's watcher's backend: the bench's, not in
	// postgres.
	watcher time.Duration
	pgKnown bool // false where /proc is missing or shows no PostgreSQL
}

// pgScope says which PostgreSQL processes count. PostgreSQL on a
// developer's machine also serves other test runs: a backend of another
// database is their work, not the bench's. Processes that belong to no
// database (checkpointer, WAL writer, background writer...) count.
type pgScope struct {
	database string // "": every postgres process
	watcher  int    // the pid of the bench's watcher's backend
}

// databaseName is a postgres:// URL's database.
func databaseName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// readCPU reads the CPU so far; exits (nil where the postmaster's children
// cannot be listed: then every exit counts) tells whose the exited
// backends' time was.
func readCPU(scope pgScope, exits *exitTracker) cpuReading {
	r := cpuReading{at: time.Now(), process: processCPU()}
	pg := postgresCPU(scope)
	r.pgKnown, r.watcher, r.exited = pg.ok, pg.watcher, pg.reaped
	if exits != nil {
		r.exited = exits.ours()
	}
	r.postgres = pg.live + r.exited
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

// pgTimes is PostgreSQL's CPU so far.
type pgTimes struct {
	live       time.Duration // utime+stime of the processes in scope
	watcher    time.Duration // the watcher's backend's
	reaped     time.Duration // the postmaster's cutime+cstime, every database's
	postmaster int
	ok         bool
}

// postgresCPU sums utime+stime of the postgres processes in scope, the
// watcher's apart, and reads the postmaster's cutime+cstime: the time of
// the backends it reaped.
func postgresCPU(scope pgScope) pgTimes {
	var t pgTimes
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return t
	}
	var ticks, reaped, watched int64
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
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
		t.ok = true
		switch {
		case pid == scope.watcher:
			watched += st.ticks
		case isPostmaster(title):
			ticks += st.ticks
			reaped += st.childTicks
			t.postmaster = pid
		default:
			ticks += st.ticks
		}
	}
	t.live, t.watcher, t.reaped = ticksDuration(ticks), ticksDuration(watched), ticksDuration(reaped)
	return t
}

func ticksDuration(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }

// exitTracker charges the CPU of PostgreSQL backends that exit during a
// round to their database. A pool that closes connections beyond its idle
// limit has backends come and go within a round, each with its own
// authentication and start-up: CPU of the round's too, but only the
// postmaster's reaped-children time keeps it, for every database at once,
// and on a shared machine other test runs' backends exit all the time. So
// the tracker polls the postmaster's children every exitPoll, learns each
// one's database from its title, and charges each rise of the reaped time
// to the databases of the children gone since the poll before (shared by
// count when several went); a rise with none of them known is elsewhere.
type exitTracker struct {
	scope          pgScope
	proc           string // where procfs is
	children, stat string
	mu             sync.Mutex
	class          map[int]bool // pid → in scope; absent: title not read yet
	lastReaped     int64
	mine, other    int64 // ticks
	stopped        chan struct{}
	done           chan struct{}
}

const exitPoll = 10 * time.Millisecond

// trackExits starts a tracker, or returns nil where the postmaster's
// children cannot be listed.
func trackExits(scope pgScope) *exitTracker {
	pm := postgresCPU(scope).postmaster
	if pm == 0 {
		return nil
	}
	t := newExitTracker("/proc", pm, scope)
	if !t.poll() {
		return nil
	}
	go func() {
		defer close(t.done)
		tick := time.NewTicker(exitPoll)
		defer tick.Stop()
		for {
			select {
			case <-t.stopped:
				return
			case <-tick.C:
				t.poll()
			}
		}
	}()
	return t
}

func newExitTracker(proc string, postmaster int, scope pgScope) *exitTracker {
	return &exitTracker{scope: scope, proc: proc, children: fmt.Sprintf("%s/%d/task/%d/children", proc, postmaster, postmaster),
		stat: fmt.Sprintf("%s/%d/stat", proc, postmaster), class: map[int]bool{}, lastReaped: -1,
		stopped: make(chan struct{}), done: make(chan struct{})}
}

func (t *exitTracker) stop() {
	if t != nil {
		close(t.stopped)
		<-t.done
	}
}

// ours is the exited backends' time in scope since the tracker started.
func (t *exitTracker) ours() time.Duration {
	t.poll()
	t.mu.Lock()
	defer t.mu.Unlock()
	return ticksDuration(t.mine)
}

// elsewhere is the exited backends' time of other databases (or unknown).
func (t *exitTracker) elsewhere() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return ticksDuration(t.other)
}

func (t *exitTracker) poll() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	// The reaped time first: a child reaped after it is read is still
	// gone from the list read next, and its time comes with the next poll.
	b, err := os.ReadFile(t.stat)
	if err != nil {
		return false
	}
	st, ok := parseStat(b)
	kids, err := os.ReadFile(t.children)
	if !ok || err != nil {
		return false
	}
	now := map[int]bool{}
	for _, f := range strings.Fields(string(kids)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		now[pid] = true
		if _, known := t.class[pid]; known {
			continue
		}
		title, err := os.ReadFile(fmt.Sprintf("%s/%d/cmdline", t.proc, pid))
		if err != nil || isPostmaster(title) {
			continue // not started yet: its title still the postmaster's
		}
		db, isDB := titleDatabase(title)
		t.class[pid] = !isDB || t.scope.database == "" || db == t.scope.database
	}
	var in, out int64
	for pid, mine := range t.class {
		if now[pid] {
			continue
		}
		delete(t.class, pid)
		if mine {
			in++
		} else {
			out++
		}
	}
	if t.lastReaped >= 0 {
		if rise := st.childTicks - t.lastReaped; rise > 0 {
			share := int64(0)
			if in+out > 0 {
				share = rise * in / (in + out)
			}
			t.mine += share
			t.other += rise - share
		}
	}
	t.lastReaped = st.childTicks
	return true
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
