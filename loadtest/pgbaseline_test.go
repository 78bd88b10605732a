package loadtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/loadtest"
)

// MustOpenPGBaseline opens the baseline on the real PostgreSQL in a schema of
// its own, dropped when the test ends.
func MustOpenPGBaseline(tb testing.TB, conns int, counter bool) *loadtest.PGBaseline {
	tb.Helper()
	url := testenv.PostgresURL(tb)
	ctx := context.Background()
	b, err := loadtest.OpenPGBaseline(ctx, url, conns, counter)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := b.Close(ctx); err != nil {
			tb.Errorf("close baseline: %v", err)
		}
		// The schema is gone.
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Fatal(err)
		}
		defer c.Close(ctx)
		var n int
		_ = c.QueryRow(ctx, `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, b.Schema).Scan(&n)
		if n != 0 {
			tb.Errorf("schema %s left behind", b.Schema)
		}
	})
	return b
}

func TestPGBaseline_Enroll(t *testing.T) {
	b := MustOpenPGBaseline(t, 2, false)
	ctx := context.Background()
	spec := loadtest.ExperimentSpec{ID: "exp-1", MaxSampleSize: 2, SamplingProbability: 1, Groups: loadtest.MustParseGroups("a:0.5,b:0.5")}
	if err := b.CreateExperiment(ctx, spec); err != nil {
		t.Fatal(err)
	}
	first, err := b.Enroll(ctx, "exp-1", "u1")
	if err != nil {
		t.Fatal(err)
	} else if !first.Enrolled || !first.New || (first.Group != "a" && first.Group != "b") {
		t.Fatalf("first enrollment %+v, want a new member of a or b", first)
	}
	again, err := b.Enroll(ctx, "exp-1", "u1")
	if err != nil {
		t.Fatal(err)
	} else if !again.Enrolled || again.New || again.Group != first.Group {
		t.Fatalf("second enrollment %+v, want the same group %q, not new", again, first.Group)
	}
	if res, _ := b.Enroll(ctx, "exp-1", "u2"); !res.Enrolled {
		t.Fatalf("u2: %+v, want enrolled (cap 2)", res)
	}
	if res, _ := b.Enroll(ctx, "exp-1", "u3"); res.Enrolled || res.Reason != assign.ReasonSampleFull {
		t.Fatalf("u3: %+v, want sample_full", res)
	}
	// A member keeps their group when the experiment is full.
	if res, _ := b.Enroll(ctx, "exp-1", "u1"); res.Group != first.Group {
		t.Fatalf("u1 after full: %+v, want %q", res, first.Group)
	}
	if _, err := b.Enroll(ctx, "nope", "u1"); assign.ErrorCode(err) != assign.ENOTFOUND {
		t.Fatalf("unknown experiment: %v, want ENOTFOUND", err)
	}
}

// TestPGBaseline_Run drives the baseline the way the benchmark does (many
// workers, new and returning users, a small cap) and checks it keeps the
// same guarantees as the Redis store: exact cap, counts, stickiness.
func TestPGBaseline_Run(t *testing.T) {
	for _, counter := range []bool{false, true} {
		name := "Count"
		if counter {
			name = "Counter"
		}
		t.Run(name, func(t *testing.T) {
			b := MustOpenPGBaseline(t, 8, counter)
			ctx := context.Background()
			ids := []string{"cap-25", "cap-40-half-sampled"}
			specs := []loadtest.ExperimentSpec{
				{ID: ids[0], MaxSampleSize: 25, SamplingProbability: 1, Groups: loadtest.MustParseGroups("control:0.2,treatment:0.8")},
				{ID: ids[1], MaxSampleSize: 40, SamplingProbability: 0.5, Groups: loadtest.MustParseGroups("a:0.3,b:0.3,c:0.4")},
			}
			for _, s := range specs {
				if err := b.CreateExperiment(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			pop, _ := loadtest.NewPopulation(ids, 200, 11)
			rep, ledger, err := loadtest.Run(ctx, loadtest.RunConfig{Connections: 8, Requests: 600, Returning: 0.5, Seed: 5},
				pop, b.Target(pop, 10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failed != 0 || rep.Sticky != 0 {
				t.Fatalf("failed %d %v, sticky %d %v, want none", rep.Failed, rep.Errors, rep.Sticky, rep.Examples)
			}
			if rep.Decisions["sample_full"] == 0 || rep.Decisions["not_sampled"] == 0 {
				t.Fatalf("decisions %v: the run must reach the caps and the sampling", rep.Decisions)
			}
			v, err := b.Verify(ctx, pop, ledger)
			if err != nil {
				t.Fatal(err)
			} else if !v.OK {
				t.Fatalf("verification failed: %v", v.Problems)
			}
			// 100 users per experiment: the fully sampled one fills to its
			// cap exactly. The half-sampled one samples about 50 of them,
			// with a fresh random salt per run, so it reaches its cap of 40
			// in about 98 runs of 100 (a binomial tail): never more, and
			// fewer than 30 only if sampling were broken (p < 1e-4).
			if got := v.Experiments[0].Members; got != 25 {
				t.Errorf("%s has %d members, want 25", ids[0], got)
			}
			if got := v.Experiments[1].Members; got > 40 || got < 30 {
				t.Errorf("%s has %d members, want 30 to 40 (the cap)", ids[1], got)
			}
			if v.UsersChecked != rep.Answered {
				t.Errorf("UsersChecked=%d, want every answered user (%d)", v.UsersChecked, rep.Answered)
			}
		})
	}
}

// TestPGBaseline_VerifyCatches checks the verifier is not blind: a member
// added behind the baseline's back, over the cap, is reported.
func TestPGBaseline_VerifyCatches(t *testing.T) {
	b := MustOpenPGBaseline(t, 1, false)
	ctx := context.Background()
	_ = b.CreateExperiment(ctx, loadtest.ExperimentSpec{ID: "e", MaxSampleSize: 1, SamplingProbability: 1, Groups: loadtest.MustParseGroups("a:1")})
	pop, _ := loadtest.NewPopulation([]string{"e"}, 3, 1)
	ledger := loadtest.NewLedger(3)
	res, err := b.Enroll(ctx, "e", pop.UserID(0))
	if err != nil || !res.Enrolled {
		t.Fatalf("enroll: %+v %v", res, err)
	}
	ledger.Record(0, pop.Groups.Outcome([]byte("a")))
	ledger.Record(1, loadtest.OutcomeSampleFull)

	c, err := pgx.Connect(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `INSERT INTO `+pgx.Identifier{b.Schema}.Sanitize()+`.members (experiment_id, user_id, group_name) VALUES ('e', $1, 'a')`, pop.UserID(1)); err != nil {
		t.Fatal(err)
	}
	v, err := b.Verify(ctx, pop, ledger)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(v.Problems, "\n")
	if v.OK || !strings.Contains(all, "over its cap") || !strings.Contains(all, `was told "sample_full"`) {
		t.Fatalf("OK=%v problems %q, want over cap and sample_full member", v.OK, v.Problems)
	}
}
