package redisstore_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// newLayered returns a valid experiment in a layer: everyone sampled, a cap
// that is never reached, two equal groups.
func newLayered(id, layer string) *assign.Experiment {
	e := newExperiment(id, 1_000_000, 1)
	e.Layer = layer
	return e
}

// slotOwners reads a layer's slot table from its hash (the layout keys.go
// documents): the experiment id offered to each slot, "" for none.
func slotOwners(tb testing.TB, s *redisstore.Store, c redis.UniversalClient, layer string) []string {
	tb.Helper()
	m, err := c.HGetAll(testenv.Context(tb), s.Keys().Layer(layer)).Result()
	if err != nil {
		tb.Fatal(err)
	}
	owners := make([]string, redisstore.LayerSlots)
	for f, idx := range m {
		rest, ok := strings.CutPrefix(f, redisstore.LayerFieldSlot)
		slot, err := strconv.Atoi(rest)
		if !ok || err != nil {
			continue
		}
		owners[slot] = m[redisstore.LayerFieldExperiment+idx]
	}
	return owners
}

// checkSplit asserts the layer's split from LayerSplit.
func checkSplit(tb testing.TB, s *redisstore.Store, layer string, want map[string]int) {
	tb.Helper()
	got, err := s.LayerSplit(testenv.Context(tb), layer)
	if err != nil {
		tb.Fatal(err)
	} else if fmt.Sprint(got) != fmt.Sprint(want) {
		tb.Fatalf("LayerSplit(%s)=%v, want %v", layer, got, want)
	}
}

func setStatus(tb testing.TB, s *redisstore.Store, id string, st assign.Status) {
	tb.Helper()
	if _, err := s.UpdateExperiment(testenv.Context(tb), id, assign.ExperimentUpdate{Status: &st}, "admin"); err != nil {
		tb.Fatalf("UpdateExperiment(%s, %s): %v", id, st, err)
	}
}

// chi2p returns the p-value of a chi-square statistic.
func chi2p(chi2, df float64) float64 { return 1 - distuv.ChiSquared{K: df}.CDF(chi2) }

