package stats_test

import (
	"math"
	"math/rand/v2"
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
//
// The relative lift interval (Fieller) is checked against fiellerBisection
// below: the quantile q recovered from the mpmath interval,
// q = (hi - diff)/se, and the two roots of the Fieller test statistic
// (m2 - theta·m1)/sqrt(v2 + theta²·v1) = ±q found by bisection, which
// shares no code with the quadratic formula of CompareNumeric.

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
		// Derived with mpmath for the remaining digits. The control mean
		// (0.75, se 0.566) is not distinguishable from 0 (0.75²/0.32 = 1.76 <
		// t² = 4.42), so Fieller's set for the ratio is unbounded and the
		// lift interval undefined (the delta method printed -35% to +1395%).
		checkComparison(t, c, refComparison{
			diff: 1.58, lo: -0.20548323071171097, hi: 3.365483230711711,
			se: 0.84909101723876196, stat: 1.8608134674868531, df: 17.77647351617849, p: 0.079394140187358138,
			lift: 2.1066666666666667, liftLo: math.NaN(), liftHi: math.NaN(),
		}, tolMP)
		unbounded(t, c)
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
			lift: -0.59259259259259259, liftLo: -0.74601276413490325, liftHi: -0.41440323560250714,
		}, tolMP)
		// The lift interval above was printed by fiellerBisection with
		// closed-form inputs: var(7:20) = 14·15/12 = 17.5, var(1:10) = 55/6,
		// q from the mpmath interval. (The delta method printed -72.1% to
		// -40.6%.) Checked against the bisection itself too.
		q := (-4.9471982748418393 - -8) / 1.4719601443879745
		lo, hi, ok := fiellerBisection(13.5, 17.5/14, 5.5, 55.0/60, q)
		if !ok {
			t.Fatal("bisection: unbounded")
		}
		approx(t, "RelativeLiftCI.Lower(bisection)", c.RelativeLiftCI.Lower, lo, tolMP)
		approx(t, "RelativeLiftCI.Upper(bisection)", c.RelativeLiftCI.Upper, hi, tolMP)

		c = stats.CompareNumeric(stats.Summarize(append(seq(7, 20), 200)), stats.Summarize(seq(1, 10)), 0.95)
		approx(t, "PValue(outlier)", c.PValue, 0.1245, 5e-5)
		checkComparison(t, c, refComparison{
			diff: -20.433333333333333, lo: -47.24289988710192, hi: 6.3762332204352537,
			se: 12.513503816988181, stat: -1.6329026332012052, df: 14.164598953012474, p: 0.12451349808974539,
			lift: -0.78791773778920308, liftLo: math.NaN(), liftHi: math.NaN(),
		}, tolMP)
		// The outlier makes the control mean (25.9, se 12.5) indistinguishable
		// from 0 at t(14.2) = 2.14: no lift interval (the delta method
		// printed -92.2% to -42.2%).
		unbounded(t, c)
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
	// of 2 would read as -300%). A treatment mean of 0 or below has a lift
	// and, unlike the log interval used before, a Fieller interval when the
	// control mean is clear of 0; with two users each it is not.
	t.Run("NonPositiveMean", func(t *testing.T) {
		for _, control := range [][]float64{{-1, 1}, {-3, 1}} {
			c := stats.CompareNumeric(stats.Summarize(control), stats.Summarize([]float64{1, 3}), 0.95)
			isNaN(t, "RelativeLift", c.RelativeLift)
			isNaN(t, "RelativeLiftCI.Lower", c.RelativeLiftCI.Lower)
		}
		c := stats.CompareNumeric(stats.Summarize([]float64{1, 3}), stats.Summarize([]float64{-3, 1}), 0.95)
		approx(t, "RelativeLift", c.RelativeLift, -1.5, 1e-15)
		unbounded(t, c)
		if !c.PValue.Valid() {
			t.Fatal("PValue undefined, want a test")
		}
		// Control 1:10 (mean 5.5, var 55/6), treatment -10:5 (mean -2.5,
		// var 16·17/12): lift -145.5%, its interval from the bisection.
		c = stats.CompareNumeric(stats.Summarize(seq(1, 10)), stats.Summarize(seq(-10, 5)), 0.95)
		approx(t, "RelativeLift", c.RelativeLift, -2.5/5.5-1, 1e-15)
		q := (float64(c.DifferenceCI.Upper) - float64(c.Difference)) / float64(c.StdErr)
		lo, hi, ok := fiellerBisection(5.5, 55.0/60, -2.5, 16*17.0/12/16, q)
		if !ok || !(hi < -1) {
			t.Fatalf("bisection: %v %v %v", lo, hi, ok)
		}
		approx(t, "RelativeLiftCI.Lower", c.RelativeLiftCI.Lower, lo, tolMP)
		approx(t, "RelativeLiftCI.Upper", c.RelativeLiftCI.Upper, hi, tolMP)
	})

	// Fieller against the bisection on summaries of every shape, and its
	// duality with Welch's test: the lift interval excludes 0 exactly when
	// p < 1 - level (theta = 1 is in Fieller's set exactly when |t| <= q),
	// and it holds the point estimate.
	t.Run("FiellerBisection", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 5))
		var bounded, rejected int
		for range 2000 {
			n1, n2 := int64(2+rng.IntN(200)), int64(2+rng.IntN(200))
			s1 := stats.SummaryFromMoments(n1, rng.ExpFloat64()*3, rng.ExpFloat64()*50)
			s2 := stats.SummaryFromMoments(n2, rng.NormFloat64()*4+s1.Mean, rng.ExpFloat64()*50)
			level := []float64{0.8, 0.9, 0.95, 0.99}[rng.IntN(4)]
			c := stats.CompareNumeric(s1, s2, level)
			q := (float64(c.DifferenceCI.Upper) - float64(c.Difference)) / float64(c.StdErr)
			lo, hi, ok := fiellerBisection(s1.Mean, s1.Variance()/float64(n1), s2.Mean, s2.Variance()/float64(n2), q)
			if !ok {
				unbounded(t, c)
				continue
			}
			bounded++
			// Relative to the width: roots far from 0 carry the rounding of
			// the bisection's own arithmetic.
			tol := tolMP * math.Max(1, hi-lo)
			approx(t, "RelativeLiftCI.Lower", c.RelativeLiftCI.Lower, lo, tol)
			approx(t, "RelativeLiftCI.Upper", c.RelativeLiftCI.Upper, hi, tol)
			excludes := c.RelativeLiftCI.Lower > 0 || c.RelativeLiftCI.Upper < 0
			if excludes {
				rejected++
			}
			if excludes != (float64(c.PValue) < 1-level) {
				t.Errorf("p=%v at level %v but lift interval %v", c.PValue, level, c.RelativeLiftCI)
			}
			if !c.RelativeLiftCI.Contains(float64(c.RelativeLift)) {
				t.Errorf("lift %v outside its interval %v", c.RelativeLift, c.RelativeLiftCI)
			}
		}
		t.Logf("%d of 2000 bounded, %d of them exclude 0", bounded, rejected)
		if bounded < 500 || rejected < 100 {
			t.Errorf("the cases do not exercise both branches: %d bounded, %d rejected", bounded, rejected)
		}
	})
}

