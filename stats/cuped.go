package stats

import (
	"fmt"
	"math"

	"github.com/assign-dev/assign/assign"
)

// CovariateMoments is one group's outcome Y and pre-enrollment covariate X
// (the same metric before enrollment, typically) as SQL aggregates: count(*),
// avg(y), var_samp(y), avg(x), var_samp(x), covar_samp(x, y). Variances and
// covariance have denominator n - 1 and are ignored when N < 2 (SQL returns
// NULL there; pass 0).
type CovariateMoments struct {
	N     int64   `json:"n"`
	MeanY float64 `json:"mean_y"`
	VarY  float64 `json:"var_y"`
	MeanX float64 `json:"mean_x"`
	VarX  float64 `json:"var_x"`
	CovXY float64 `json:"cov_xy"`
}

// CUPEDResult is the covariate adjustment of CUPED.
type CUPEDResult struct {
	// Theta is the coefficient of the covariate.
	Theta float64 `json:"theta"`
	// Adjusted holds, per group in input order, the Summary of the adjusted
	// outcome Y - Theta·(X - overall mean of X), ready for CompareNumeric
	// or GroupInput.Numeric.
	Adjusted []Summary `json:"adjusted"`
	// VarianceReduction is 1 - pooled within-group variance of the adjusted
	// outcome / that of Y: the share of the variance the covariate removes,
	// the squared pooled within-group correlation of X and Y. NaN (null)
	// when Y has no variance within the groups.
	VarianceReduction Float `json:"variance_reduction"`
	// Note says why Theta is 0, if it is.
	Note string `json:"note,omitempty"`
}

// CUPED adjusts a numeric outcome for a pre-enrollment covariate (Deng, Xu,
// Kohavi and Walker, "Improving the sensitivity of online controlled
// experiments by utilizing pre-experiment data", WSDM 2013), from per-group
// moments alone:
//
//	theta = sum (n_g-1)·CovXY_g / sum (n_g-1)·VarX_g,
//	adjusted mean_g = MeanY_g - theta·(MeanX_g - mean of X over all users),
//	adjusted var_g  = VarY_g - 2·theta·CovXY_g + theta²·VarX_g.
//
// Theta is pooled within the groups, not computed over all users: it is
// the coefficient of x in the regression y ~ group + x (ANCOVA), so that a
// treatment that moved Y does not leak into it, and the difference of two
// adjusted means is that regression's treatment coefficient. Centring on
// the overall mean of X keeps the adjusted means in the units and level of
// Y. When X has no variance within the groups there is nothing to regress
// on: theta = 0, Y is returned unadjusted and Note says so.
//
// The adjusted summaries go to CompareNumeric as any other outcome; that
// ignores the one degree of freedom spent on theta, negligible at the
// sample sizes CUPED is used with. Invalid moments (negative N or
// variances, non-finite numbers, a covariance beyond the Cauchy–Schwarz
// bound) return an assign.Error with code EINVALID naming the field.
func CUPED(groups []CovariateMoments) (CUPEDResult, error) {
	if len(groups) == 0 {
		return CUPEDResult{}, assign.Invalidf("groups", "at least one group is required")
	}
	var n, sumX, sxx, sxy, syy float64
	for i, g := range groups {
		if err := g.validate(fmt.Sprintf("groups[%d]", i)); err != nil {
			return CUPEDResult{}, err
		}
		n += float64(g.N)
		if g.N > 0 {
			sumX += float64(g.N) * g.MeanX
		}
		if g.N >= 2 {
			w := float64(g.N - 1)
			sxx += w * g.VarX
			sxy += w * g.CovXY
			syy += w * g.VarY
		}
	}
	r := CUPEDResult{Adjusted: make([]Summary, len(groups)), VarianceReduction: NaN()}
	meanX := 0.0
	if n > 0 {
		meanX = sumX / n
	}
	if sxx > 0 {
		r.Theta = sxy / sxx
	} else {
		r.Note = "the covariate has no variance within the groups: theta = 0, the outcome is not adjusted"
	}
	var sadj float64
	for i, g := range groups {
		s := Summary{N: g.N}
		if g.N > 0 {
			s.Mean = g.MeanY - r.Theta*(g.MeanX-meanX)
		}
		if g.N >= 2 {
			// Clamped: with X and Y almost collinear, rounding can leave
			// a tiny negative variance.
			v := math.Max(0, g.VarY-2*r.Theta*g.CovXY+r.Theta*r.Theta*g.VarX)
			s.M2 = v * float64(g.N-1)
			sadj += s.M2
		}
		r.Adjusted[i] = s
	}
	if syy > 0 {
		r.VarianceReduction = Float(1 - sadj/syy)
	}
	return r, nil
}

// validate checks that the moments could come from real data.
func (g CovariateMoments) validate(field string) error {
	if g.N < 0 {
		return assign.Invalidf(field+".n", "n must be >= 0, got %d", g.N)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	for _, f := range []struct {
		name string
		v    float64
		used bool
	}{
		{"mean_y", g.MeanY, g.N > 0}, {"mean_x", g.MeanX, g.N > 0},
		{"var_y", g.VarY, g.N >= 2}, {"var_x", g.VarX, g.N >= 2}, {"cov_xy", g.CovXY, g.N >= 2},
	} {
		if f.used && !finite(f.v) {
			return assign.Invalidf(field+"."+f.name, "%s must be a finite number, got %v", f.name, f.v)
		}
	}
	if g.N < 2 {
		return nil
	}
	if g.VarY < 0 {
		return assign.Invalidf(field+".var_y", "var_y must be >= 0, got %v", g.VarY)
	}
	if g.VarX < 0 {
		return assign.Invalidf(field+".var_x", "var_x must be >= 0, got %v", g.VarX)
	}
	// |cov| <= sd_x·sd_y, with room for the rounding of the aggregates.
	if bound := math.Sqrt(g.VarX * g.VarY); math.Abs(g.CovXY) > bound*(1+1e-9)+1e-300 {
		return assign.Invalidf(field+".cov_xy", "|cov_xy| = %v exceeds sqrt(var_x·var_y) = %v: not the moments of any data", math.Abs(g.CovXY), bound)
	}
	return nil
}
