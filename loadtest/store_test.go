package loadtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/loadtest"
	"github.com/assign-dev/assign/redisstore"
)

// TestVerifyRedis_Store runs the generator against the real Redis store in
// process (no HTTP), with many workers, returning users, sampling and small
// caps, and checks the verifier finds every invariant held: it reads the
// layout the store really writes.
func TestVerifyRedis_Store(t *testing.T) {
	forEachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisstore.Keys) {
		ctx := context.Background()
		store := redisstore.New(rdb, keys)
		ids := []string{"full-30", "half-sampled-200"}
		for _, e := range []*assign.Experiment{
			{ID: ids[0], MaxSampleSize: 30, SamplingProbability: 1, Groups: loadtest.MustParseGroups("control:0.5,treatment:0.5")},
			{ID: ids[1], MaxSampleSize: 200, SamplingProbability: 0.5, Groups: loadtest.MustParseGroups("a:0.2,b:0.3,c:0.5")},
		} {
			if err := store.CreateExperiment(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		pop, _ := loadtest.NewPopulation(ids, 300, 21)
		rep, ledger, err := loadtest.Run(ctx, loadtest.RunConfig{Connections: 16, Requests: 900, Returning: 0.5, Seed: 6},
			pop, loadtest.StoreTarget(store, pop, 5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed != 0 || rep.Sticky != 0 {
			t.Fatalf("failed %d %v, sticky %d %v", rep.Failed, rep.Errors, rep.Sticky, rep.Examples)
		}
		v, err := loadtest.VerifyRedis(ctx, rdb, keys, pop, ledger)
		if err != nil {
			t.Fatal(err)
		} else if !v.OK {
			t.Fatalf("verification failed: %v", v.Problems)
		}
		// 150 users ask about each: the first fills to its cap, the second
		// takes about half of its users.
		if c := v.Experiments[0]; c.Members != 30 || c.Counter != 30 {
			t.Errorf("%s: %d members, counter %d, want 30", c.ID, c.Members, c.Counter)
		}
		if c := v.Experiments[1]; c.Members < 40 || c.Members > 110 {
			t.Errorf("%s: %d members, want about 75 of 150 sampled at 0.5", c.ID, c.Members)
		}
		if v.UsersChecked != rep.Answered {
			t.Errorf("UsersChecked=%d, want %d", v.UsersChecked, rep.Answered)
		}

		// Tamper with a counter: the verifier notices.
		prefix := keys.Prefix(ids[0], "")
		rdb.HIncrBy(ctx, redisstore.ConfigKey(prefix), redisstore.FieldEnrolled, 1)
		if v, err := loadtest.VerifyRedis(ctx, rdb, keys, pop, ledger); err != nil || v.OK {
			t.Fatalf("after tampering: OK=%v err=%v, want a violation", v != nil && v.OK, err)
		}
	})
}

// TestMeasureRedisMemory measures real keys (miniredis has no MEMORY USAGE).
func TestMeasureRedisMemory(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	t.Cleanup(func() { rdb.Close() })
	keys := redisstore.Keys{Namespace: testenv.Namespace()}
	t.Cleanup(func() { deleteNamespace(t, rdb, keys.Namespace) })
	ctx := context.Background()
	store := redisstore.New(rdb, keys)
	if err := store.CreateExperiment(ctx, &assign.Experiment{ID: "mem", MaxSampleSize: 10_000, SamplingProbability: 1,
		Groups: loadtest.MustParseGroups("a:0.5,b:0.5")}); err != nil {
		t.Fatal(err)
	}
	pop, _ := loadtest.NewPopulation([]string{"mem"}, 500, 3)
	if _, _, err := loadtest.Run(ctx, loadtest.RunConfig{Connections: 8, Requests: 500}, pop,
		loadtest.StoreTarget(store, pop, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	m, err := loadtest.MeasureRedisMemory(ctx, rdb, keys, []string{"mem"})
	if err != nil {
		t.Fatal(err)
	}
	bucketKeys, err := store.BucketKeys(ctx, "mem")
	if err != nil {
		t.Fatal(err)
	}
	if want := redisstore.InitialBucketCount(10_000); m.Members != 500 || m.Buckets != int64(want) || len(bucketKeys) != int(want) {
		t.Fatalf("members %d buckets %d (the store has %d), want 500 and %d", m.Members, m.Buckets, len(bucketKeys), want)
	}
	// A UUID member is a 16-byte field and a small integer in a listpack:
	// tens of bytes, never hundreds, plus the bucket's own overhead.
	if m.PerMember < 16 || m.PerMember > 400 || m.StreamBytes == 0 || m.ConfigBytes == 0 ||
		m.PerMemberWithStream <= m.PerMember {
		t.Fatalf("memory %+v: implausible", *m)
	}
}
