package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/rediscluster"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// TestCluster_CapIsExactOnEveryShard sends 1,000 users at once into each of
// 20 experiments of cap 250 spread over the masters of the local cluster,
// through the automatic pipeliner as assignd does: exactly 250 members each,
// and counters equal members.
func TestCluster_CapIsExactOnEveryShard(t *testing.T) {
	s, c := openClusterPipelined(t)
	ctx := testenv.Context(t)
	const experiments, users, cap = 20, 1000, 250
	masters := map[string]bool{}
	cc := c.(*redis.ClusterClient)
	for i := range experiments {
		id := fmt.Sprintf("shard-rush-%02d", i)
		mustCreate(t, s, newExperiment(id, cap, 1))
		node, err := cc.MasterForKey(ctx, redisstore.ConfigKey(s.Keys().Prefix(id, "")))
		if err != nil {
			t.Fatal(err)
		}
		masters[node.Options().Addr] = true
	}
	if len(masters) < 2 {
		t.Fatalf("the %d experiments sit on %d master(s): want them spread over the shards", experiments, len(masters))
	}

	type result struct {
		res *assign.Enrollment
		err error
	}
	results := make([][]result, experiments)
	var start, done sync.WaitGroup
	start.Add(1)
	sem := make(chan struct{}, 500) // goroutines in flight; the pipeliner batches them
	for e := range experiments {
		results[e] = make([]result, users)
		for u := range users {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				sem <- struct{}{}
				defer func() { <-sem }()
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				r, err := s.Enroll(cctx, assign.EnrollRequest{ExperimentID: fmt.Sprintf("shard-rush-%02d", e), UserID: fmt.Sprintf("user-%04d", u)})
				results[e][u] = result{r, err}
			}()
		}
	}
	start.Done()
	done.Wait()
	for e := range experiments {
		id := fmt.Sprintf("shard-rush-%02d", e)
		enrolled, full := 0, 0
		for u, r := range results[e] {
			switch {
			case r.err != nil:
				t.Fatalf("%s user %d: %v", id, u, r.err)
			case r.res.Enrolled:
				enrolled++
			case r.res.Reason == assign.ReasonSampleFull:
				full++
			default:
				t.Fatalf("%s user %d: %+v", id, u, r.res)
			}
		}
		if enrolled != cap || full != users-cap {
			t.Fatalf("%s: enrolled=%d sample_full=%d, want %d and %d", id, enrolled, full, cap, users-cap)
		}
		if n := checkCounts(t, s, id); n != cap {
			t.Fatalf("%s: n=%d, want %d", id, n, cap)
		}
	}
}

