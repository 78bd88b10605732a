package results

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// Result is the analysis of one experiment: the stats Report (embedded, so
// its fields are at the top level in JSON) and where the numbers came from.
type Result struct {
	ExperimentID  string `json:"experiment_id"`
	OutcomeColumn string `json:"outcome_column"` // converted or value
	TimeColumn    string `json:"time_column,omitempty"`
	// TimeColumnType is the warehouse's type of TimeColumn; one without a
	// zone (TIMESTAMP, DATE) is read as UTC, and a warning says so.
	TimeColumnType string `json:"time_column_type,omitempty"`
	// TimeRule is how an event is compared with the enrollment (TimeRule).
	TimeRule string `json:"time_rule,omitempty"`
	// EnrolledFrom and EnrolledBefore are Query's enrollment window, when set.
	EnrolledFrom   *time.Time `json:"enrolled_from,omitempty"`
	EnrolledBefore *time.Time `json:"enrolled_before,omitempty"`
	// Warnings are sentences for people: a sample ratio mismatch, changed
	// probabilities, an experiment already rolled out.
	Warnings []string `json:"warnings"`
	// Status is the experiment's (running, paused, stopped); empty when
	// unknown. MaximumSampleSize is its cap, the planned sample (0 unknown).
	Status            assign.Status `json:"status,omitempty"`
	MaximumSampleSize int64         `json:"maximum_sample_size,omitempty"`
	// The runtime: from the experiment's first enrollment (whatever the
	// enrollment window) to its stop, or to now when it has not stopped.
	FirstEnrolledAt *time.Time `json:"first_enrolled_at,omitempty"`
	RuntimeEnd      *time.Time `json:"runtime_end,omitempty"`
	RuntimeSeconds  float64    `json:"runtime_seconds"`
	// PeekingWarning is set when the fixed-horizon test is used on an
	// experiment that has not stopped and is below its planned sample: its
	// p-value holds for one look at the planned sample only. It is also the
	// first of Warnings.
	PeekingWarning string `json:"peeking_warning,omitempty"`
	// Window is Query.Window as text (7d, 36h), when set; WindowOpenUsers
	// are the users of the enrollment period left out because their window
	// had not closed by WindowClosedBy (Query.Now).
	Window          string     `json:"window,omitempty"`
	WindowOpenUsers int64      `json:"window_open_users"`
	WindowClosedBy  *time.Time `json:"window_closed_by,omitempty"`
	// Cap is the capping of a numeric outcome (Query.CapPercentile), nil
	// without one.
	Cap *Cap `json:"cap,omitempty"`
	// CUPED is the variance reduction applied (Query.CUPED), nil without.
	CUPED *CUPED `json:"cuped,omitempty"`
	*stats.Report
}

// Cap is how a numeric outcome was capped (winsorized).
type Cap struct {
	Percentile float64 `json:"percentile"`
	// Value is the percentile of every analysed user's value: what larger
	// values were replaced with.
	Value stats.Float `json:"value"`
	// Users counts the users whose value was above the cap.
	Users int64 `json:"users"`
}

