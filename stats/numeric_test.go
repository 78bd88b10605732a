package stats_test

import (
	"math"
	"testing"

	"github.com/assign-dev/assign/stats"
)

// The mpmath reference (mp.dps = 40) for the "derived" values, sharing no code
// with gonum:
//
//	v1, v2 = s1²/n1, s2²/n2; se = sqrt(v1+v2)
//	df = (v1+v2)²/(v1²/(n1-1) + v2²/(n2-1)); t = (m2-m1)/se
//	p = betainc(df/2, 1/2, 0, df/(df+t²), regularized=True)
//	q = findroot(p(x)/2 - 0.025); CI = m2-m1 ∓ q*se
//	lift CI = exp(log(m2/m1) ∓ sqrt(2)*erfinv(0.95)*sqrt(v1/m1²+v2/m2²)) - 1

// sleep is R's datasets::sleep (Cushny and Peebles, via Student 1908).
var (
	sleep1 = []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	sleep2 = []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
)

// seq returns the integers from..to, like R's from:to.
func seq(from, to int) []float64 {
	var xs []float64
	for i := from; i <= to; i++ {
		xs = append(xs, float64(i))
	}
	return xs
}

func TestCompareNumeric(t *testing.T) {
	// Published: the example of R's ?t.test, t.test(extra ~ group, data = sleep),
	// prints (group 1 minus group 2):
	//
	//	Welch Two Sample t-test
	//	t = -1.8608, df = 17.776, p-value = 0.07939
	//	95 percent confidence interval: -3.3654832  0.2054832
	//	mean in group 1 0.75   mean in group 2 2.33
	//
	// Here the control is group 1, so signs flip. Published precision: CI
	// ±5e-8, t ±5e-5, df ±5e-4, p ±5e-6.
	t.Run("RSleepPublished", func(t *testing.T) {
		c := stats.CompareNumeric(stats.Summarize(sleep1), stats.Summarize(sleep2), 0.95)
		approx(t, "DifferenceCI.Lower", c.DifferenceCI.Lower, -0.2054832, 5e-8)
		approx(t, "DifferenceCI.Upper", c.DifferenceCI.Upper, 3.3654832, 5e-8)
		approx(t, "Statistic", c.Statistic, 1.8608, 5e-5)
		approx(t, "DF", c.DF, 17.776, 5e-4)
		approx(t, "PValue", c.PValue, 0.07939, 5e-6)
		approx(t, "Difference", c.Difference, 2.33-0.75, 1e-12)
		if got, want := c.Test, stats.TestWelchT; got != want {
			t.Fatalf("Test=%q, want %q", got, want)
		}
		// Derived with mpmath for the remaining digits. The means straddle 0
		// in the data but are both positive, so the lift interval is defined.
		checkComparison(t, c, refComparison{
			diff: 1.58, lo: -0.20548323071171097, hi: 3.365483230711711,
			se: 0.84909101723876196, stat: 1.8608134674868531, df: 17.77647351617849, p: 0.079394140187358138,
			lift: 2.1066666666666667, liftLo: -0.3546016801578025, liftHi: 13.95414146745467,
		}, tolMP)
	})

	// Published: the examples of R's ?t.test:
	//
	//	t.test(1:10, y = c(7:20))      # P = .00001855
	//	t.test(1:10, y = c(7:20, 200)) # P = .1245    -- NOT significant anymore
	//
	// The full print of the first (t = -5.4349, df = 21.982, p-value =
	// 1.855e-05, CI -11.052802 -4.947198) is reproduced by mpmath, which gives
	// the digits checked to 1e-9. Control is y.
	t.Run("RDocPublished", func(t *testing.T) {
		c := stats.CompareNumeric(stats.Summarize(seq(7, 20)), stats.Summarize(seq(1, 10)), 0.95)
		approx(t, "PValue", c.PValue, 0.00001855, 5e-9)
		checkComparison(t, c, refComparison{
			diff: -8, lo: -11.052801725158161, hi: -4.9471982748418393,
			se: 1.4719601443879745, stat: -5.4349297638940596, df: 21.982212340188994, p: 1.8552818325118113e-5,
			lift: -0.59259259259259259, liftLo: -0.72078447744795072, liftHi: -0.40554595928854803,
		}, tolMP)

		c = stats.CompareNumeric(stats.Summarize(append(seq(7, 20), 200)), stats.Summarize(seq(1, 10)), 0.95)
		approx(t, "PValue(outlier)", c.PValue, 0.1245, 5e-5)
		checkComparison(t, c, refComparison{
			diff: -20.433333333333333, lo: -47.24289988710192, hi: 6.3762332204352537,
			se: 12.513503816988181, stat: -1.6329026332012052, df: 14.164598953012474, p: 0.12451349808974539,
			lift: -0.78791773778920308, liftLo: -0.92219650077120189, liftHi: -0.42189122095679759,
		}, tolMP)
	})

	// The same numbers from SQL-style sufficient statistics as from samples.
	t.Run("SufficientStatistics", func(t *testing.T) {
		sums := func(xs []float64) stats.Summary {
			var s, ss float64
			for _, x := range xs {
				s, ss = s+x, ss+x*x
			}
			return stats.SummaryFromSums(int64(len(xs)), s, ss)
		}
		c := stats.CompareNumeric(sums(sleep1), sums(sleep2), 0.95)
		approx(t, "PValue", c.PValue, 0.079394140187358138, tolMP)
		approx(t, "DifferenceCI.Lower", c.DifferenceCI.Lower, -0.20548323071171097, tolMP)
	})

	t.Run("EmptyGroup", func(t *testing.T) {
		c := stats.CompareNumeric(stats.Summary{}, stats.Summarize(sleep2), 0.95)
		isNaN(t, "Difference", c.Difference)
		isNaN(t, "PValue", c.PValue)
	})

	// One user per group: a difference but no variance estimate.
	t.Run("SingleUser", func(t *testing.T) {
		c := stats.CompareNumeric(stats.Summarize([]float64{2}), stats.Summarize([]float64{3}), 0.95)
		approx(t, "Difference", c.Difference, 1, 0)
		approx(t, "RelativeLift", c.RelativeLift, 0.5, 1e-15)
		isNaN(t, "PValue", c.PValue)
		isNaN(t, "DifferenceCI.Lower", c.DifferenceCI.Lower)
		if c.Note == "" {
			t.Fatal("Note is empty")
		}
	})

	// Constant data in both groups (R: "data are essentially constant").
	t.Run("NoVariance", func(t *testing.T) {
		c := stats.CompareNumeric(stats.Summarize([]float64{5, 5, 5}), stats.Summarize([]float64{6, 6}), 0.95)
		approx(t, "Difference", c.Difference, 1, 0)
		isNaN(t, "Statistic", c.Statistic)
		isNaN(t, "PValue", c.PValue)
	})

	// One constant group is fine: Welch uses the other's variance, df = n2-1.
	t.Run("OneConstantGroup", func(t *testing.T) {
		c := stats.CompareNumeric(stats.Summarize([]float64{5, 5, 5}), stats.Summarize(seq(1, 10)), 0.95)
		approx(t, "DF", c.DF, 9, 1e-12)
		// se = sd(1:10)/sqrt(10) = sqrt(55/6)/sqrt(10); t = 0.5/se.
		approx(t, "Statistic", c.Statistic, 0.5/math.Sqrt(55.0/6/10), 1e-12)
	})

	// A control mean of 0 or below has no relative lift (against -1, a mean
	// of 2 would read as -300%); a treatment mean of 0 or below has a lift
	// but no log interval.
	t.Run("NonPositiveMean", func(t *testing.T) {
		for _, control := range [][]float64{{-1, 1}, {-3, 1}} {
			c := stats.CompareNumeric(stats.Summarize(control), stats.Summarize([]float64{1, 3}), 0.95)
			isNaN(t, "RelativeLift", c.RelativeLift)
			isNaN(t, "RelativeLiftCI.Lower", c.RelativeLiftCI.Lower)
		}
		c := stats.CompareNumeric(stats.Summarize([]float64{1, 3}), stats.Summarize([]float64{-3, 1}), 0.95)
		approx(t, "RelativeLift", c.RelativeLift, -1.5, 1e-15)
		isNaN(t, "RelativeLiftCI.Upper", c.RelativeLiftCI.Upper)
		if !c.PValue.Valid() {
			t.Fatal("PValue undefined, want a test")
		}
	})
}
