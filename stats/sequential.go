package stats

import (
	"math"
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
}

// MSPRT returns the always-valid p-value and confidence sequence of an
// estimate d with variance v from n users in all (both groups), the mixture
// tuned for horizon users, at level (e.g. 0.95). Undefined (NaN) when v <= 0
// or n <= 0.
func MSPRT(d, v float64, n int64, horizon int64, level float64) Sequential {
	s := Sequential{PValue: NaN(), AdjustedPValue: NaN(), CI: undefinedInterval(), Horizon: horizon, Tau2: NaN()}
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
