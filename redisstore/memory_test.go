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
	buckets := redisstore.BucketCount(members)
	keys := []string{redisstore.ConfigKey(prefix)}
	for b := range buckets {
		keys = append(keys, redisstore.MembersKey(prefix, b))
	}
	enc, err := c.ObjectEncoding(ctx, keys[1]).Result()
	if err != nil || enc != "listpack" {
		t.Fatalf("bucket encoding=%q (%v), want listpack", enc, err)
	}
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

// TestMemoryPerMember_CapRaised measures the same after the cap was raised
// 60-fold: created for 500 members (8 buckets), filled, raised to 30,000 and
// filled again. Without a new bucket generation the 8 buckets would hold
// 3,750 members each, far past the listpack encoding.
func TestMemoryPerMember_CapRaised(t *testing.T) {
	if testing.Short() {
		t.Skip("enrolls 30k users")
	}
	s, c := MustOpenRedisStore(t, 64)
	ctx := testenv.Context(t)
	created := time.Now().Add(-30 * 24 * time.Hour)
	s.Now = func() time.Time { return created }
	mustCreate(t, s, newExperiment("grown", 500, 1))
	enrollNewUUIDs(t, s, c, "grown", 500)
	max := int64(30_000)
	if _, err := s.UpdateExperiment(ctx, "grown", assign.ExperimentUpdate{MaxSampleSize: &max}, "alice"); err != nil {
		t.Fatal(err)
	}
	enrollNewUUIDs(t, s, c, "grown", max-500)
	if n := checkCounts(t, s, "grown"); n != max {
		t.Fatalf("n=%d, want %d", n, max)
	}
	prefix := s.Keys().Prefix("grown", "")
	keys, err := s.BucketKeys(ctx, "grown")
	if err != nil {
		t.Fatal(err)
	}
	encodings := map[string]int{}
	for _, k := range keys {
		if enc, err := c.ObjectEncoding(ctx, k).Result(); err == nil {
			encodings[enc]++
		}
	}
	if len(encodings) != 1 || encodings["listpack"] == 0 {
		t.Fatalf("bucket encodings %v, want listpack only", encodings)
	}
	perMember := float64(usage(t, c, append(keys, redisstore.ConfigKey(prefix))...)) / float64(max)
	t.Logf("%d members in %d buckets over two generations: %.1f bytes/member", max, len(keys), perMember)
	if perMember > 50 {
		t.Fatalf("%.1f bytes per member, want at most 50", perMember)
	}
}
