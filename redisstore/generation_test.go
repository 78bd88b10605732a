package redisstore_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/scripts"
)

// The member buckets grow by generations as members come: every member
// keeps their answer, new members go to the newest generation, and a process
// that cached an older layout (another assignd) finds out at its next miss
// instead of enrolling anyone twice.
func TestEnroll_BucketGenerations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		// Cap 2,000: 4 buckets to start (InitialBucketCount). The 321st
		// member (> 80 × 4) opens a generation of 8, the 961st (> 80 × 12)
		// one of 32 (the first power of two >= 2 × 12).
		mustCreate(t, s, newExperiment("gen", 2_000, 1))
		prefix := s.Keys().Prefix("gen", "")
		stale := redisstore.New(c, s.Keys())  // another process, caching the layout of now
		reader := redisstore.New(c, s.Keys()) // and two that only read
		lister := redisstore.New(c, s.Keys())
		groups := map[string]string{}
		for i := range 300 {
			u := fmt.Sprintf("u-%d", i)
			groups[u] = mustEnroll(t, stale, "gen", u).Group
		}
		for _, r := range []*redisstore.Store{reader, lister} {
			if g, ok, err := r.MemberGroup(ctx, "gen", "u-0"); err != nil || !ok || g != groups["u-0"] {
				t.Fatalf("MemberGroup(u-0)=%q,%v,%v", g, ok, err)
			}
		}
		for i := 300; i < 1000; i++ {
			u := fmt.Sprintf("u-%d", i)
			e := mustEnroll(t, s, "gen", u)
			if !e.New {
				t.Fatalf("%s: %+v, want a new member", u, e)
			}
			groups[u] = e.Group
		}
		if gen, err := c.HGet(ctx, redisstore.ConfigKey(prefix), redisstore.FieldGenerations).Result(); err != nil || gen != "8,32" {
			t.Fatalf("generations %q (%v), want \"8,32\"", gen, err)
		}
		key := func(count uint32) func(uint32) string {
			if count == 4 {
				return func(b uint32) string { return redisstore.MembersKey(prefix, b) }
			}
			return func(b uint32) string { return redisstore.GenerationMembersKey(prefix, count, b) }
		}
		if g0, g1, g2 := hlenSum(t, c, key(4), 4), hlenSum(t, c, key(8), 8), hlenSum(t, c, key(32), 32); g0 != 321 || g1 != 640 || g2 != 39 {
			t.Fatalf("members by generation: %d, %d, %d; want 321, 640, 39", g0, g1, g2)
		}

		// The process with the first layout: members of every generation get
		// their group, counted once; a new user goes to the newest generation.
		for u, g := range groups {
			if e := mustEnroll(t, stale, "gen", u); e.New || e.Group != g {
				t.Fatalf("%s asked the stale process: %+v, want %s as before", u, e, g)
			}
		}
		// The read-only paths of a process that read the first layout
		// (they read it afresh).
		for u, g := range groups {
			if g2, ok, err := reader.MemberGroup(ctx, "gen", u); err != nil || !ok || g2 != g {
				t.Fatalf("MemberGroup(%s)=%q,%v,%v", u, g2, ok, err)
			}
		}
		var listed int
		if err := lister.Members(ctx, "gen", func(assign.Member) error { listed++; return nil }); err != nil || listed != 1000 {
			t.Fatalf("Members lists %d (%v), want 1000", listed, err)
		}
		if e := mustEnroll(t, redisstore.New(c, s.Keys()), "gen", "newest"); !e.New {
			t.Fatalf("newest: %+v", e)
		}
		if e := mustEnroll(t, stale, "gen", "newest-2"); !e.New {
			t.Fatalf("newest-2: %+v", e)
		}
		if g2 := hlenSum(t, c, key(32), 32); g2 != 41 {
			t.Fatalf("newest generation holds %d, want 41", g2)
		}
		if n := checkCounts(t, s, "gen"); n != 1002 {
			t.Fatalf("n=%d, want 1002", n)
		}
		keys, err := s.BucketKeys(ctx, "gen")
		if err != nil || len(keys) != 4+8+32 {
			t.Fatalf("%d bucket keys (%v), want 44", len(keys), err)
		}

		// A restore over the grown experiment (a partial loss, or a rerun):
		// members of every generation are found and not counted again; a
		// missing one is written to the newest generation and counted.
		var back []assign.Member
		for u, g := range groups {
			back = append(back, assign.Member{ExperimentID: "gen", UserID: u, Group: g, EnrolledAt: time.Now()})
		}
		back = append(back, assign.Member{UserID: "lost", Group: "control", EnrolledAt: time.Now()})
		if n, err := s.RestoreMembers(ctx, "gen", back); err != nil || n != 1 {
			t.Fatalf("RestoreMembers over the grown experiment: %d written (%v), want only the lost one", n, err)
		}
		if n := checkCounts(t, s, "gen"); n != 1003 {
			t.Fatalf("n=%d after the restore, want 1003", n)
		}
		if g2 := hlenSum(t, c, key(32), 32); g2 != 42 {
			t.Fatalf("newest generation holds %d after the restore, want 42", g2)
		}
		// The restore script refuses a stale layout without writing.
		fp, err := c.HGet(ctx, redisstore.ConfigKey(prefix), redisstore.FieldFingerprint).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n, err := scripts.Restore.Run(ctx, c, []string{redisstore.ConfigKey(prefix), redisstore.MembersKey(prefix, 0)},
			fp, "4", 1, 2, "someone", scripts.MemberGroups, 0).Int(); err != nil || n != scripts.ReplyStale {
			t.Fatalf("restore with the first layout: %d (%v), want %d", n, err, scripts.ReplyStale)
		}
	})
}

