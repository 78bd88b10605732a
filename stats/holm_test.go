package stats_test

import (
	"math"
	"testing"

	"github.com/assign-dev/assign/stats"
)

func TestHolm(t *testing.T) {
	// Published: Wikipedia, "Holm–Bonferroni method", example: four null
	// hypotheses at α = 0.05 with unadjusted p = 0.01, 0.03, 0.04, 0.005;
	// "hypotheses one and four are rejected while hypotheses two and three are
	// not". The adjusted values are those of R's
	// p.adjust(c(0.01, 0.03, 0.04, 0.005), "holm") = 0.03 0.06 0.06 0.02,
	// which follow by hand: sorted 0.005·4, 0.01·3, 0.03·2, max(0.04·1, 0.06).
	t.Run("Wikipedia", func(t *testing.T) {
		got := stats.Holm([]float64{0.01, 0.03, 0.04, 0.005})
		want := []float64{0.03, 0.06, 0.06, 0.02}
		for i := range want {
			approx(t, "adjusted", got[i], want[i], 1e-15)
		}
		for i, reject := range []bool{true, false, false, true} {
			if got := got[i] < 0.05; got != reject {
				t.Errorf("H%d rejected=%v, want %v", i+1, got, reject)
			}
		}
	})

	// By hand (the formula of p.adjust): six values from the R example on
	// metricgate.com's Holm page; sorted 0.005·6=0.03, 0.01·5=0.05,
	// 0.03·4=0.12, 0.04·3=0.12, 0.07·2=0.14, 0.20·1 -> 0.20.
	t.Run("Six", func(t *testing.T) {
		got := stats.Holm([]float64{0.01, 0.04, 0.20, 0.03, 0.005, 0.07})
		want := []float64{0.05, 0.12, 0.20, 0.12, 0.03, 0.14}
		for i := range want {
			approx(t, "adjusted", got[i], want[i], 1e-15)
		}
	})

	t.Run("ClampedAtOne", func(t *testing.T) {
		got := stats.Holm([]float64{0.6, 0.7})
		approx(t, "adjusted[0]", got[0], 1, 0)
		approx(t, "adjusted[1]", got[1], 1, 0)
	})

	t.Run("Ties", func(t *testing.T) {
		got := stats.Holm([]float64{0.02, 0.02, 0.02})
		for i := range got {
			approx(t, "adjusted", got[i], 0.06, 1e-15)
		}
	})

	// NaN p-values (untestable comparisons) are outside the family: m = 2.
	t.Run("NaN", func(t *testing.T) {
		got := stats.Holm([]float64{0.01, math.NaN(), 0.04})
		approx(t, "adjusted[0]", got[0], 0.02, 1e-15)
		isNaN(t, "adjusted[1]", got[1])
		approx(t, "adjusted[2]", got[2], 0.04, 1e-15)
	})

	t.Run("Single", func(t *testing.T) {
		approx(t, "adjusted", stats.Holm([]float64{0.03})[0], 0.03, 0)
		if got := stats.Holm(nil); len(got) != 0 {
			t.Fatalf("Holm(nil)=%v, want empty", got)
		}
	})
}
