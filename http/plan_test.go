package http_test

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/assign-dev/assign/stats"
)

// GET /api/plan: the same plans as `assignctl plan`, against the references
// of stats/power_test.go (the mpmath script stats/testdata/power_reference.py;
// R's ?power.prop.test and ?power.t.test examples).
func TestPlan(t *testing.T) {
	ts := MustOpenServer(t, nil)
	get := func(t *testing.T, query string) stats.Plan {
		t.Helper()
		r := ts.Do(t, "GET", "/api/plan?"+query, adminToken, "")
		MustStatus(t, r, http.StatusOK)
		var p stats.Plan
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	near := func(t *testing.T, name string, got, want, tol float64) {
		t.Helper()
		if math.IsNaN(got) || math.Abs(got-want) > tol {
			t.Errorf("%s=%.12g, want %.12g", name, got, want)
		}
	}

	t.Run("SeedRelative", func(t *testing.T) {
		// 11%, +20% relative, 50/50, sampling 0.9: 3448.40347173201953 per group.
		p := get(t, "baseline=0.11&effect=0.2&relative=true&sampling_probability=0.9&probabilities=0.5,0.5")
		near(t, "exact_total", p.ExactTotal, 2*3448.40347173201953172750624786, 1e-6)
		if p.Total != 6898 || p.TotalBeforeSampling != 7665 || len(p.Groups) != 2 || p.Groups[0].Users != 3449 || p.Outcome != "binary" {
			t.Fatalf("plan %+v", p)
		}
	})
	t.Run("RPowerTTest", func(t *testing.T) {
		// power.t.test(power = .90, delta = 1): n = 22.02110 per group.
		p := get(t, "sd=1&effect=1&power=0.9")
		near(t, "n", p.ExactTotal/2, 22.0210955700969264505104514593, 1e-6)
		if p.Outcome != "numeric" || p.Total != 46 {
			t.Fatalf("plan %+v", p)
		}
	})
	t.Run("Reverse", func(t *testing.T) {
		// A cap of 3000, sd 20, 20/80: delta = 2.55830531598126009602949435107.
		p := get(t, "outcome=numeric&baseline=10&sd=20&maximum_sample_size=3000&probabilities=0.2,0.8")
		near(t, "effect", float64(p.Effect), 2.55830531598126009602949435107, 1e-8)
		if !p.Reverse || p.Total != 3000 || p.Groups[0].Users != 600 {
			t.Fatalf("plan %+v", p)
		}
	})
	t.Run("ThreeGroups", func(t *testing.T) {
		p := get(t, "baseline=0.1&effect=0.02&groups=3")
		near(t, "n", p.Groups[0].ExactUsers, 4651.41787657651419436531217991, 1e-6)
		if p.ComparisonAlpha != 0.025 || p.Total != 3*4652 {
			t.Fatalf("plan %+v", p)
		}
	})
	t.Run("Sequential", func(t *testing.T) {
		// The README's cap for the sequential test (+3.5 pp on 10.5%,
		// sampling 0.9): 5260.434404864012 by bisection on the mSPRT's power
		// at its horizon (stats/plan_sequential_test.go), against the
		// fixed-horizon plan's 2752.597736581434 (2,754). Both answers
		// validated against openapi/openapi.json.
		c := newContract(t)
		r := c.Do(t, ts, "GET", "/api/plan?baseline=0.105&effect=0.035&sampling_probability=0.9&method=sequential", adminToken, "")
		MustStatus(t, r, http.StatusOK)
		var p stats.Plan
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
		near(t, "exact_total", p.ExactTotal, 5260.434404864012, 1e-6)
		if s := p.Sequential; s == nil || p.Total != 5262 || p.TotalBeforeSampling != 5847 || s.FixedTotal != 2754 || s.Horizon != 5262 ||
			p.Method != stats.MethodPlanSequentialProportions {
			t.Fatalf("plan %+v sequential %+v", p, s)
		}
		near(t, "ratio", float64(p.Sequential.Ratio), 5260.434404864012/2752.597736581434, 1e-9)
		// The reverse at 3000, 11%: 0.048111471860282 (the same bisection).
		r = c.Do(t, ts, "GET", "/api/plan?baseline=0.11&maximum_sample_size=3000&method=sequential", adminToken, "")
		MustStatus(t, r, http.StatusOK)
		p = stats.Plan{}
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
		near(t, "effect", float64(p.Effect), 0.048111471860282, 1e-9)
		near(t, "fixed_effect", float64(p.Sequential.FixedEffect), 0.144052571146981946721002349807-0.11, 1e-9)
		// method=fixed is the default's answer, without "sequential".
		if f := get(t, "baseline=0.105&effect=0.035&method=fixed"); f.Total != 2754 || f.Sequential != nil {
			t.Fatalf("fixed %+v", f)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct{ query, field string }{
			{"effect=0.01", "baseline"},
			{"baseline=0.1", "effect"},
			{"baseline=ten&effect=0.01", "baseline"},
			{"baseline=0.1&effect=0.01&alpha=1", "alpha"},
			{"baseline=0.1&effect=0.01&power=x", "power"},
			{"baseline=0.1&effect=0.01&relative=maybe", "relative"},
			{"baseline=0.1&effect=0.01&groups=two", "groups"},
			{"baseline=0.1&effect=0.01&groups=1", "groups"},
			{"baseline=0.1&effect=0.01&probabilities=0.5,x", "probabilities"},
			{"baseline=0.1&effect=0.01&probabilities=0.5,0.4", "probabilities"},
			{"baseline=0.1&effect=0.01&sampling_probability=0", "sampling_probability"},
			{"baseline=0.1&maximum_sample_size=1.5", "maximum_sample_size"},
			{"baseline=0.1&effect=0.01&outcome=revenue", "outcome"},
			{"outcome=numeric&baseline=1&effect=0.01", "sd"},
			{"baseline=0.1&effect=0.01&colour=red", "colour"},
			{"baseline=0.1&baseline=0.2&effect=0.01", "baseline"},
			{"baseline=0.1&effect=0.01&method=bayes", "method"},
			{"baseline=0.1&effect=0.01&method=sequential&method=fixed", "method"},
		} {
			r := ts.Do(t, "GET", "/api/plan?"+tc.query, adminToken, "")
			if r.Status != http.StatusBadRequest || r.ErrorCode(t) != "invalid" || r.ErrorField(t) != tc.field {
				t.Errorf("%s: status %d body %s, want 400 naming %q", tc.query, r.Status, r.Body, tc.field)
			}
		}
		MustStatus(t, ts.Do(t, "GET", "/api/plan?baseline=0.1&effect=0.01", "", ""), http.StatusUnauthorized)
		MustStatus(t, ts.Do(t, "GET", "/api/plan?baseline=0.1&effect=0.01", "nope", ""), http.StatusUnauthorized)
		r := ts.Do(t, "POST", "/api/plan", adminToken, "")
		MustStatus(t, r, http.StatusMethodNotAllowed)
		if r.Header.Get("Allow") != "GET, HEAD" {
			t.Fatalf("Allow=%q", r.Header.Get("Allow"))
		}
	})
}