// The number of generations is bounded: at MaxGenerations nothing opens, and
// the newest buckets grow past the listpack encoding instead (correct, only
// costlier). Set up by writing the layout and the counter directly.
func TestEnroll_BucketGenerationsBounded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		for _, tc := range []struct {
			id, buckets, gen, want string
		}{
			{"seven", "1", "2,4,8,16,32,64", "2,4,8,16,32,64,256"}, // 7 generations: an 8th opens (>= 2 × 127)
			{"eight", "1", "2,4,8,16,32,64,128", "2,4,8,16,32,64,128"},
			{"largest", "65536", "", ""}, // a generation of MaxBuckets is the last
		} {
			mustCreate(t, s, newExperiment(tc.id, 1_000_000_000, 1))
			prefix := s.Keys().Prefix(tc.id, "")
			fields := []any{redisstore.FieldBuckets, tc.buckets, redisstore.FieldEnrolled, 10_000_000}
			if tc.gen != "" {
				fields = append(fields, redisstore.FieldGenerations, tc.gen)
			}
			if err := c.HSet(ctx, redisstore.ConfigKey(prefix), fields...).Err(); err != nil {
				t.Fatal(err)
			}
			if e := mustEnroll(t, s, tc.id, "someone"); !e.New {
				t.Fatalf("%s: %+v", tc.id, e)
			}
			gen, err := c.HGet(ctx, redisstore.ConfigKey(prefix), redisstore.FieldGenerations).Result()
			if errors.Is(err, redis.Nil) {
				err = nil
			}
			if err != nil || gen != tc.want {
				t.Fatalf("%s: generations %q (%v), want %q", tc.id, gen, err, tc.want)
			}
		}
	})
}

func TestInitialBucketCount(t *testing.T) {
	for max, want := range map[int64]uint32{1: 1, 250: 1, 512: 1, 513: 2, 10_000: 32, 1_000_000: 2048, 1_000_000_000: 65536} {
		if got := redisstore.InitialBucketCount(max); got != want {
			t.Errorf("InitialBucketCount(%d)=%d, want %d", max, got, want)
		}
	}
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

// The enrollment script grows the buckets with GrowAt, MaxGenerations and
// MaxBuckets as generated from scripts/contract.go into its source.
func TestGrowthConstantsMatchTheScript(t *testing.T) {
	for name, v := range map[string]int{"GROW_AT": redisstore.GrowAt, "MAX_GENERATIONS": redisstore.MaxGenerations, "MAX_BUCKETS": redisstore.MaxBuckets} {
		if want := fmt.Sprintf("local %s = %d\n", name, v); !strings.Contains(scripts.EnrollSource(), want) {
			t.Errorf("the enrollment script lacks %q", want)
		}
	}
}
