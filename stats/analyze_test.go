package stats_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// binaryGroup is a GroupInput with a binary outcome.
func binaryGroup(name string, p float64, n, x int64) stats.GroupInput {
	return stats.GroupInput{Name: name, Probability: p, Binary: &stats.Binary{N: n, Conversions: x}}
}

// MustAnalyze runs Analyze and fails the test on error.
func MustAnalyze(tb testing.TB, in stats.Input) *stats.Report {
	tb.Helper()
	r, err := stats.Analyze(in)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestAnalyze_Binary(t *testing.T) {
	// The seed's shape: old_journey vs new_journey, 50/50. Numbers derived
	// with mpmath (see binary_test.go).
	t.Run("TwoGroups", func(t *testing.T) {
		r := MustAnalyze(t, stats.Input{
			Control: "old_journey",
			Groups: []stats.GroupInput{
				binaryGroup("old_journey", 0.5, 2000, 200),
				binaryGroup("new_journey", 0.5, 2000, 262),
			},
		})
		if r.Outcome != stats.OutcomeBinary || r.Control != "old_journey" || r.ConfidenceLevel != 0.95 || r.Correction != "none" {
			t.Fatalf("header=%q %q %v %q", r.Outcome, r.Control, r.ConfidenceLevel, r.Correction)
		}
		g := r.Groups[1]
		if g.Name != "new_journey" || g.Control || g.N != 2000 || g.Conversions == nil || *g.Conversions != 262 {
			t.Fatalf("Groups[1]=%+v", g)
		}
		approx(t, "Rate", g.Rate, 0.131, 1e-15)
		approx(t, "ExpectedN", g.ExpectedN, 2000, 0)
		isNaN(t, "Mean", g.Mean)
		if !r.Groups[0].Control {
			t.Fatal("Groups[0].Control=false")
		}

		if len(r.Comparisons) != 1 {
			t.Fatalf("len(Comparisons)=%d, want 1", len(r.Comparisons))
		}
		c := r.Comparisons[0]
		if c.Group != "new_journey" || c.Control != "old_journey" {
			t.Fatalf("comparison of %q vs %q", c.Group, c.Control)
		}
		approx(t, "PValue", c.PValue, 0.0021617795761400796, tolMP)
		approx(t, "AdjustedPValue", c.AdjustedPValue, 0.0021617795761400796, tolMP)
		approx(t, "DifferenceCI.Lower", c.DifferenceCI.Lower, 0.01121314673133358, tolMP)
		if !c.Significant {
			t.Fatal("Significant=false")
		}
		if got, want := c.Verdict, "new_journey beats old_journey: +3.1 pp (+31.0%), 95% CI +1.1 to +5.1 pp, p=0.0022"; got != want {
			t.Fatalf("Verdict=%q, want %q", got, want)
		}
		approx(t, "SRM.ChiSquare", r.SRM.ChiSquare, 0, 0)
		approx(t, "SRM.PValue", r.SRM.PValue, 1, 1e-15)
		if r.SRM.Mismatch {
			t.Fatal("SRM.Mismatch=true")
		}
	})

	// Three groups, both raw p-values below 0.05, neither after Holm:
	// raw 0.043244928043021673 and 0.038470103587528793 (mpmath), adjusted
	// max(2·0.0384701…, 0.0432449…) = 0.076940207175057586 for both.
	t.Run("HolmChangesTheVerdict", func(t *testing.T) {
		r := MustAnalyze(t, stats.Input{
			Control: "control",
			Groups: []stats.GroupInput{
				binaryGroup("control", 0.4, 2000, 200),
				binaryGroup("a", 0.3, 2000, 240),
				binaryGroup("b", 0.3, 2000, 241),
			},
		})
		if got, want := r.Correction, "holm"; got != want {
			t.Fatalf("Correction=%q, want %q", got, want)
		}
		a, b := r.Comparisons[0], r.Comparisons[1]
		approx(t, "a.PValue", a.PValue, 0.043244928043021673, tolMP)
		approx(t, "b.PValue", b.PValue, 0.038470103587528793, tolMP)
		approx(t, "a.AdjustedPValue", a.AdjustedPValue, 0.076940207175057586, tolMP)
		approx(t, "b.AdjustedPValue", b.AdjustedPValue, 0.076940207175057586, tolMP)
		if a.Significant || b.Significant {
			t.Fatal("Significant after Holm, want not")
		}
		// The split is a loud mismatch (below), so the verdict says so
		// rather than naming any difference.
		if got, want := b.Verdict, "unreliable: sample ratio mismatch; b vs control: +2.0 pp (+20.5%), 95% CI +0.11 to +4.0 pp, p=0.038, Holm-adjusted p=0.077"; got != want {
			t.Fatalf("Verdict=%q, want %q", got, want)
		}
		if !a.Unreliable || !b.Unreliable {
			t.Fatal("Unreliable=false under a mismatch")
		}
		// 2000 each against 40/30/30 of 6000: a loud mismatch.
		approx(t, "ExpectedN", r.Groups[0].ExpectedN, 2400, 1e-9)
		if !r.SRM.Mismatch || r.SRM.DF != 2 {
			t.Fatalf("SRM=%+v, want a mismatch with df 2", r.SRM)
		}
	})

	// An empty group: its numbers are null, its comparison cannot be tested,
	// the other comparison stays alone in the Holm family, and the SRM check
	// flags the split.
	t.Run("EmptyGroup", func(t *testing.T) {
		r := MustAnalyze(t, stats.Input{
			Groups: []stats.GroupInput{
				binaryGroup("old_journey", 1.0/3, 2000, 200),
				binaryGroup("new_journey", 1.0/3, 2000, 262),
				binaryGroup("late", 1.0/3, 0, 0),
			},
		})
		isNaN(t, "Rate", r.Groups[2].Rate)
		c := r.Comparisons[1]
		isNaN(t, "PValue", c.PValue)
		if c.Significant || !strings.Contains(c.Verdict, "cannot be tested (a group has no users)") {
			t.Fatalf("Verdict=%q Significant=%v", c.Verdict, c.Significant)
		}
		approx(t, "AdjustedPValue", r.Comparisons[0].AdjustedPValue, 0.0021617795761400796, tolMP)
		if !r.SRM.Mismatch {
			t.Fatal("SRM.Mismatch=false, want true")
		}
	})

	// The control is the first group by default; worse is reported as worse,
	// and LowerIsBetter turns it into a win.
	t.Run("DirectionAndDefaults", func(t *testing.T) {
		in := stats.Input{Groups: []stats.GroupInput{
			binaryGroup("old_journey", 0.5, 2000, 262),
			binaryGroup("new_journey", 0.5, 2000, 200),
		}}
		r := MustAnalyze(t, in)
		if r.Control != "old_journey" {
			t.Fatalf("Control=%q, want the first group", r.Control)
		}
		if got := r.Comparisons[0].Verdict; !strings.HasPrefix(got, "new_journey is worse than old_journey: -3.1 pp (-23.7%)") {
			t.Fatalf("Verdict=%q", got)
		}
		in.LowerIsBetter = true
		if got := MustAnalyze(t, in).Comparisons[0].Verdict; !strings.HasPrefix(got, "new_journey beats old_journey: -3.1 pp") {
			t.Fatalf("Verdict(LowerIsBetter)=%q", got)
		}
	})

	// A 99% level changes the intervals and the significance threshold.
	t.Run("ConfidenceLevel", func(t *testing.T) {
		r := MustAnalyze(t, stats.Input{ConfidenceLevel: 0.99, Groups: []stats.GroupInput{
			binaryGroup("control", 0.5, 2000, 200),
			binaryGroup("b", 0.5, 2000, 241),
		}})
		c := r.Comparisons[0]
		if c.Significant {
			t.Fatal("p=0.038 significant at 99%")
		}
		if !strings.Contains(c.Verdict, "99% CI") {
			t.Fatalf("Verdict=%q, want the 99%% level", c.Verdict)
		}
	})

	// One group only: rows and SRM, no comparisons (an empty list, not null).
	t.Run("OneGroup", func(t *testing.T) {
		r := MustAnalyze(t, stats.Input{Groups: []stats.GroupInput{binaryGroup("only", 1, 10, 3)}})
		if len(r.Comparisons) != 0 || r.Comparisons == nil {
			t.Fatalf("Comparisons=%#v, want empty", r.Comparisons)
		}
		isNaN(t, "SRM.PValue", r.SRM.PValue)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		} else if !strings.Contains(string(b), `"comparisons":[]`) {
			t.Fatalf("JSON=%s, want an empty comparisons list", b)
		}
	})

	// A group of probability 0 with nobody in it (a ramped-down arm).
	t.Run("ZeroProbabilityGroup", func(t *testing.T) {
		r := MustAnalyze(t, stats.Input{Groups: []stats.GroupInput{
			binaryGroup("a", 0.5, 1000, 100),
			binaryGroup("b", 0.5, 1000, 110),
			binaryGroup("off", 0, 0, 0),
		}})
		if r.SRM.DF != 1 || r.SRM.Mismatch {
			t.Fatalf("SRM=%+v, want df 1, no mismatch", r.SRM)
		}
		approx(t, "ExpectedN", r.Groups[2].ExpectedN, 0, 0)
	})
}

