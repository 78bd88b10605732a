package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// backend opens a store on one kind of Redis, under a fresh namespace that is
// deleted when the test ends.
type backend struct {
	name string
	open func(tb testing.TB) (*redisstore.Store, redis.UniversalClient)
}

// backends is the contract suite's list: every store test runs on both,
// because miniredis's Lua differs from Redis's in places.
// The pipelined variant sends enrollments through go-redis's automatic
// pipeliner, as assignd does.
var backends = []backend{
	{"miniredis", openMiniredis},
	{"redis", openRedis},
	{"redis-pipelined", openRedisPipelined},
	{"cluster", openCluster},
	{"cluster-pipelined", openClusterPipelined},
}

// forEachBackend runs fn as a subtest on each backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *redisstore.Store, c redis.UniversalClient)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, c := b.open(t)
			fn(t, s, c)
		})
	}
}

func openMiniredis(tb testing.TB) (*redisstore.Store, redis.UniversalClient) {
	tb.Helper()
	m := miniredis.RunT(tb)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
	tb.Cleanup(func() { c.Close() })
	return newStore(tb, c), c
}

func openRedis(tb testing.TB) (*redisstore.Store, redis.UniversalClient) {
	tb.Helper()
	s, c := MustOpenRedisStore(tb, 0)
	return s, c
}

func openRedisPipelined(tb testing.TB) (*redisstore.Store, redis.UniversalClient) {
	tb.Helper()
	s, c := MustOpenRedisStore(tb, 0)
	ap, err := c.AsyncAutoPipeline()
	if err != nil {
		tb.Fatal(err)
	}
	s.Pipeline = ap
	return s, c
}

// openCluster opens a store on the package's shared local Redis Cluster (3
// masters, 3 replicas) through go-redis's cluster client, under a fresh
// namespace whose keys are deleted on every master when the test ends.
func openCluster(tb testing.TB) (*redisstore.Store, redis.UniversalClient) {
	tb.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: testenv.SharedCluster(tb).Addrs(), ContextTimeoutEnabled: true})
	s := newStore(tb, c)
	ns := s.Keys().Namespace
	tb.Cleanup(func() {
		defer c.Close()
		err := c.ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error {
			iter := n.Scan(ctx, 0, ns+"*", 1000).Iterator()
			for iter.Next(ctx) {
				n.Unlink(ctx, iter.Val())
			}
			return iter.Err()
		})
		if err != nil {
			tb.Errorf("cleanup of %s*: %v", ns, err)
		}
	})
	return s, c
}

// openClusterPipelined is openCluster with the pipeline assignd runs on a
// cluster: one full-duplex autopipeline per master.
func openClusterPipelined(tb testing.TB) (*redisstore.Store, redis.UniversalClient) {
	tb.Helper()
	s, c := openCluster(tb)
	opts := redis.DefaultAutoPipelineOptions()
	opts.FullDuplex = true
	ap, err := c.AsyncAutoPipelineWithOptions(opts)
	if err != nil {
		tb.Fatal(err)
	}
	s.Pipeline = ap
	return s, c
}

// MustOpenRedisStore opens a store on the real Redis with a client pool of
// poolSize connections (0: go-redis's default), under a fresh namespace whose
// keys are deleted when the test ends.
func MustOpenRedisStore(tb testing.TB, poolSize int) (*redisstore.Store, *redis.Client) {
	tb.Helper()
	addr := testenv.RedisAddr(tb)
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, PoolSize: poolSize})
	s := newStore(tb, c)
	ns := s.Keys().Namespace
	tb.Cleanup(func() {
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, ns+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				c.Unlink(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			c.Unlink(ctx, keys...)
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("cleanup of %s*: %v", ns, err)
		}
	})
	return s, c
}

func newStore(tb testing.TB, c redis.UniversalClient) *redisstore.Store {
	tb.Helper()
	s := redisstore.New(c, redisstore.Keys{Namespace: testenv.Namespace()})
	s.Now = func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	if err := s.Load(testenv.Context(tb)); err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return s
}

// newExperiment returns a valid experiment definition to create.
func newExperiment(id string, max int64, p float64, groups ...assign.Group) *assign.Experiment {
	if len(groups) == 0 {
		groups = []assign.Group{{Name: "control", Probability: 0.5}, {Name: "treatment", Probability: 0.5}}
	}
	return &assign.Experiment{ID: id, MaxSampleSize: max, SamplingProbability: p, Groups: groups}
}

// mustCreate creates e or fails the test.
func mustCreate(tb testing.TB, s *redisstore.Store, e *assign.Experiment) *assign.Experiment {
	tb.Helper()
	if err := s.CreateExperiment(testenv.Context(tb), e); err != nil {
		tb.Fatalf("CreateExperiment(%s): %v", e.ID, err)
	}
	return e
}

// mustEnroll enrolls a user with no claims or fails the test.
func mustEnroll(tb testing.TB, s *redisstore.Store, id, user string) *assign.Enrollment {
	tb.Helper()
	res, err := s.Enroll(testenv.Context(tb), assign.EnrollRequest{ExperimentID: id, UserID: user})
	if err != nil {
		tb.Fatalf("Enroll(%s, %s): %v", id, user, err)
	}
	return res
}

// checkCounts asserts that n == sum of per-group counts == members recorded,
// and returns n.
func checkCounts(tb testing.TB, s *redisstore.Store, id string) int64 {
	tb.Helper()
	ctx := testenv.Context(tb)
	e, err := s.FindExperimentByID(ctx, id)
	if err != nil {
		tb.Fatalf("FindExperimentByID: %v", err)
	}
	var sum int64
	for _, c := range e.Stats.PerGroup {
		sum += c
	}
	perGroup := map[string]int64{}
	var members int64
	if err := s.Members(ctx, id, func(m assign.Member) error {
		members++
		perGroup[m.Group]++
		return nil
	}); err != nil {
		tb.Fatalf("Members: %v", err)
	}
	if sum != e.Stats.Enrolled || members != e.Stats.Enrolled {
		tb.Fatalf("Enrolled=%d, sum of per-group counts=%d, members recorded=%d: want all equal", e.Stats.Enrolled, sum, members)
	}
	for g, n := range e.Stats.PerGroup {
		if perGroup[g] != n {
			tb.Fatalf("group %q: counter %d, members %d", g, n, perGroup[g])
		}
	}
	return e.Stats.Enrolled
}