// CUPED describes the CUPED adjustment of a Result: the group means and
// comparisons are of Y − Theta·(X − mean X), X each user's same outcome
// counted over the lookback before they enrolled.
type CUPED struct {
	LookbackSeconds float64 `json:"lookback_seconds"`
	Theta           float64 `json:"theta"`
	// VarianceReduction is 1 − the pooled variance of the adjusted
	// outcome over that of the outcome: 0.3 narrows intervals by 16%.
	VarianceReduction stats.Float `json:"variance_reduction"`
	// Note says why nothing was adjusted (a covariate without variance).
	Note string `json:"note,omitempty"`
	// Unadjusted are the groups' plain means (or rates), in order.
	Unadjusted []stats.Float `json:"unadjusted_means"`
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
	if err := q.validateWindow(); err != nil {
		return nil, err
	}
	// One now for every query of the analysis: the windows that closed,
	// the runtime.
	q.Now = q.now()
	res := &Result{ExperimentID: q.ExperimentID, TimeColumn: q.TimeColumn, Warnings: []string{}}
	if q.TimeColumn != "" {
		res.TimeRule = q.TimeColumn + " " + TimeRule
	}
	if !q.EnrolledFrom.IsZero() {
		from := q.EnrolledFrom.UTC()
		res.EnrolledFrom = &from
	}
	if !q.EnrolledBefore.IsZero() {
		before := q.EnrolledBefore.UTC()
		res.EnrolledBefore = &before
	}
	groups := q.Groups
	var shares []float64
	res.Status, res.MaximumSampleSize = q.Status, q.MaxSampleSize
	var stoppedAt *time.Time
	if groups == nil {
		e, err := w.Experiment(ctx, q.ExperimentID)
		if err != nil {
			return nil, err
		}
		groups = e.Groups
		res.Status, res.MaximumSampleSize, stoppedAt = e.Status, e.MaxSampleSize, e.StoppedAt
		if e.ProbabilitiesChanged {
			var periods []Period
			if shares, periods, err = w.ExpectedShares(ctx, e, q); err != nil {
				return nil, err
			}
			switch {
			case shares == nil:
				res.Warnings = append(res.Warnings, "the group probabilities changed during the experiment: the sample ratio check uses the current ones "+
					"(the warehouse lacks the history) and may flag a mismatch that the change explains")
			case len(periods) == 1:
				res.Warnings = append(res.Warnings, fmt.Sprintf("the group probabilities changed during the experiment: every user analysed enrolled "+
					"under those of version %d (from %s), which the sample ratio check uses", periods[0].Version, periods[0].From.UTC().Format(time.RFC3339)))
			default:
				res.Warnings = append(res.Warnings, "the group probabilities changed during the experiment: the sample ratio check weighs each period's "+
					"probabilities by the users enrolled in it; the comparisons pool the periods, so a trend over time can bias them "+
					"(to analyse one period: "+periodFlags(periods)+")")
			}
		}
		if e.Winner != "" {
			res.Warnings = append(res.Warnings, "group "+e.Winner+" is rolled out: users enrolled before the rollout are analysed in their own groups")
		}
	}
	if q.TimeColumn != "" {
		typ, err := w.TimeColumnType(ctx, q)
		if err != nil {
			return nil, err
		}
		res.TimeColumnType = typ
		switch {
		case typ == "DATE" && (q.Window > 0 || q.CUPED):
			// Midnight of the day against the enrollment's instant: an event
			// later that day would fall before the enrollment (into the
			// covariate, with CUPED) and windows would be off by up to a day.
			return nil, assign.Invalidf("time_column", "%s is a DATE, without a time of day: a window or CUPED needs each event's instant "+
				"(cast it in the query, or use a TIMESTAMP column)", q.TimeColumn)
		case typ == "DATE":
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s is a DATE, without a time of day: read as midnight UTC, so the events of a user's "+
				"enrollment day do not count (only those of the days after)", q.TimeColumn))
		case typ != "" && !zoned(typ):
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s has no time zone (%s): its values are read as UTC", q.TimeColumn, typ))
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

	if err := w.describeWindow(ctx, q, res); err != nil {
		return nil, err
	}
	describeCap(q, res, aggs)

	in, cuped, err := Input(q, column, groups, aggs)
	if err != nil {
		return nil, err
	}
	if res.CUPED = cuped; cuped != nil {
		note := fmt.Sprintf("CUPED: the means and comparisons are of the outcome adjusted for the same outcome over the %s before each user enrolled (theta %s)",
			FormatDuration(q.lookback()), strconv.FormatFloat(cuped.Theta, 'g', 4, 64))
		if cuped.Note != "" {
			note += "; " + cuped.Note
		}
		if column == ColumnConverted {
			note += "; converted is analysed as a 0/1 number (Welch's t-test on the adjusted values)"
		}
		res.Warnings = append(res.Warnings, note)
	}
	in.ExpectedShares = shares
	in.PlannedSampleSize = res.MaximumSampleSize
	stopped := res.Status == assign.StatusStopped
	switch in.Method = q.Method; {
	case in.Method != "":
	case stopped:
		in.Method = stats.MethodFixed
	default:
		in.Method = stats.MethodSequential
	}
	if err := w.runtime(ctx, q, res, stoppedAt); err != nil {
		return nil, err
	}
	if res.Report, err = stats.Analyze(in); err != nil {
		return nil, err
	}
	if column == ColumnValue {
		describeSkewness(res, aggs, q.CapPercentile == 0, q.CUPED)
	}
	var total int64
	for _, g := range res.Groups {
		total += g.N
	}
	if res.Method == stats.MethodFixed && !stopped && res.MaximumSampleSize > 0 && total < res.MaximumSampleSize {
		status := string(res.Status)
		if status == "" {
			status = "not known to have stopped"
		}
		res.PeekingWarning = fmt.Sprintf("FIXED-HORIZON TEST BEFORE THE PLANNED SAMPLE: the experiment is %s with %d of its %d planned users; "+
			"this p-value holds for one look at the planned sample, and stopping at the first p < %s finds false winners "+
			"(use --method sequential while it runs)", status, total, res.MaximumSampleSize, strconv.FormatFloat(1-res.ConfidenceLevel, 'g', 4, 64))
		res.Warnings = append([]string{res.PeekingWarning}, res.Warnings...)
	}
	if res.SRM.Mismatch {
		res.Warnings = append([]string{res.SRM.Warning}, res.Warnings...)
	}
	return res, nil
}

