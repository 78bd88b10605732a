package redisstore_test

import (
	"testing"
	"time"

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
