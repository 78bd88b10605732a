package loadtest_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/loadtest"
	"github.com/assign-dev/assign/redisstore"
)

// forEachRedis runs fn against miniredis and against the real Redis, each
// under its own key namespace, removed afterwards.
func forEachRedis(t *testing.T, fn func(t *testing.T, rdb *redis.Client, keys redisstore.Keys)) {
	t.Run("Miniredis", func(t *testing.T) {
		mr := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		defer rdb.Close()
		fn(t, rdb, redisstore.Keys{Namespace: testenv.Namespace()})
	})
	t.Run("Redis", func(t *testing.T) {
		rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
		t.Cleanup(func() { rdb.Close() }) // after the namespace is deleted: cleanups run last-in first-out
		keys := redisstore.Keys{Namespace: testenv.Namespace()}
		t.Cleanup(func() { deleteNamespace(t, rdb, keys.Namespace) })
		fn(t, rdb, keys)
	})
}

func deleteNamespace(t *testing.T, rdb *redis.Client, ns string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, ns+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("clean up %s: %v", ns, err)
	}
}

// handMade writes an experiment in redisstore's layout: its configuration
// hash and member buckets (user -> group index), with the counters given.
type handMade struct {
	id       string
	max, n   int64
	counters []int64          // c0, c1
	members  map[string]int64 // user id -> group index
}

func (h handMade) write(t *testing.T, rdb *redis.Client, keys redisstore.Keys) {
	t.Helper()
	ctx := context.Background()
	prefix := keys.Prefix(h.id, "")
	def, _ := json.Marshal(map[string]any{"experiment_id": h.id, "groups": []string{"control", "treatment"}, "salt": "00"})
	const buckets = 4
	fields := []any{redisstore.FieldDefinition, string(def), redisstore.FieldMax, h.max, redisstore.FieldEpoch, 0,
		redisstore.FieldEnrolled, h.n, redisstore.FieldBuckets, buckets, redisstore.FieldStatus, "running"}
	for i, c := range h.counters {
		fields = append(fields, redisstore.FieldGroupCount+strconv.Itoa(i), c)
	}
	if err := rdb.HSet(ctx, keys.Layers(), h.id, "").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, redisstore.ConfigKey(prefix), fields...).Err(); err != nil {
		t.Fatal(err)
	}
	b := uint32(0)
	for user, g := range h.members {
		// Spread over the buckets; the checker must read them all.
		if err := rdb.HSet(ctx, redisstore.MembersKey(prefix, b%buckets), redisstore.EncodeUserID(user), 1000*128+g).Err(); err != nil {
			t.Fatal(err)
		}
		b++
	}
}

func TestVerifyRedis(t *testing.T) {
	forEachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisstore.Keys) {
		ctx := context.Background()
		pop, _ := loadtest.NewPopulation([]string{"e1", "e2"}, 10, 5)
		control, treatment := pop.Groups.Outcome([]byte("control")), pop.Groups.Outcome([]byte("treatment"))

		// The run's answers: users 0, 2, 4 (6, 8) asked about e1; 1, 3 about e2.
		ledger := loadtest.NewLedger(pop.Users)
		ledger.Record(0, control)
		ledger.Record(2, treatment)
		ledger.Record(4, loadtest.OutcomeSampleFull)
		ledger.Record(1, loadtest.OutcomeNotSampled)
		// user 6 failed: whatever the store holds of it is accepted.

		good := func() (handMade, handMade) {
			return handMade{id: "e1", max: 3, n: 3, counters: []int64{2, 1}, members: map[string]int64{
					pop.UserID(0): 0, pop.UserID(2): 1, pop.UserID(6): 0,
				}},
				handMade{id: "e2", max: 5, n: 1, counters: []int64{0, 1}, members: map[string]int64{
					"someone-from-before": 1, // a member of an earlier run
				}}
		}

		t.Run("OK", func(t *testing.T) {
			e1, e2 := good()
			e1.write(t, rdb, keys)
			e2.write(t, rdb, keys)
			v, err := loadtest.VerifyRedis(ctx, rdb, keys, pop, ledger)
			if err != nil {
				t.Fatal(err)
			}
			if !v.OK || v.Violations != 0 {
				t.Fatalf("OK=%v violations %v, want none", v.OK, v.Problems)
			}
			if v.Members != 4 || v.UsersChecked != 4 || v.Experiments[1].ForeignMembers != 1 {
				t.Fatalf("members %d, users checked %d, foreign %d; want 4, 4, 1", v.Members, v.UsersChecked, v.Experiments[1].ForeignMembers)
			}
			if got := v.Experiments[0].GroupMembers; got["control"] != 2 || got["treatment"] != 1 {
				t.Fatalf("GroupMembers=%v, want control=2 treatment=1", got)
			}
		})

		for _, tc := range []struct {
			name   string
			change func(e1, e2 *handMade)
			want   string // a phrase of the expected problem
		}{
			{"OverCap", func(e1, e2 *handMade) {
				e1.members[pop.UserID(8)] = 1
				e1.n, e1.counters = 4, []int64{2, 2}
			}, "over its cap"},
			{"CounterDrift", func(e1, e2 *handMade) { e1.n = 2 }, "counter says 2 members, 3 stored"},
			{"GroupCounterDrift", func(e1, e2 *handMade) { e1.counters = []int64{1, 2} }, `group "control" counter says 1, 2 stored`},
			{"NotSticky", func(e1, e2 *handMade) { e1.members[pop.UserID(0)] = 1; e1.counters = []int64{1, 2} }, `in "treatment" but was told "control"`},
			{"ToldFullButMember", func(e1, e2 *handMade) {
				e1.members[pop.UserID(4)] = 0
				e1.max, e1.n, e1.counters = 4, 4, []int64{3, 1}
			}, `was told "sample_full"`},
			{"Lost", func(e1, e2 *handMade) {
				delete(e1.members, pop.UserID(2))
				e1.n, e1.counters = 2, []int64{2, 0}
			}, "is not a member"},
			{"WrongExperiment", func(e1, e2 *handMade) {
				e2.members[pop.UserID(3)] = 0 // fine: user 3 asks e2 and failed
				e2.members[pop.UserID(8)] = 0 // user 8 asks e1, not e2
				e2.n, e2.counters = 3, []int64{2, 1}
			}, "only asked about e1"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				keys := redisstore.Keys{Namespace: keys.Namespace + tc.name + ":"}
				e1, e2 := good()
				tc.change(&e1, &e2)
				e1.write(t, rdb, keys)
				e2.write(t, rdb, keys)
				v, err := loadtest.VerifyRedis(ctx, rdb, keys, pop, ledger)
				if err != nil {
					t.Fatal(err)
				}
				if v.OK || !strings.Contains(strings.Join(v.Problems, "\n"), tc.want) {
					t.Fatalf("OK=%v problems %q, want one saying %q", v.OK, v.Problems, tc.want)
				}
			})
		}

		t.Run("Missing", func(t *testing.T) {
			keys := redisstore.Keys{Namespace: keys.Namespace + "missing:"}
			if _, err := loadtest.VerifyRedis(ctx, rdb, keys, pop, ledger); err == nil {
				t.Fatal("VerifyRedis of experiments that do not exist: no error")
			}
		})
	})
}
