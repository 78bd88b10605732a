package stats_test

import (
	"math"
	"testing"

	"github.com/assign-dev/assign/stats"
)

// The mpmath reference script (mp.dps = 40) used for the "derived" values:
//
//	p1, p2 = x1/n1, x2/n2; q = sqrt(2)*erfinv(0.95)
//	se = sqrt(p1(1-p1)/n1 + p2(1-p2)/n2); lo, hi = p2-p1 ∓ q*se
//	p = (x1+x2)/(n1+n2); z = (p2-p1)/sqrt(p(1-p)(1/n1+1/n2)); pvalue = erfc(|z|/sqrt 2)
//	sl = sqrt(1/x2-1/n2+1/x1-1/n1); lift CI = exp(log(p2/p1) ∓ q*sl) - 1
//
// It shares no code with gonum.

// fisher50of5 is Fisher's exact two-sided p of 0/50 against 5/50:
// 2·C(50,5)/C(100,5) = 0.05628449442882433 (Python fractions.Fraction).
const fisher50of5 = 0.05628449442882433

func TestCompareBinary(t *testing.T) {
	// Published: influentialpoints.com/notes/n9rmf3.htm ("Two-sample test for
	// independent proportions - using R") prints R's prop.test without
	// continuity correction:
	//
	//	X-squared = 6.1026, df = 1, p-value = 0.01350
	//	95 percent confidence interval: 0.03074072 0.23838896
	//	sample estimates: prop 1 0.4392523  prop 2 0.3046875
	//
	// The page does not show the counts; 94/214 and 39/128 are the only ones
	// (with n <= 500) that reproduce all printed digits, so they are inferred.
	// Published precision: CI ±5e-9, p ±5e-6, X-squared ±5e-5 (z² here).
	t.Run("RPropTestPublished", func(t *testing.T) {
		c := stats.CompareBinary(stats.Binary{N: 128, Conversions: 39}, stats.Binary{N: 214, Conversions: 94}, 0.95)
		approx(t, "DifferenceCI.Lower", c.DifferenceCI.Lower, 0.03074072, 5e-9)
		approx(t, "DifferenceCI.Upper", c.DifferenceCI.Upper, 0.23838896, 5e-9)
		approx(t, "PValue", c.PValue, 0.01350, 5e-6)
		approx(t, "z²", c.Statistic*c.Statistic, 6.1026, 5e-5)
		approx(t, "Difference", c.Difference, 0.4392523-0.3046875, 1e-7)
		if got, want := c.Test, stats.TestTwoProportionZ; got != want {
			t.Fatalf("Test=%q, want %q", got, want)
		}
		isNaN(t, "DF", c.DF)
		// Derived with mpmath (script above) for the remaining digits.
		checkComparison(t, c, refComparison{
			diff: 0.13456483644859813, lo: 0.030740717790532427, hi: 0.23838895510666383,
			se: 0.052972462492687162, stat: 2.470344654639885, df: math.NaN(), p: 0.013498293163892139,
			lift: 0.44164869398514258, liftLo: 0.06551414983621662, liftHi: 0.95056157366707599,
		}, tolMP)
	})

	// Derived with mpmath: the shape, 10.0% vs 13.1% on 2000 each.
	t.Run("Derived", func(t *testing.T) {
		c := stats.CompareBinary(stats.Binary{N: 2000, Conversions: 200}, stats.Binary{N: 2000, Conversions: 262}, 0.95)
		checkComparison(t, c, refComparison{
			diff: 0.031, lo: 0.01121314673133358, hi: 0.05078685326866642,
			se: 0.010095518807867182, stat: 3.0670565469942854, df: math.NaN(), p: 0.0021617795761400796,
			lift: 0.31, liftLo: 0.1015756437758724, liftHi: 0.55785942590172164,
		}, tolMP)
	})

	// Zero conversions in the control: difference and test are defined, the
	// relative lift (division by a zero rate) is not. Interval derived with
	// mpmath. 5 conversions in 100 users: the expected cell counts are 2.5,
	// below 5, so the p-value is Fisher's exact test's, computed exactly with
	// Python's fractions: 2·C(50,5)/C(100,5) (the two tails are symmetric),
	// and there is no z.
	t.Run("ZeroConversionsControl", func(t *testing.T) {
		c := stats.CompareBinary(stats.Binary{N: 50, Conversions: 0}, stats.Binary{N: 50, Conversions: 5}, 0.95)
		checkComparison(t, c, refComparison{
			diff: 0.1, lo: 0.016845770539019323, hi: 0.18315422946098068,
			se: 0.042426406871192851, stat: math.NaN(), df: math.NaN(), p: fisher50of5,
			lift: math.NaN(), liftLo: math.NaN(), liftHi: math.NaN(),
		}, tolMP)
		isNaN(t, "RelativeLift", c.RelativeLift)
		isNaN(t, "RelativeLiftCI.Lower", c.RelativeLiftCI.Lower)
	})

	// Everybody converted in the control: 1/x - 1/n = 0 for it, so the
	// lift interval comes from the treatment alone. Derived with mpmath.
	t.Run("AllConvertedControl", func(t *testing.T) {
		c := stats.CompareBinary(stats.Binary{N: 50, Conversions: 50}, stats.Binary{N: 50, Conversions: 45}, 0.95)
		checkComparison(t, c, refComparison{
			diff: -0.1, lo: -0.18315422946098068, hi: -0.016845770539019323,
			se: 0.042426406871192851, stat: math.NaN(), df: math.NaN(), p: fisher50of5,
			lift: -0.1, liftLo: -0.1794283963501318, liftHi: -0.01288321896936982,
		}, tolMP)
	})

	// Treatment with no conversion: lift is -100%, its log interval undefined.
	t.Run("ZeroConversionsTreatment", func(t *testing.T) {
		c := stats.CompareBinary(stats.Binary{N: 50, Conversions: 5}, stats.Binary{N: 50, Conversions: 0}, 0.95)
		approx(t, "RelativeLift", c.RelativeLift, -1, 0)
		isNaN(t, "RelativeLiftCI.Lower", c.RelativeLiftCI.Lower)
		isNaN(t, "RelativeLiftCI.Upper", c.RelativeLiftCI.Upper)
		approx(t, "PValue", c.PValue, fisher50of5, tolMP)
		if c.Test != stats.TestFisherExact {
			t.Fatalf("Test=%q, want Fisher's", c.Test)
		}
	})

	// Nobody (or everybody) converted anywhere: every expected count of one
	// column is 0, so Fisher's exact test, which has a single table and
	// p = 1; the interval is [0, 0].
	for name, x := range map[string]int64{"ZeroConversionsBoth": 0, "AllConvertedBoth": 40} {
		t.Run(name, func(t *testing.T) {
			c := stats.CompareBinary(stats.Binary{N: 40, Conversions: x}, stats.Binary{N: 40, Conversions: x}, 0.95)
			approx(t, "Difference", c.Difference, 0, 0)
			isNaN(t, "Statistic", c.Statistic)
			approx(t, "PValue", c.PValue, 1, 0)
			approx(t, "DifferenceCI.Lower", c.DifferenceCI.Lower, 0, 0)
			approx(t, "DifferenceCI.Upper", c.DifferenceCI.Upper, 0, 0)
			if c.Note == "" {
				t.Fatal("Note is empty, want the convention explained")
			}
		})
	}

	t.Run("EmptyGroup", func(t *testing.T) {
		c := stats.CompareBinary(stats.Binary{N: 0}, stats.Binary{N: 10, Conversions: 3}, 0.95)
		isNaN(t, "Difference", c.Difference)
		isNaN(t, "PValue", c.PValue)
		isNaN(t, "DifferenceCI.Lower", c.DifferenceCI.Lower)
		if got, want := c.Note, "a group has no users"; got != want {
			t.Fatalf("Note=%q, want %q", got, want)
		}
	})

	// A 99% interval is wider than the 95% one, with the same p-value.
	t.Run("ConfidenceLevel", func(t *testing.T) {
		a, b := stats.Binary{N: 2000, Conversions: 200}, stats.Binary{N: 2000, Conversions: 262}
		c95, c99 := stats.CompareBinary(a, b, 0.95), stats.CompareBinary(a, b, 0.99)
		// z(0.995) = 2.5758293035489004 (mpmath: sqrt(2)*erfinv(0.99)).
		approx(t, "DifferenceCI.Lower", c99.DifferenceCI.Lower, 0.031-2.5758293035489004*0.010095518807867182, tolMP)
		if c99.PValue != c95.PValue {
			t.Fatalf("PValue changed with the level: %v vs %v", c99.PValue, c95.PValue)
		}
	})
}
