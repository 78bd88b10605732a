package redisstore_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// TestMemoryPerMember measures what a member costs in the real Redis at 100k
// members with UUID ids (MEMORY USAGE ... SAMPLES 0, exact), with the event
// stream and without it (the exporter trims what it exported).
func TestMemoryPerMember(t *testing.T) {
	if testing.Short() {
		t.Skip("enrolls 100k users")
	}
	const members = 100_000
	s, c := MustOpenRedisStore(t, 64)
	ctx := testenv.Context(t)
	// Created 30 days ago, so member values carry a realistic enrollment
	// time (about 3e8: a 4-byte integer in the listpack), not a tiny one.
	created := time.Now().Add(-30 * 24 * time.Hour)
	s.Now = func() time.Time { return created }
	mustCreate(t, s, newExperiment("mem", members, 1))

	enrollNewUUIDs(t, s, c, "mem", members)
	if n := checkCounts(t, s, "mem"); n != members {
		t.Fatalf("n=%d, want %d", n, members)
	}

	prefix := s.Keys().Prefix("mem", "")
	bucketKeys, err := s.BucketKeys(ctx, "mem")
	if err != nil {
		t.Fatal(err)
	}
	buckets := len(bucketKeys)
	mustBeListpacks(t, c, bucketKeys)
	keys := append([]string{redisstore.ConfigKey(prefix)}, bucketKeys...)
	stream := usage(t, c, redisstore.EventsKey(prefix))
	if err := c.Unlink(ctx, redisstore.EventsKey(prefix)).Err(); err != nil {
		t.Fatal(err)
	}
	membersOnly := usage(t, c, keys...)
	without := float64(membersOnly) / members
	withStream := float64(membersOnly+stream) / members
	t.Logf("%d members in %d buckets: %.1f bytes/member (member buckets + config), %.1f bytes/member with the event stream still present",
		members, buckets, without, withStream)
	if without > 50 {
		t.Fatalf("%.1f bytes per member, want at most 50", without)
	}
}

// enrollNewUUIDs enrolls n new users with UUID ids in experiment id, from 32
// goroutines through AutoPipeline (concurrent Enrolls batched in pipelines).
func enrollNewUUIDs(t *testing.T, s *redisstore.Store, c *redis.Client, id string, n int64) {
	t.Helper()
	ctx := testenv.Context(t)
	members := n
	ap, err := c.AutoPipeline()
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	s.Scripter = ap
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= members {
				res, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: id, UserID: uuid.NewString()})
				if err == nil && !res.New {
					err = assign.Errorf(assign.EINTERNAL, "not a new member: %+v", res)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// usage returns the sum of MEMORY USAGE (exact: SAMPLES 0) of keys; a
// missing key counts 0.
func usage(t *testing.T, c *redis.Client, keys ...string) int64 {
	t.Helper()
	ctx := testenv.Context(t)
	cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.MemoryUsage(ctx, k, 0)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) { // an empty bucket does not exist
		t.Fatal(err)
	}
	var sum int64
	for _, cmd := range cmds {
		sum += cmd.(*redis.IntCmd).Val()
	}
	return sum
}

// TestMemoryPerLayerOwner measures what the owner record of a layer costs
// per member in the real Redis, at 100k members with UUID ids of the layer's
// first experiment (owner buckets only; the member itself is measured above).
func TestMemoryPerLayerOwner(t *testing.T) {
	if testing.Short() {
		t.Skip("enrolls 100k users")
	}
	const members = 100_000
	s, c := MustOpenRedisStore(t, 64)
	ctx := testenv.Context(t)
	e := newExperiment("mem", members, 1)
	e.Layer = "mem"
	mustCreate(t, s, e)
	enrollNewUUIDs(t, s, c, "mem", members)
	if n := checkCounts(t, s, "mem"); n != members {
		t.Fatalf("n=%d, want %d", n, members)
	}
	buckets := redisstore.LayerOwnerBuckets(members)
	keys := make([]string, 0, buckets)
	for b := range buckets {
		keys = append(keys, s.Keys().LayerOwner("mem", b))
	}
	encodings := map[string]int{}
	for _, k := range keys[:64] {
		if enc, err := c.ObjectEncoding(ctx, k).Result(); err == nil {
			encodings[enc]++
		}
	}
	if len(encodings) != 1 || encodings["listpack"] == 0 {
		t.Fatalf("owner bucket encodings %v, want listpack", encodings)
	}
	perOwner := float64(usage(t, c, keys...)) / members
	t.Logf("%d owners in %d buckets: %.1f bytes/owner", members, buckets, perOwner)
	if perOwner > 40 {
		t.Fatalf("%.1f bytes per owner, want at most 40", perOwner)
	}
}

// TestMemoryPerMember_FarBelowCap measures experiments that stay far below
// their cap, and one whose cap was raised 60-fold once full: the buckets
// grow by generations as members come, so none is spread over mostly empty
// buckets (each a key of its own) nor packed past the listpack encoding.
func TestMemoryPerMember_FarBelowCap(t *testing.T) {
	if testing.Short() {
		t.Skip("enrolls 50k users")
	}
	s, c := MustOpenRedisStore(t, 64)
	ctx := testenv.Context(t)
	created := time.Now().Add(-30 * 24 * time.Hour)
	s.Now = func() time.Time { return created }
	for _, tc := range []struct {
		id            string
		cap, raise, n int64
	}{
		{"two-percent", 1_000_000, 0, 20_000},
		{"raised", 500, 30_000, 30_000},
	} {
		mustCreate(t, s, newExperiment(tc.id, tc.cap, 1))
		if tc.raise > 0 {
			enrollNewUUIDs(t, s, c, tc.id, tc.cap)
			if _, err := s.UpdateExperiment(ctx, tc.id, assign.ExperimentUpdate{MaxSampleSize: &tc.raise}, "alice"); err != nil {
				t.Fatal(err)
			}
			enrollNewUUIDs(t, s, c, tc.id, tc.n-tc.cap)
		} else {
			enrollNewUUIDs(t, s, c, tc.id, tc.n)
		}
		if n := checkCounts(t, s, tc.id); n != tc.n {
			t.Fatalf("%s: n=%d, want %d", tc.id, n, tc.n)
		}
		keys, err := s.BucketKeys(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		mustBeListpacks(t, c, keys)
		perMember := float64(usage(t, c, keys...)) / float64(tc.n)
		t.Logf("%s: cap %d (raised to %d), %d members in %d buckets: %.1f bytes/member", tc.id, tc.cap, tc.raise, tc.n, len(keys), perMember)
		if perMember > 50 {
			t.Fatalf("%s: %.1f bytes per member, want at most 50", tc.id, perMember)
		}
	}
}

// mustBeListpacks fails unless every existing key is a listpack hash.
func mustBeListpacks(t *testing.T, c *redis.Client, keys []string) {
	t.Helper()
	ctx := testenv.Context(t)
	cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.ObjectEncoding(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	encodings := map[string]int{}
	for _, cmd := range cmds {
		if enc, err := cmd.(*redis.StringCmd).Result(); err == nil {
			encodings[enc]++
		}
	}
	if len(encodings) != 1 || encodings["listpack"] == 0 {
		t.Fatalf("bucket encodings %v, want listpack only", encodings)
	}
}
