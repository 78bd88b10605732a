package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

func TestNewClient_Single(t *testing.T) {
	ctx := testenv.Context(t)
	addr := testenv.RedisAddr(t)
	c, err := redisstore.NewClient(ctx, "redis://"+addr+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, want := redisstore.Kind(c), "single"; got != want {
		t.Fatalf("Kind=%q, want %q", got, want)
	}
	o := c.(*redis.Client).Options()
	if !o.ContextTimeoutEnabled || o.PoolSize < 64 || o.ReadTimeout != time.Second || o.DialTimeout != 2*time.Second {
		t.Fatalf("options: ContextTimeoutEnabled=%v PoolSize=%d ReadTimeout=%v DialTimeout=%v", o.ContextTimeoutEnabled, o.PoolSize, o.ReadTimeout, o.DialTimeout)
	}
	c2, err := redisstore.NewClient(ctx, "redis://"+addr+"/0?pool_size=7&read_timeout=50ms")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if o := c2.(*redis.Client).Options(); o.PoolSize != 7 || o.ReadTimeout != 50*time.Millisecond || !o.ContextTimeoutEnabled {
		t.Fatalf("URL options not kept: PoolSize=%d ReadTimeout=%v", o.PoolSize, o.ReadTimeout)
	}
}

func TestNewClient_Errors(t *testing.T) {
	ctx := testenv.Context(t)
	if _, err := redisstore.NewClient(ctx, "http://nope"); assign.ErrorCode(err) != assign.EINVALID {
		t.Fatalf("bad URL: %v, want invalid", err)
	}
	if _, err := redisstore.NewClient(ctx, "redis://127.0.0.1:1?addr=127.0.0.1:2&bogus=1"); assign.ErrorCode(err) != assign.EINVALID {
		t.Fatalf("bad cluster option: %v, want invalid", err)
	}
	if _, err := redisstore.NewClient(ctx, "redis://127.0.0.1:1"); assign.ErrorCode(err) != assign.EUNAVAILABLE {
		t.Fatalf("nothing listening: %v, want unavailable", err)
	}
}

// TestNewClient_Miniredis: a server that refuses INFO cluster (miniredis,
// some proxies) is a single node.
func TestNewClient_Miniredis(t *testing.T) {
	m := miniredis.RunT(t)
	c, err := redisstore.NewClient(testenv.Context(t), "redis://"+m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := redisstore.Kind(c); got != "single" {
		t.Fatalf("Kind=%q, want single", got)
	}
}

// TestNewClient_Cluster: one seed node of a cluster, or the multi-seed form,
// gives the cluster client, which creates, enrolls and lists experiments
// whose keys sit on every master.
func TestNewClient_Cluster(t *testing.T) {
	cl := testenv.SharedCluster(t)
	ctx := testenv.Context(t)
	for name, url := range map[string]string{"seed": cl.SeedURL(), "seeds": cl.URL(), "seed-db0": cl.SeedURL() + "/0"} {
		t.Run(name, func(t *testing.T) {
			c, err := redisstore.NewClient(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := redisstore.Kind(c); got != "cluster" {
				t.Fatalf("Kind=%q, want cluster", got)
			}
			o := c.(*redis.ClusterClient).Options()
			if !o.ContextTimeoutEnabled || o.PoolSize < 64 || o.ReadTimeout != time.Second {
				t.Fatalf("options: ContextTimeoutEnabled=%v PoolSize=%d ReadTimeout=%v", o.ContextTimeoutEnabled, o.PoolSize, o.ReadTimeout)
			}
			s := newStore(t, c)
			for i := range 12 {
				id := fmt.Sprint("seeded-", i)
				mustCreate(t, s, newExperiment(id, 10, 1))
				mustEnroll(t, s, id, "u")
			}
			list, _, err := s.FindExperiments(ctx, assign.ExperimentFilter{})
			if err != nil || len(list) != 12 {
				t.Fatalf("listing: %d, %v", len(list), err)
			}
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			cleanNamespace(t, c, s.Keys().Namespace)
		})
	}
	if _, err := redisstore.NewClient(ctx, cl.SeedURL()+"/1"); assign.ErrorCode(err) != assign.EINVALID {
		t.Fatalf("database 1 of a cluster node: %v, want invalid", err)
	}
}

func cleanNamespace(tb testing.TB, c redis.UniversalClient, ns string) {
	for _, k := range allKeys(tb, c, ns+"*") {
		c.Del(context.Background(), k)
	}
}

// TestNewClient_RefusedInfo: a node whose ACL refuses INFO cannot be told
// from a cluster node; guessing "single" would send a cluster's keys to one
// node, so the error says what to do.
func TestNewClient_RefusedInfo(t *testing.T) {
	p := startRedisProc(t)
	admin := redis.NewClient(&redis.Options{Addr: p.addr})
	defer admin.Close()
	ctx := testenv.Context(t)
	if err := admin.Do(ctx, "ACL", "SETUSER", "limited", "on", ">limited-pw", "~*", "+@all", "-info").Err(); err != nil {
		t.Fatal(err)
	}
	_, err := redisstore.NewClient(ctx, "redis://limited:limited-pw@"+p.addr)
	if assign.ErrorCode(err) != assign.EINVALID || !strings.Contains(err.Error(), "addr=") {
		t.Fatalf("INFO refused: %v, want EINVALID naming the seeds form", err)
	}
}

// TestNewClient_ClusterSeedOptions: options of a single seed's URL that the
// cluster URL form would refuse (db=0) are kept, not an error.
func TestNewClient_ClusterSeedOptions(t *testing.T) {
	cl := testenv.SharedCluster(t)
	c, err := redisstore.NewClient(testenv.Context(t), cl.SeedURL()+"?db=0&pool_size=9&read_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.(*redis.ClusterClient).Options()
	if o.PoolSize != 9 || o.ReadTimeout != 2*time.Second || !o.ContextTimeoutEnabled {
		t.Fatalf("options not kept: PoolSize=%d ReadTimeout=%v", o.PoolSize, o.ReadTimeout)
	}
	if err := c.Ping(testenv.Context(t)).Err(); err != nil {
		t.Fatal(err)
	}
}
