package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/assign-dev/assign/assign"
)

// Defaults of a plan.
const (
	DefaultAlpha = 0.05
	DefaultPower = 0.8
)

// Methods a Plan names.
const (
	MethodPlanProportions = "two-proportion z-test, pooled under H0 (Fleiss; R's power.prop.test with equal groups)"
	MethodPlanMeans       = "two-sample t-test, noncentral t (R's power.t.test with equal groups; statsmodels' TTestIndPower with ratio)"
	// The sequential plans (PlanInput.Method sequential): the mSPRT results
	// runs, its mixture tuned for the plan's total, the power reached at that
	// total (normal approximation; see SequentialDetectableMean).
	MethodPlanSequentialProportions = "sequential mSPRT on the difference of rates (unpooled variance), tuned for the total; power at the total"
	MethodPlanSequentialMeans       = "sequential mSPRT on the difference of means (pooled variance), tuned for the total; power at the total"
)

// PlanInput asks for the users an experiment needs, or, with
// MaximumSampleSize, the effect a given cap can detect. Field names are the
// query parameters of GET /api/plan and the flags of `assignctl plan`.
type PlanInput struct {
	// Outcome is OutcomeBinary (Baseline is the control's rate) or
	// OutcomeNumeric (SD is the per-user sd, Baseline the control's mean,
	// needed only for a relative effect).
	Outcome  string  `json:"outcome"`
	Baseline float64 `json:"baseline"`
	SD       float64 `json:"sd,omitempty"`
	// Effect is the minimum detectable effect: a difference of rates (0.02
	// is +2 percentage points) or of means, or with Relative a fraction of
	// Baseline (0.1 is +10%). Zero with MaximumSampleSize: computed.
	Effect   float64 `json:"effect,omitempty"`
	Relative bool    `json:"relative,omitempty"`
	// Alpha is the two-sided significance level of the whole experiment
	// (0: 0.05); with more than one treatment group each comparison is
	// planned at Alpha/(groups-1) (Bonferroni, the first step of the Holm
	// correction results applies, so the plan is never optimistic).
	Alpha float64 `json:"alpha"`
	Power float64 `json:"power"` // 0: 0.8
	// Probabilities are the groups' probabilities, the control first; nil
	// means Groups equal groups (Groups 0: two).
	Probabilities []float64 `json:"probabilities"`
	Groups        int       `json:"groups"`
	// SamplingProbability is the experiment's (0: 1): the users who must
	// reach the screen are the enrolled ones divided by it.
	SamplingProbability float64 `json:"sampling_probability"`
	// MaximumSampleSize, when set, reverses the plan: the effect detectable
	// with that many enrolled users.
	MaximumSampleSize int64 `json:"maximum_sample_size,omitempty"`
	// Method is the test planned for: MethodFixed (empty means fixed) or
	// MethodSequential, the mSPRT with its mixture tuned for the plan's total
	// (results tunes it for the cap, and the plan's total is the cap to set)
	// at level 1 - Alpha, the power reached at that total.
	Method string `json:"method,omitempty"`
}

// Plan is the answer. Users are enrolled users (after sampling); the
// "before sampling" counts are those who must reach the screen and be
// eligible. Each count is rounded up to whole users.
type Plan struct {
	Method              string  `json:"method"`
	Outcome             string  `json:"outcome"`
	Baseline            float64 `json:"baseline"`
	SD                  Float   `json:"sd"`
	Alpha               float64 `json:"alpha"`
	ComparisonAlpha     float64 `json:"comparison_alpha"` // alpha / (groups - 1)
	Power               float64 `json:"power"`
	SamplingProbability float64 `json:"sampling_probability"`
	// Effect is the absolute minimum detectable effect (given or computed),
	// RelativeEffect the same as a fraction of Baseline (null without one),
	// Target the treatment's rate or mean it stands for.
	Effect         Float `json:"effect"`
	RelativeEffect Float `json:"relative_effect"`
	Target         Float `json:"target"`
	// Reverse is true when MaximumSampleSize was given and Effect computed.
	Reverse bool        `json:"reverse"`
	Groups  []PlanGroup `json:"groups"`
	// Total is the maximum sample size to set (enrolled users): the
	// smallest whose expected split gives every group its Users (for equal
	// groups, groups × Users; the cap itself in a reverse plan).
	// TotalBeforeSampling = Total / SamplingProbability, rounded up.
	Total               int64 `json:"total"`
	TotalBeforeSampling int64 `json:"total_before_sampling"`
	// ExactTotal is the fractional total the formulas give, for checks.
	ExactTotal float64 `json:"exact_total"`
	// Sequential is set when the plan is for the sequential test.
	Sequential *PlanSequential `json:"sequential,omitempty"`
}

