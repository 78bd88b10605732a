package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Methods of inference (Input.Method, Report.Method).
const (
	// MethodFixed is the fixed-horizon test: valid only when the data are
	// looked at once, at the planned sample size.
	MethodFixed = "fixed"
	// MethodSequential is always-valid inference (mSPRT): its p-value and
	// confidence sequence stay valid however often the results are looked at
	// and whenever the experiment is stopped.
	MethodSequential = "sequential"
)

// DefaultSequentialHorizon is the total sample the mixture of the
// sequential test is tuned for when none is given (Input.PlannedSampleSize).
const DefaultSequentialHorizon = 10000

// Sequential is the always-valid inference of one comparison: a mixture
// sequential probability ratio test (mSPRT) with a normal mixture, as in
// Johari, Koomen, Pekelis and Walsh, "Always Valid Inference: Continuous
// Monitoring of A/B Tests", Operations Research 70(3), 2022 (the method of
// Optimizely's Stats Engine), on the difference of the groups:
//
//	theta = group - control, estimated by d with variance V (plug-in),
//	H0: theta = 0, mixture theta ~ N(0, tau²),
//	Lambda = sqrt(V/(V+tau²)) · exp(d² tau² / (2 V (V+tau²))),
//	p = min(1, 1/Lambda)          (always valid: P(some look has p <= alpha) <= alpha),
//	CS = d ± sqrt(V (V+tau²)/tau² · (log((V+tau²)/V) - 2 log alpha)),
//
// the confidence sequence being the set of theta0 the same test does not
// reject, so p < alpha exactly when it excludes 0. V is the unpooled
// variance for proportions (as the Wald interval) and the pooled variance
// for means (s²(1/n1 + 1/n2)). The mixing variance tau² = s²·rho², with s² =
// V·(n1+n2) the variance per user and rho² = (-2 log alpha + log(-2 log alpha
// + 1))/N, makes the sequence tightest at N total users, N the planned sample
// (Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform, nonparametric,
// nonasymptotic confidence sequences", Annals of Statistics 49(2), 2021,
// eq. (3.4) and the choice of rho below it; GrowthBook tunes its sequences
// the same way). The p-value is the one of the current look (the running
// minimum over earlier looks would be smaller still, but the warehouse only
// holds the current data): valid, a little conservative.
type Sequential struct {
	PValue Float `json:"p_value"`
	// AdjustedPValue is Holm-adjusted over the comparisons (as
	// Comparison.AdjustedPValue); equals PValue for a single comparison.
	AdjustedPValue Float    `json:"adjusted_p_value"`
	CI             Interval `json:"ci"` // the confidence sequence at the comparison's level
	// Horizon is the total sample the mixture is tuned for.
	Horizon int64 `json:"horizon"`
	// Tau2 is the mixing variance tau².
	Tau2 Float `json:"tau2"`
	// DetectableEffect is the difference (upwards, in the units of the
	// estimate) this test detects with the users it has now, at
	// Report.DetectablePower and the comparison's level (as
	// Comparison.DetectableEffect, the fixed-horizon one):
	// SequentialDetectableProportion or SequentialDetectableMean. Set by
	// Analyze; null from MSPRT alone.
	DetectableEffect Float `json:"detectable_effect"`
}

// MSPRT returns the always-valid p-value and confidence sequence of an
// estimate d with variance v from n users in all (both groups), the mixture
// tuned for horizon users, at level (e.g. 0.95). Undefined (NaN) when v <= 0
// or n <= 0.
func MSPRT(d, v float64, n int64, horizon int64, level float64) Sequential {
	s := Sequential{PValue: NaN(), AdjustedPValue: NaN(), CI: undefinedInterval(), Horizon: horizon, Tau2: NaN(), DetectableEffect: NaN()}
	if !(v > 0) || n <= 0 || math.IsNaN(d) || horizon <= 0 {
		return s
	}
	alpha := 1 - level
	l := -2 * math.Log(alpha)
	rho2 := (l + math.Log(l+1)) / float64(horizon)
	tau2 := v * float64(n) * rho2
	s.Tau2 = Float(tau2)
	// log Lambda, kept in logs: Lambda overflows for large effects.
	logLambda := 0.5*math.Log(v/(v+tau2)) + d*d*tau2/(2*v*(v+tau2))
	s.PValue = Float(math.Min(1, math.Exp(-logLambda)))
	s.AdjustedPValue = s.PValue
	w := math.Sqrt(v * (v + tau2) / tau2 * (math.Log((v+tau2)/v) + l))
	s.CI = Interval{Lower: Float(d - w), Upper: Float(d + w)}
	return s
}

// SequentialBinary is MSPRT on the difference of two proportions (treatment
// minus control), with the unpooled variance.
func SequentialBinary(control, treatment Binary, horizon int64, level float64) Sequential {
	if control.N == 0 || treatment.N == 0 {
		return MSPRT(math.NaN(), 0, 0, horizon, level)
	}
	p1, p2 := control.Rate(), treatment.Rate()
	v := p1*(1-p1)/float64(control.N) + p2*(1-p2)/float64(treatment.N)
	return MSPRT(p2-p1, v, control.N+treatment.N, horizon, level)
}

