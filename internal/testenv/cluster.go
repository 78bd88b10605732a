package testenv

import (
	"context"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/assign-dev/assign/internal/rediscluster"
)

var shared struct {
	once sync.Once
	mu   sync.Mutex
	c    *rediscluster.Cluster
	err  error
}

// SharedCluster returns a 3-master, 3-replica Redis Cluster started once per
// test binary (lazily), for tests that do not kill nodes. Its node timeout is
// 5s rather than 1s, so that a node starved of CPU on a busy machine (or
// blocked by a slow script) is not failed over under a test. When it cannot
// start: Missing (skips loudly, fails under CI=true). Use a fresh Namespace
// (or hash tag) per test; the cluster is shared by every test of the binary.
// Call StopSharedCluster from TestMain after m.Run.
func SharedCluster(tb testing.TB) *rediscluster.Cluster {
	tb.Helper()
	if err := lookRedisServer(); err != nil {
		Missing(tb, "Redis Cluster", "redis-server on PATH", err)
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := rediscluster.Start(ctx, rediscluster.Options{
			Masters:           3,
			ReplicasPerMaster: 1,
			NodeTimeout:       5 * time.Second,
		})
		shared.mu.Lock()
		shared.c, shared.err = c, err
		shared.mu.Unlock()
	})
	shared.mu.Lock()
	c, err := shared.c, shared.err
	shared.mu.Unlock()
	if err != nil {
		Missing(tb, "Redis Cluster", "a local cluster started from redis-server", err)
	}
	return c
}

// StopSharedCluster stops the shared cluster if it was started; call it from
// TestMain after m.Run(). (Without it the servers still die with the test
// binary, through their parent-death signal, but the temp dir is left.)
func StopSharedCluster() {
	shared.mu.Lock()
	c := shared.c
	shared.mu.Unlock()
	if c != nil {
		_ = c.Stop()
	}
}

// NewCluster starts a private cluster for one test (e.g. one that kills a
// master), stopped at tb.Cleanup. Zero Options fields take rediscluster's
// defaults (3 masters, 1 replica each, node timeout 1s).
func NewCluster(tb testing.TB, o rediscluster.Options) *rediscluster.Cluster {
	tb.Helper()
	if err := lookRedisServer(); err != nil {
		Missing(tb, "Redis Cluster", "redis-server on PATH", err)
	}
	if o.Logf == nil {
		o.Logf = tb.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := rediscluster.Start(ctx, o)
	if err != nil {
		Missing(tb, "Redis Cluster", "a local cluster started from redis-server", err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Errorf("stopping the Redis Cluster: %v", err)
		}
	})
	return c
}

func lookRedisServer() error {
	_, err := exec.LookPath("redis-server")
	return err
}

// Main runs a test binary's tests, then stops its shared cluster:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	StopSharedCluster()
	return code
}
