package stats_test

import (
	"strings"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// binaryReport analyses one control and one treatment of n users each.
func binaryReport(t *testing.T, n, c1, c2 int64, method string) *stats.Report {
	t.Helper()
	r, err := stats.Analyze(stats.Input{Method: method, Groups: []stats.GroupInput{
		{Name: "control", Probability: 0.5, Binary: &stats.Binary{N: n, Conversions: c1}},
		{Name: "treatment", Probability: 0.5, Binary: &stats.Binary{N: n, Conversions: c2}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Three metrics adjusted as one family: the adjusted p-values are Holm's or
// Benjamini–Hochberg's of the three raw ones (their own tests above check
// those against published values), significance and the verdicts follow.
func TestAdjustFamily(t *testing.T) {
	for _, method := range []string{stats.MethodFixed, stats.MethodSequential} {
		for _, correction := range []string{stats.CorrectionHolm, stats.CorrectionBH, stats.CorrectionNone} {
			t.Run(method+"/"+correction, func(t *testing.T) {
				reports := []*stats.Report{
					binaryReport(t, 2000, 200, 260, method), // strong
					binaryReport(t, 2000, 200, 232, method), // borderline
					binaryReport(t, 2000, 200, 205, method), // nothing
				}
				raw := make([]float64, 3)
				for i, r := range reports {
					raw[i] = float64(r.Comparisons[0].PValue)
					if method == stats.MethodSequential {
						raw[i] = float64(r.Comparisons[0].Sequential.PValue)
					}
				}
				want := raw
				switch correction {
				case stats.CorrectionHolm:
					want = stats.Holm(raw)
				case stats.CorrectionBH:
					want = stats.BenjaminiHochberg(raw)
				}
				members := []stats.FamilyMember{{Report: reports[0]}, {Report: reports[1]}, {Report: reports[2]}}
				if err := stats.AdjustFamily(members, correction); err != nil {
					t.Fatal(err)
				}
				for i, r := range reports {
					c := r.Comparisons[0]
					adj := c.AdjustedPValue
					if method == stats.MethodSequential {
						adj = c.Sequential.AdjustedPValue
					}
					approx(t, "adjusted", adj, want[i], 1e-15)
					if r.Correction != correction {
						t.Errorf("Correction=%q, want %q", r.Correction, correction)
					}
					if got, want := c.Significant, want[i] < 0.05; got != want {
						t.Errorf("metric %d: Significant=%v, want %v (adjusted p %v)", i, got, want, adj)
					}
					label := map[string]string{stats.CorrectionHolm: "Holm-adjusted", stats.CorrectionBH: "BH-adjusted"}[correction]
					if label != "" && float64(adj) != raw[i] && !strings.Contains(c.Verdict, label) {
						t.Errorf("Verdict=%q, want it to name %s", c.Verdict, label)
					}
					if correction == stats.CorrectionNone && strings.Contains(c.Verdict, "adjusted") {
						t.Errorf("Verdict=%q names an adjustment", c.Verdict)
					}
				}
			})
		}
	}
	t.Run("Missing", func(t *testing.T) {
		// A member that could not be computed still counts: Holm over
		// three p-values, one of them 1.
		r := binaryReport(t, 2000, 200, 260, stats.MethodFixed)
		raw := float64(r.Comparisons[0].PValue)
		if err := stats.AdjustFamily([]stats.FamilyMember{{Report: r}, {Missing: 2}}, stats.CorrectionHolm); err != nil {
			t.Fatal(err)
		}
		approx(t, "adjusted", r.Comparisons[0].AdjustedPValue, stats.Holm([]float64{raw, 1, 1})[0], 1e-15)
		if r.Correction != stats.CorrectionHolm {
			t.Errorf("Correction=%q, want holm (a family of three)", r.Correction)
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		err := stats.AdjustFamily([]stats.FamilyMember{{Report: binaryReport(t, 100, 10, 10, "")}}, "bonferroni")
		if assign.ErrorCode(err) != assign.EINVALID {
			t.Fatalf("err=%v, want EINVALID", err)
		}
	})
	t.Run("Unreliable", func(t *testing.T) {
		r, err := stats.Analyze(stats.Input{Groups: []stats.GroupInput{
			{Name: "control", Probability: 0.5, Binary: &stats.Binary{N: 3000, Conversions: 300}},
			{Name: "treatment", Probability: 0.5, Binary: &stats.Binary{N: 2000, Conversions: 400}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := stats.AdjustFamily([]stats.FamilyMember{{Report: r}, {Report: binaryReport(t, 100, 10, 10, "")}}, stats.CorrectionHolm); err != nil {
			t.Fatal(err)
		}
		if c := r.Comparisons[0]; c.Significant || !strings.HasPrefix(c.Verdict, stats.VerdictUnreliable) {
			t.Errorf("under a mismatch: Significant=%v Verdict=%q", c.Significant, c.Verdict)
		}
	})
}
