package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/store/storetest"
)

// The load of issue 9: automatic Snowflake creates from concurrent clients against
// servers whose sandbox takes 500 ms a run, with a 2 s lease.
const (
	loadJobs    = 150
	loadClients = 16
)

var loadArgs = []string{"--sandbox-latency", "500ms", "--lease", "2s"}

func autoSnowflakeBody(host string) string {
	return fmt.Sprintf(`{"type":"Snowflake","autoBootstrap":true,"config":{"host":%q,"warehouse":"W","database":"IMMUTA_DB","authenticationType":"userPassword","username":"admin@x","password":"abc1234","role":"ACCOUNTADMIN"}}`, host)
}

// job is one create of the load, as the client saw it.
type job struct {
	host   string
	sentTo int // the replica the last attempt went to
	// replica accepted it (200) and id is its id; -1 when no answer came (the replica
	// was killed while the request was in flight: it may or may not be stored).
	replica  int
	id       string
	accepted time.Time
	final    time.Time
	status   string
	message  string
}

// load is a run of loadJobs creates.
type load struct {
	jobs     []*job
	rejected atomic.Int64 // 503s, each retried
	start    time.Time
	end      time.Time // when the last job reached a final status
}

// runLoad sends the creates from loadClients clients; job i goes to replica i%len(urls),
// or the next one alive. A 503 must carry Retry-After and is retried after it; a
// transport error leaves the job unanswered. accepted is called after each 200 with
// the number of 200s so far.
func runLoad(t testing.TB, tag string, urls []string, dead func(int) bool, accepted func(n int)) *load {
	t.Helper()
	l := &load{start: time.Now()}
	work := make(chan *job, loadJobs)
	for i := range loadJobs {
		j := &job{host: fmt.Sprintf("%s-%03d.snowflakecomputing.com", tag, i), replica: -1, sentTo: i % len(urls)}
		l.jobs = append(l.jobs, j)
		work <- j
	}
	close(work)
	var n atomic.Int64
	var wg sync.WaitGroup
	for range loadClients {
		wg.Go(func() {
			for j := range work {
				for {
					for dead != nil && dead(j.sentTo) {
						j.sentTo = (j.sentTo + 1) % len(urls)
					}
					code, body, hdr, err := callH(urls[j.sentTo], "POST", "/integrations", autoSnowflakeBody(j.host))
					if err != nil {
						break // the replica is gone; whether it stored the job is checked at the end
					}
					if code == http.StatusServiceUnavailable {
						l.rejected.Add(1)
						secs, err := strconv.Atoi(hdr.Get("Retry-After"))
						if err != nil || secs < 1 || !strings.Contains(string(body), `"statusCode":503`) {
							t.Errorf("%s: 503 without a Retry-After or a JSON error body: %q %s", j.host, hdr.Get("Retry-After"), body)
							break
						}
						time.Sleep(time.Duration(secs) * time.Second) // the client does as told
						continue
					}
					if code != http.StatusOK {
						// A 409 here would mean a refused attempt stored the host.
						t.Errorf("%s: %d %s", j.host, code, body)
						break
					}
					var v struct{ ID string }
					if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
						t.Errorf("%s: body %s", j.host, body)
						break
					}
					j.replica, j.id, j.accepted = j.sentTo, v.ID, time.Now()
					if accepted != nil {
						accepted(int(n.Add(1)))
					}
					break
				}
			}
		})
	}
	wg.Wait()
	return l
}

