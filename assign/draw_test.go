package assign_test

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/assign-dev/assign/assign"
)

func TestChooseGroup(t *testing.T) {
	groups := []assign.Group{{"a", 0.2}, {"zero", 0}, {"b", 0.3}, {"c", 0.5}}
	cum := assign.CumulativeProbabilities(groups)
	if got := cum[len(cum)-1]; got != 1 {
		t.Fatalf("last cumulative=%v, want exactly 1", got)
	}
	for _, tc := range []struct {
		u    float64
		want int
	}{
		{0, 0}, {0.1999, 0}, {0.2, 2}, {0.4999, 2}, {0.5, 3}, {math.Nextafter(1, 0), 3},
	} {
		if got := assign.ChooseGroup(cum, tc.u); got != tc.want {
			t.Errorf("ChooseGroup(%v)=%d, want %d", tc.u, got, tc.want)
		}
	}

	// Thirds do not sum to exactly 1 in floating point; the last group must
	// still catch the top of the range.
	thirds := assign.CumulativeProbabilities([]assign.Group{{"a", 1.0 / 3}, {"b", 1.0 / 3}, {"c", 1.0 / 3}})
	if got := assign.ChooseGroup(thirds, math.Nextafter(1, 0)); got != 2 {
		t.Fatalf("ChooseGroup(thirds, 1-ε)=%d, want 2", got)
	}
}

func TestNewDraw_Deterministic(t *testing.T) {
	a := assign.NewDraw("salt", "exp", "user-1")
	b := assign.NewDraw("salt", "exp", "user-1")
	if a != b {
		t.Fatalf("same input, different draws: %+v vs %+v", a, b)
	}
	// Length prefixes keep ("ab","c") apart from ("a","bc").
	if assign.NewDraw("s", "ab", "c") == assign.NewDraw("s", "a", "bc") {
		t.Fatal("concatenation collision between (ab,c) and (a,bc)")
	}
	if d := assign.NewDraw("s", "e", "u"); d.Sample < 0 || d.Sample >= 1 || d.Group < 0 || d.Group >= 1 {
		t.Fatalf("draw out of [0,1): %+v", d)
	}
}

// TestNewDraw_Uniform checks with a chi-square test that 100k users fall in
// groups of unequal weights in the configured proportions. The p-value
// threshold 0.001 makes a false alarm a 1-in-1000 event for a correct hash;
// the inputs are fixed, so the result is deterministic.
func TestNewDraw_Uniform(t *testing.T) {
	const users = 100_000
	for _, weights := range [][]float64{
		{0.3, 0.7},
		{0.5, 0.3, 0.2},
		{0.02, 0.03, 0.05, 0.05, 0.1, 0.1, 0.1, 0.15, 0.2, 0.2},
	} {
		t.Run(fmt.Sprintf("%dGroups", len(weights)), func(t *testing.T) {
			groups := make([]assign.Group, len(weights))
			for i, w := range weights {
				groups[i] = assign.Group{Name: fmt.Sprint(i), Probability: w}
			}
			cum := assign.CumulativeProbabilities(groups)
			counts := make([]float64, len(weights))
			for u := 0; u < users; u++ {
				d := assign.NewDraw("9f86d081884c7d65", "exp-uniform", fmt.Sprintf("user-%d", u))
				counts[assign.ChooseGroup(cum, d.Group)]++
			}
			chi2 := 0.0
			for i, w := range weights {
				exp := w * users
				chi2 += (counts[i] - exp) * (counts[i] - exp) / exp
			}
			p := 1 - distuv.ChiSquared{K: float64(len(weights) - 1)}.CDF(chi2)
			if p < 0.001 {
				t.Fatalf("chi2=%.2f p=%.5f: counts %v deviate from weights %v", chi2, p, counts, weights)
			}
			t.Logf("chi2=%.2f df=%d p=%.3f counts=%v", chi2, len(weights)-1, p, counts)
		})
	}

	// The sampling draw is uniform too: the share below 0.3 is 0.3.
	n := 0
	for u := 0; u < users; u++ {
		if assign.NewDraw("salt", "exp-sampling", fmt.Sprint(u)).Sampled(0.3) {
			n++
		}
	}
	if z := (float64(n) - 0.3*users) / math.Sqrt(users*0.3*0.7); math.Abs(z) > 3.29 {
		t.Fatalf("sampled %d of %d at p=0.3 (z=%.2f)", n, users, z)
	}
}

// TestNewDraw_Independent checks that a user's group in one experiment says
// nothing about their group in another, and that the sampling and group draws
// of one experiment are independent: a chi-square test of independence on the
// 2x2 contingency tables.
func TestNewDraw_Independent(t *testing.T) {
	const users = 100_000
	var acrossExperiments, withinExperiment [2][2]float64
	for u := 0; u < users; u++ {
		id := fmt.Sprintf("user-%d", u)
		a := assign.NewDraw("salt-a", "exp-a", id)
		b := assign.NewDraw("salt-b", "exp-b", id)
		acrossExperiments[bit(a.Group < 0.5)][bit(b.Group < 0.5)]++
		withinExperiment[bit(a.Sample < 0.5)][bit(a.Group < 0.5)]++
	}
	for name, table := range map[string][2][2]float64{"AcrossExperiments": acrossExperiments, "SampleVsGroup": withinExperiment} {
		chi2 := independenceChi2(table)
		p := 1 - distuv.ChiSquared{K: 1}.CDF(chi2)
		if p < 0.001 {
			t.Fatalf("%s: chi2=%.2f p=%.5f table=%v: draws are dependent", name, chi2, p, table)
		}
		t.Logf("%s: chi2=%.3f p=%.3f", name, chi2, p)
	}

	// Same experiment id, different salt: different draws for most users.
	same := 0
	for u := 0; u < 1000; u++ {
		id := fmt.Sprint(u)
		if assign.NewDraw("s1", "e", id).Group < 0.5 == (assign.NewDraw("s2", "e", id).Group < 0.5) {
			same++
		}
	}
	if same < 400 || same > 600 {
		t.Fatalf("%d of 1000 users agree across salts, want about 500", same)
	}
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

func independenceChi2(t [2][2]float64) float64 {
	n := t[0][0] + t[0][1] + t[1][0] + t[1][1]
	chi2 := 0.0
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			exp := (t[i][0] + t[i][1]) * (t[0][j] + t[1][j]) / n
			chi2 += (t[i][j] - exp) * (t[i][j] - exp) / exp
		}
	}
	return chi2
}

func BenchmarkNewDraw(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = assign.NewDraw("0123456789abcdef0123456789abcdef", "f380739f-62f3-4316-8acf-93ed5744cb9e", "7c9e6679-7425-40de-944b-e07fc1f90ae7")
	}
}