// independence2x2 returns the chi-square statistic of independence of a 2x2 table.
func independence2x2(t [2][2]float64) float64 {
	n := t[0][0] + t[0][1] + t[1][0] + t[1][1]
	chi2 := 0.0
	for i := range 2 {
		for j := range 2 {
			exp := (t[i][0] + t[i][1]) * (t[0][j] + t[1][j]) / n
			chi2 += (t[i][j] - exp) * (t[i][j] - exp) / exp
		}
	}
	return chi2
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLayer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)

		// Two experiments of one layer, 2,000 users asking both in random
		// order: each user joins exactly one, the one their layer slot is
		// offered to, and the other refuses them as not eligible.
		t.Run("Exclusive", func(t *testing.T) {
			const users = 2000
			a := mustCreate(t, s, newLayered("excl-a", "excl"))
			mustCreate(t, s, newLayered("excl-b", "excl"))
			checkSplit(t, s, "excl", map[string]int{"excl-a": 500, "excl-b": 500})
			offered := slotOwners(t, s, c, "excl")
			rng := rand.New(rand.NewPCG(1, 2))
			var inA, inB int
			var layerVsGroup, slotVsGroupA, slotVsGroupB [2][2]float64
			for i := range users {
				user := fmt.Sprintf("u%d", i)
				order := []string{"excl-a", "excl-b"}
				if rng.IntN(2) == 1 {
					order[0], order[1] = order[1], order[0]
				}
				got := map[string]*assign.Enrollment{}
				for _, id := range order {
					got[id] = mustEnroll(t, s, id, user)
				}
				ra, rb := got["excl-a"], got["excl-b"]
				if ra.Enrolled == rb.Enrolled {
					t.Fatalf("%s: A %+v, B %+v: want exactly one", user, ra, rb)
				}
				slot := redisstore.LayerSlot("excl", user)
				joined, refused := ra, rb
				if rb.Enrolled {
					joined, refused = rb, ra
				}
				if want := offered[slot]; joined.ExperimentID != want {
					t.Fatalf("%s in slot %d joined %s, the slot is offered to %s", user, slot, joined.ExperimentID, want)
				}
				if refused.Reason != assign.ReasonNotEligible {
					t.Fatalf("%s refused by %s with %q, want not_eligible", user, refused.ExperimentID, refused.Reason)
				}
				if i%10 != 0 {
					// Spot checks of the owner record suffice.
				} else if owner, ok, err := s.LayerOwner(ctx, "excl", user); err != nil || !ok || owner != joined.ExperimentID {
					t.Fatalf("LayerOwner(%s)=%q,%v,%v; want %q", user, owner, ok, err, joined.ExperimentID)
				}
				// Sticky, in both experiments.
				if again := mustEnroll(t, s, refused.ExperimentID, user); again.Enrolled || again.Reason != assign.ReasonNotEligible {
					t.Fatalf("%s asked %s again: %+v", user, refused.ExperimentID, again)
				}
				u := assign.NewLayerDraw("excl", user)
				if ra.Enrolled {
					inA++
					slotVsGroupA[b2i(u < 0.25)][b2i(ra.Group == "control")]++
				} else {
					inB++
					slotVsGroupB[b2i(u < 0.75)][b2i(rb.Group == "control")]++
				}
				// The layer's choice against A's own group draw, over everyone.
				layerVsGroup[b2i(ra.Enrolled)][b2i(assign.NewDraw(a.Salt, a.ID, user).Group < 0.5)]++
			}
			// The split follows the layer draw: half each.
			if z := (float64(inA) - users/2) / math.Sqrt(users*0.25); math.Abs(z) > 3.29 {
				t.Fatalf("A %d, B %d of %d users (z=%.2f), want half each", inA, inB, users, z)
			}
			// The layer draw is independent of the draws inside each experiment.
			// The group draws depend on each run's random salt, so the threshold
			// is 1e-6: a real dependency over 2,000 users lands far below it.
			for name, table := range map[string][2][2]float64{
				"LayerVsGroupDrawOfA": layerVsGroup, "SlotVsGroupInA": slotVsGroupA, "SlotVsGroupInB": slotVsGroupB,
			} {
				if p := chi2p(independence2x2(table), 1); p < 1e-6 {
					t.Fatalf("%s: table %v, p=%.5f: dependent draws", name, table, p)
				}
			}
			if na, nb := checkCounts(t, s, "excl-a"), checkCounts(t, s, "excl-b"); na != int64(inA) || nb != int64(inB) {
				t.Fatalf("counts A=%d B=%d, want %d, %d", na, nb, inA, inB)
			}
		})

		// Starting and stopping experiments moves as few slots as possible,
		// and shares stay equal.
		t.Run("SplitStable", func(t *testing.T) {
			mustCreate(t, s, newLayered("sx", "split"))
			checkSplit(t, s, "split", map[string]int{"sx": 1000})
			mustCreate(t, s, newLayered("sy", "split"))
			checkSplit(t, s, "split", map[string]int{"sx": 500, "sy": 500})
			before := slotOwners(t, s, c, "split")
			mustCreate(t, s, newLayered("sz", "split"))
			// The remainder goes to the earliest started of the largest holders.
			checkSplit(t, s, "split", map[string]int{"sx": 334, "sy": 333, "sz": 333})
			after := slotOwners(t, s, c, "split")
			if moved := diff(before, after); moved != 333 {
				t.Fatalf("%d slots moved when sz started, want 333 (only sz's share)", moved)
			}
			for i := range after {
				if after[i] != before[i] && after[i] != "sz" {
					t.Fatalf("slot %d moved from %s to %s, want only moves to sz", i, before[i], after[i])
				}
			}

			setStatus(t, s, "sy", assign.StatusPaused)
			checkSplit(t, s, "split", map[string]int{"sx": 500, "sz": 500})
			paused := slotOwners(t, s, c, "split")
			for i := range paused {
				if paused[i] != after[i] && after[i] != "sy" {
					t.Fatalf("slot %d moved from %s to %s when sy paused, want only sy's slots to move", i, after[i], paused[i])
				}
			}
			setStatus(t, s, "sy", assign.StatusRunning)
			checkSplit(t, s, "split", map[string]int{"sx": 334, "sy": 333, "sz": 333})
			if moved := diff(paused, slotOwners(t, s, c, "split")); moved != 333 {
				t.Fatalf("%d slots moved when sy resumed, want 333", moved)
			}
			// An update that does not change whether it takes traffic keeps the split.
			held := slotOwners(t, s, c, "split")
			if _, err := s.UpdateExperiment(ctx, "sx", assign.ExperimentUpdate{SamplingProbability: new(0.5)}, "admin"); err != nil {
				t.Fatal(err)
			}
			if moved := diff(held, slotOwners(t, s, c, "split")); moved != 0 {
				t.Fatalf("%d slots moved on a sampling change", moved)
			}
			for _, id := range []string{"sx", "sy", "sz"} {
				setStatus(t, s, id, assign.StatusStopped)
			}
			checkSplit(t, s, "split", map[string]int{})
			// A layer whose first experiment is created paused offers nothing.
			e := newLayered("sp", "split-paused")
			e.Status = assign.StatusPaused
			mustCreate(t, s, e)
			checkSplit(t, s, "split-paused", map[string]int{})
			if res := mustEnroll(t, s, "sp", "u1"); res.Reason != assign.ReasonNotRunning {
				t.Fatalf("paused: %+v, want not_running", res)
			}
		})

		// A paused or stopped experiment's members stay its own: the other
		// experiments of the layer, which take over its traffic, refuse them.
		t.Run("PausedKeepsOwners", func(t *testing.T) {
			mustCreate(t, s, newLayered("pa", "pause"))
			mustCreate(t, s, newLayered("pb", "pause"))
			members := map[string]string{}
			var free []string
			for i := range 200 {
				user := fmt.Sprintf("p%d", i)
				if res := mustEnroll(t, s, "pa", user); res.Enrolled {
					members[user] = res.Group
				} else {
					free = append(free, user) // offered pb; never asked it
				}
			}
			if len(members) < 60 || len(free) < 60 {
				t.Fatalf("%d members of pa, %d others of 200", len(members), len(free))
			}
			for _, st := range []assign.Status{assign.StatusPaused, assign.StatusStopped} {
				setStatus(t, s, "pa", st)
				checkSplit(t, s, "pause", map[string]int{"pb": 1000})
				for user, g := range members {
					if res := mustEnroll(t, s, "pb", user); res.Enrolled || res.Reason != assign.ReasonNotEligible {
						t.Fatalf("%s: pa's member got %+v from pb, want not_eligible", st, res)
					}
					if res := mustEnroll(t, s, "pa", user); !res.Enrolled || res.Group != g {
						t.Fatalf("%s: pa's member got %+v from pa, want %q", st, res, g)
					}
				}
			}
			// The users pa never took are free to join pb, which now has every slot.
			for _, user := range free {
				if res := mustEnroll(t, s, "pb", user); !res.Enrolled {
					t.Fatalf("free user %s: %+v from pb, want enrolled", user, res)
				}
			}
			// Resumed, pa gets a share back; its members are still its own,
			// and pb's members are refused by pa.
			setStatus(t, s, "pa", assign.StatusRunning)
			checkSplit(t, s, "pause", map[string]int{"pa": 500, "pb": 500})
			for user, g := range members {
				if res := mustEnroll(t, s, "pa", user); res.Group != g || res.New {
					t.Fatalf("resumed: pa's member %s got %+v, want %q", user, res, g)
				}
			}
			for _, user := range free {
				if res := mustEnroll(t, s, "pa", user); res.Enrolled || res.Reason != assign.ReasonNotEligible {
					t.Fatalf("pb's member %s got %+v from pa, want not_eligible", user, res)
				}
			}
			checkCounts(t, s, "pa")
			if n := checkCounts(t, s, "pb"); n != int64(len(free)) {
				t.Fatalf("pb has %d members, want %d", n, len(free))
			}
		})

		// A rollout gives the winner to the experiment's members and to the
		// layer's users nobody owns, not to other experiments' members; the
		// rolled-out experiment gives up its traffic.
		t.Run("Rollout", func(t *testing.T) {
			mustCreate(t, s, newLayered("ra", "roll"))
			mustCreate(t, s, newLayered("rb", "roll"))
			owner := map[string]string{}
			for i := range 100 {
				user := fmt.Sprintf("r%d", i)
				for _, id := range []string{"ra", "rb"} {
					if mustEnroll(t, s, id, user).Enrolled {
						owner[user] = id
					}
				}
			}
			winner := "treatment"
			if _, err := s.UpdateExperiment(ctx, "ra", assign.ExperimentUpdate{Winner: &winner}, "po"); err != nil {
				t.Fatal(err)
			}
			checkSplit(t, s, "roll", map[string]int{"rb": 1000})
			for user, id := range owner {
				res := mustEnroll(t, s, "ra", user)
				if id == "ra" && (!res.RolledOut || res.Group != winner) {
					t.Fatalf("ra's member %s: %+v, want the winner", user, res)
				} else if id == "rb" && (res.Enrolled || res.Reason != assign.ReasonNotEligible) {
					t.Fatalf("rb's member %s: %+v from ra, want not_eligible", user, res)
				}
			}
			if res := mustEnroll(t, s, "ra", "newcomer"); !res.RolledOut || res.Group != winner {
				t.Fatalf("newcomer: %+v, want the winner", res)
			}
			if _, ok, err := s.LayerOwner(ctx, "roll", "newcomer"); err != nil || ok {
				t.Fatalf("a rolled-out newcomer was recorded as an owner (%v)", err)
			}
		})

		t.Run("Replay", func(t *testing.T) {
			mustCreate(t, s, newLayered("rp", "replay"))
			orig := s.Scripter
			s.Scripter = replayScripter{c}
			defer func() { s.Scripter = orig }()
			for i := range 30 {
				if res := mustEnroll(t, s, "rp", fmt.Sprintf("p%d", i)); !res.Enrolled {
					t.Fatalf("%+v", res)
				}
			}
			if n := checkCounts(t, s, "rp"); n != 30 {
				t.Fatalf("n=%d, want 30", n)
			}
		})

		// An experiment outside any layer never reads or writes layer keys,
		// and takes a layer experiment's members like anyone else.
		t.Run("NoLayerUnaffected", func(t *testing.T) {
			mustCreate(t, s, newLayered("la", "side"))
			mustCreate(t, s, newExperiment("plain", 1000, 1))
			layerKeys := func() []string {
				keys, err := c.Keys(ctx, s.Keys().Namespace+"{layer:side}*").Result()
				if err != nil {
					t.Fatal(err)
				}
				return keys
			}
			mustEnroll(t, s, "la", "x0")
			before := len(layerKeys())
			for i := range 100 {
				user := fmt.Sprintf("x%d", i)
				if res := mustEnroll(t, s, "plain", user); !res.Enrolled {
					t.Fatalf("%s: %+v from the plain experiment", user, res)
				}
			}
			if after := len(layerKeys()); after != before {
				t.Fatalf("layer keys %d -> %d after enrolling outside the layer", before, after)
			}
			if n := checkCounts(t, s, "plain"); n != 100 {
				t.Fatalf("n=%d, want 100", n)
			}
		})

		t.Run("ErrInvalid", func(t *testing.T) {
			for _, layer := range []string{"", "a b"} {
				if _, err := s.LayerSplit(ctx, layer); assign.ErrorCode(err) != assign.EINVALID {
					t.Fatalf("LayerSplit(%q): %v, want invalid", layer, err)
				}
				if _, _, err := s.LayerOwner(ctx, layer, "u"); assign.ErrorCode(err) != assign.EINVALID {
					t.Fatalf("LayerOwner(%q): %v, want invalid", layer, err)
				}
			}
			if _, ok, err := s.LayerOwner(ctx, "never-used", "u"); err != nil || ok {
				t.Fatalf("LayerOwner of an unused layer: %v, %v", ok, err)
			}
		})
	})
}

// diff counts the slots whose experiment differs.
func diff(a, b []string) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestLayerOwnerBuckets(t *testing.T) {
	for _, tc := range []struct {
		max  int64
		want uint32
	}{{1, 1024}, {16384, 1024}, {100_000, 8192}, {1 << 40, 65536}} {
		if got := redisstore.LayerOwnerBuckets(tc.max); got != tc.want {
			t.Errorf("LayerOwnerBuckets(%d)=%d, want %d", tc.max, got, tc.want)
		}
	}
}
