package stats

import (
	"fmt"
	"math"

	"github.com/assign-dev/assign/assign"
)

// DefaultConfidenceLevel is used when Input.ConfidenceLevel is 0.
const DefaultConfidenceLevel = 0.95

// probabilityTolerance bounds |sum of probabilities - 1|. It is looser than
// assign.ProbabilityEpsilon because probabilities may have gone through a
// decimal round trip (JSON, the warehouse) on their way here.
const probabilityTolerance = 1e-6

// Outcome kinds of a Report.
const (
	OutcomeBinary  = "binary"
	OutcomeNumeric = "numeric"
)

// Input is what Analyze needs: one entry per group of the experiment, all
// with the same kind of outcome.
type Input struct {
	Groups []GroupInput `json:"groups"`
	// Control is the name of the group the others are compared with;
	// empty means the first group.
	Control string `json:"control"`
	// ConfidenceLevel of the intervals, in (0, 1); 0 means
	// DefaultConfidenceLevel. A comparison is significant when its adjusted
	// p-value is below 1 - ConfidenceLevel.
	ConfidenceLevel float64 `json:"confidence_level"`
	// LowerIsBetter flips the verdict's direction, for outcomes such as
	// time to checkout or refunds.
	LowerIsBetter bool `json:"lower_is_better"`
	// ExpectedShares, when set (one per group, in order), are what the
	// assignment predicts for each group's share of the total; they replace
	// the probabilities in ExpectedN and the sample-ratio check. Weights
	// work (they are normalised by their sum). Package results sets them
	// when the probabilities changed during the experiment: each period's
	// probabilities weighted by the enrollments in it.
	ExpectedShares []float64 `json:"expected_shares,omitempty"`
	// Method decides significance and the verdict: MethodFixed (empty
	// means fixed) or MethodSequential. Every comparison carries both: the
	// fixed-horizon numbers in its top-level fields, the always-valid ones
	// in Comparison.Sequential.
	Method string `json:"method,omitempty"`
	// PlannedSampleSize is the total sample the sequential test's mixture is
	// tuned for (the experiment's maximum_sample_size); 0 means
	// DefaultSequentialHorizon.
	PlannedSampleSize int64 `json:"planned_sample_size,omitempty"`
}

// GroupInput is one group: its configured probability and exactly one of
// Binary, Numeric or Samples. Its size for the sample-ratio check is its n.
type GroupInput struct {
	Name        string  `json:"name"`
	Probability float64 `json:"probability"`
	// Binary is the 0/1 outcome: users and users who converted.
	Binary *Binary `json:"binary,omitempty"`
	// Numeric is the numeric outcome as sufficient statistics; build it with
	// SummaryFromSums or SummaryFromMoments from SQL aggregates.
	Numeric *Summary `json:"numeric,omitempty"`
	// Samples is the numeric outcome as raw values, one per user;
	// Analyze summarizes them with Summarize. A non-nil empty slice is a
	// group nobody joined (nil means "not given").
	Samples []float64 `json:"samples,omitempty"`
}

// Report is the result of Analyze. It marshals to JSON as is; undefined
// numbers are null.
type Report struct {
	Outcome         string  `json:"outcome"` // OutcomeBinary or OutcomeNumeric
	Control         string  `json:"control"`
	ConfidenceLevel float64 `json:"confidence_level"`
	// Correction is "holm" when two or more comparisons were adjusted, else "none".
	Correction string `json:"correction"`
	// Method is what Significant and the verdicts rest on: MethodFixed
	// (the fixed-horizon z, Fisher or Welch test) or MethodSequential (the
	// always-valid mSPRT of Comparison.Sequential).
	Method      string        `json:"method"`
	Groups      []GroupResult `json:"groups"`
	Comparisons []Comparison  `json:"comparisons"` // one per non-control group, in input order
	SRM         SRM           `json:"srm"`
	// DetectablePower is the power at which each comparison's
	// DetectableEffect is computed (DefaultPower).
	DetectablePower float64 `json:"detectable_power"`
}

// GroupResult is the summary of one group.
type GroupResult struct {
	Name        string  `json:"name"`
	Control     bool    `json:"control"`
	Probability float64 `json:"probability"`
	N           int64   `json:"n"`
	// ExpectedN is the size the configured probabilities (or
	// Input.ExpectedShares) predict from the total.
	ExpectedN   Float  `json:"expected_n"`
	Conversions *int64 `json:"conversions,omitempty"` // binary only
	Rate        Float  `json:"rate"`                  // binary: conversions/n; null for numeric or n = 0
	Mean        Float  `json:"mean"`                  // numeric: null for binary or n = 0
	SD          Float  `json:"sd"`                    // numeric, sample sd: null for binary or n < 2
}

