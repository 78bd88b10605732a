package stats_test

import (
	"math"
	"testing"

	"github.com/assign-dev/assign/stats"
)

// approx fails the test unless |got - want| <= tol. tol is absolute: the
// reference values are printed to a fixed number of decimals.
func approx[T ~float64](tb testing.TB, name string, got T, want, tol float64) {
	tb.Helper()
	if g := float64(got); math.IsNaN(g) || math.Abs(g-want) > tol {
		tb.Errorf("%s=%.12g, want %.12g (±%g)", name, g, want, tol)
	}
}

// isNaN fails the test unless got is undefined.
func isNaN[T ~float64](tb testing.TB, name string, got T) {
	tb.Helper()
	if !math.IsNaN(float64(got)) {
		tb.Errorf("%s=%v, want NaN (undefined)", name, got)
	}
}

// tolMP is the tolerance against values computed independently with mpmath
// at 40 significant digits (the script is quoted in the test comments); it is
// tighter than the 1e-6 the issue asks for, to show the margin.
const tolMP = 1e-9

// refComparison holds reference values for one comparison.
type refComparison struct {
	diff, lo, hi, se, stat, df, p float64
	lift, liftLo, liftHi          float64
}

// checkComparison compares every defined reference number with c. A NaN in
// ref means "not checked here".
func checkComparison(tb testing.TB, c stats.Comparison, ref refComparison, tol float64) {
	tb.Helper()
	check := func(name string, got stats.Float, want float64) {
		tb.Helper()
		if !math.IsNaN(want) {
			approx(tb, name, got, want, tol)
		}
	}
	check("Difference", c.Difference, ref.diff)
	check("DifferenceCI.Lower", c.DifferenceCI.Lower, ref.lo)
	check("DifferenceCI.Upper", c.DifferenceCI.Upper, ref.hi)
	check("StdErr", c.StdErr, ref.se)
	check("Statistic", c.Statistic, ref.stat)
	check("DF", c.DF, ref.df)
	check("PValue", c.PValue, ref.p)
	check("RelativeLift", c.RelativeLift, ref.lift)
	check("RelativeLiftCI.Lower", c.RelativeLiftCI.Lower, ref.liftLo)
	check("RelativeLiftCI.Upper", c.RelativeLiftCI.Upper, ref.liftHi)
}