// waitLoadFinal polls the list of integrations through base until every job the
// servers stored is out of creating, and records each one's status and when it was
// first seen final. Jobs no server stored keep an empty status.
func waitLoadFinal(t testing.TB, base string, l *load, within time.Duration) {
	t.Helper()
	byHost := map[string]*job{}
	for _, j := range l.jobs {
		byHost[j.host] = j
	}
	deadline := time.Now().Add(within)
	for {
		code, body, err := call(base, "GET", "/integrations", "")
		if err != nil || code != http.StatusOK {
			t.Fatalf("list: %v %d %.300s", err, code, body)
		}
		var list []struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			Message string `json:"message"`
			Config  struct {
				Host string `json:"host"`
			} `json:"config"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		now, busy := time.Now(), ""
		for _, in := range list {
			j := byHost[in.Config.Host]
			if j == nil {
				continue
			}
			if j.id == "" {
				j.id = in.ID // stored although its client got no answer
			}
			if in.ID != j.id {
				t.Fatalf("host %s stored as %s and %s", j.host, j.id, in.ID)
			}
			if in.Status == "creating" {
				busy = in.ID
				continue
			}
			if j.final.IsZero() {
				j.final, j.status, j.message = now, in.Status, in.Message
			}
		}
		for _, j := range l.jobs {
			if j.replica >= 0 && j.status == "" && busy == "" {
				busy = j.id // acknowledged but not listed: lost
			}
		}
		if busy == "" {
			l.end = now
			return
		}
		if now.After(deadline) {
			t.Fatalf("integration %s still creating (or lost) after %s", busy, within)
		}
		// Other processes, seen only through the API: an outside poll is the only
		// signal there is (the in-process tests wait on Options.OnBackground instead).
		time.Sleep(20 * time.Millisecond)
	}
}

// runsOf counts, from a replica's log, the sandbox's create script runs per host.
func runsOf(r *replica, into map[string]int) {
	for _, line := range strings.Split(r.log(), "\n") {
		var rec struct {
			Msg, Call, Integration string
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "sandbox run" && strings.HasPrefix(rec.Call, "run:create(") {
			into[rec.Integration]++
		}
	}
}

// jobMetrics returns a replica's integrations_jobs_total for create jobs by outcome.
func jobMetrics(t testing.TB, r *replica) map[string]int {
	t.Helper()
	code, body, err := call(r.url, "GET", "/metrics", "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("metrics: %v %d", err, code)
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, `integrations_jobs_total{kind="create",outcome="`)
		if !ok {
			continue
		}
		outcome, v, _ := strings.Cut(rest, `"} `)
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("metric line %q", line)
		}
		out[outcome] = n
	}
	return out
}

// p99 is the 99th percentile of accepted→final over the jobs that were accepted.
func (l *load) p99() time.Duration {
	var d []time.Duration
	for _, j := range l.jobs {
		if j.replica >= 0 && !j.final.IsZero() {
			d = append(d, j.final.Sub(j.accepted))
		}
	}
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[(len(d)*99+99)/100-1]
}

func (l *load) String() string {
	return fmt.Sprintf("%d jobs in %s (%.1f jobs/s), p99 accepted→final %s, %d 503s retried",
		len(l.jobs), l.end.Sub(l.start).Round(time.Millisecond), float64(len(l.jobs))/l.end.Sub(l.start).Seconds(), l.p99().Round(time.Millisecond), l.rejected.Load())
}

// One server under the load: no job is "interrupted", each job's script runs once,
// every outcome is written, and a full queue refuses with 503 instead of accepting and
// failing.
func TestLoadOneServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process and sends 150 jobs")
	}
	r := startReplica(t, filepath.Join(t.TempDir(), "load.db"), loadArgs...)
	l := runLoad(t, "one", []string{r.url}, nil, nil)
	waitLoadFinal(t, r.url, l, 90*time.Second)
	t.Log(l)
	runs := map[string]int{}
	runsOf(r, runs)
	for _, j := range l.jobs {
		if j.status != "enabled" || runs[j.host] != 1 {
			t.Errorf("%s (%s): %s after %d runs, want enabled after one: %s", j.host, j.id, j.status, runs[j.host], j.message)
		}
	}
	m := jobMetrics(t, r)
	want := map[string]int{"started": loadJobs, "ok": loadJobs, "rejected": int(l.rejected.Load())}
	for _, outcome := range []string{"started", "ok", "failed", "interrupted", "dropped", "lost", "resumed", "released", "rejected"} {
		if m[outcome] != want[outcome] {
			t.Errorf("create jobs %s: %d, want %d", outcome, m[outcome], want[outcome])
		}
	}
	if t.Failed() {
		t.Logf("server log:\n%s", r.log())
	}
}

