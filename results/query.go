package results

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
)

// TimeRule is the comparison that counts an event, as printed: strictly
// after the enrollment, as the seed's own analysis query (README,
// docs/warehouse.md) has it.
const TimeRule = "> enrolled_at"

// Outcome columns of the contract.
const (
	ColumnConverted = "converted" // binary outcome
	ColumnValue     = "value"     // numeric outcome
)

// Query is one analysis of an experiment.
type Query struct {
	ExperimentID string

	// OutcomeSQL is the analyst's query (see the package doc): user_id and
	// converted or value, plus TimeColumn when set. A trailing semicolon is
	// allowed; query parameters ($1) are not.
	OutcomeSQL string

	// TimeColumn names the column of OutcomeSQL holding when each event
	// happened; only events strictly after the user's enrolled_at count
	// (TimeRule). A column without a time zone is read as UTC.
	// Empty counts every event (not recommended: see the package doc).
	TimeColumn string

	// Control is the group the others are compared with; empty means the
	// first configured group.
	Control string

	// ConfidenceLevel of the intervals; 0 means 0.95.
	ConfidenceLevel float64

	// LowerIsBetter flips the verdict for outcomes where less is better.
	LowerIsBetter bool

	// Groups overrides the configured groups and probabilities read from the
	// warehouse experiments table (nil: read them).
	Groups []assign.Group

	// EnrolledFrom and EnrolledBefore, when set, keep only the users
	// enrolled in [EnrolledFrom, EnrolledBefore): to analyse one period, for
	// example the one after the last change of the group probabilities.
	EnrolledFrom, EnrolledBefore time.Time

	// Method is stats.MethodSequential or stats.MethodFixed; empty chooses:
	// sequential while the experiment has not stopped (running or paused,
	// or a status nobody knows), fixed once it has.
	Method string

	// Status and MaxSampleSize describe the experiment when Groups is set
	// (read from assignd, say); otherwise they come from the warehouse.
	Status        assign.Status
	MaxSampleSize int64

	// Now ends the runtime of an experiment that has not stopped, and is
	// the moment a Window must have closed by; zero means time.Now().
	Now time.Time

	// Window, when > 0, counts only the events within Window after each
	// user's enrollment (enrolled_at < time <= enrolled_at + Window), and
	// only the users whose window has closed by Now: a user enrolled an hour
	// ago has not had 7 days to order. The others are left out and counted
	// in Result.WindowOpenUsers. Needs TimeColumn.
	Window time.Duration

	// CapPercentile, in (0, 100) when set, caps (winsorizes) each user's
	// numeric outcome at that percentile of every analysed user's value
	// (all groups pooled, so the cap does not depend on the assignment):
	// one whale can no longer decide a revenue experiment. Numeric
	// outcomes only.
	CapPercentile float64

	// CUPED, when set, adjusts the outcome with each user's same outcome
	// counted over CUPEDLookback before they enrolled (the pre-enrollment
	// covariate of Deng et al., 2013), which narrows the intervals in
	// proportion to how well the past predicts the future. Needs TimeColumn.
	CUPED bool
	// CUPEDLookback is how far before enrollment the covariate counts
	// events; 0 means DefaultCUPEDLookback.
	CUPEDLookback time.Duration

	// Platform, when set, analyses only the members enrolled from that
	// platform (web, ios, android, other; NoPlatform for none recorded).
	Platform string
}

// DefaultCUPEDLookback is the covariate's period before enrollment when
// Query.CUPEDLookback is 0, as GrowthBook's default.
const DefaultCUPEDLookback = 14 * 24 * time.Hour

// now is q.Now, or the wall clock when it is zero.
func (q Query) now() time.Time {
	if q.Now.IsZero() {
		return time.Now()
	}
	return q.Now
}

// lookback is the CUPED covariate's period.
func (q Query) lookback() time.Duration {
	if q.CUPEDLookback > 0 {
		return q.CUPEDLookback
	}
	return DefaultCUPEDLookback
}