// describeWindow fills the outcome window of res and counts the users left
// out because their window had not closed by q.Now.
func (w *Warehouse) describeWindow(ctx context.Context, q Query, res *Result) error {
	if q.Window <= 0 {
		return nil
	}
	closedBy := q.Now.UTC()
	res.Window, res.WindowClosedBy = FormatDuration(q.Window), &closedBy
	filter, args := q.periodFilter()
	args = append(args, q.Now.Add(-q.Window).UTC())
	query := fmt.Sprintf("SELECT count(*) FROM enrollments WHERE %s AND enrolled_at > $%d", filter, len(args))
	if _, err := w.queryRow(ctx, query, args, &res.WindowOpenUsers); err != nil {
		return assign.Errorf(assign.EUNAVAILABLE, "warehouse: count the users of %q whose window is open: %v", q.ExperimentID, err)
	}
	if res.WindowOpenUsers > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d users enrolled after %s are left out: their %s window had not closed by %s",
			res.WindowOpenUsers, q.Now.Add(-q.Window).UTC().Format(time.RFC3339), res.Window, closedBy.Format(time.RFC3339)))
	}
	return nil
}

// describeCap fills the cap of res from the aggregates.
func describeCap(q Query, res *Result, aggs []GroupAggregate) {
	if q.CapPercentile == 0 {
		return
	}
	c := &Cap{Percentile: q.CapPercentile, Value: stats.NaN()}
	for _, a := range aggs {
		if !math.IsNaN(a.Cap) {
			c.Value = stats.Float(a.Cap)
		}
		c.Users += a.Capped
	}
	res.Cap = c
	if c.Value == 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the %s percentile of the values is 0: every value is capped at 0, so nothing can differ (choose a higher percentile)",
			Ordinal(q.CapPercentile)))
	}
}

