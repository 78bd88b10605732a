package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/internal/rediscluster"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// TestPolicy_ClusterEveryMaster: on a Redis Cluster every master is asked
// (ForEachMaster); one master of three turned evicting is enough to refuse,
// and it is the one named. The cluster is the test's own (it changes CONFIG).
func TestPolicy_ClusterEveryMaster(t *testing.T) {
	ctx := testenv.Context(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.Missing(t, "Redis Cluster", "redis-server on PATH", err)
	}
	cl, err := rediscluster.Start(ctx, rediscluster.Options{Masters: 3, ReplicasPerMaster: -1})
	if err != nil {
		testenv.Missing(t, "Redis Cluster", "a local cluster started from redis-server", err)
	}
	t.Cleanup(func() { _ = cl.Stop() })
	masters := cl.Addrs()[:3]
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: masters, ContextTimeoutEnabled: true})
	defer c.Close()

	rep, err := redisstore.CheckEvictionPolicy(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Nodes) != 3 || len(rep.Evicting()) != 0 {
		t.Fatalf("report %+v, want 3 masters, none evicting", rep)
	}

	one := redis.NewClient(&redis.Options{Addr: masters[1]})
	defer one.Close()
	if err := one.ConfigSet(ctx, "maxmemory-policy", "volatile-lru").Err(); err != nil {
		t.Fatal(err)
	}
	rep, err = redisstore.CheckEvictionPolicy(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if ev := rep.Evicting(); len(ev) != 1 || ev[0].Addr != masters[1] || ev[0].Policy != "volatile-lru" {
		t.Fatalf("evicting %+v, want %s alone", ev, masters[1])
	}
	m := &redisstore.PolicyMonitor{Client: c, Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	if err := m.Start(ctx); !errors.Is(err, redisstore.ErrEvictingPolicy) || !strings.Contains(err.Error(), masters[1]) {
		m.Close()
		t.Fatalf("Start: %v, want a refusal naming %s", err, masters[1])
	}
	_ = one.ConfigSet(context.Background(), "maxmemory-policy", "noeviction")
}