// PlanSequential compares a sequential plan with the fixed-horizon plan of
// the same question (same effect, or same cap).
type PlanSequential struct {
	// Horizon is the total the mixture is tuned for: Total, the cap to set.
	Horizon int64 `json:"horizon"`
	// Boundary is the confidence sequence's half-width in standard errors
	// at the horizon, for the comparison that sets the total (the
	// fixed-horizon test's is z(1 - ComparisonAlpha/2)).
	Boundary float64 `json:"boundary"`
	// FixedTotal and FixedExactTotal are the fixed-horizon plan's total for
	// the same effect (the cap itself in a reverse plan); FixedEffect the
	// effect the fixed-horizon test detects (the effect itself in a forward
	// plan).
	FixedTotal      int64   `json:"fixed_total"`
	FixedExactTotal float64 `json:"fixed_exact_total"`
	FixedEffect     Float   `json:"fixed_effect"`
	// Ratio is what the freedom to look costs: ExactTotal / FixedExactTotal
	// in a forward plan, Effect / FixedEffect in a reverse one.
	Ratio Float `json:"ratio"`
}

// PlanGroup is one group of a plan.
type PlanGroup struct {
	Index          int     `json:"index"` // 0 is the control
	Probability    float64 `json:"probability"`
	Users          int64   `json:"users"`
	BeforeSampling int64   `json:"before_sampling"`
	// ExactUsers is the fractional size (Total × probability in a reverse plan).
	ExactUsers float64 `json:"exact_users"`
}

// MakePlan computes a plan. Invalid input returns EINVALID naming the field.
func MakePlan(in PlanInput) (*Plan, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	k := len(in.Probabilities)
	m := float64(k - 1)
	p := &Plan{Outcome: in.Outcome, Baseline: in.Baseline, SD: NaN(), Alpha: in.Alpha, ComparisonAlpha: in.Alpha / m,
		Power: in.Power, SamplingProbability: in.SamplingProbability, RelativeEffect: NaN(), Reverse: in.MaximumSampleSize > 0}
	binary := in.Outcome == OutcomeBinary
	sequential := in.Method == MethodSequential
	switch {
	case binary && sequential:
		p.Method = MethodPlanSequentialProportions
	case binary:
		p.Method = MethodPlanProportions
	case sequential:
		p.Method, p.SD = MethodPlanSequentialMeans, Float(in.SD)
	default:
		p.Method, p.SD = MethodPlanMeans, Float(in.SD)
	}
	a, power, p0 := p.ComparisonAlpha, in.Power, in.Probabilities[0]
	// The sequential boundary at the horizon (boundaryAtHorizon) of the
	// comparison that sets the total or the effect.
	var boundary float64

	if p.Reverse {
		total := float64(in.MaximumSampleSize)
		// The comparison of the smallest treatment group detects the least.
		effect := 0.0
		for _, pj := range in.Probabilities[1:] {
			n1, n2 := total*p0, total*pj
			var d float64
			switch {
			case binary && sequential:
				d = SequentialDetectableProportion(n1, n2, in.Baseline, total, in.Alpha, a, power) - in.Baseline
			case binary:
				d = DetectableProportion(n1, n2, in.Baseline, a, power) - in.Baseline
			case n1 < 2 || n2 < 2:
				d = math.NaN()
			case sequential:
				d = SequentialDetectableMean(n1, n2, in.SD, total, in.Alpha, a, power)
			default:
				d = DetectableMean(n1, n2, in.SD, a, power)
			}
			if sequential && (d > effect || boundary == 0) {
				boundary = boundaryAtHorizon(p0, pj, in.Alpha, a) // the comparison that sets the effect
			}
			if math.IsNaN(d) {
				effect = math.NaN()
				break
			}
			effect = math.Max(effect, d)
		}
		p.Effect, p.ExactTotal, p.Total = Float(effect), total, in.MaximumSampleSize
	} else {
		d := in.Effect
		if in.Relative {
			d = in.Effect * in.Baseline
		}
		if binary && !(in.Baseline+d > 0 && in.Baseline+d < 1) {
			return nil, assign.Invalidf("effect", "baseline %v plus the effect %v is not a rate in (0, 1)", in.Baseline, d)
		}
		// The total N at which every comparison reaches the power: the
		// largest over the treatment groups.
		var total float64
		for _, pj := range in.Probabilities[1:] {
			var n1 float64
			switch {
			case sequential:
				g := boundaryAtHorizon(p0, pj, in.Alpha, a)
				n1 = p0 * sequentialTotal(in.Baseline, d, in.SD, binary, p0, pj, g, power)
				if n1/p0 > total {
					boundary = g // the comparison that sets the total
				}
			case binary:
				n1 = SampleSizeProportions(in.Baseline, in.Baseline+d, a, power, pj/p0)
			default:
				n1 = SampleSizeMeans(d, in.SD, a, power, pj/p0)
			}
			total = math.Max(total, n1/p0)
		}
		if math.IsInf(total, 0) || total > 1e15 {
			return nil, assign.Invalidf("effect", "the effect %v is too small to plan for", in.Effect)
		}
		p.Effect, p.ExactTotal = Float(d), total
		// The cap whose expected split gives every group its users (each
		// rounded up): for equal groups, groups × the users of one.
		for _, pr := range in.Probabilities {
			p.Total = max(p.Total, ceilUsers(float64(ceilUsers(total*pr))/pr))
		}
	}
	if p.Effect.Valid() {
		if binary {
			p.Target = Float(in.Baseline + float64(p.Effect))
		} else if in.Baseline != 0 {
			p.Target = Float(in.Baseline + float64(p.Effect))
		} else {
			p.Target = NaN()
		}
		if in.Baseline != 0 {
			p.RelativeEffect = Float(float64(p.Effect) / in.Baseline)
		}
	} else {
		p.Target = NaN()
	}
	p.TotalBeforeSampling = ceilUsers(float64(p.Total) / in.SamplingProbability)
	for i, pr := range in.Probabilities {
		exact := p.ExactTotal * pr
		g := PlanGroup{Index: i, Probability: pr, ExactUsers: exact, Users: ceilUsers(exact)}
		g.BeforeSampling = ceilUsers(exact / in.SamplingProbability)
		p.Groups = append(p.Groups, g)
	}
	if sequential {
		fixedIn := in
		fixedIn.Method = MethodFixed
		fixed, err := MakePlan(fixedIn)
		if err != nil {
			return nil, err
		}
		s := &PlanSequential{Horizon: p.Total, Boundary: boundary, FixedTotal: fixed.Total, FixedExactTotal: fixed.ExactTotal,
			FixedEffect: fixed.Effect, Ratio: NaN()}
		if p.Reverse {
			if p.Effect.Valid() && fixed.Effect.Valid() {
				s.Ratio = Float(float64(p.Effect) / float64(fixed.Effect))
			}
		} else {
			s.Ratio = Float(p.ExactTotal / fixed.ExactTotal)
		}
		p.Sequential = s
	}
	return p, nil
}

