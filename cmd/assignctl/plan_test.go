package main

import (
	"fmt"
	"math"
	"testing"

	"github.com/assign-dev/assign/stats"
)

// assignctl plan, against the references of stats/power_test.go (the mpmath
// script stats/testdata/power_reference.py; R's ?power.prop.test and
// ?power.t.test examples where they exist).
func TestPlanCommand(t *testing.T) {
	t.Run("SeedCap", func(t *testing.T) {
		// The seed: 11% of first orders convert, +20% relative is worth
		// detecting, sampling 0.9. Per group 3448.40347173201953 (mpmath):
		// 3449 each, a cap of 6898, 6898/0.9 = 7664.4 -> 7665 eligible users.
		args := []string{"plan", "--baseline", "11%", "--relative-effect", "20%", "--sampling", "0.9",
			"--group", "old_journey=0.5", "--group", "new_journey=0.5"}
		var out struct {
			stats.Plan
			Groups []struct {
				Name string `json:"name"`
				stats.PlanGroup
			} `json:"groups"`
		}
		run(t, nil, "", append(args, "--output", "json")...).mustOK(t).json(t, &out)
		near(t, "exact_total", out.ExactTotal, 2*3448.40347173201953172750624786, 1e-6)
		near(t, "effect", float64(out.Effect), 0.022, 1e-15)
		if out.Total != 6898 || out.TotalBeforeSampling != 7665 || len(out.Groups) != 2 || out.Groups[1].Name != "new_journey" ||
			out.Groups[1].Users != 3449 || out.Groups[1].BeforeSampling != 3832 || out.Method != stats.MethodPlanProportions {
			t.Fatalf("plan %+v", out)
		}
		r := run(t, nil, "", append(args, "--output", "table")...).mustOK(t)
		mustContain(t, r.Stdout, "Baseline: 11.00% conversion rate", "Effect:   +2.20 pp (+20.00%), to 13.20% (minimum detectable)",
			"old_journey  0.5          3449   3832", "TOTAL                     6898   7665",
			"Set the maximum sample size to 6898 (assignctl create --max 6898); with sampling 0.9, 7665 eligible users must reach the screen.")
		rows := run(t, nil, "", append(args, "--output", "csv")...).mustOK(t).csv(t)
		if len(rows) != 2 || rows[0]["group"] != "old_journey" || rows[0]["users"] != "3449" || rows[0]["total"] != "6898" {
			t.Fatalf("csv %v", rows)
		}
	})
	t.Run("RExamples", func(t *testing.T) {
		// power.prop.test(p1 = .50, p2 = .75, power = .90): n = 76.7 per group.
		var p stats.Plan
		run(t, nil, "", "plan", "--output", "json", "--baseline", "0.5", "--effect", "0.25", "--power", "0.9").mustOK(t).json(t, &p)
		near(t, "n", p.ExactTotal/2, 76.706928451777446680715241138, 1e-6)
		if p.Total != 154 {
			t.Fatalf("total %d, want 2 × 77", p.Total)
		}
		// power.t.test(power = .90, delta = 1): n = 22.02110 per group.
		p = stats.Plan{}
		run(t, nil, "", "plan", "--output", "json", "--sd", "1", "--effect", "1", "--power", "0.9").mustOK(t).json(t, &p)
		near(t, "n", p.ExactTotal/2, 22.0210955700969264505104514593, 1e-6)
		if p.Total != 46 || p.Method != stats.MethodPlanMeans {
			t.Fatalf("plan %+v", p)
		}
	})
	t.Run("Reverse", func(t *testing.T) {
		// A cap of 3000 at 11%: p2 = 0.144052571146981946721002349807.
		var p stats.Plan
		run(t, nil, "", "plan", "--output", "json", "--baseline", "0.11", "--max", "3000", "--sampling", "0.9").mustOK(t).json(t, &p)
		near(t, "target", float64(p.Target), 0.144052571146981946721002349807, 1e-9)
		if !p.Reverse || p.Total != 3000 || p.TotalBeforeSampling != 3334 {
			t.Fatalf("plan %+v", p)
		}
		// docs/walkthrough.md's command, as printed there.
		r := run(t, nil, "", "plan", "--output", "table", "--baseline", "11%", "--max", "3000", "--sampling", "0.9",
			"--group", "old_journey=0.5", "--group", "new_journey=0.5").mustOK(t)
		mustContain(t, r.Stdout, "Effect:   +3.41 pp (+30.96%), to 14.41%, the smallest detectable with 3000 users",
			"old_journey  0.5          1500   1667", "TOTAL                     3000   3334",
			"With a maximum sample size of 3000; with sampling 0.9, 3334 eligible users must reach the screen.")
		r = run(t, nil, "", "plan", "--output", "table", "--mean", "6.5", "--sd", "20", "--max", "3000").mustOK(t)
		// delta = 2.04664425278500807682359548086 (mpmath).
		mustContain(t, r.Stdout, "Effect:   +2.04664 (+31.49%), to 8.54664, the smallest detectable with 3000 users",
			"With a maximum sample size of 3000.")
	})
	t.Run("Sequential", func(t *testing.T) {
		// The README's cap for the sequential test: +3.5 pp on 10.5%,
		// sampling 0.9. The total 5260.434404864012 is the bisection on the
		// mSPRT's power at its horizon in stats/plan_sequential_test.go
		// (seqPlanRef); the fixed-horizon plan's is 2752.597736581434 (2,754).
		args := []string{"plan", "--baseline", "10.5%", "--effect", "3.5pp", "--sampling", "0.9", "--method", "sequential"}
		var out struct {
			stats.Plan
			Groups []struct {
				Name string `json:"name"`
				stats.PlanGroup
			} `json:"groups"`
		}
		run(t, nil, "", append(args, "--output", "json")...).mustOK(t).json(t, &out)
		near(t, "exact_total", out.ExactTotal, 5260.434404864012, 1e-6)
		s := out.Sequential
		if s == nil || out.Method != stats.MethodPlanSequentialProportions || out.Total != 5262 || out.TotalBeforeSampling != 5847 ||
			out.Groups[1].Users != 2631 || s.Horizon != 5262 || s.FixedTotal != 2754 {
			t.Fatalf("plan %+v sequential %+v", out, s)
		}
		near(t, "ratio", float64(s.Ratio), 5260.434404864012/2752.597736581434, 1e-9)
		r := run(t, nil, "", append(args, "--output", "table")...).mustOK(t)
		mustContain(t, r.Stdout, "Method:   "+stats.MethodPlanSequentialProportions, "Level:    alpha 0.05 (two-sided), power 80% at the total",
			"TOTAL                     5262   5847", "Set the maximum sample size to 5262 (assignctl create --max 5262)",
			"The sequential test needs 1.91× the fixed-horizon sample (2754 users)")
		rows := run(t, nil, "", append(args, "--output", "csv")...).mustOK(t).csv(t)
		if len(rows) != 2 || rows[0]["method"] != "sequential" || rows[0]["total"] != "5262" {
			t.Fatalf("csv %v", rows)
		}
		if rows := run(t, nil, "", "plan", "--baseline", "0.1", "--effect", "1pp", "--output", "csv").mustOK(t).csv(t); rows[0]["method"] != "fixed" {
			t.Fatalf("fixed csv %v", rows)
		}

		// The reverse, numeric, in closed form: at the horizon n/N = 1, so
		// the boundary is g = sqrt((1 + 1/c)(log(1 + c) + l)), c = l + log(l
		// + 1), l = -2 log 0.05, and the effect (g + z80)·20·sqrt(2/1500),
		// z80 = qnorm(0.8) = 0.8416212335729143.
		l := -2 * math.Log(0.05)
		c := l + math.Log(l+1)
		d := (math.Sqrt((1+1/c)*(math.Log(1+c)+l)) + 0.8416212335729143) * 20 * math.Sqrt(2.0/1500)
		var p stats.Plan
		rev := []string{"plan", "--mean", "6.5", "--sd", "20", "--max", "3000", "--method", "sequential"}
		run(t, nil, "", append(rev, "--output", "json")...).mustOK(t).json(t, &p)
		near(t, "effect", float64(p.Effect), d, 1e-9)
		if !p.Reverse || p.Sequential == nil || p.Sequential.FixedTotal != 3000 {
			t.Fatalf("plan %+v", p)
		}
		// The fixed-horizon test's effect at that cap: 2.04664425278500807682359548086 (mpmath).
		r = run(t, nil, "", append(rev, "--output", "table")...).mustOK(t)
		mustContain(t, r.Stdout, fmt.Sprintf("Effect:   %s (+%.2f%%), to %s, the smallest the sequential test detects with 3000 users (%.2f× the fixed-horizon test's +2.04664)",
			signedSig(d), 100*d/6.5, sig(6.5+d), d/2.04664425278500807682359548086), "With a maximum sample size of 3000.")
	})
	t.Run("Errors", func(t *testing.T) {
		run(t, nil, "", "plan", "--baseline", "0.1", "--effect", "1pp", "--method", "bayes").mustCode(t, ExitUsage, "--method")
		run(t, nil, "", "plan", "--effect", "0.01").mustCode(t, ExitUsage, "--baseline")
		run(t, nil, "", "plan", "--baseline", "0.1").mustCode(t, ExitUsage, "--effect")
		run(t, nil, "", "plan", "--baseline", "0.1", "--effect", "1", "--relative-effect", "1").mustCode(t, ExitUsage, "not both")
		run(t, nil, "", "plan", "--baseline", "ten", "--effect", "1pp").mustCode(t, ExitUsage, "not a number")
		run(t, nil, "", "plan", "--baseline", "0.1", "--effect", "1pp", "--groups", "3", "--group", "a=1").mustCode(t, ExitUsage, "not both")
		run(t, nil, "", "plan", "--baseline", "2", "--effect", "1pp").mustCode(t, ExitError, "baseline")
		run(t, nil, "", "plan", "--baseline", "0.1", "--effect", "1pp", "--group", "a=0.5", "--group", "b=0.4").mustCode(t, ExitError, "sum to")
		run(t, nil, "", "plan", "extra").mustCode(t, ExitUsage, "want 0 argument(s)")
		run(t, nil, "", "plan", "--baseline", "0.1", "--effect", "1pp", "--sampling", "0").mustCode(t, ExitUsage, "--sampling")
		run(t, nil, "", "plan", "--baseline", "0.1", "--effect", "1pp", "--power", "0").mustCode(t, ExitUsage, "--power")
	})
}
