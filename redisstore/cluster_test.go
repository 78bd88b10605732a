package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
)

// scriptKeys records the KEYS of every script call (EVAL, EVALSHA) a client
// sends, directly or in a pipeline.
type scriptKeys struct {
	mu    sync.Mutex
	calls [][]string
}

func (h *scriptKeys) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *scriptKeys) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record(cmd)
		return next(ctx, cmd)
	}
}

func (h *scriptKeys) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			h.record(cmd)
		}
		return next(ctx, cmds)
	}
}

func (h *scriptKeys) record(cmd redis.Cmder) {
	name := strings.ToLower(cmd.Name())
	if name != "eval" && name != "evalsha" {
		return
	}
	args := cmd.Args()
	n, _ := strconv.Atoi(fmt.Sprint(args[2]))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint(args[3+i])
	}
	h.mu.Lock()
	h.calls = append(h.calls, keys)
	h.mu.Unlock()
}

// hashTag returns the part of a key Redis Cluster hashes: the text inside the
// first {...} when it is not empty, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// TestScripts_OneSlotPerCall checks that every script call passes all its
// keys in KEYS under one hash tag, so that each runs on Redis Cluster (where
// keys of one call must share a slot). miniredis and a single Redis never
// check this; the recorded calls do: creation, updates, enrollments inside and
// outside a layer, with grown member buckets, and a restore.
func TestScripts_OneSlotPerCall(t *testing.T) {
	for _, b := range []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"miniredis", func(t *testing.T) string { return miniredis.RunT(t).Addr() }},
		{"redis", func(t *testing.T) string { return testenv.RedisAddr(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			rec := &scriptKeys{}
			c := redis.NewClient(&redis.Options{Addr: b.addr(t), ContextTimeoutEnabled: true})
			t.Cleanup(func() { c.Close() })
			c.AddHook(rec)
			s := newStore(t, c)
			ctx := testenv.Context(t)
			t.Cleanup(func() { deleteNamespace(c, s.Keys().Namespace) })

			plain := mustCreate(t, s, newExperiment("plain", 100, 1))
			a := newExperiment("layered-a", 100, 1)
			a.Layer = "checkout"
			mustCreate(t, s, a)
			bx := newExperiment("layered-b", 100, 1)
			bx.Layer = "checkout"
			mustCreate(t, s, bx)
			for i := 0; i < 50; i++ {
				for _, id := range []string{"plain", "layered-a", "layered-b"} {
					mustEnroll(t, s, id, fmt.Sprint("user-", i))
				}
			}
			paused := assign.StatusPaused
			for _, id := range []string{"plain", "layered-a"} {
				if _, err := s.UpdateExperiment(ctx, id, assign.ExperimentUpdate{Status: &paused}, "ops"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Restore(ctx, plain, []assign.Member{{ExperimentID: "plain", UserID: "late", Group: plain.Groups[0].Name}}); err != nil {
				t.Fatal(err)
			}
			// Grown member buckets (past 80 members in the one bucket a cap of
			// 100 starts with): an enrollment also passes the buckets of the
			// earlier generations, in and out of a layer.
			g := mustCreate(t, s, newExperiment("growing", 100, 1))
			gl := newExperiment("growing-layered", 100, 1)
			gl.Layer = "growth" // alone in its layer: every slot is its own
			mustCreate(t, s, gl)
			for _, id := range []string{g.ID, gl.ID} {
				for i := 0; i < 100; i++ {
					mustEnroll(t, s, id, fmt.Sprint("grown-", i))
				}
				if keys, err := s.BucketKeys(ctx, id); err != nil || len(keys) < 2 {
					t.Fatalf("%s: %d bucket keys (%v), want grown generations", id, len(keys), err)
				}
			}

			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.calls) < 150+5+200 {
				t.Fatalf("recorded %d script calls, want at least 355", len(rec.calls))
			}
			for _, keys := range rec.calls {
				if len(keys) == 0 {
					t.Fatal("a script call passes no KEYS: its keys cannot be routed on a cluster")
				}
				tag := hashTag(keys[0])
				if tag == keys[0] {
					t.Fatalf("key %q has no hash tag", keys[0])
				}
				for _, k := range keys[1:] {
					if got := hashTag(k); got != tag {
						t.Fatalf("one script call spans hash tags %q and %q (keys %v): CROSSSLOT on a cluster", tag, got, keys)
					}
				}
			}
		})
	}
}

func deleteNamespace(c *redis.Client, ns string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, ns+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}
