package stats_test

import (
	"math"
	"strings"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

func TestSampleRatioMismatch(t *testing.T) {
	// Published: Mendel's peas, 315 round yellow, 108 round green, 101 wrinkled
	// yellow, 32 wrinkled green against 9:3:3:1; the textbook chi-square
	// goodness-of-fit example. R:
	//
	//	chisq.test(c(315, 108, 101, 32), p = c(9, 3, 3, 1)/16)
	//	X-squared = 0.47002, df = 3, p-value = 0.9254
	//
	// Published precision ±5e-6 and ±5e-5; mpmath (gammainc(3/2, χ²/2, inf,
	// regularized=True)) gives χ² = 0.47002398081534772, p = 0.92542589510361597.
	// Weights 9:3:3:1 are accepted as is: probabilities are normalised.
	t.Run("MendelPublished", func(t *testing.T) {
		s, err := stats.SampleRatioMismatch([]int64{315, 108, 101, 32}, []float64{9, 3, 3, 1})
		if err != nil {
			t.Fatal(err)
		}
		approx(t, "ChiSquare", s.ChiSquare, 0.47002, 5e-6)
		approx(t, "PValue", s.PValue, 0.9254, 5e-5)
		approx(t, "ChiSquare", s.ChiSquare, 0.47002398081534772, tolMP)
		approx(t, "PValue", s.PValue, 0.92542589510361597, tolMP)
		if got, want := s.DF, 3; got != want {
			t.Fatalf("DF=%d, want %d", got, want)
		} else if s.Mismatch {
			t.Fatal("Mismatch=true, want false")
		}
	})

	// Closed form: with 2 df the chi-square survival is exp(-χ²/2).
	// 1000/1010/990 at 1/3 each: χ² = (0 + 100 + 100)/1000 = 0.2, p = exp(-0.1).
	t.Run("TwoDFClosedForm", func(t *testing.T) {
		s, err := stats.SampleRatioMismatch([]int64{1000, 1010, 990}, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3})
		if err != nil {
			t.Fatal(err)
		}
		approx(t, "ChiSquare", s.ChiSquare, 0.2, 1e-12)
		approx(t, "PValue", s.PValue, math.Exp(-0.1), 1e-12)
	})

	// 10000 vs 10600 at 50/50: χ² = 2·300²/10300 = 17.4757…, p = 2.91e-5
	// (mpmath: erfc(sqrt(χ²/2)) = 2.9099921115764309e-5), flagged.
	t.Run("Flagged", func(t *testing.T) {
		s, err := stats.SampleRatioMismatch([]int64{10000, 10600}, []float64{0.5, 0.5})
		if err != nil {
			t.Fatal(err)
		}
		approx(t, "ChiSquare", s.ChiSquare, 17.475728155339806, 1e-9)
		approx(t, "PValue", s.PValue, 2.9099921115764309e-5, 1e-12)
		if !s.Mismatch {
			t.Fatal("Mismatch=false, want true")
		} else if !strings.Contains(s.Warning, "SAMPLE RATIO MISMATCH") {
			t.Fatalf("Warning=%q, want a loud warning", s.Warning)
		}
	})

	// Just under the threshold is not flagged: 5000 vs 5210 gives p = 0.0377.
	t.Run("NotFlagged", func(t *testing.T) {
		s, _ := stats.SampleRatioMismatch([]int64{5000, 5210}, []float64{0.5, 0.5})
		approx(t, "PValue", s.PValue, 0.037682535473058726, 1e-12)
		if s.Mismatch || s.Warning != "" {
			t.Fatalf("Mismatch=%v Warning=%q, want neither", s.Mismatch, s.Warning)
		}
	})

	// An empty group of probability 0 is left out: df = 1, not 2.
	// mpmath: χ² = 4.7619047619047619, p = 0.029096331741252216.
	t.Run("ZeroProbabilityEmpty", func(t *testing.T) {
		s, err := stats.SampleRatioMismatch([]int64{1000, 1100, 0}, []float64{0.5, 0.5, 0})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.DF, 1; got != want {
			t.Fatalf("DF=%d, want %d", got, want)
		}
		approx(t, "ChiSquare", s.ChiSquare, 4.7619047619047619, 1e-12)
		approx(t, "PValue", s.PValue, 0.029096331741252216, 1e-12)
	})

	// A user in a group of probability 0 is an outright mismatch.
	t.Run("ZeroProbabilityWithUsers", func(t *testing.T) {
		s, err := stats.SampleRatioMismatch([]int64{1000, 1000, 3}, []float64{0.5, 0.5, 0})
		if err != nil {
			t.Fatal(err)
		}
		if !s.Mismatch || float64(s.PValue) != 0 || !math.IsInf(float64(s.ChiSquare), 1) {
			t.Fatalf("got %+v, want Mismatch, p=0, χ²=+Inf", s)
		}
	})

	t.Run("NoUsers", func(t *testing.T) {
		s, err := stats.SampleRatioMismatch([]int64{0, 0}, []float64{0.5, 0.5})
		if err != nil {
			t.Fatal(err)
		}
		isNaN(t, "PValue", s.PValue)
		if s.Mismatch || s.Warning == "" {
			t.Fatalf("Mismatch=%v Warning=%q, want no flag and a warning", s.Mismatch, s.Warning)
		}
	})

	t.Run("SingleGroup", func(t *testing.T) {
		s, err := stats.SampleRatioMismatch([]int64{42}, []float64{1})
		if err != nil {
			t.Fatal(err)
		}
		isNaN(t, "PValue", s.PValue)
		if s.DF != 0 || s.Mismatch {
			t.Fatalf("DF=%d Mismatch=%v, want 0 and false", s.DF, s.Mismatch)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for name, tc := range map[string]struct {
			obs   []int64
			probs []float64
		}{
			"Lengths":       {[]int64{1, 2}, []float64{1}},
			"NegativeCount": {[]int64{-1, 2}, []float64{0.5, 0.5}},
			"NegativeProb":  {[]int64{1, 2}, []float64{-0.5, 1.5}},
			"NaNProb":       {[]int64{1, 2}, []float64{math.NaN(), 1}},
			"AllZeroProbs":  {[]int64{1, 2}, []float64{0, 0}},
		} {
			if _, err := stats.SampleRatioMismatch(tc.obs, tc.probs); assign.ErrorCode(err) != assign.EINVALID {
				t.Errorf("%s: err=%v, want EINVALID", name, err)
			}
		}
	})
}
