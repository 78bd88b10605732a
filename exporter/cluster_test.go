package exporter_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/rediscluster"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/warehousetest"
)

// TestExporter_ClusterRestartAndFailover enrolls 10,000 users into 30
// experiments spread over a local 3-master Redis Cluster, through the store
// as assignd does, while the exporter into PostgreSQL is stopped and started
// again and a master is killed -9 mid-load. Enrollments whose master died
// before answering are retried; afterwards every user is enrolled again
// once (a member the promoted replica never received re-enrolls into the
// same group, and its event is written anew). PostgreSQL then holds exactly
// 10,000 rows, one per user, each with the group the user was told.
func TestExporter_ClusterRestartAndFailover(t *testing.T) {
	cl := testenv.NewCluster(t, rediscluster.Options{NodeTimeout: time.Second})
	ctx := testenv.Context(t)
	client, err := redisstore.NewClient(ctx, cl.SeedURL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	keys := redisstore.Keys{Namespace: testenv.Namespace()}
	store := redisstore.New(client, keys)
	if err := store.Load(ctx); err != nil {
		t.Fatal(err)
	}
	const experiments, users = 30, 10_000
	for i := range experiments {
		e := &assign.Experiment{ID: fmt.Sprintf("cx-%02d", i), MaxSampleSize: users, SamplingProbability: 1,
			Groups: []assign.Group{{Name: "control", Probability: 0.5}, {Name: "treatment", Probability: 0.5}}}
		if err := store.CreateExperiment(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	sink, pool := pgSink(t, "")
	b := backend{Name: "cluster", Client: client, Keys: keys}

	told := make([]string, users) // group told to user i
	exp := func(i int) string { return fmt.Sprintf("cx-%02d", i%experiments) }
	user := func(i int) string { return fmt.Sprintf("cu-%05d", i) }
	// enrollRange enrolls users lo..hi-1 with 8 workers, retrying a user
	// whose shard does not answer (its master is down) until it does.
	enrollRange := func(lo, hi int) {
		var wg sync.WaitGroup
		next := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					for try := 0; ; try++ {
						cctx, cancel := context.WithTimeout(ctx, time.Second)
						res, err := store.Enroll(cctx, assign.EnrollRequest{ExperimentID: exp(i), UserID: user(i)})
						cancel()
						if err == nil && res.Enrolled {
							if told[i] != "" && told[i] != res.Group {
								t.Errorf("%s/%s: told %q, then %q", exp(i), user(i), told[i], res.Group)
							}
							told[i] = res.Group
							break
						}
						if assign.ErrorCode(err) != assign.EUNAVAILABLE || try > 600 {
							t.Errorf("%s/%s: %+v, %v", exp(i), user(i), res, err)
							return
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
			}()
		}
		for i := lo; i < hi; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
	}

	// 1. An exporter runs, then stops half-way through the first users.
	first := start(newExporter(b, sink, "c1"))
	enrollRange(0, 2000)
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}
	enrollRange(2000, 4000) // while no exporter runs
	// 2. The same consumer starts again; a master dies under the load.
	// Entries delivered by the dead master whose acknowledgement its replica
	// never received are pending again after the failover: claimed (idle
	// ones, ours too) after ClaimIdle, a minute by default.
	restarted := newExporter(b, sink, "c1")
	restarted.ClaimIdle = time.Second
	second := start(restarted)
	defer second.stop(t)
	var killed sync.WaitGroup
	killed.Add(1)
	go func() {
		defer killed.Done()
		time.Sleep(300 * time.Millisecond)
		victim := cl.Addrs()[1]
		if err := cl.Kill(victim); err != nil {
			t.Error(err)
			return
		}
		t.Logf("killed master %s", victim)
	}()
	enrollRange(4000, users)
	killed.Wait()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := cl.WaitHealthy(wctx); err != nil {
		t.Fatal(err)
	}
	// 3. Everyone comes back once: a member lost with the dead master is
	// enrolled again, into the group they were told.
	enrollRange(0, users)
	if t.Failed() {
		t.FailNow()
	}

	waitFor(t, "10,000 rows in PostgreSQL", func() bool { return pgCount(t, pool, sink) >= users })
	waitFor(t, "the streams to drain", func() bool { return drained(t, newExporter(b, sink, "probe")) })
	want := make([]warehouse.EnrollmentRow, users)
	for i := range want {
		want[i] = warehouse.EnrollmentRow{ExperimentID: exp(i), UserID: user(i), Group: told[i]}
	}
	got := allRows(t, sink)
	for i := range got {
		got[i].EnrolledAt = time.Time{}
	}
	warehousetest.Equal(t, got, want)
}