// TestStore_IndexHealing covers the two halves creation can leave apart:
// index entries without their experiment (a creator that died before the
// creation script: ignored, and the id can be created again) and an
// experiment without its index entries (the index keys lost, as a failover
// of the shard holding them can do: found, and the entries written again,
// so it is listed and its stream exported).
func TestStore_IndexHealing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		k := s.Keys()

		t.Run("IndexWithoutExperiment", func(t *testing.T) {
			// What a creation that died after its first steps leaves.
			events := redisstore.EventsKey(k.Prefix("half", ""))
			if err := c.HSetNX(ctx, k.Layers(), "half", "").Err(); err != nil {
				t.Fatal(err)
			}
			c.ZAddNX(ctx, k.Experiments(), redis.Z{Member: "half"})
			c.SAdd(ctx, k.Streams(), events)
			mustCreate(t, s, newExperiment("whole", 10, 1))
			list, _, err := s.FindExperiments(ctx, assign.ExperimentFilter{})
			if err != nil {
				t.Fatal(err)
			} else if len(list) != 1 || list[0].ID != "whole" {
				t.Fatalf("listing %v, want only the whole experiment", ids(list))
			}
			if _, err := s.FindExperimentByID(ctx, "half"); assign.ErrorCode(err) != assign.ENOTFOUND {
				t.Fatalf("find half: %v, want ENOTFOUND", err)
			}
			if _, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "half", UserID: "u"}); assign.ErrorCode(err) != assign.ENOTFOUND {
				t.Fatalf("enroll half: %v, want ENOTFOUND", err)
			}
			mustCreate(t, s, newExperiment("half", 10, 1)) // the creation is repeated and finishes
			mustEnroll(t, s, "half", "u")
		})

		t.Run("ExperimentWithoutIndex", func(t *testing.T) {
			mustCreate(t, s, newExperiment("orphan", 10, 1))
			events := redisstore.EventsKey(k.Prefix("orphan", ""))
			c.HDel(ctx, k.Layers(), "orphan")
			c.ZRem(ctx, k.Experiments(), "orphan")
			c.SRem(ctx, k.Streams(), events)
			other := redisstore.New(c, k) // a process that never saw it
			if res, err := other.Enroll(ctx, assign.EnrollRequest{ExperimentID: "orphan", UserID: "u"}); err != nil || !res.Enrolled {
				t.Fatalf("enroll orphan: %+v, %v", res, err)
			}
			if ok, _ := c.SIsMember(ctx, k.Streams(), events).Result(); !ok {
				t.Fatal("the stream is not back in the exporter's stream set")
			}
			if _, err := c.ZScore(ctx, k.Experiments(), "orphan").Result(); err != nil {
				t.Fatalf("not listed again: %v", err)
			}
			if layer, err := c.HGet(ctx, k.Layers(), "orphan").Result(); err != nil || layer != "" {
				t.Fatalf("reservation %q, %v: want it back, outside any layer", layer, err)
			}
			if err := s.CreateExperiment(ctx, newExperiment("orphan", 10, 1)); assign.ErrorCode(err) != assign.ECONFLICT {
				t.Fatalf("create again: %v, want ECONFLICT", err)
			}
		})

		t.Run("StreamLostAfterTheListing", func(t *testing.T) {
			mustCreate(t, s, newExperiment("listed", 10, 1))
			reader := redisstore.New(c, k) // a process whose cache a listing warmed
			if _, _, err := reader.FindExperiments(ctx, assign.ExperimentFilter{}); err != nil {
				t.Fatal(err)
			}
			events := redisstore.EventsKey(k.Prefix("listed", ""))
			c.SRem(ctx, k.Streams(), events)
			if _, err := reader.Enroll(ctx, assign.EnrollRequest{ExperimentID: "listed", UserID: "u"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the stream back in the stream set", func() bool {
				ok, _ := c.SIsMember(ctx, k.Streams(), events).Result()
				return ok
			})
		})
	})
}

func ids(list []*assign.Experiment) []string {
	var out []string
	for _, e := range list {
		out = append(out, e.ID)
	}
	return out
}

// TestEnroll_MinReplicas: with MinReplicas, an enrollment is answered once
// that many replicas hold it, and is EUNAVAILABLE (the member recorded all
// the same, and found by the next call) when fewer acknowledge in time.
func TestEnroll_MinReplicas(t *testing.T) {
	t.Run("cluster", func(t *testing.T) {
		s, _ := openCluster(t)
		ctx := testenv.Context(t)
		mustCreate(t, s, newExperiment("durable", 100, 1))
		s.MinReplicas = 1
		for i := range 20 {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			res, err := s.Enroll(cctx, assign.EnrollRequest{ExperimentID: "durable", UserID: fmt.Sprint("u", i)})
			cancel()
			if err != nil || !res.Enrolled {
				t.Fatalf("user %d: %+v, %v", i, res, err)
			}
		}
		s.MinReplicas = 2                                     // each master has one replica
		cctx, cancel := context.WithTimeout(ctx, time.Second) // WAIT gets half
		defer cancel()
		// WAIT's own answer (one replica of the two), not a timeout.
		if _, err := s.Enroll(cctx, assign.EnrollRequest{ExperimentID: "durable", UserID: "late"}); assign.ErrorCode(err) != assign.EUNAVAILABLE ||
			!strings.Contains(err.Error(), "reached 1 of the 2 replicas") {
			t.Fatalf("two replicas of one: %v, want EUNAVAILABLE from WAIT's answer", err)
		}
		s.MinReplicas = 0
		if res := mustEnroll(t, s, "durable", "late"); res.New || !res.Enrolled {
			t.Fatalf("after the refused wait: %+v, want the member recorded then", res)
		}
		if n := checkCounts(t, s, "durable"); n != 21 {
			t.Fatalf("n=%d, want 21", n)
		}
	})
	t.Run("redis", func(t *testing.T) {
		s, _ := MustOpenRedisStore(t, 0)
		ctx := testenv.Context(t)
		mustCreate(t, s, newExperiment("durable", 100, 1))
		s.MinReplicas = 1                                     // the test server has no replica
		cctx, cancel := context.WithTimeout(ctx, time.Second) // WAIT gets half
		defer cancel()
		if _, err := s.Enroll(cctx, assign.EnrollRequest{ExperimentID: "durable", UserID: "u"}); assign.ErrorCode(err) != assign.EUNAVAILABLE ||
			!strings.Contains(err.Error(), "reached 0 of the 1 replicas") {
			t.Fatalf("no replica: %v, want EUNAVAILABLE from WAIT's answer", err)
		}
	})
}