// describeSkewness sets each comparison's skewness and warns where it is
// beyond stats.SkewnessLimit: a few large values carry a mean, and the
// t-based intervals can miss on one side (coverage far below their level,
// found by simulation in package stats). suggestCap adds the remedy. Under
// CUPED the moments are the unadjusted outcome's (the adjustment removes
// what the covariate predicts, rarely the few large values), and the
// warning says so.
func describeSkewness(res *Result, aggs []GroupAggregate, suggestCap, cuped bool) {
	by := make(map[string]GroupAggregate, len(aggs))
	for _, a := range aggs {
		by[a.Group] = a
	}
	ctl := by[res.Control]
	for i := range res.Comparisons {
		c := &res.Comparisons[i]
		tr := by[c.Group]
		sk := stats.DifferenceSkewness(stats.SummaryFromMoments(ctl.N, ctl.Mean, ctl.Variance), stats.SummaryFromMoments(tr.N, tr.Mean, tr.Variance), ctl.Third, tr.Third)
		c.Skewness = stats.Float(sk)
		if math.Abs(sk) <= stats.SkewnessLimit || math.IsNaN(sk) {
			continue
		}
		of := ""
		if cuped {
			of = " before the CUPED adjustment"
		}
		w := fmt.Sprintf("%s vs %s: the difference is skewed%s (skewness %s, beyond %s): a few large values carry the means, "+
			"so its intervals and p-value can be off on one side", c.Group, c.Control, of, strconv.FormatFloat(sk, 'f', 2, 64),
			strconv.FormatFloat(stats.SkewnessLimit, 'g', -1, 64))
		if suggestCap {
			w += "; cap the values (--cap-percentile 99, or cap_percentile in a metrics file) or wait for more users"
		} else {
			w += "; cap at a lower percentile or wait for more users"
		}
		res.Warnings = append(res.Warnings, w)
	}
}

// Ordinal prints a percentile as "99th", "92nd", "99.5th".
func Ordinal(p float64) string {
	s := strconv.FormatFloat(p, 'g', -1, 64)
	switch {
	case strings.HasSuffix(s, "1") && !strings.HasSuffix(s, "11"):
		return s + "st"
	case strings.HasSuffix(s, "2") && !strings.HasSuffix(s, "12"):
		return s + "nd"
	case strings.HasSuffix(s, "3") && !strings.HasSuffix(s, "13"):
		return s + "rd"
	}
	return s + "th"
}

// runtime fills the first enrollment and the runtime of res: to stoppedAt
// for a stopped experiment, else to q.Now (time.Now() when zero). Nobody
// enrolled leaves them empty.
func (w *Warehouse) runtime(ctx context.Context, q Query, res *Result, stoppedAt *time.Time) error {
	var first sql.NullTime
	if _, err := w.queryRow(ctx, `SELECT min(enrolled_at) FROM enrollments WHERE experiment_id = $1 AND NOT override`, []any{q.ExperimentID}, &first); err != nil {
		return assign.Errorf(assign.EUNAVAILABLE, "warehouse: read the first enrollment of %q: %v", q.ExperimentID, err)
	}
	if !first.Valid {
		return nil
	}
	from := first.Time.UTC()
	end := q.now()
	if stoppedAt != nil {
		end = *stoppedAt
	}
	end = end.UTC()
	res.FirstEnrolledAt, res.RuntimeEnd = &from, &end
	res.RuntimeSeconds = max(0, end.Sub(from).Seconds())
	return nil
}

// Input builds the stats input from the configured groups (in their order)
// and the aggregates, and with q.CUPED the adjustment it applied. A group in
// the enrollments but not in the configuration is an error: the warehouse
// would be inconsistent.
func Input(q Query, column string, groups []assign.Group, aggs []GroupAggregate) (stats.Input, *CUPED, error) {
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
		return in, nil, assign.Invalidf("groups", "enrollments in groups the experiment does not have: %s", strings.Join(unknown, ", "))
	}
	if !q.CUPED {
		return in, nil, nil
	}
	// CUPED: every group's outcome, binary ones as 0/1 numbers, adjusted
	// by the covariate.
	moments := make([]stats.CovariateMoments, len(groups))
	info := &CUPED{LookbackSeconds: q.lookback().Seconds(), Unadjusted: make([]stats.Float, len(groups))}
	for i, g := range groups {
		a := by[g.Name]
		moments[i] = stats.CovariateMoments{N: a.N, MeanY: a.Mean, VarY: a.Variance, MeanX: a.MeanX, VarX: a.VarianceX, CovXY: a.Covariance}
		info.Unadjusted[i] = stats.NaN()
		if a.N > 0 {
			info.Unadjusted[i] = stats.Float(a.Mean)
		}
	}
	adj, err := stats.CUPED(moments)
	if err != nil {
		return in, nil, err
	}
	info.Theta, info.VarianceReduction, info.Note = adj.Theta, adj.VarianceReduction, adj.Note
	for i := range in.Groups {
		s := adj.Adjusted[i]
		in.Groups[i].Binary, in.Groups[i].Numeric = nil, &s
	}
	return in, info, nil
}