// validateWindow checks the enrollment window, the outcome window, the cap
// and CUPED.
func (q Query) validateWindow() error {
	if !q.EnrolledFrom.IsZero() && !q.EnrolledBefore.IsZero() && !q.EnrolledFrom.Before(q.EnrolledBefore) {
		return assign.Invalidf("enrolled_before", "enrolled_before (%s) must be after enrolled_from (%s)",
			q.EnrolledBefore.Format(time.RFC3339Nano), q.EnrolledFrom.Format(time.RFC3339Nano))
	}
	switch {
	case q.Window < 0:
		return assign.Invalidf("window", "window must be positive, got %s", q.Window)
	case q.Window > 0 && q.Window < time.Second:
		return assign.Invalidf("window", "window must be at least 1s, got %s", q.Window)
	case q.Window > 0 && q.TimeColumn == "":
		return assign.Invalidf("window", "a window needs the outcome's time column (each event is counted within the window after the user's enrolled_at)")
	case q.CapPercentile != 0 && !(q.CapPercentile > 0 && q.CapPercentile < 100):
		return assign.Invalidf("cap_percentile", "cap_percentile must be in (0, 100), e.g. 99, got %v", q.CapPercentile)
	case q.CUPED && q.TimeColumn == "":
		return assign.Invalidf("cuped", "CUPED needs the outcome's time column (the covariate is the same outcome before each user's enrolled_at)")
	case q.CUPEDLookback < 0 || (q.CUPEDLookback > 0 && q.CUPEDLookback < time.Second):
		return assign.Invalidf("cuped_lookback", "cuped_lookback must be at least 1s, got %s", q.CUPEDLookback)
	}
	return nil
}

// enrollmentFilter returns the condition on the enrollments table that
// selects the users analysed, and its arguments: $1 the experiment id, then
// the window's bounds when set, then the last enrollment whose outcome
// window has closed by now.
func (q Query) enrollmentFilter(now time.Time) (string, []any) {
	cond, args := q.periodFilter()
	if q.Window > 0 {
		args = append(args, now.Add(-q.Window).UTC())
		cond += fmt.Sprintf(" AND enrolled_at <= $%d", len(args))
	}
	return cond, args
}

// periodFilter is enrollmentFilter without the outcome window's condition:
// every member of the enrollment period (not the rows of QA overrides).
func (q Query) periodFilter() (string, []any) {
	// QA overrides' rows are not members: never analysed.
	cond, args := "experiment_id = $1 AND NOT override", []any{q.ExperimentID}
	if !q.EnrolledFrom.IsZero() {
		args = append(args, q.EnrolledFrom.UTC())
		cond += fmt.Sprintf(" AND enrolled_at >= $%d", len(args))
	}
	if !q.EnrolledBefore.IsZero() {
		args = append(args, q.EnrolledBefore.UTC())
		cond += fmt.Sprintf(" AND enrolled_at < $%d", len(args))
	}
	if c, arg := q.platformFilter(len(args) + 1); c != "" {
		args = append(args, arg)
		cond += c
	}
	return cond, args
}

// interval is d as an SQL interval literal both PostgreSQL and DuckDB read.
// It is built from an integer, never from text a user typed.
func interval(d time.Duration) string {
	return fmt.Sprintf("INTERVAL '%d microseconds'", d.Microseconds())
}

// GroupAggregate is what the database computes for one group.
type GroupAggregate struct {
	Group       string
	N           int64
	Conversions int64   // binary
	Mean        float64 // avg of the per-user values (numeric, or binary with CUPED)
	Variance    float64 // var_samp of the per-user values; 0 when n < 2
	Invalid     int64   // binary: users whose converted is not 0 or 1
	// The CUPED covariate (Query.CUPED): the per-user outcome before
	// enrolling, its mean, var_samp and covar_samp with the outcome.
	MeanX, VarianceX, Covariance float64
	// Cap is the value each user's outcome was capped at
	// (Query.CapPercentile), NaN without a cap; CapX the covariate's.
	Cap, CapX float64
	// Capped counts the users whose outcome was above the cap.
	Capped int64
	// Third is the third central moment of the per-user values,
	// avg((y - mean)³): how lopsided they are (stats.DifferenceSkewness).
	Third float64
}

var identPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quoteIdent quotes a column name given on the command line, after checking
// it is a plain identifier: it goes into SQL text, not a parameter.
func quoteIdent(name string) (string, error) {
	if !identPattern.MatchString(name) {
		return "", assign.Invalidf("time_column", "time column %q must be a plain column name (letters, digits, _)", name)
	}
	return `"` + name + `"`, nil
}

// cleanSQL trims the analyst's query so that it can be nested as a CTE.
func cleanSQL(q string) (string, error) {
	q = strings.TrimSpace(q)
	for strings.HasSuffix(q, ";") {
		q = strings.TrimSpace(strings.TrimSuffix(q, ";"))
	}
	if q == "" {
		return "", assign.Invalidf("outcome_sql", "the outcome query is empty")
	}
	return q, nil
}

// OutcomeColumn runs the outcome query without reading rows and returns
// which outcome column it has: ColumnConverted or ColumnValue. It checks the
// contract: user_id, exactly one of converted and value, and the time column
// when one is given.
func (w *Warehouse) OutcomeColumn(ctx context.Context, q Query) (string, error) {
	outcome, err := cleanSQL(q.OutcomeSQL)
	if err != nil {
		return "", err
	}
	cols, _, err := w.describe(ctx, outcome)
	if err != nil {
		return "", err
	}
	have := make(map[string]bool, len(cols))
	for _, c := range cols {
		have[strings.ToLower(c)] = true
	}
	if !have["user_id"] {
		return "", assign.Invalidf("outcome_sql", "the outcome query must return a user_id column (it returns %s)", strings.Join(cols, ", "))
	}
	if q.TimeColumn != "" && !have[strings.ToLower(q.TimeColumn)] {
		return "", assign.Invalidf("time_column", "the outcome query has no column %q (it returns %s)", q.TimeColumn, strings.Join(cols, ", "))
	}
	switch {
	case have[ColumnConverted] && have[ColumnValue]:
		return "", assign.Invalidf("outcome_sql", "the outcome query returns both converted and value: keep one")
	case have[ColumnConverted]:
		return ColumnConverted, nil
	case have[ColumnValue]:
		return ColumnValue, nil
	}
	return "", assign.Invalidf("outcome_sql", "the outcome query must return a converted (0/1) or a value (numeric) column (it returns %s)", strings.Join(cols, ", "))
}

