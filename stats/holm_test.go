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

func TestBenjaminiHochberg(t *testing.T) {
	// Published: Benjamini and Hochberg (1995), "Controlling the false
	// discovery rate", JRSS B 57(1), section 4.1: the 15 p-values of the
	// myocardial infarction study; at q* = 0.05 the procedure rejects the
	// four smallest (the fifth, 0.0201, exceeds 5/15·0.05 = 0.0167).
	// Adjusted values by hand from the formula of p.adjust(p, "BH"),
	// m·p(j)/j then the running minimum from the largest:
	//   15·0.0001/1 = 0.0015, 15·0.0004/2 = 0.003, 15·0.0019/3 = 0.0095,
	//   15·0.0095/4 = 0.035625, 15·0.0201/5 = 0.0603,
	//   15·0.0278/6 = 0.0695 -> min with 15·0.0298/7 = 0.063857142857…
	//   and 15·0.0344/8 = 0.0645, 15·0.0459/9 = 0.0765, so 0.0638571428571…
	//   for j = 6 and 7; j = 8: 0.0645; j = 9: 0.0765;
	//   15·0.3240/10 = 0.486, 15·0.4262/11 = 0.581181818…, 15·0.5719/12 =
	//   0.714875, 15·0.6528/13 = 0.753230769…, 15·0.7590/14 = 0.813214285…,
	//   15·1/15 = 1.
	t.Run("BH1995", func(t *testing.T) {
		p := []float64{0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
			0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000}
		want := []float64{0.0015, 0.003, 0.0095, 0.035625, 0.0603, 15 * 0.0298 / 7, 15 * 0.0298 / 7, 0.0645,
			0.0765, 0.486, 15 * 0.4262 / 11, 0.714875, 15 * 0.6528 / 13, 15 * 0.7590 / 14, 1}
		got := stats.BenjaminiHochberg(p)
		for i := range want {
			approx(t, "adjusted", got[i], want[i], 1e-15)
			if reject := got[i] < 0.05; reject != (i < 4) {
				t.Errorf("H%d rejected=%v, want %v", i+1, reject, i < 4)
			}
		}
	})

	// By hand, out of order, with the step-up minimum crossing values:
	// sorted 0.005·6/1 = 0.03, 0.01·6/2 = 0.03, 0.03·6/3 = 0.06,
	// 0.04·6/4 = 0.06, 0.07·6/5 = 0.084, 0.20·6/6 = 0.20 (same input as
	// Holm's "Six" test, to show BH rejects more).
	t.Run("Six", func(t *testing.T) {
		got := stats.BenjaminiHochberg([]float64{0.01, 0.04, 0.20, 0.03, 0.005, 0.07})
		want := []float64{0.03, 0.06, 0.20, 0.06, 0.03, 0.084}
		for i := range want {
			approx(t, "adjusted", got[i], want[i], 1e-15)
		}
	})

	// 0.9·2/1 = 1.8 is capped at 1 (the running minimum starts at 1).
	t.Run("ClampedAtOne", func(t *testing.T) {
		got := stats.BenjaminiHochberg([]float64{0.9, 0.95})
		approx(t, "adjusted[0]", got[0], 0.95, 1e-15)
		approx(t, "adjusted[1]", got[1], 0.95, 1e-15)
		got = stats.BenjaminiHochberg([]float64{0.9})
		approx(t, "single", got[0], 0.9, 0)
	})

	t.Run("Ties", func(t *testing.T) {
		got := stats.BenjaminiHochberg([]float64{0.02, 0.02, 0.02})
		for i := range got {
			approx(t, "adjusted", got[i], 0.02, 1e-15)
		}
	})

	// NaN p-values are outside the family, as R's p.adjust with NA: m = 2,
	// 0.01·2/1 = 0.02, 0.04·2/2 = 0.04.
	t.Run("NaN", func(t *testing.T) {
		got := stats.BenjaminiHochberg([]float64{0.01, math.NaN(), 0.04})
		approx(t, "adjusted[0]", got[0], 0.02, 1e-15)
		isNaN(t, "adjusted[1]", got[1])
		approx(t, "adjusted[2]", got[2], 0.04, 1e-15)
		if got := stats.BenjaminiHochberg(nil); len(got) != 0 {
			t.Fatalf("BenjaminiHochberg(nil)=%v, want empty", got)
		}
	})
}