// The sequential plan. At the horizon N (the plan's total, which results
// tunes the mixture for) the comparison of the control (probability p0)
// with group j (pj) has n = N·(p0 + pj) users, so c = n·rho² = (p0 + pj)·(l +
// log(l + 1)) does not depend on N, nor does the boundary g (see the
// derivation above sequentialBoundary): the power at the horizon is
// Phi(delta/sqrt(v) - g) with v = V1/N, V1 = p1q1/p0 + p2q2/pj for rates,
// sd²·(1/p0 + 1/pj) for means, and the total reaching power 1 - beta is
// closed-form:
//
//	N = (g + z(1-beta))² · V1 / delta².
//
// The power grows with N, so this is the root a monotone search on N would
// find, and rounding the total up (a larger horizon, the same n/N) keeps it.

// boundaryAtHorizon is g at the horizon for the comparison of groups with
// probabilities p0 and pj, the mixture tuned at alpha0, rejecting at alpha.
func boundaryAtHorizon(p0, pj, alpha0, alpha float64) float64 {
	return sequentialBoundary(p0+pj, 1, alpha0, alpha)
}

// sequentialTotal is the total N at which the sequential test, tuned for N,
// detects the difference d (from the control's baseline rate, or of means
// with the per-user sd) with the given power, g the boundary at the horizon.
// A plan for means keeps at least 2 users per group, as SampleSizeMeans.
func sequentialTotal(baseline, d, sd float64, binary bool, p0, pj, g, power float64) float64 {
	k := g + distuv.UnitNormal.Quantile(power)
	if binary {
		p1, p2 := baseline, baseline+d
		return k * k * (p1*(1-p1)/p0 + p2*(1-p2)/pj) / (d * d)
	}
	n := k * k * sd * sd * (1/p0 + 1/pj) / (d * d)
	return math.Max(n, math.Max(2/p0, 2/pj))
}