// Period is an allocation period that has users in an analysis.
type Period struct {
	Allocation
	Until time.Time `json:"until"` // zero for the last allocation
	Users int64     `json:"users"`
}

// ExpectedShares returns, per group of e (in order), the number of users the
// assignment predicts for it when its probabilities changed over time: the
// users analysed (q's window) who enrolled during each allocation, times
// that allocation's probabilities, summed; and the periods that have users.
// A user belongs to the allocation in force at their enrolled_at. enrolled_at
// is Redis's clock and changed_at the admin's assignd clock when it computed
// the change, a moment before the script applied it: users enrolled in that
// gap (milliseconds, plus any skew between the two clocks) count in the
// neighbouring period, which no realistic traffic makes visible in the check. Returns nil shares when e has
// fewer than two allocations or nobody is analysed.
func (w *Warehouse) ExpectedShares(ctx context.Context, e *Experiment, q Query) ([]float64, []Period, error) {
	if len(e.Allocations) < 2 {
		return nil, nil, nil
	}
	filter, args := q.enrollmentFilter(q.now())
	count := func(extra string, more ...any) (int64, error) {
		var n int64
		query := `SELECT count(*) FROM enrollments WHERE ` + filter
		if extra != "" {
			query += fmt.Sprintf(extra, len(args)+1)
		}
		_, err := w.queryRow(ctx, query, append(append([]any{}, args...), more...), &n)
		if err != nil {
			return 0, assign.Errorf(assign.EUNAVAILABLE, "warehouse: count the enrollments of %q by period: %v", e.ID, err)
		}
		return n, nil
	}
	// Users enrolled before each change; the rest are in the last period.
	before := make([]int64, len(e.Allocations)+1)
	for i := 1; i < len(e.Allocations); i++ {
		var err error
		if before[i], err = count(" AND enrolled_at < $%d", e.Allocations[i].From.UTC()); err != nil {
			return nil, nil, err
		}
	}
	var err error
	if before[len(e.Allocations)], err = count(""); err != nil {
		return nil, nil, err
	}
	index := make(map[string]int, len(e.Groups))
	for i, g := range e.Groups {
		index[g.Name] = i
	}
	shares := make([]float64, len(e.Groups))
	var periods []Period
	for i, a := range e.Allocations {
		n := before[i+1] - before[i]
		if n <= 0 {
			continue
		}
		p := Period{Allocation: a, Users: n}
		if i+1 < len(e.Allocations) {
			p.Until = e.Allocations[i+1].From
		}
		periods = append(periods, p)
		for _, g := range a.Groups {
			if j, ok := index[g.Name]; ok {
				shares[j] += float64(n) * g.Probability
			}
		}
	}
	if len(periods) == 0 {
		return nil, nil, nil // nobody analysed: the current probabilities will do
	}
	return shares, periods, nil
}

// periodFlags suggests the assignctl flags that select each period.
func periodFlags(periods []Period) string {
	var parts []string
	for _, p := range periods {
		f := "--enrolled-from " + p.From.UTC().Format(time.RFC3339Nano)
		if !p.Until.IsZero() {
			f += " --enrolled-before " + p.Until.UTC().Format(time.RFC3339Nano)
		}
		parts = append(parts, fmt.Sprintf("version %d, %d users: %s", p.Version, p.Users, f))
	}
	return strings.Join(parts, "; ")
}