// Analyze validates in and computes the Report: per-group rows, every
// non-control group against the control (Holm-adjusted when there are two or
// more comparisons), the sample-ratio-mismatch check and a verdict per
// comparison. Invalid input returns an assign.Error with code EINVALID naming
// the field at fault. Empty groups are not an error: their numbers are null
// and their comparison says it cannot be tested.
func Analyze(in Input) (*Report, error) {
	level, err := in.validate()
	if err != nil {
		return nil, err
	}
	binary := in.Groups[0].Binary != nil
	control := in.Control
	if control == "" {
		control = in.Groups[0].Name
	}

	if in.Method == "" {
		in.Method = MethodFixed
	}
	horizon := in.PlannedSampleSize
	if horizon <= 0 {
		horizon = DefaultSequentialHorizon
	}
	r := &Report{
		Outcome:         OutcomeNumeric,
		Control:         control,
		ConfidenceLevel: level,
		Correction:      "none",
		Method:          in.Method,
		Groups:          make([]GroupResult, len(in.Groups)),
		Comparisons:     []Comparison{},
	}
	if binary {
		r.Outcome = OutcomeBinary
	}

	// Summaries first: the comparisons need the control's.
	summaries := make([]Summary, len(in.Groups))
	counts := make([]int64, len(in.Groups))
	probs := make([]float64, len(in.Groups))
	ci := 0
	for i, g := range in.Groups {
		row := GroupResult{Name: g.Name, Control: g.Name == control, Probability: g.Probability,
			Rate: NaN(), Mean: NaN(), SD: NaN()}
		switch {
		case g.Binary != nil:
			conv := g.Binary.Conversions
			row.N, row.Conversions, row.Rate = g.Binary.N, &conv, Float(g.Binary.Rate())
		case g.Numeric != nil:
			summaries[i] = *g.Numeric
		default:
			summaries[i] = Summarize(g.Samples)
		}
		if !binary {
			s := summaries[i]
			row.N, row.SD = s.N, Float(s.SD())
			if s.N > 0 {
				row.Mean = Float(s.Mean)
			}
		}
		if row.Control {
			ci = i
		}
		counts[i], probs[i] = row.N, g.Probability
		if in.ExpectedShares != nil {
			probs[i] = in.ExpectedShares[i]
		}
		r.Groups[i] = row
	}

	var total int64
	for _, n := range counts {
		total += n
	}
	var psum float64
	for _, p := range probs {
		psum += p
	}
	for i := range r.Groups {
		r.Groups[i].ExpectedN = Float(float64(total) * probs[i] / psum)
	}
	if r.SRM, err = SampleRatioMismatch(counts, probs); err != nil {
		return nil, err
	}

	for i, g := range in.Groups {
		if i == ci {
			continue
		}
		var c Comparison
		var sq Sequential
		if binary {
			c = CompareBinary(*in.Groups[ci].Binary, *g.Binary, level)
			sq = SequentialBinary(*in.Groups[ci].Binary, *g.Binary, horizon, level)
		} else {
			c = CompareNumeric(summaries[ci], summaries[i], level)
			sq = SequentialNumeric(summaries[ci], summaries[i], horizon, level)
		}
		sq.AdjustedPValue = sq.PValue
		c.Sequential = &sq
		c.Skewness = NaN() // known only to a caller with third moments
		c.Group, c.Control = g.Name, control
		r.Comparisons = append(r.Comparisons, c)
	}

	if len(r.Comparisons) >= 2 {
		r.Correction = "holm"
		raw := make([]float64, len(r.Comparisons))
		for i, c := range r.Comparisons {
			raw[i] = float64(c.PValue)
		}
		for i, p := range Holm(raw) {
			r.Comparisons[i].AdjustedPValue = Float(p)
		}
		for i, c := range r.Comparisons {
			raw[i] = float64(c.Sequential.PValue)
		}
		for i, p := range Holm(raw) {
			r.Comparisons[i].Sequential.AdjustedPValue = Float(p)
		}
	}
	alpha := 1 - level
	for i := range r.Comparisons {
		c := &r.Comparisons[i]
		c.Significant = c.AdjustedPValue.Valid() && float64(c.AdjustedPValue) < alpha
		if in.Method == MethodSequential {
			c.Significant = c.Sequential.AdjustedPValue.Valid() && float64(c.Sequential.AdjustedPValue) < alpha
		}
		// Under a sample ratio mismatch the assignment itself is suspect:
		// no comparison may be called a win or a loss.
		if r.SRM.Mismatch {
			c.Significant, c.Unreliable = false, true
		}
		c.Verdict = verdict(*c, binary, in.LowerIsBetter, level, in.Method == MethodSequential, r.Correction)
	}

	// The effect each comparison could detect with its users, at the power
	// a plan uses by default and the level of each comparison (Bonferroni
	// over the comparisons, as MakePlan): by the fixed-horizon test, and by
	// the sequential one at this look (Sequential.DetectableEffect).
	r.DetectablePower = DefaultPower
	a := alpha / float64(max(1, len(r.Comparisons)))
	for i := range r.Comparisons {
		c := &r.Comparisons[i]
		j := groupIndex(in.Groups, c.Group)
		c.DetectableEffect = NaN()
		if binary {
			ctl, tr := *in.Groups[ci].Binary, *in.Groups[j].Binary
			if p1 := ctl.Rate(); ctl.N > 0 && tr.N > 0 && p1 > 0 && p1 < 1 {
				c.DetectableEffect = Float(DetectableProportion(float64(ctl.N), float64(tr.N), p1, a, DefaultPower) - p1)
				// The sequential test's, with its mixture (see SequentialDetectableProportion).
				c.Sequential.DetectableEffect = Float(SequentialDetectableProportion(float64(ctl.N), float64(tr.N), p1,
					float64(horizon), alpha, a, DefaultPower) - p1)
			}
		} else {
			s1, s2 := summaries[ci], summaries[j]
			if s1.N >= 2 && s2.N >= 2 {
				if sd := math.Sqrt((s1.M2 + s2.M2) / float64(s1.N+s2.N-2)); sd > 0 {
					c.DetectableEffect = Float(DetectableMean(float64(s1.N), float64(s2.N), sd, a, DefaultPower))
					c.Sequential.DetectableEffect = Float(SequentialDetectableMean(float64(s1.N), float64(s2.N), sd,
						float64(horizon), alpha, a, DefaultPower))
				}
			}
		}
	}
	return r, nil
}