func TestAnalyze_Numeric(t *testing.T) {
	// R's sleep data (see numeric_test.go), given three ways: samples, SQL
	// sums and SQL moments. All must give the published Welch numbers.
	s1, s2 := stats.Summarize(sleep1), stats.Summarize(sleep2)
	sums := func(xs []float64) *stats.Summary {
		var s, ss float64
		for _, x := range xs {
			s, ss = s+x, ss+x*x
		}
		v := stats.SummaryFromSums(int64(len(xs)), s, ss)
		return &v
	}
	moments := func(s stats.Summary) *stats.Summary {
		v := stats.SummaryFromMoments(s.N, s.Mean, s.Variance())
		return &v
	}
	for name, groups := range map[string][2]stats.GroupInput{
		"Samples": {{Name: "g1", Probability: 0.5, Samples: sleep1}, {Name: "g2", Probability: 0.5, Samples: sleep2}},
		"Sums":    {{Name: "g1", Probability: 0.5, Numeric: sums(sleep1)}, {Name: "g2", Probability: 0.5, Numeric: sums(sleep2)}},
		"Moments": {{Name: "g1", Probability: 0.5, Numeric: moments(s1)}, {Name: "g2", Probability: 0.5, Numeric: moments(s2)}},
	} {
		t.Run(name, func(t *testing.T) {
			r := MustAnalyze(t, stats.Input{Control: "g1", Groups: groups[:]})
			if r.Outcome != stats.OutcomeNumeric {
				t.Fatalf("Outcome=%q", r.Outcome)
			}
			g := r.Groups[1]
			if g.N != 10 || g.Conversions != nil {
				t.Fatalf("Groups[1]=%+v", g)
			}
			approx(t, "Mean", g.Mean, 2.33, 1e-12)
			approx(t, "SD", g.SD, 2.002248735796829, 1e-12)
			isNaN(t, "Rate", g.Rate)
			c := r.Comparisons[0]
			approx(t, "DF", c.DF, 17.77647351617849, tolMP)
			approx(t, "PValue", c.PValue, 0.079394140187358138, tolMP)
			approx(t, "DifferenceCI.Upper", c.DifferenceCI.Upper, 3.365483230711711, tolMP)
			if got, want := c.Verdict, "no significant difference between g2 and g1: +1.6 (+210.7%), 95% CI -0.21 to +3.4, p=0.079"; got != want {
				t.Fatalf("Verdict=%q, want %q", got, want)
			}
		})
	}

	t.Run("EmptyControl", func(t *testing.T) {
		r := MustAnalyze(t, stats.Input{Groups: []stats.GroupInput{
			{Name: "c", Probability: 0.5, Samples: []float64{}},
			{Name: "t", Probability: 0.5, Samples: sleep2},
		}})
		isNaN(t, "Mean", r.Groups[0].Mean)
		isNaN(t, "PValue", r.Comparisons[0].PValue)
	})
}