// ceilUsers rounds a fractional number of users up, forgiving the last bits
// of rounding (153.00000000001 is 153).
func ceilUsers(x float64) int64 {
	return int64(math.Ceil(x - 1e-9*math.Max(1, x)))
}

// normalize applies the defaults and validates.
func (in *PlanInput) normalize() error {
	if in.Alpha == 0 {
		in.Alpha = DefaultAlpha
	}
	if in.Power == 0 {
		in.Power = DefaultPower
	}
	if in.SamplingProbability == 0 {
		in.SamplingProbability = 1
	}
	if in.Method == "" {
		in.Method = MethodFixed
	}
	switch {
	case in.Method != MethodFixed && in.Method != MethodSequential:
		return assign.Invalidf("method", "method must be %q or %q; got %q", MethodFixed, MethodSequential, in.Method)
	case !(in.Alpha > 0 && in.Alpha < 1):
		return assign.Invalidf("alpha", "alpha must be in (0, 1), e.g. 0.05; got %v", in.Alpha)
	case !(in.Power > 0 && in.Power < 1):
		return assign.Invalidf("power", "power must be in (0, 1), e.g. 0.8; got %v", in.Power)
	case !(in.SamplingProbability > 0 && in.SamplingProbability <= 1):
		return assign.Invalidf("sampling_probability", "sampling_probability must be in (0, 1]; got %v", in.SamplingProbability)
	case in.MaximumSampleSize < 0:
		return assign.Invalidf("maximum_sample_size", "maximum_sample_size must be positive; got %d", in.MaximumSampleSize)
	}
	switch in.Outcome {
	case OutcomeBinary:
		if !(in.Baseline > 0 && in.Baseline < 1) {
			return assign.Invalidf("baseline", "the baseline rate must be in (0, 1), e.g. 0.1 for 10%%; got %v", in.Baseline)
		}
	case OutcomeNumeric:
		if !(in.SD > 0) || math.IsInf(in.SD, 0) {
			return assign.Invalidf("sd", "a numeric outcome needs its standard deviation per user, > 0; got %v", in.SD)
		} else if math.IsNaN(in.Baseline) || math.IsInf(in.Baseline, 0) {
			return assign.Invalidf("baseline", "the baseline mean must be a number; got %v", in.Baseline)
		} else if in.Relative && in.Baseline == 0 {
			return assign.Invalidf("baseline", "a relative effect needs the baseline mean (not 0)")
		}
	default:
		return assign.Invalidf("outcome", "outcome must be %q or %q; got %q", OutcomeBinary, OutcomeNumeric, in.Outcome)
	}
	if in.MaximumSampleSize == 0 {
		if !(in.Effect > 0) || math.IsInf(in.Effect, 0) {
			return assign.Invalidf("effect", "give the minimum detectable effect (> 0), or maximum_sample_size for the effect it can detect")
		}
	} else if in.Effect != 0 {
		return assign.Invalidf("effect", "give either the effect or maximum_sample_size, not both")
	}

	if in.Probabilities == nil {
		if in.Groups == 0 {
			in.Groups = 2
		}
		if in.Groups < 2 || in.Groups > assign.MaxGroups {
			return assign.Invalidf("groups", "groups must be between 2 and %d; got %d", assign.MaxGroups, in.Groups)
		}
		in.Probabilities = make([]float64, in.Groups)
		for i := range in.Probabilities {
			in.Probabilities[i] = 1 / float64(in.Groups)
		}
		return nil
	}
	if in.Groups != 0 && in.Groups != len(in.Probabilities) {
		return assign.Invalidf("groups", "groups is %d but %d probabilities are given", in.Groups, len(in.Probabilities))
	}
	if len(in.Probabilities) < 2 || len(in.Probabilities) > assign.MaxGroups {
		return assign.Invalidf("probabilities", "give between 2 and %d probabilities, the control's first", assign.MaxGroups)
	}
	var sum float64
	for i, pr := range in.Probabilities {
		if !(pr > 0 && pr < 1) {
			return assign.Invalidf("probabilities", "probability %d must be in (0, 1); got %v", i, pr)
		}
		sum += pr
	}
	if math.Abs(sum-1) > probabilityTolerance {
		return assign.Invalidf("probabilities", "the probabilities sum to %v, not 1", sum)
	}
	in.Groups = len(in.Probabilities)
	return nil
}

// String is a one-line summary, for logs and tests.
func (p *Plan) String() string {
	return fmt.Sprintf("%s: effect %v, total %d (%d before sampling)", p.Outcome, float64(p.Effect), p.Total, p.TotalBeforeSampling)
}