func groupIndex(groups []GroupInput, name string) int {
	for i, g := range groups {
		if g.Name == name {
			return i
		}
	}
	return -1
}

// validate checks the input and returns the confidence level to use.
func (in Input) validate() (float64, error) {
	level := in.ConfidenceLevel
	if level == 0 {
		level = DefaultConfidenceLevel
	} else if !(level > 0 && level < 1) {
		return 0, assign.Invalidf("confidence_level", "confidence_level must be in (0, 1), got %v", level)
	}
	switch in.Method {
	case "", MethodFixed, MethodSequential:
	default:
		return 0, assign.Invalidf("method", "method must be %q or %q, got %q", MethodFixed, MethodSequential, in.Method)
	}
	if in.PlannedSampleSize < 0 {
		return 0, assign.Invalidf("planned_sample_size", "planned_sample_size must be >= 0, got %d", in.PlannedSampleSize)
	}
	if len(in.Groups) == 0 {
		return 0, assign.Invalidf("groups", "at least one group is required")
	} else if len(in.Groups) > assign.MaxGroups {
		return 0, assign.Invalidf("groups", "at most %d groups", assign.MaxGroups)
	}

	if in.ExpectedShares != nil {
		if len(in.ExpectedShares) != len(in.Groups) {
			return 0, assign.Invalidf("expected_shares", "%d expected shares for %d groups", len(in.ExpectedShares), len(in.Groups))
		}
		var sum float64
		for i, x := range in.ExpectedShares {
			if !(x >= 0) || math.IsInf(x, 0) {
				return 0, assign.Invalidf(fmt.Sprintf("expected_shares[%d]", i), "expected share must be a finite number >= 0, got %v", x)
			}
			sum += x
		}
		if sum == 0 {
			return 0, assign.Invalidf("expected_shares", "all expected shares are 0")
		}
	}

	seen := make(map[string]bool, len(in.Groups))
	binary := in.Groups[0].Binary != nil
	var psum float64
	for i, g := range in.Groups {
		field := fmt.Sprintf("groups[%d]", i)
		if g.Name == "" {
			return 0, assign.Invalidf(field+".name", "group name is empty")
		} else if seen[g.Name] {
			return 0, assign.Invalidf(field+".name", "duplicate group name %q", g.Name)
		}
		seen[g.Name] = true
		if !(g.Probability >= 0 && g.Probability <= 1) {
			return 0, assign.Invalidf(field+".probability", "probability of %q must be in [0, 1], got %v", g.Name, g.Probability)
		}
		psum += g.Probability

		kinds := 0
		if g.Binary != nil {
			kinds++
		}
		if g.Numeric != nil {
			kinds++
		}
		if g.Samples != nil {
			kinds++
		}
		if kinds != 1 {
			return 0, assign.Invalidf(field, "group %q needs exactly one of binary, numeric or samples", g.Name)
		} else if (g.Binary != nil) != binary {
			return 0, assign.Invalidf(field, "group %q has a different outcome kind from the first group", g.Name)
		}
		switch {
		case g.Binary != nil && !g.Binary.valid():
			return 0, assign.Invalidf(field+".binary", "group %q: need 0 <= conversions <= n, got n=%d conversions=%d",
				g.Name, g.Binary.N, g.Binary.Conversions)
		case g.Numeric != nil && !g.Numeric.valid():
			return 0, assign.Invalidf(field+".numeric", "group %q: need n >= 0, a finite mean and m2 >= 0", g.Name)
		}
		for _, x := range g.Samples {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return 0, assign.Invalidf(field+".samples", "group %q has a value that is not a finite number", g.Name)
			}
		}
	}
	if math.Abs(psum-1) > probabilityTolerance {
		return 0, assign.Invalidf("groups", "group probabilities sum to %v, not 1", psum)
	}
	if in.Control != "" && !seen[in.Control] {
		return 0, assign.Invalidf("control", "control %q is not a group", in.Control)
	}
	return level, nil
}
