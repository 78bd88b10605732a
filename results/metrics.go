package results

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// Metric types, roles and directions of a metrics file.
const (
	MetricBinary  = "binary"  // the query returns converted (0/1)
	MetricNumeric = "numeric" // the query returns value

	RoleGoal      = "goal"      // what the experiment is meant to move
	RoleGuardrail = "guardrail" // what it must not harm

	DirectionHigher = "higher" // higher is better
	DirectionLower  = "lower"  // lower is better (refunds, time to checkout)
)

// MaxMetrics bounds a metrics file: each metric is a query of the warehouse.
const MaxMetrics = 50

// MetricsFile is the metrics an experiment's results show, one analysis
// each, as the metric libraries of GrowthBook or Statsig. It is read from
// YAML (or JSON, which YAML includes):
//
//	correction: holm        # across the goal metrics: holm (default), benjamini-hochberg or none
//	metrics:
//	  - name: ordered
//	    description: placed an order within 7 days
//	    type: binary         # binary (the query returns converted) or numeric (value)
//	    role: goal           # goal (default) or guardrail
//	    direction: higher    # higher (default) or lower is better
//	    time_column: ordered_at
//	    window: 7d           # optional: events within 7 days after enrolling
//	    sql: SELECT user_id, ordered_at, 1 AS converted FROM orders
//	  - name: revenue
//	    type: numeric
//	    time_column: ordered_at
//	    window: 7d
//	    cap_percentile: 99   # optional: winsorize each user's value
//	    cuped: true          # optional: CUPED with the 14 days before enrolling
//	    sql: SELECT user_id, ordered_at, amount AS value FROM orders
//
// Unknown keys are errors, so that a typo is not silently ignored.
type MetricsFile struct {
	// Correction adjusts the p-values of every goal metric's comparisons
	// together (stats.AdjustFamily): looking at several metrics and
	// declaring a winner on any one of them otherwise inflates false
	// winners. Guardrails are adjusted only among their own groups: a
	// correction would make them slower to raise the alarm.
	Correction string   `yaml:"correction" json:"correction"`
	Metrics    []Metric `yaml:"metrics" json:"metrics"`
}

// Metric is one metric of a metrics file.
type Metric struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	Type        string `yaml:"type" json:"type"`
	Role        string `yaml:"role,omitempty" json:"role"`
	Direction   string `yaml:"direction,omitempty" json:"direction"`
	// SQL is the outcome query (the package doc's contract).
	SQL        string `yaml:"sql" json:"sql"`
	TimeColumn string `yaml:"time_column,omitempty" json:"time_column,omitempty"`
	// Window and CUPEDLookback are durations such as 7d or 36h
	// (ParseDuration).
	Window        string  `yaml:"window,omitempty" json:"window,omitempty"`
	CapPercentile float64 `yaml:"cap_percentile,omitempty" json:"cap_percentile,omitempty"`
	CUPED         bool    `yaml:"cuped,omitempty" json:"cuped,omitempty"`
	CUPEDLookback string  `yaml:"cuped_lookback,omitempty" json:"cuped_lookback,omitempty"`
}

var metricNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// LoadMetrics reads and validates a metrics file; "-" is not special.
func LoadMetrics(path string) (*MetricsFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, assign.Errorf(assign.EINVALID, "metrics file: %v", err)
	}
	f, err := ParseMetrics(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ParseMetrics reads and validates a metrics file's content, filling the
// defaults (correction holm, role goal, direction higher). Returns EINVALID
// naming the field at fault (metrics[1].window).
func ParseMetrics(data []byte) (*MetricsFile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f MetricsFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, assign.Invalidf("metrics", "the metrics file is empty")
		}
		return nil, assign.Invalidf("metrics", "the metrics file is not valid YAML: %v", err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate checks f and fills its defaults.
func (f *MetricsFile) Validate() error {
	switch f.Correction {
	case "":
		f.Correction = stats.CorrectionHolm
	case stats.CorrectionHolm, stats.CorrectionBH, stats.CorrectionNone:
	default:
		return assign.Invalidf("correction", "correction must be %s, %s or %s, got %q", stats.CorrectionHolm, stats.CorrectionBH, stats.CorrectionNone, f.Correction)
	}
	switch n := len(f.Metrics); {
	case n == 0:
		return assign.Invalidf("metrics", "the metrics file has no metrics")
	case n > MaxMetrics:
		return assign.Invalidf("metrics", "at most %d metrics, got %d", MaxMetrics, n)
	}
	seen := map[string]bool{}
	for i := range f.Metrics {
		m := &f.Metrics[i]
		field := fmt.Sprintf("metrics[%d]", i)
		if !metricNamePattern.MatchString(m.Name) {
			return assign.Invalidf(field+".name", "%s.name must be 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit, got %q", field, m.Name)
		} else if seen[m.Name] {
			return assign.Invalidf(field+".name", "metric %q appears twice", m.Name)
		}
		seen[m.Name] = true
		if err := assign.ValidateText(field+".description", m.Description); err != nil {
			return err
		}
		if _, err := m.Query(Query{}); err != nil {
			var e *assign.Error
			if errors.As(err, &e) && !strings.HasPrefix(e.Field, "metrics[") {
				e.Field = field + "." + e.Field
				e.Message = fmt.Sprintf("metric %q: %s", m.Name, e.Message)
			}
			return err
		}
		if m.Role == "" {
			m.Role = RoleGoal
		}
		if m.Direction == "" {
			m.Direction = DirectionHigher
		}
	}
	return nil
}

// Query returns the analysis of m for an experiment: base's experiment,
// control, confidence, method, enrollment period and time, with m's
// outcome, time column, window, cap and CUPED. It checks m's fields.
func (m Metric) Query(base Query) (Query, error) {
	q := base
	q.OutcomeSQL, q.TimeColumn = m.SQL, m.TimeColumn
	q.CapPercentile, q.CUPED = m.CapPercentile, m.CUPED
	switch m.Type {
	case MetricBinary, MetricNumeric:
	default:
		return q, assign.Invalidf("type", "type must be %s or %s, got %q", MetricBinary, MetricNumeric, m.Type)
	}
	switch m.Role {
	case "", RoleGoal, RoleGuardrail:
	default:
		return q, assign.Invalidf("role", "role must be %s or %s, got %q", RoleGoal, RoleGuardrail, m.Role)
	}
	switch m.Direction {
	case "", DirectionHigher:
		q.LowerIsBetter = false
	case DirectionLower:
		q.LowerIsBetter = true
	default:
		return q, assign.Invalidf("direction", "direction must be %s or %s (is better), got %q", DirectionHigher, DirectionLower, m.Direction)
	}
	if strings.TrimSpace(m.SQL) == "" {
		return q, assign.Invalidf("sql", "sql (the outcome query) is required")
	}
	if m.TimeColumn != "" {
		if _, err := quoteIdent(m.TimeColumn); err != nil {
			return q, err
		}
	}
	if m.Window != "" {
		d, err := ParseDuration(m.Window)
		if err != nil {
			return q, assign.Invalidf("window", "window: %v", err)
		}
		q.Window = d
	}
	if m.CUPEDLookback != "" {
		d, err := ParseDuration(m.CUPEDLookback)
		if err != nil {
			return q, assign.Invalidf("cuped_lookback", "cuped_lookback: %v", err)
		}
		q.CUPEDLookback = d
	}
	if m.CapPercentile != 0 && m.Type != MetricNumeric {
		return q, assign.Invalidf("cap_percentile", "cap_percentile applies to a numeric metric")
	}
	if err := q.validateWindow(); err != nil {
		return q, err
	}
	return q, nil
}

// MetricsResult is the analysis of every metric of a metrics file.
type MetricsResult struct {
	ExperimentID string `json:"experiment_id"`
	// Correction is what adjusted the goal metrics' p-values together;
	// GoalComparisons is the size of that family.
	Correction      string         `json:"correction"`
	GoalComparisons int            `json:"goal_comparisons"`
	Metrics         []MetricResult `json:"metrics"`
	// Warnings are sentences about the run as a whole: a goal metric that
	// failed and still counts in the correction.
	Warnings []string `json:"warnings"`
}

// MetricResult is one metric's analysis: Result (embedded, so its fields
// are at the top level in JSON), or Error when the metric's query failed.
type MetricResult struct {
	Metric Metric `json:"metric"`
	// Error says why this metric could not be analysed (a query that
	// breaks the contract or fails); the other metrics still are.
	Error string `json:"error,omitempty"`
	// Harmed is set on a guardrail with a significant change in the wrong
	// direction; HarmedGroups names the groups that did the harm.
	Harmed       bool     `json:"harmed"`
	HarmedGroups []string `json:"harmed_groups"`
	*Result
}

// Harms reports whether comparison c is a significant change of m in the
// wrong direction: what a guardrail is there to catch.
func Harms(m Metric, c stats.Comparison) bool {
	worse := c.Difference < 0
	if m.Direction == DirectionLower {
		worse = c.Difference > 0
	}
	return c.Significant && worse
}

// Failed reports whether any metric could not be analysed.
func (r *MetricsResult) Failed() bool {
	for _, m := range r.Metrics {
		if m.Error != "" {
			return true
		}
	}
	return false
}

// AnalyzeMetrics analyses every metric of f for the experiment of base
// (see Metric.Query for what base supplies), then adjusts the goal metrics'
// p-values together with f's correction. A metric whose query is invalid
// gets its Error and the others are analysed; an experiment the warehouse
// does not know (ENOTFOUND) or a warehouse that fails (EUNAVAILABLE) fails
// the whole.
func (w *Warehouse) AnalyzeMetrics(ctx context.Context, base Query, f *MetricsFile) (*MetricsResult, error) {
	if err := assign.ValidateID(base.ExperimentID); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	// One now for every metric: the same windows close for all.
	if base.Now.IsZero() {
		base.Now = time.Now()
	}
	out := &MetricsResult{ExperimentID: base.ExperimentID, Correction: f.Correction, Warnings: []string{}}
	var goals []stats.FamilyMember
	for _, m := range f.Metrics {
		mr := MetricResult{Metric: m}
		q, err := m.Query(base)
		if err == nil {
			mr.Result, err = w.Analyze(ctx, q)
		}
		switch code := assign.ErrorCode(err); {
		case err == nil:
		case code == assign.EINVALID:
			mr.Error, mr.Result = assign.ErrorMessage(err), nil
		default:
			return nil, fmt.Errorf("metric %s: %w", m.Name, err)
		}
		if mr.Result != nil {
			if want := map[string]string{MetricBinary: ColumnConverted, MetricNumeric: ColumnValue}[m.Type]; mr.OutcomeColumn != want {
				mr.Error = fmt.Sprintf("a %s metric's query must return %s, this one returns %s", m.Type, want, mr.OutcomeColumn)
				mr.Result = nil
			}
		}
		out.Metrics = append(out.Metrics, mr)
	}
	// Every comparison has the same groups: a failed goal metric's count is
	// any analysed one's.
	perMetric := 0
	for _, mr := range out.Metrics {
		if mr.Result != nil {
			perMetric = len(mr.Comparisons)
			break
		}
	}
	for i := range out.Metrics {
		mr := &out.Metrics[i]
		if mr.Metric.Role != RoleGoal {
			continue
		}
		if mr.Result == nil {
			goals = append(goals, stats.FamilyMember{Missing: perMetric})
			out.GoalComparisons += perMetric
			if perMetric > 0 {
				out.Warnings = append(out.Warnings, fmt.Sprintf("goal metric %s could not be analysed: the correction counts its %d comparisons as not significant (p = 1), so the other goals are adjusted for the whole family", mr.Metric.Name, perMetric))
			}
			continue
		}
		goals = append(goals, stats.FamilyMember{Report: mr.Report, LowerIsBetter: mr.Metric.Direction == DirectionLower})
		out.GoalComparisons += len(mr.Comparisons)
	}
	if err := stats.AdjustFamily(goals, f.Correction); err != nil {
		return nil, err
	}
	for i := range out.Metrics {
		mr := &out.Metrics[i]
		if mr.Result == nil || mr.Metric.Role != RoleGuardrail {
			continue
		}
		mr.HarmedGroups = []string{}
		for _, c := range mr.Comparisons {
			if Harms(mr.Metric, c) {
				mr.Harmed = true
				mr.HarmedGroups = append(mr.HarmedGroups, c.Group)
			}
		}
	}
	return out, nil
}
