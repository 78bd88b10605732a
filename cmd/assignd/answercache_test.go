package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/redisstore"
)

const (
	cacheTestSecret = "answer-cache-secret-0123456789abcdef"
	cacheTestAdmin  = "answer-cache-admin-0123456789"
)

// assigndProcess is this test binary run as assignd (see TestMain).
type assigndProcess struct {
	url string
	cmd *exec.Cmd
}

func startAssigndProcess(t *testing.T, redisURL string) *assigndProcess {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ASSIGND_AS_MAIN=1",
		"ASSIGND_ARGS=-addr "+addr+" -redis-url "+redisURL+" -exporter=false -console=false -log-format json -log-level warn",
		"ASSIGN_JWT_SECRET="+cacheTestSecret, "ASSIGN_ADMIN_TOKEN=ops:"+cacheTestAdmin)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // its log, for a failing run
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Logf("assignd %s: %s", addr, sc.Text())
		}
	}()
	p := &assigndProcess{url: "http://" + addr, cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	waitFor(t, func() bool { _, err := httpGet(p.url + "/healthz"); return err == nil })
	return p
}

// metric returns the value of an unlabelled metric of the process.
func (p *assigndProcess) metric(t *testing.T, name string) float64 {
	t.Helper()
	body, err := httpGet(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// cacheAnswer is one enrollment asked during the load.
type cacheAnswer struct {
	proc          int
	start, end    time.Time
	code          int
	group, reason string
}

// TestAnswerCache_TwoProcesses runs two assignd processes with the answer
// cache on (the default) against a redis-server of the test's own, under a
// load of returning users on both, and checks the staleness bound the
// README states (redisstore.HeartbeatWindow, 1 s):
//
//   - after the winner is set through one process, no process answers the
//     old group to a request that started later than the bound;
//   - a Redis that hangs (SIGSTOP) is no reason to answer from memory past
//     the bound: answers turn into 503s, as without a cache;
//   - after Redis restarts empty, nothing cached before survives: every
//     request started later than the bound is told the experiment does not
//     exist.
func TestAnswerCache_TwoProcesses(t *testing.T) {
	port := freePort(t)
	rs := startRedis(t, port)
	redisURL := "redis://" + rs.addr()
	procs := []*assigndProcess{startAssigndProcess(t, redisURL), startAssigndProcess(t, redisURL)}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	create := `{"experiment_id":"cached","maximum_sample_size":100000,"sampling_probability":1,"groups":[{"group_name":"control","probability_of_falling_in":0.5},{"group_name":"treatment","probability_of_falling_in":0.5}]}`
	if code, b := postWith(t, client, procs[0].url+"/api/experiment-create", cacheTestAdmin, create); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	const users = 200
	tokens := make([]string, users)
	groups := map[string]int{}
	for i := range tokens {
		tokens[i], _ = auth.SignHS256([]byte(cacheTestSecret), fmt.Sprintf("returning-%d", i), time.Hour, nil)
		code, a := postEnroll(client, procs[i%2].url, tokens[i], "cached")
		if code != 200 || a.Group == "" {
			t.Fatalf("enroll %d: %d %+v", i, code, a)
		}
		groups[a.Group]++
	}
	if groups["control"] == 0 || groups["treatment"] == 0 {
		t.Fatalf("groups %v: want members in both", groups)
	}

	// The load: returning users on both processes, every answer recorded.
	var (
		mu      sync.Mutex
		answers []cacheAnswer
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i += 8 {
				select {
				case <-stop:
					return
				default:
				}
				p := w % 2
				a := cacheAnswer{proc: p, start: time.Now()}
				var body enrollAnswer
				a.code, body = postEnroll(client, procs[p].url, tokens[i%users], "cached")
				a.group, a.reason = body.Group, body.Reason
				a.end = time.Now()
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}
		}()
	}
	stopLoad := func() {
		close(stop)
		wg.Wait()
	}
	// answersSince returns the answers to requests started after t.
	answersSince := func(t time.Time) []cacheAnswer {
		mu.Lock()
		defer mu.Unlock()
		var out []cacheAnswer
		for _, a := range answers {
			if a.start.After(t) {
				out = append(out, a)
			}
		}
		return out
	}
	bound := redisstore.HeartbeatWindow

	time.Sleep(time.Second)
	for i, p := range procs {
		if hits := p.metric(t, "assign_answer_cache_hits_total"); hits < 100 {
			t.Fatalf("process %d answered %v returning users from its cache: the cache is not answering", i, hits)
		}
	}

	t.Run("Rollout", func(t *testing.T) {
		body := `{"winner":"treatment"}`
		req, _ := http.NewRequest("PATCH", procs[0].url+"/api/experiments/cached", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cacheTestAdmin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("PATCH winner: %d", resp.StatusCode)
		}
		applied := time.Now()
		time.Sleep(bound + time.Second)
		var late, after, lastOld = 0, 0, time.Duration(0)
		for _, a := range answersSince(applied) {
			if a.code != 200 {
				t.Fatalf("process %d answered %d during the rollout", a.proc, a.code)
			}
			after++
			if a.group != "treatment" {
				if d := a.start.Sub(applied); d > lastOld {
					lastOld = d
				}
				if a.start.After(applied.Add(bound)) {
					late++
				}
			}
		}
		if after < 100 {
			t.Fatalf("only %d answers after the rollout: no load", after)
		}
		if late > 0 {
			t.Fatalf("%d answers to requests started more than %v after the rollout still named the old group", late, bound)
		}
		t.Logf("rollout: %d answers after it; the last old group answered to a request started %v after it returned", after, lastOld)
	})

	t.Run("RedisHangs", func(t *testing.T) {
		if err := rs.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		hung := time.Now()
		time.Sleep(bound + 2*time.Second)
		if err := rs.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		var fromMemory, late int
		for _, a := range answersSince(hung) {
			if a.start.After(hung.Add(bound)) && a.end.Before(hung.Add(bound+2*time.Second)) {
				if a.code == 200 {
					late++
				}
			} else if a.code == 200 {
				fromMemory++
			}
		}
		if late > 0 {
			t.Fatalf("%d answers from memory more than %v after Redis stopped answering", late, bound)
		}
		// Answering from memory again once Redis is back.
		for _, p := range procs {
			waitFor(t, func() bool { return p.metric(t, "assign_answer_cache_serving") == 1 })
		}
		t.Logf("Redis hung: %d answers from memory within the bound, none after", fromMemory)
	})

	t.Run("RedisRestartsEmpty", func(t *testing.T) {
		flushes := make([]float64, len(procs))
		for i, p := range procs {
			flushes[i] = p.metric(t, "assign_answer_cache_flushes_total")
		}
		rs.stop()
		rs = startRedis(t, port)
		restarted := time.Now()
		time.Sleep(bound + 2*time.Second)
		var stale, found int
		for _, a := range answersSince(restarted.Add(bound)) {
			switch {
			case a.code == 200:
				stale++
			case a.code == 404:
				found++
			}
		}
		if stale > 0 {
			t.Fatalf("%d answers more than %v after Redis restarted empty named a group (cached before the restart)", stale, bound)
		}
		if found < 50 {
			t.Fatalf("only %d answers were 404 after the restart: did the processes reconnect?", found)
		}
		for i, p := range procs {
			waitFor(t, func() bool { return p.metric(t, "assign_answer_cache_serving") == 1 })
			if f := p.metric(t, "assign_answer_cache_flushes_total"); f <= flushes[i] {
				t.Errorf("process %d answers from memory again but was not emptied after the restart (%v flushes before, %v after)", i, flushes[i], f)
			}
		}
	})
	stopLoad()
}
