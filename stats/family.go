package stats

import (
	"fmt"

	"github.com/assign-dev/assign/assign"
)

// Corrections of the p-values of a family of tests (Report.Correction).
const (
	CorrectionNone = "none"
	CorrectionHolm = "holm"
	// CorrectionBH is Benjamini–Hochberg: it controls the false discovery
	// rate rather than the family-wise error, so it finds more effects
	// among many metrics and lets more false ones through.
	CorrectionBH = "benjamini-hochberg"
)

// correctionLabel is how a verdict names a correction: "Holm", "BH".
func correctionLabel(correction string) string {
	if correction == CorrectionBH {
		return "BH"
	}
	return "Holm"
}

// FamilyMember is one report of a family of tests, with the direction its
// verdicts read in; or, with a nil Report, Missing comparisons of the
// family that could not be computed (a metric whose query failed): they
// count as p = 1, so that the others are adjusted for the family planned,
// not the smaller one that happened to run.
type FamilyMember struct {
	Report        *Report
	LowerIsBetter bool
	Missing       int
}

// AdjustFamily adjusts the p-values of every comparison of every member
// together, as one family (the goal metrics of an experiment, say, each
// against the control), with correction: CorrectionHolm,
// CorrectionBH or CorrectionNone (raw p-values). Both the fixed-horizon and
// the sequential p-values are adjusted; each Report's Correction,
// its comparisons' Significant and Verdict follow, and a comparison
// under a sample ratio mismatch stays unreliable. It replaces the
// per-report Holm adjustment of Analyze.
func AdjustFamily(members []FamilyMember, correction string) error {
	var adjust func([]float64) []float64
	switch correction {
	case CorrectionHolm:
		adjust = Holm
	case CorrectionBH:
		adjust = BenjaminiHochberg
	case CorrectionNone:
		adjust = func(p []float64) []float64 { return p }
	default:
		return assign.Invalidf("correction", "correction must be %q, %q or %q, got %q", CorrectionHolm, CorrectionBH, CorrectionNone, correction)
	}
	var fixed, sequential []float64
	for _, m := range members {
		if m.Report == nil {
			for range m.Missing {
				fixed, sequential = append(fixed, 1), append(sequential, 1)
			}
			continue
		}
		for _, c := range m.Report.Comparisons {
			fixed = append(fixed, float64(c.PValue))
			sp := NaN()
			if c.Sequential != nil {
				sp = c.Sequential.PValue
			}
			sequential = append(sequential, float64(sp))
		}
	}
	fixed, sequential = adjust(fixed), adjust(sequential)
	label := correction
	if len(fixed) < 2 {
		label = CorrectionNone // a family of one needs no correction
	}
	k := 0
	for _, m := range members {
		if m.Report == nil {
			k += m.Missing
			continue
		}
		r := m.Report
		r.Correction = label
		alpha := 1 - r.ConfidenceLevel
		for i := range r.Comparisons {
			c := &r.Comparisons[i]
			c.AdjustedPValue = Float(fixed[k])
			if c.Sequential != nil {
				c.Sequential.AdjustedPValue = Float(sequential[k])
			}
			k++
			c.Significant = c.AdjustedPValue.Valid() && float64(c.AdjustedPValue) < alpha
			if r.Method == MethodSequential {
				c.Significant = c.Sequential != nil && c.Sequential.AdjustedPValue.Valid() && float64(c.Sequential.AdjustedPValue) < alpha
			}
			if c.Unreliable {
				c.Significant = false
			}
			c.Verdict = verdict(*c, r.Outcome == OutcomeBinary, m.LowerIsBetter, r.ConfidenceLevel, r.Method == MethodSequential, label)
		}
	}
	if k != len(fixed) {
		return fmt.Errorf("stats: AdjustFamily: %d comparisons, %d p-values", k, len(fixed))
	}
	return nil
}