// The Report survives JSON with its undefined numbers as null.
func TestAnalyze_JSON(t *testing.T) {
	r := MustAnalyze(t, stats.Input{Groups: []stats.GroupInput{
		binaryGroup("a", 0.5, 0, 0),
		binaryGroup("b", 0.5, 10, 4),
	}})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"rate":null`, `"rate":0.4`, `"p_value":null`, `"conversions":0`, `"df":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	var back stats.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	isNaN(t, "Rate", back.Groups[0].Rate)
	approx(t, "Rate", back.Groups[1].Rate, 0.4, 0)
	if back.Comparisons[0].Verdict != r.Comparisons[0].Verdict {
		t.Fatalf("Verdict=%q, want %q", back.Comparisons[0].Verdict, r.Comparisons[0].Verdict)
	}
}

func TestAnalyze_Invalid(t *testing.T) {
	ok := func() []stats.GroupInput {
		return []stats.GroupInput{binaryGroup("a", 0.5, 10, 1), binaryGroup("b", 0.5, 10, 2)}
	}
	for _, tc := range []struct {
		name  string
		edit  func(in *stats.Input)
		field string
	}{
		{"NoGroups", func(in *stats.Input) { in.Groups = nil }, "groups"},
		{"EmptyName", func(in *stats.Input) { in.Groups[1].Name = "" }, "groups[1].name"},
		{"DuplicateName", func(in *stats.Input) { in.Groups[1].Name = "a" }, "groups[1].name"},
		{"ProbabilityAboveOne", func(in *stats.Input) { in.Groups[0].Probability = 1.5 }, "groups[0].probability"},
		{"ProbabilityNaN", func(in *stats.Input) { in.Groups[0].Probability = math.NaN() }, "groups[0].probability"},
		{"ProbabilitySum", func(in *stats.Input) { in.Groups[0].Probability = 0.4 }, "groups"},
		{"NoOutcome", func(in *stats.Input) { in.Groups[1].Binary = nil }, "groups[1]"},
		{"TwoOutcomes", func(in *stats.Input) { in.Groups[1].Samples = []float64{1} }, "groups[1]"},
		{"MixedOutcomes", func(in *stats.Input) {
			in.Groups[1].Binary, in.Groups[1].Samples = nil, []float64{1, 2}
		}, "groups[1]"},
		{"ConversionsAboveN", func(in *stats.Input) { in.Groups[0].Binary.Conversions = 11 }, "groups[0].binary"},
		{"NegativeN", func(in *stats.Input) { in.Groups[0].Binary = &stats.Binary{N: -1} }, "groups[0].binary"},
		{"BadSummary", func(in *stats.Input) {
			for i := range in.Groups {
				in.Groups[i].Binary, in.Groups[i].Numeric = nil, &stats.Summary{N: 3, Mean: 1, M2: -1}
			}
		}, "groups[0].numeric"},
		{"NaNSample", func(in *stats.Input) {
			for i := range in.Groups {
				in.Groups[i].Binary, in.Groups[i].Samples = nil, []float64{1, math.NaN()}
			}
		}, "groups[0].samples"},
		{"UnknownControl", func(in *stats.Input) { in.Control = "z" }, "control"},
		{"ConfidenceOne", func(in *stats.Input) { in.ConfidenceLevel = 1 }, "confidence_level"},
		{"ConfidenceNegative", func(in *stats.Input) { in.ConfidenceLevel = -0.95 }, "confidence_level"},
		{"ConfidenceNaN", func(in *stats.Input) { in.ConfidenceLevel = math.NaN() }, "confidence_level"},
		{"ExpectedSharesLength", func(in *stats.Input) { in.ExpectedShares = []float64{1} }, "expected_shares"},
		{"ExpectedShareNegative", func(in *stats.Input) { in.ExpectedShares = []float64{1, -1} }, "expected_shares[1]"},
		{"ExpectedShareInf", func(in *stats.Input) { in.ExpectedShares = []float64{math.Inf(1), 1} }, "expected_shares[0]"},
		{"ExpectedSharesZero", func(in *stats.Input) { in.ExpectedShares = []float64{0, 0} }, "expected_shares"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := stats.Input{Groups: ok()}
			tc.edit(&in)
			r, err := stats.Analyze(in)
			if r != nil {
				t.Fatalf("Report=%+v, want nil", r)
			} else if got, want := assign.ErrorCode(err), assign.EINVALID; got != want {
				t.Fatalf("ErrorCode=%q (%v), want %q", got, err, want)
			} else if got, want := assign.ErrorField(err), tc.field; got != want {
				t.Fatalf("ErrorField=%q, want %q", got, want)
			}
		})
	}
}

