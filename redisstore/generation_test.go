package redisstore_test

import (
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// Raising the cap far beyond what the member buckets were sized for opens a
// new generation of buckets; every member keeps their answer, new members go
// to the new generation, and a process that cached the old layout (another
// assignd) finds out at its next miss instead of enrolling anyone twice.
func TestEnroll_BucketGenerations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		// Cap 100: BucketCount(100) = 2 buckets, sized for 128 members.
		mustCreate(t, s, newExperiment("gen", 100, 1))
		stale := redisstore.New(c, s.Keys()) // another process, caching the layout of now
		before := map[string]string{}
		for i := range 100 {
			u := fmt.Sprintf("old-%d", i)
			e := mustEnroll(t, stale, "gen", u)
			before[u] = e.Group
		}
		if e := mustEnroll(t, s, "gen", "late"); e.Enrolled || e.Reason != assign.ReasonSampleFull {
			t.Fatalf("over the cap: %+v", e)
		}

		// 10,000 > 2 × 128: a generation of BucketCount(10,000 - 128) = 256.
		max := int64(10_000)
		if _, err := s.UpdateExperiment(ctx, "gen", assign.ExperimentUpdate{MaxSampleSize: &max}, "alice"); err != nil {
			t.Fatal(err)
		}
		prefix := s.Keys().Prefix("gen", "")
		if gen, err := c.HGet(ctx, redisstore.ConfigKey(prefix), redisstore.FieldGenerations).Result(); err != nil || gen != "256" {
			t.Fatalf("generations %q (%v), want \"256\"", gen, err)
		}

		// New members, through the process that knows, land in generation 2.
		fresh := map[string]string{}
		for i := range 300 {
			u := fmt.Sprintf("new-%d", i)
			e := mustEnroll(t, s, "gen", u)
			if !e.New {
				t.Fatalf("%s: %+v, want a new member", u, e)
			}
			fresh[u] = e.Group
		}
		first := func(b uint32) string { return redisstore.MembersKey(prefix, b) }
		second := func(b uint32) string { return redisstore.GenerationMembersKey(prefix, 256, b) }
		if g1, g2 := hlenSum(t, c, first, 2), hlenSum(t, c, second, 256); g1 != 100 || g2 != 300 {
			t.Fatalf("members by generation: %d and %d, want 100 and 300", g1, g2)
		}

		// The process with the old layout: members of both generations get
		// their group, counted once; a new user goes to generation 2.
		for u, g := range fresh {
			if e := mustEnroll(t, stale, "gen", u); e.New || e.Group != g {
				t.Fatalf("%s (generation 2) asked the stale process: %+v, want %s as before", u, e, g)
			}
		}
		for u, g := range before {
			if e := mustEnroll(t, stale, "gen", u); e.New || e.Group != g {
				t.Fatalf("%s (generation 1) asked the stale process: %+v, want %s as before", u, e, g)
			}
			if e := mustEnroll(t, s, "gen", u); e.New || e.Group != g {
				t.Fatalf("%s (generation 1): %+v, want %s as before", u, e, g)
			}
			if g2, ok, err := s.MemberGroup(ctx, "gen", u); err != nil || !ok || g2 != g {
				t.Fatalf("MemberGroup(%s)=%q,%v,%v", u, g2, ok, err)
			}
		}
		if e := mustEnroll(t, redisstore.New(c, s.Keys()), "gen", "newest"); !e.New {
			t.Fatalf("newest: %+v", e)
		}
		if n := checkCounts(t, s, "gen"); n != 401 {
			t.Fatalf("n=%d, want 401 (100 + 300 + 1)", n)
		}
		keys, err := s.BucketKeys(ctx, "gen")
		if err != nil || len(keys) != 2+256 {
			t.Fatalf("%d bucket keys (%v), want 258", len(keys), err)
		}

		// Restore is for an experiment Redis lost, not one that grew.
		_, err = s.RestoreMembers(ctx, "gen", []assign.Member{{UserID: "x", Group: "control"}})
		if assign.ErrorCode(err) != assign.EINVALID {
			t.Fatalf("RestoreMembers on a grown experiment: %v, want EINVALID", err)
		}
	})
}

// hlenSum returns the members in buckets 0..count-1 of one generation, whose
// keys key makes.
func hlenSum(t *testing.T, c redis.UniversalClient, key func(bucket uint32) string, count uint32) int64 {
	t.Helper()
	var sum int64
	for b := range count {
		n, err := c.HLen(testenv.Context(t), key(b)).Result()
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	return sum
}

// TestGrowBuckets checks when a generation is added and its size.
func TestGrowBuckets(t *testing.T) {
	for _, tc := range []struct {
		buckets []uint32
		max     int64
		want    string
		changed bool
	}{
		{[]uint32{2}, 256, "", false},                                                 // 2 × 128: still fits
		{[]uint32{2}, 257, "4", true},                                                 // BucketCount(257 - 128) = 4
		{[]uint32{2}, 10_000, "256", true},                                            // BucketCount(9,872) = 256
		{[]uint32{16, 256}, 30_000, "256", false},                                     // capacity 17,408: fits twice
		{[]uint32{16, 256}, 40_000, "256,512", true},                                  // BucketCount(22,592) = 512
		{[]uint32{65536}, 100_000_000, "", false},                                     // the largest generation already
		{[]uint32{1, 2, 4, 8, 16, 32, 64, 128}, 1 << 30, "2,4,8,16,32,64,128", false}, // MaxGenerations
		{[]uint32{16}, 500, "", false},                                                // lowering or keeping never adds
	} {
		got, changed := redisstore.GrowBuckets(tc.buckets, tc.max)
		if got != tc.want || changed != tc.changed {
			t.Errorf("growBuckets(%v, %d) = %q, %v; want %q, %v", tc.buckets, tc.max, got, changed, tc.want, tc.changed)
		}
	}
}