// Three replicas on PostgreSQL under the load; one is killed with SIGKILL mid-load.
// Only jobs the killed replica held end "interrupted" (an automatic setup cannot be
// resumed); every other job runs once and ends enabled; no job's script runs twice.
func TestLoadThreeReplicasOneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes and sends 150 jobs")
	}
	db := storetest.PostgresURL(t)
	reps := []*replica{startReplica(t, db, loadArgs...), startReplica(t, db, loadArgs...), startReplica(t, db, loadArgs...)}
	urls := []string{reps[0].url, reps[1].url, reps[2].url}
	k := &killer{t: t, reps: reps, victim: 1}
	l := runLoad(t, "three", urls, k.dead, k.accepted)
	if !k.killed.Load() {
		t.Fatal("the load ended before the replica was killed")
	}
	waitLoadFinal(t, urls[0], l, 90*time.Second)
	t.Log(l)

	runs := map[string]int{}
	for _, r := range reps {
		runsOf(r, runs)
	}
	interrupted := 0
	for _, j := range l.jobs {
		held := j.replica == k.victim || j.replica < 0 && j.sentTo == k.victim // the victim's, or maybe
		switch {
		case j.status == "" && j.replica < 0:
			// Never stored: its request died with the replica.
		case runs[j.host] > 1:
			t.Errorf("%s (%s, accepted by %d): script ran %d times", j.host, j.id, j.replica, runs[j.host])
		case j.status == "enabled" && runs[j.host] == 1:
		case held && j.status == "createError" && strings.Contains(j.message, "interrupted"):
			interrupted++
		default:
			t.Errorf("%s (%s, accepted by replica %d, sent to %d): %s after %d runs: %s", j.host, j.id, j.replica, j.sentTo, j.status, runs[j.host], j.message)
		}
	}
	if interrupted == 0 {
		t.Error("the killed replica held no unfinished job: the kill tested nothing")
	}
	// The survivors' counts: each job they started ran once and its outcome was
	// written; the interrupted jobs are the victim's, ended by them.
	sum := map[string]int{}
	for i, r := range reps {
		if i == k.victim {
			continue
		}
		m := jobMetrics(t, r)
		for k, v := range m {
			sum[k] += v
		}
		for _, bad := range []string{"failed", "dropped", "lost", "resumed", "released"} {
			if m[bad] != 0 {
				t.Errorf("replica %d: %d create jobs %s", i, m[bad], bad)
			}
		}
		if m["started"] != m["ok"] {
			t.Errorf("replica %d: %d started, %d ok", i, m["started"], m["ok"])
		}
	}
	if sum["interrupted"] != interrupted {
		t.Errorf("survivors counted %d interrupted, the integrations show %d", sum["interrupted"], interrupted)
	}
	t.Logf("survivors: started %d, ok %d, interrupted %d (the victim's); rejected %d", sum["started"], sum["ok"], sum["interrupted"], sum["rejected"])
	if t.Failed() {
		for i, r := range reps {
			t.Logf("replica %d log:\n%s", i, r.log())
		}
	}
}

// killer SIGKILLs replica victim once a third of the load is accepted (accepted is
// runLoad's callback); dead says which replicas the clients must avoid.
type killer struct {
	t      testing.TB
	reps   []*replica
	victim int
	killed atomic.Bool
	once   sync.Once
}

func (k *killer) accepted(n int) {
	if n < loadJobs/3 {
		return
	}
	k.once.Do(func() {
		k.killed.Store(true)
		if err := k.reps[k.victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
			k.t.Error(err)
		}
		<-k.reps[k.victim].done
	})
}

func (k *killer) dead(i int) bool { return i == k.victim && k.killed.Load() }

// BenchmarkJobs runs the load of the load tests and reports jobs per second and the
// p99 time from accepted to final status: one server (SQLite), three replicas on
// PostgreSQL, and three replicas of which one is killed a third into the load (its
// unfinished jobs reach their final status only when their lease lapses).
func BenchmarkJobs(b *testing.B) {
	setups := []struct {
		name     string
		replicas int
		kill     bool
	}{
		{"one-server", 1, false},
		{"three-replicas", 3, false},
		{"three-replicas-one-killed", 3, true},
	}
	for _, su := range setups {
		b.Run(su.name, func(b *testing.B) {
			var jobs, secs, p99 float64
			for i := range b.N {
				b.StopTimer()
				db := filepath.Join(b.TempDir(), "bench.db")
				if su.replicas > 1 {
					db = storetest.PostgresURL(b)
				}
				var reps []*replica
				var urls []string
				for range su.replicas {
					r := startReplica(b, db, loadArgs...)
					reps, urls = append(reps, r), append(urls, r.url)
				}
				var dead func(int) bool
				var accepted func(int)
				if su.kill {
					k := &killer{t: b, reps: reps, victim: 1}
					dead, accepted = k.dead, k.accepted
				}
				b.StartTimer()
				l := runLoad(b, fmt.Sprintf("bench%d", i), urls, dead, accepted)
				waitLoadFinal(b, urls[0], l, 2*time.Minute)
				b.StopTimer()
				for _, r := range reps {
					_ = r.cmd.Process.Signal(syscall.SIGTERM)
					<-r.done
				}
				jobs += float64(len(l.jobs))
				secs += l.end.Sub(l.start).Seconds()
				p99 = max(p99, float64(l.p99().Milliseconds()))
				b.Log(l)
			}
			b.ReportMetric(jobs/secs, "jobs/s")
			b.ReportMetric(p99, "p99-ms")
		})
	}
}
