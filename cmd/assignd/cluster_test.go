package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/internal/rediscluster"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

const (
	clusterTestSecret = "cluster-test-secret-0123456789abcdef"
	clusterTestAdmin  = "cluster-admin-0123456789"
)

// startOnCluster runs a whole assignd against redisURL (a cluster node) with
// the exporter writing to a DuckDB file of its own.
func startOnCluster(t *testing.T, redisURL string) *Main {
	t.Helper()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.RedisURL = redisURL
	m.Config.Namespace = testenv.Namespace()
	m.Config.JWTSecret = clusterTestSecret
	m.Config.AdminTokens = "ops:" + clusterTestAdmin
	m.Config.WarehouseURL = filepath.Join(t.TempDir(), "assign.duckdb")
	m.Config.ExportFlushInterval = 50 * time.Millisecond
	m.Config.EnrollTimeout = time.Second // a busy 2-core machine: only a real failure may miss it
	m.Config.Pipeline = os.Getenv("NOPIPE") == ""
	m.Logger = discardLogger()
	if os.Getenv("DEBUGLOG") != "" {
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

type enrollAnswer struct {
	Enrolled bool   `json:"enrolled"`
	Group    string `json:"group_name"`
	Reason   string `json:"reason"`
	Error    struct {
		Code     string `json:"code"`
		Fallback string `json:"fallback"`
	} `json:"error"`
}

// TestMain_ClusterFailover runs assignd against a local 3-master,
// 3-replica Redis Cluster, named by one seed node only, enrolls new users
// into experiments on every shard, and kills -9 that very seed node (a
// master) mid-load. The experiments of the other shards never fail; those of
// the killed shard answer 503 with the fallback only until its replica is
// promoted, then recover with no restart of assignd; /readyz is false
// meanwhile. Afterwards every user answered before keeps the same answer
// (a member the promoted replica never received re-enrolls into the same
// group: the draws are deterministic) and no cap is exceeded.
func TestMain_ClusterFailover(t *testing.T) {
	cl := testenv.NewCluster(t, rediscluster.Options{NodeTimeout: time.Second})
	m := startOnCluster(t, cl.SeedURL())
	url := m.Server.URL()
	client := &http.Client{Timeout: 5 * time.Second}
	ctx := testenv.Context(t)
	seed := cl.Addrs()[0]

	// Experiments until each master holds at least two; one per shard has a
	// small cap that fills during the load.
	type exp struct {
		id     string
		master string
		cap    int
	}
	var exps []exp
	perMaster := map[string]int{}
	for i := 0; len(exps) < 40 && (len(perMaster) < 3 || minCount(perMaster) < 2); i++ {
		id := fmt.Sprintf("fo-%03d", i)
		master, err := cl.MasterOf(ctx, redisstore.ConfigKey(m.Store.Keys().Prefix(id, "")))
		if err != nil {
			t.Fatal(err)
		}
		capacity := 100_000
		if perMaster[master] == 0 {
			capacity = 60
		}
		body := fmt.Sprintf(`{"experiment_id":%q,"maximum_sample_size":%d,"groups":[{"group_name":"a","probability_of_falling_in":0.5},{"group_name":"b","probability_of_falling_in":0.5}]}`, id, capacity)
		if code, b := postWith(t, client, url+"/api/experiment-create", clusterTestAdmin, body); code != 201 {
			t.Fatalf("create %s: %d %s", id, code, b)
		}
		exps = append(exps, exp{id, master, capacity})
		perMaster[master]++
	}
	if perMaster[seed] == 0 {
		t.Fatalf("no experiment on the seed master %s: %v", seed, perMaster)
	}

	tokens := sync.Map{}
	token := func(user string) string {
		if v, ok := tokens.Load(user); ok {
			return v.(string)
		}
		tok, err := auth.SignHS256([]byte(clusterTestSecret), user, time.Hour, nil)
		if err != nil {
			t.Error(err)
		}
		tokens.Store(user, tok)
		return tok
	}
	// Safe in any goroutine: a request that fails counts as status 0.
	enroll := func(id, user string) (int, enrollAnswer) { return postEnroll(client, url, token(user), id) }

	type told struct{ id, user, group, reason string }
	var (
		mu          sync.Mutex
		answers     []told
		otherFailed []string
		seq         atomic.Int64
		killedAt    atomic.Int64 // unix ns; 0 before the kill
		lastFailure atomic.Int64 // unix ns of the last non-200 on the killed shard
		failures    atomic.Int64
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				e := exps[(w+i)%len(exps)]
				user := fmt.Sprintf("u-%d", seq.Add(1))
				code, a := enroll(e.id, user)
				switch {
				case code == 200:
					mu.Lock()
					answers = append(answers, told{e.id, user, a.Group, a.Reason})
					mu.Unlock()
				case e.master == seed && code == 503 && a.Error.Fallback == "default_experience":
					failures.Add(1)
					lastFailure.Store(time.Now().UnixNano())
				default:
					mu.Lock()
					otherFailed = append(otherFailed, fmt.Sprintf("%s on %s (killed: %v): %d %+v", e.id, e.master, killedAt.Load() != 0, code, a))
					mu.Unlock()
				}
			}
		}()
	}

	time.Sleep(time.Second) // load before the kill
	if err := cl.Kill(seed); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	killedAt.Store(killed.UnixNano())
	sawUnready := false
	recovered := time.Time{}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if code := getStatus(t, client, url+"/readyz"); code != 200 {
			sawUnready = true
		}
		// Recovered: the killed shard's experiments answer again.
		ok := true
		for _, e := range exps {
			if e.master == seed {
				if code, _ := enroll(e.id, fmt.Sprintf("probe-%d", seq.Add(1))); code != 200 {
					ok = false
				}
			}
		}
		if ok && failures.Load() > 0 {
			recovered = time.Now()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if recovered.IsZero() {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the killed shard's experiments did not recover within 60 s (%d failures with the fallback, %d other failures, e.g. %v)", failures.Load(), len(otherFailed), otherFailed[:min(len(otherFailed), 3)])
	}
	time.Sleep(time.Second) // load after the recovery
	close(stop)
	wg.Wait()
	t.Logf("killed master %s: %d enrollments of its shard answered 503 with the fallback, the last at +%.2f s; every experiment of the shard answered again at +%.2f s",
		seed, failures.Load(), time.Duration(lastFailure.Load()-killed.UnixNano()).Seconds(), recovered.Sub(killed).Seconds())

	if len(otherFailed) > 0 {
		t.Fatalf("%d enrollments outside the killed shard failed (or failed without the fallback), e.g. %s", len(otherFailed), otherFailed[0])
	}
	if !sawUnready {
		t.Error("/readyz stayed 200 while a master was down")
	}
	waitFor(t, func() bool { return getStatus(t, client, url+"/readyz") == 200 })
	if time.Duration(lastFailure.Load()-killed.UnixNano()) > recovered.Sub(killed)+time.Second {
		t.Errorf("the killed shard failed after it had recovered")
	}

	// Same answers afterwards; no cap exceeded.
	for _, a := range answers {
		code, again := enroll(a.id, a.user)
		if code != 200 || again.Group != a.group || again.Reason != a.reason {
			t.Fatalf("%s/%s: told %q/%q before the failover, %d %q/%q after", a.id, a.user, a.group, a.reason, code, again.Group, again.Reason)
		}
	}
	for _, e := range exps {
		x, err := m.Store.FindExperimentByID(ctx, e.id)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, n := range x.Stats.PerGroup {
			sum += n
		}
		if x.Stats.Enrolled > int64(e.cap) || sum != x.Stats.Enrolled {
			t.Fatalf("%s: enrolled %d (groups %d), cap %d", e.id, x.Stats.Enrolled, sum, e.cap)
		}
	}
	t.Logf("%d answers checked again after the failover", len(answers))
}

// postEnroll asks url's assignd to enroll the token's user in experiment
// id. Safe in any goroutine: a request that fails is status 0.
func postEnroll(c *http.Client, url, token, id string) (int, enrollAnswer) {
	req, _ := http.NewRequest("POST", url+"/api/experiment-enrollments", strings.NewReader(fmt.Sprintf(`{"experiment_id":%q}`, id)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	var a enrollAnswer
	resp, err := c.Do(req)
	if err != nil {
		return 0, a
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return resp.StatusCode, a
}

func minCount(m map[string]int) int {
	n := -1
	for _, c := range m {
		if n < 0 || c < n {
			n = c
		}
	}
	return n
}

func getStatus(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