// describe runs the outcome query without reading rows and returns its
// columns and their database types (upper case, by lower-case name).
func (w *Warehouse) describe(ctx context.Context, outcome string) ([]string, map[string]string, error) {
	rows, err := w.db.QueryContext(ctx, "SELECT * FROM ("+outcome+") AS o LIMIT 0")
	if err != nil {
		if ctx.Err() != nil || w.db.PingContext(ctx) != nil {
			return nil, nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse unavailable: %v", err)
		}
		return nil, nil, assign.Invalidf("outcome_sql", "the outcome query fails: %v", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	types := map[string]string{}
	if cts, err := rows.ColumnTypes(); err == nil {
		for _, t := range cts {
			types[strings.ToLower(t.Name())] = strings.ToUpper(t.DatabaseTypeName())
		}
	}
	return cols, types, nil
}

// TimeColumnType returns the database type of the query's time column
// (TIMESTAMPTZ, TIMESTAMP, DATE, ...), "" without one.
func (w *Warehouse) TimeColumnType(ctx context.Context, q Query) (string, error) {
	if q.TimeColumn == "" {
		return "", nil
	}
	outcome, err := cleanSQL(q.OutcomeSQL)
	if err != nil {
		return "", err
	}
	_, types, err := w.describe(ctx, outcome)
	if err != nil {
		return "", err
	}
	return types[strings.ToLower(q.TimeColumn)], nil
}

// zoned reports whether a time column's database type carries its zone
// (an instant): TIMESTAMPTZ in PostgreSQL and DuckDB. TIMESTAMP, DATE and
// the like are wall-clock values, which the warehouse reads as UTC (the
// session zone Open sets).
func zoned(typ string) bool {
	return strings.Contains(typ, "TZ") || strings.Contains(typ, "TIME ZONE")
}

// AggregateSQL returns the SQL that aggregates the outcome per group for the
// outcome column kind, and its arguments ($1 the experiment id, then the
// enrollment window's bounds when set, then the last enrollment whose
// outcome window has closed by now). Both PostgreSQL and DuckDB run it as
// is. Its columns are those of GroupAggregate, in order.
func AggregateSQL(q Query, column string, now time.Time) (string, []any, error) {
	if err := q.validateWindow(); err != nil {
		return "", nil, err
	}
	filter, args := q.enrollmentFilter(now)
	outcome, err := cleanSQL(q.OutcomeSQL)
	if err != nil {
		return "", nil, err
	}
	if q.CapPercentile != 0 && column != ColumnValue {
		return "", nil, assign.Invalidf("cap_percentile", "a cap applies to a numeric outcome (value), not to converted")
	}
	// after counts an event for the outcome, before for the covariate.
	on := "CAST(o.user_id AS TEXT) = e.user_id"
	after, before := "", ""
	if q.TimeColumn != "" {
		tc, err := quoteIdent(q.TimeColumn)
		if err != nil {
			return "", nil, err
		}
		after = "o." + tc + " > e.enrolled_at"
		if q.Window > 0 {
			after += " AND o." + tc + " <= e.enrolled_at + " + interval(q.Window)
		}
		before = "o." + tc + " < e.enrolled_at AND o." + tc + " >= e.enrolled_at - " + interval(q.lookback())
	}
	// Per user: y the outcome, x the covariate (0 without CUPED). Users
	// without a counted event are NULL after the LEFT JOIN, then 0.
	var y, x string
	switch column {
	case ColumnConverted:
		y, x = "max(CAST(o.converted AS INTEGER))", "0"
		if q.CUPED {
			y = "max(CASE WHEN " + after + " THEN CAST(o.converted AS INTEGER) END)"
			x = "max(CASE WHEN " + before + " THEN CAST(o.converted AS INTEGER) END)"
		}
	case ColumnValue:
		y, x = "sum(CAST(o.value AS DOUBLE PRECISION))", "0"
		if q.CUPED {
			y = "sum(CASE WHEN " + after + " THEN CAST(o.value AS DOUBLE PRECISION) END)"
			x = "sum(CASE WHEN " + before + " THEN CAST(o.value AS DOUBLE PRECISION) END)"
		}
	default:
		return "", nil, fmt.Errorf("results: unknown outcome column %q", column)
	}
	switch {
	case q.CUPED:
		on += " AND ((" + after + ") OR (" + before + "))"
	case after != "":
		on += " AND " + after
	}
	// The cap: a percentile of every analysed user's value, groups pooled.
	capCTE, capped := "", `u AS (SELECT group_name, user_id, y, x, CAST(NULL AS DOUBLE PRECISION) AS cap_y, CAST(NULL AS DOUBLE PRECISION) AS cap_x, 0 AS over FROM r)`
	if q.CapPercentile != 0 {
		p := strconv.FormatFloat(q.CapPercentile/100, 'g', -1, 64)
		capCTE = `c AS (
	SELECT percentile_cont(` + p + `) WITHIN GROUP (ORDER BY y) AS cap_y,
		percentile_cont(` + p + `) WITHIN GROUP (ORDER BY x) AS cap_x
	FROM r
),
`
		capped = `u AS (
	SELECT r.group_name, r.user_id, least(r.y, c.cap_y) AS y, least(r.x, c.cap_x) AS x, c.cap_y, c.cap_x,
		CASE WHEN r.y > c.cap_y THEN 1 ELSE 0 END AS over
	FROM r CROSS JOIN c
)`
	}
	perGroup := `count(*) AS n,
	CAST(0 AS BIGINT) AS conversions,
	coalesce(avg(y), 0) AS mean,
	coalesce(var_samp(y), 0) AS variance,
	CAST(0 AS BIGINT) AS invalid,`
	if column == ColumnConverted {
		perGroup = `count(*) AS n,
	CAST(sum(y) AS BIGINT) AS conversions,
	coalesce(avg(CAST(y AS DOUBLE PRECISION)), 0) AS mean,
	coalesce(var_samp(CAST(y AS DOUBLE PRECISION)), 0) AS variance,
	count(*) FILTER (WHERE y NOT IN (0, 1)) AS invalid,`
	}
	return `WITH o AS (
` + outcome + `
),
e AS (
	SELECT user_id, group_name, enrolled_at FROM enrollments WHERE ` + filter + `
),
r AS (
	SELECT e.group_name, e.user_id, coalesce(` + y + `, 0) AS y, coalesce(` + x + `, 0) AS x
	FROM e LEFT JOIN o ON ` + on + `
	GROUP BY e.group_name, e.user_id
),
` + capCTE + capped + `,
m AS (
	SELECT u.*, avg(CAST(y AS DOUBLE PRECISION)) OVER (PARTITION BY group_name) AS group_mean FROM u
)
SELECT group_name, ` + perGroup + `
	coalesce(avg(CAST(x AS DOUBLE PRECISION)), 0) AS mean_x,
	coalesce(var_samp(CAST(x AS DOUBLE PRECISION)), 0) AS variance_x,
	coalesce(covar_samp(CAST(x AS DOUBLE PRECISION), CAST(y AS DOUBLE PRECISION)), 0) AS covariance,
	CAST(max(cap_y) AS DOUBLE PRECISION) AS cap,
	CAST(max(cap_x) AS DOUBLE PRECISION) AS cap_x,
	CAST(sum(over) AS BIGINT) AS capped,
	coalesce(avg(power(CAST(y AS DOUBLE PRECISION) - group_mean, 3)), 0) AS third
FROM m
GROUP BY group_name
ORDER BY group_name`, args, nil
}

// Aggregate runs the per-group aggregation and returns the outcome column
// kind and one row per group that has enrollments.
func (w *Warehouse) Aggregate(ctx context.Context, q Query) (string, []GroupAggregate, error) {
	column, err := w.OutcomeColumn(ctx, q)
	if err != nil {
		return "", nil, err
	}
	query, args, err := AggregateSQL(q, column, q.now())
	if err != nil {
		return "", nil, err
	}
	rows, err := w.db.QueryContext(ctx, query, args...)
	if err != nil {
		return "", nil, w.queryError(ctx, err)
	}
	defer rows.Close()
	var out []GroupAggregate
	for rows.Next() {
		var g GroupAggregate
		var capY, capX sql.NullFloat64
		if err := rows.Scan(&g.Group, &g.N, &g.Conversions, &g.Mean, &g.Variance, &g.Invalid,
			&g.MeanX, &g.VarianceX, &g.Covariance, &capY, &capX, &g.Capped, &g.Third); err != nil {
			return "", nil, fmt.Errorf("results: read aggregates: %w", err)
		}
		g.Cap, g.CapX = nullNaN(capY), nullNaN(capX)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return "", nil, w.queryError(ctx, err)
	}
	for _, g := range out {
		if g.Invalid > 0 {
			return "", nil, assign.Invalidf("outcome_sql", "converted must be 0 or 1 (or boolean); %d users of group %q have another value", g.Invalid, g.Group)
		}
	}
	return column, out, nil
}

// queryError classifies a failed analysis query: the analyst's SQL at fault
// (EINVALID) while the warehouse still answers, else the warehouse is
// unavailable (EUNAVAILABLE), which no fix of the query would help.
func (w *Warehouse) queryError(ctx context.Context, err error) error {
	if ctx.Err() != nil || w.db.PingContext(ctx) != nil {
		return assign.Errorf(assign.EUNAVAILABLE, "warehouse unavailable: %v", err)
	}
	return assign.Errorf(assign.EINVALID, "results query failed: %v", err)
}

// nullNaN is a NULL float as NaN.
func nullNaN(f sql.NullFloat64) float64 {
	if !f.Valid {
		return math.NaN()
	}
	return f.Float64
}
