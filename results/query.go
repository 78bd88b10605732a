package results

import (
	"context"
	"fmt"
	"regexp"
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

	// Now ends the runtime of an experiment that has not stopped; zero
	// means time.Now().
	Now time.Time
}

// validateWindow checks the enrollment window.
func (q Query) validateWindow() error {
	if !q.EnrolledFrom.IsZero() && !q.EnrolledBefore.IsZero() && !q.EnrolledFrom.Before(q.EnrolledBefore) {
		return assign.Invalidf("enrolled_before", "enrolled_before (%s) must be after enrolled_from (%s)",
			q.EnrolledBefore.Format(time.RFC3339Nano), q.EnrolledFrom.Format(time.RFC3339Nano))
	}
	return nil
}

// enrollmentFilter returns the condition on the enrollments table that
// selects the users analysed, and its arguments: $1 the experiment id, then
// the window's bounds when set.
func (q Query) enrollmentFilter() (string, []any) {
	cond, args := "experiment_id = $1", []any{q.ExperimentID}
	if !q.EnrolledFrom.IsZero() {
		args = append(args, q.EnrolledFrom.UTC())
		cond += fmt.Sprintf(" AND enrolled_at >= $%d", len(args))
	}
	if !q.EnrolledBefore.IsZero() {
		args = append(args, q.EnrolledBefore.UTC())
		cond += fmt.Sprintf(" AND enrolled_at < $%d", len(args))
	}
	return cond, args
}

// GroupAggregate is what the database computes for one group.
type GroupAggregate struct {
	Group       string
	N           int64
	Conversions int64   // binary
	Mean        float64 // numeric: avg of the per-user values
	Variance    float64 // numeric: var_samp of the per-user values; 0 when n < 2
	Invalid     int64   // binary: users whose converted is not 0 or 1
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
// enrollment window's bounds when set). Both PostgreSQL and DuckDB run it
// as is.
func AggregateSQL(q Query, column string) (string, []any, error) {
	if err := q.validateWindow(); err != nil {
		return "", nil, err
	}
	filter, args := q.enrollmentFilter()
	outcome, err := cleanSQL(q.OutcomeSQL)
	if err != nil {
		return "", nil, err
	}
	on := "CAST(o.user_id AS TEXT) = e.user_id"
	if q.TimeColumn != "" {
		tc, err := quoteIdent(q.TimeColumn)
		if err != nil {
			return "", nil, err
		}
		on += " AND o." + tc + " > e.enrolled_at"
	}
	var perUser, perGroup string
	switch column {
	case ColumnConverted:
		// NULL when the user has no counted event: LEFT JOIN, then 0.
		perUser = "max(CAST(o.converted AS INTEGER))"
		perGroup = `count(*) AS n,
	CAST(sum(coalesce(y, 0)) AS BIGINT) AS conversions,
	CAST(0 AS DOUBLE PRECISION) AS mean,
	CAST(0 AS DOUBLE PRECISION) AS variance,
	count(*) FILTER (WHERE y NOT IN (0, 1)) AS invalid`
	case ColumnValue:
		perUser = "coalesce(sum(CAST(o.value AS DOUBLE PRECISION)), 0)"
		perGroup = `count(*) AS n,
	CAST(0 AS BIGINT) AS conversions,
	avg(y) AS mean,
	coalesce(var_samp(y), 0) AS variance,
	CAST(0 AS BIGINT) AS invalid`
	default:
		return "", nil, fmt.Errorf("results: unknown outcome column %q", column)
	}
	return `WITH o AS (
` + outcome + `
),
e AS (
	SELECT user_id, group_name, enrolled_at FROM enrollments WHERE ` + filter + `
),
u AS (
	SELECT e.group_name, e.user_id, ` + perUser + ` AS y
	FROM e LEFT JOIN o ON ` + on + `
	GROUP BY e.group_name, e.user_id
)
SELECT group_name, ` + perGroup + `
FROM u
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
	query, args, err := AggregateSQL(q, column)
	if err != nil {
		return "", nil, err
	}
	rows, err := w.db.QueryContext(ctx, query, args...)
	if err != nil {
		return "", nil, assign.Errorf(assign.EINVALID, "results query failed: %v", err)
	}
	defer rows.Close()
	var out []GroupAggregate
	for rows.Next() {
		var g GroupAggregate
		if err := rows.Scan(&g.Group, &g.N, &g.Conversions, &g.Mean, &g.Variance, &g.Invalid); err != nil {
			return "", nil, fmt.Errorf("results: read aggregates: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return "", nil, assign.Errorf(assign.EINVALID, "results query failed: %v", err)
	}
	for _, g := range out {
		if g.Invalid > 0 {
			return "", nil, assign.Invalidf("outcome_sql", "converted must be 0 or 1 (or boolean); %d users of group %q have another value", g.Invalid, g.Group)
		}
	}
	return column, out, nil
}