// ExpectedShares replace the probabilities in the sample-ratio check and
// ExpectedN, and the probabilities are still reported as configured.
// 1410/590 against expected 1400/600: chi-square = 10²/1400 + 10²/600
// = 0.238095..., df 1, p = erfc(sqrt(chi²/2)) (the chi-square survival with
// one degree of freedom). Against the probabilities 0.9/0.1 the same counts
// are a glaring mismatch.
func TestAnalyze_ExpectedShares(t *testing.T) {
	groups := []stats.GroupInput{binaryGroup("a", 0.9, 1410, 100), binaryGroup("b", 0.1, 590, 40)}
	r := MustAnalyze(t, stats.Input{Groups: groups, ExpectedShares: []float64{1400, 600}})
	chi := 100.0/1400 + 100.0/600
	if math.Abs(float64(r.SRM.ChiSquare)-chi) > 1e-12 || r.SRM.DF != 1 || r.SRM.Mismatch {
		t.Fatalf("SRM %+v, want chi-square %v, df 1, no mismatch", r.SRM, chi)
	}
	if p := math.Erfc(math.Sqrt(chi / 2)); math.Abs(float64(r.SRM.PValue)-p) > 1e-12 {
		t.Fatalf("SRM p=%v, want %v", r.SRM.PValue, p)
	}
	if r.Groups[0].ExpectedN != 1400 || r.Groups[1].ExpectedN != 600 || r.Groups[0].Probability != 0.9 {
		t.Fatalf("groups %+v, want expected n 1400 and 600 and probability 0.9 as configured", r.Groups)
	}
	if r := MustAnalyze(t, stats.Input{Groups: groups}); !r.SRM.Mismatch || r.Groups[0].ExpectedN != 1800 {
		t.Fatalf("without expected shares: SRM %+v, groups %+v, want the mismatch against 0.9/0.1", r.SRM, r.Groups)
	}
}