// fiellerBisection returns the lift interval [thetaL - 1, thetaU - 1] of
// Fieller's set {theta : |T(theta)| <= q}, T(theta) = (m2 - theta·m1) /
// sqrt(v2 + theta²·v1), by bisection on T, independently of the quadratic
// formula: T(m2/m1) = 0 and T tends to -/+ m1/sqrt(v1) as theta -> ±inf, so
// when m1/sqrt(v1) > q (m1 > 0) T crosses +q once below m2/m1 and -q once
// above it. ok is false otherwise (unbounded set).
func fiellerBisection(m1, v1, m2, v2, q float64) (lo, hi float64, ok bool) {
	if !(m1 > 0 && m1/math.Sqrt(v1) > q) {
		return math.NaN(), math.NaN(), false
	}
	T := func(th float64) float64 { return (m2 - th*m1) / math.Sqrt(v2+th*th*v1) }
	est := m2 / m1
	root := func(dir float64) float64 {
		// Bracket: step away from the estimate until |T| passes q.
		in, out := est, est+dir
		for step := 1.0; math.Abs(T(out)) < q; step *= 2 {
			in, out = out, out+dir*step
		}
		for range 2000 {
			mid := (in + out) / 2
			if mid == in || mid == out {
				break
			}
			if math.Abs(T(mid)) < q {
				in = mid
			} else {
				out = mid
			}
		}
		return (in + out) / 2
	}
	return root(-1) - 1, root(1) - 1, true
}

// unbounded fails the test unless c has a relative lift but no interval for
// it, with the note that says why.
func unbounded(tb testing.TB, c stats.Comparison) {
	tb.Helper()
	if !c.RelativeLift.Valid() {
		tb.Errorf("RelativeLift=%v, want defined", c.RelativeLift)
	}
	isNaN(tb, "RelativeLiftCI.Lower", c.RelativeLiftCI.Lower)
	isNaN(tb, "RelativeLiftCI.Upper", c.RelativeLiftCI.Upper)
	if c.Note != stats.NoteRatioUnbounded {
		tb.Errorf("Note=%q, want %q", c.Note, stats.NoteRatioUnbounded)
	}
}