// TestEnroll_LostMembersReenrollIntoTheSameGroup: replication is
// asynchronous, so a failover may promote a replica that never received the
// last members (their bucket entries and counters). Such a user, coming
// back, is enrolled again, and into the group they were told: the draws
// depend only on the salt, the experiment and the user.
func TestEnroll_LostMembersReenrollIntoTheSameGroup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		groups := []assign.Group{{Name: "a", Probability: 0.2}, {Name: "b", Probability: 0.3}, {Name: "c", Probability: 0.5}}
		mustCreate(t, s, newExperiment("lossy", 1000, 0.7, groups...))
		told := map[string]*assign.Enrollment{}
		for i := range 200 {
			u := fmt.Sprint("u-", i)
			told[u] = mustEnroll(t, s, "lossy", u)
		}
		// The replica that took over never got any member of this experiment.
		buckets, err := s.BucketKeys(ctx, "lossy")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range buckets {
			c.Del(ctx, k)
		}
		config := redisstore.ConfigKey(s.Keys().Prefix("lossy", ""))
		c.HSet(ctx, config, "n", 0, "c0", 0, "c1", 0, "c2", 0)

		again := 0
		for u, before := range told {
			after := mustEnroll(t, s, "lossy", u)
			if after.Group != before.Group || after.Reason != before.Reason {
				t.Fatalf("%s: told %+v before the loss, %+v after", u, before, after)
			}
			if before.Enrolled {
				if !after.New {
					t.Fatalf("%s: %+v, want enrolled anew (the member was lost)", u, after)
				}
				again++
			}
		}
		if n := checkCounts(t, s, "lossy"); n != int64(again) || again == 0 {
			t.Fatalf("n=%d after the re-enrollments, want %d", n, again)
		}
	})
}

// TestPing_ClusterSlotsUnserved: with cluster-require-full-coverage no, a
// cluster missing a slot's owner still says cluster_state:ok; the store is
// not ready all the same (an experiment may live in that slot).
func TestPing_ClusterSlotsUnserved(t *testing.T) {
	cl := testenv.NewCluster(t, rediscluster.Options{ReplicasPerMaster: -1})
	ctx := testenv.Context(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	defer c.Close()
	s := redisstore.New(c, redisstore.Keys{Namespace: testenv.Namespace()})
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("healthy cluster: %v", err)
	}
	owner, err := cl.MasterOf(ctx, "{slot-zero-probe}")
	if err != nil {
		t.Fatal(err)
	}
	n := redis.NewClient(&redis.Options{Addr: owner})
	defer n.Close()
	slot := int(redisstore.Slot("{slot-zero-probe}"))
	if err := n.ClusterDelSlots(ctx, slot).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the store to say the slot is unserved", func() bool {
		err := s.Ping(ctx)
		return assign.ErrorCode(err) == assign.EUNAVAILABLE
	})
	if err := n.ClusterAddSlots(ctx, slot).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the store to be ready again", func() bool { return s.Ping(ctx) == nil })
}
