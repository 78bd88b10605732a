package results

import (
	"context"
	"strings"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// Result is the analysis of one experiment: the stats Report (embedded, so
// its fields are at the top level in JSON) and where the numbers came from.
type Result struct {
	ExperimentID  string `json:"experiment_id"`
	OutcomeColumn string `json:"outcome_column"` // converted or value
	TimeColumn    string `json:"time_column,omitempty"`
	// Warnings are sentences for people: a sample ratio mismatch, changed
	// probabilities, an experiment already rolled out.
	Warnings []string `json:"warnings"`
	*stats.Report
}

// Analyze reads the configured groups (unless q.Groups is set), aggregates
// the outcome per group in the warehouse and analyses it. Every configured
// group appears, with n = 0 when nobody joined it. Returns EINVALID for a
// query that breaks the contract or a control that is not a group, and
// ENOTFOUND when the experiment is not in the warehouse.
func (w *Warehouse) Analyze(ctx context.Context, q Query) (*Result, error) {
	if err := assign.ValidateID(q.ExperimentID); err != nil {
		return nil, err
	}
	res := &Result{ExperimentID: q.ExperimentID, TimeColumn: q.TimeColumn, Warnings: []string{}}
	groups := q.Groups
	var shares []float64
	if groups == nil {
		e, err := w.Experiment(ctx, q.ExperimentID)
		if err != nil {
			return nil, err
		}
		groups = e.Groups
		if e.ProbabilitiesChanged {
			if shares, err = w.ExpectedShares(ctx, e); err != nil {
				return nil, err
			}
			how := "the sample ratio check weighs each period's probabilities by the users enrolled in it"
			if shares == nil {
				how = "the sample ratio check uses the current ones (the warehouse lacks the history) and may flag a mismatch that the change explains"
			}
			res.Warnings = append(res.Warnings, "the group probabilities changed during the experiment: "+how+
				"; the comparisons pool all periods, so a trend over time can bias them (compare within one period to be sure)")
		}
		if e.Winner != "" {
			res.Warnings = append(res.Warnings, "group "+e.Winner+" is rolled out: users enrolled before the rollout are analysed in their own groups")
		}
	}
	column, aggs, err := w.Aggregate(ctx, q)
	if err != nil {
		return nil, err
	}
	res.OutcomeColumn = column
	if q.TimeColumn == "" {
		res.Warnings = append(res.Warnings, "no time column: outcomes from before each user's enrollment count too")
	}

	in, err := Input(q, column, groups, aggs)
	if err != nil {
		return nil, err
	}
	in.ExpectedShares = shares
	if res.Report, err = stats.Analyze(in); err != nil {
		return nil, err
	}
	if res.SRM.Mismatch {
		res.Warnings = append([]string{res.SRM.Warning}, res.Warnings...)
	}
	return res, nil
}

// Input builds the stats input from the configured groups (in their order)
// and the aggregates. A group in the enrollments but not in the
// configuration is an error: the warehouse would be inconsistent.
func Input(q Query, column string, groups []assign.Group, aggs []GroupAggregate) (stats.Input, error) {
	by := make(map[string]GroupAggregate, len(aggs))
	for _, a := range aggs {
		by[a.Group] = a
	}
	in := stats.Input{Control: q.Control, ConfidenceLevel: q.ConfidenceLevel, LowerIsBetter: q.LowerIsBetter}
	known := make(map[string]bool, len(groups))
	for _, g := range groups {
		known[g.Name] = true
		a := by[g.Name]
		gi := stats.GroupInput{Name: g.Name, Probability: g.Probability}
		if column == ColumnConverted {
			gi.Binary = &stats.Binary{N: a.N, Conversions: a.Conversions}
		} else {
			s := stats.SummaryFromMoments(a.N, a.Mean, a.Variance)
			gi.Numeric = &s
		}
		in.Groups = append(in.Groups, gi)
	}
	var unknown []string
	for _, a := range aggs {
		if !known[a.Group] {
			unknown = append(unknown, a.Group)
		}
	}
	if len(unknown) > 0 {
		return in, assign.Invalidf("groups", "enrollments in groups the experiment does not have: %s", strings.Join(unknown, ", "))
	}
	return in, nil
}

// ExpectedShares returns, per group of e (in order), the number of users the
// assignment predicts for it when its probabilities changed over time: the
// users enrolled during each allocation times that allocation's
// probabilities, summed. A user belongs to the allocation in force at their
// enrolled_at (both times come from Redis, so they share a clock). Returns nil
// when e has fewer than two allocations (nothing to weigh).
func (w *Warehouse) ExpectedShares(ctx context.Context, e *Experiment) ([]float64, error) {
	if len(e.Allocations) < 2 {
		return nil, nil
	}
	// Users enrolled before each change; the rest are in the last period.
	before := make([]int64, len(e.Allocations))
	for i := 1; i < len(e.Allocations); i++ {
		if _, err := w.queryRow(ctx, `SELECT count(*) FROM enrollments WHERE experiment_id = $1 AND enrolled_at < $2`,
			[]any{e.ID, e.Allocations[i].From}, &before[i]); err != nil {
			return nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse: count the enrollments of %q by period: %v", e.ID, err)
		}
	}
	var total int64
	if _, err := w.queryRow(ctx, `SELECT count(*) FROM enrollments WHERE experiment_id = $1`, []any{e.ID}, &total); err != nil {
		return nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse: count the enrollments of %q: %v", e.ID, err)
	}
	index := make(map[string]int, len(e.Groups))
	for i, g := range e.Groups {
		index[g.Name] = i
	}
	shares := make([]float64, len(e.Groups))
	for i, a := range e.Allocations {
		end := total
		if i+1 < len(e.Allocations) {
			end = before[i+1]
		}
		n := float64(end - before[i])
		for _, g := range a.Groups {
			if j, ok := index[g.Name]; ok {
				shares[j] += n * g.Probability
			}
		}
	}
	for _, x := range shares {
		if x > 0 {
			return shares, nil
		}
	}
	return nil, nil // nobody enrolled yet: the current probabilities will do
}