// SequentialNumeric is MSPRT on the difference of two means (treatment
// minus control), with the pooled variance.
func SequentialNumeric(control, treatment Summary, horizon int64, level float64) Sequential {
	if control.N < 2 || treatment.N < 2 {
		return MSPRT(math.NaN(), 0, 0, horizon, level)
	}
	n1, n2 := float64(control.N), float64(treatment.N)
	sp2 := (control.M2 + treatment.M2) / (n1 + n2 - 2)
	v := sp2 * (1/n1 + 1/n2)
	return MSPRT(treatment.Mean-control.Mean, v, control.N+treatment.N, horizon, level)
}

// Power of the sequential test. At a look with n users in all (the two
// groups of the comparison), the mixture tuned for a horizon of N users at
// level 1 - alpha0, the test rejects at level alpha (p < alpha) exactly when
// the confidence sequence at that level excludes 0, that is when |d| > w,
//
//	w = sqrt(v (v+tau²)/tau² · (log((v+tau²)/v) - 2 log alpha)) = g·sqrt(v),
//	g = sqrt((1 + 1/c) · (log(1 + c) - 2 log alpha)),  c = tau²/v = n·rho²,
//	rho² = (l + log(l + 1))/N,  l = -2 log alpha0,
//
// since tau² = v·n·rho² (MSPRT): the boundary, in standard errors, depends
// on n/N and the levels only, not on v. Under a true difference delta > 0
// the estimate is about N(delta, v), so the test rejects at this look with
// probability about
//
//	P(d > w) = Phi((delta - w)/sqrt(v)) = Phi(delta/sqrt(v) - g)
//
// (the other side adds Phi(-g - delta/sqrt(v)), nothing at a useful power),
// and the difference it detects with power 1 - beta is
//
//	delta = w + z(1-beta)·sqrt(v) = (g + z(1-beta))·sqrt(v),
//
// the fixed-horizon formula with g in place of z(1-alpha/2). It is the power
// of this one look: an experiment watched all along may have been stopped
// at an earlier one, so the chance that the test has rejected by now is at
// least this. Analyze and MakePlan use alpha0 = 1 - the confidence level
// (the mixture results tune) and alpha = alpha0 / comparisons (Bonferroni,
// the first step of the Holm correction, as the fixed-horizon plan).

// sequentialBoundary returns g, the half-width of the confidence sequence at
// level 1 - alpha in standard errors, with n users in all at this look and
// the mixture tuned for horizon users at level 1 - alpha0.
func sequentialBoundary(n, horizon, alpha0, alpha float64) float64 {
	l := -2 * math.Log(alpha0)
	c := n * (l + math.Log(l+1)) / horizon
	return math.Sqrt((1 + 1/c) * (math.Log1p(c) - 2*math.Log(alpha)))
}

// SequentialDetectableMean returns the difference of means delta > 0 the
// sequential test (SequentialNumeric) detects with the given power at level
// alpha with n1 and n2 users (fractional allowed), a per-user sd (pooled)
// and the mixture tuned for horizon users at level 1 - alpha0: (g +
// z(power))·sd·sqrt(1/n1 + 1/n2), v being SequentialNumeric's pooled
// variance (see the derivation above). NaN without two users in each group,
// an sd or a horizon.
func SequentialDetectableMean(n1, n2, sd, horizon, alpha0, alpha, power float64) float64 {
	if !(n1 >= 2 && n2 >= 2 && sd > 0 && horizon > 0) {
		return math.NaN()
	}
	g := sequentialBoundary(n1+n2, horizon, alpha0, alpha)
	return (g + distuv.UnitNormal.Quantile(power)) * sd * math.Sqrt(1/n1+1/n2)
}

// SequentialDetectableProportion returns the treatment rate p2 > p1 the
// sequential test (SequentialBinary) detects with the given power at level
// alpha with n1 users at the control's rate p1 and n2 users, the mixture
// tuned for horizon users at level 1 - alpha0: the root of
//
//	p2 - p1 = (g + z(power))·sqrt(p1(1-p1)/n1 + p2(1-p2)/n2),
//
// found by bisection. v is SequentialBinary's unpooled variance at the rates
// the detectable effect stands for, the control's p1 and the treatment's p2
// (not p1 for both): what the test computes when the treatment converts at
// p2, and the alternative variance of Fleiss' formula in
// DetectableProportion, whose input is likewise only the control's rate. NaN
// when no rate below 1 is detectable or p1 is not in (0, 1).
func SequentialDetectableProportion(n1, n2, p1, horizon, alpha0, alpha, power float64) float64 {
	if !(n1 > 0 && n2 > 0 && p1 > 0 && p1 < 1 && horizon > 0) {
		return math.NaN()
	}
	k := sequentialBoundary(n1+n2, horizon, alpha0, alpha) + distuv.UnitNormal.Quantile(power)
	f := func(p2 float64) float64 { return p2 - p1 - k*math.Sqrt(p1*(1-p1)/n1+p2*(1-p2)/n2) }
	hi := 1 - 1e-12
	if f(hi) < 0 {
		return math.NaN()
	}
	return bisect(f, p1, hi)
}
