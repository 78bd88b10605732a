package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/metrics"
)

func TestMetrics_ObserveDecision(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.SetMaxExperimentLabels(2)

	m.ObserveDecision(&assign.Enrollment{ExperimentID: "a", Enrolled: true, Group: "control"})
	m.ObserveDecision(&assign.Enrollment{ExperimentID: "a", Enrolled: true, Group: "control"})
	m.ObserveDecision(&assign.Enrollment{ExperimentID: "a", Enrolled: true, Group: "new", RolledOut: true})
	m.ObserveDecision(&assign.Enrollment{ExperimentID: "a", Reason: assign.ReasonSampleFull})
	m.ObserveDecision(&assign.Enrollment{ExperimentID: "a", Enrolled: true, Group: "control", Override: true}) // QA: not a member
	m.ObserveDecision(&assign.Enrollment{ExperimentID: "b", Reason: assign.ReasonNotSampled})
	// Past the cap of two labelled experiments, c and d fold into "_other".
	m.ObserveDecision(&assign.Enrollment{ExperimentID: "c", Reason: assign.ReasonNotSampled})
	m.ObserveDecision(&assign.Enrollment{ExperimentID: "d", Reason: assign.ReasonNotSampled})

	want := `
# HELP assign_enrollment_decisions_total Enrollment decisions by experiment and outcome (enrolled, rolled_out and override carry the group).
# TYPE assign_enrollment_decisions_total counter
assign_enrollment_decisions_total{experiment="_other",group="",outcome="not_sampled"} 2
assign_enrollment_decisions_total{experiment="a",group="control",outcome="enrolled"} 2
assign_enrollment_decisions_total{experiment="a",group="",outcome="sample_full"} 1
assign_enrollment_decisions_total{experiment="a",group="control",outcome="override"} 1
assign_enrollment_decisions_total{experiment="a",group="new",outcome="rolled_out"} 1
assign_enrollment_decisions_total{experiment="b",group="",outcome="not_sampled"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "assign_enrollment_decisions_total"); err != nil {
		t.Fatal(err)
	}
}

func TestMetrics_RequestsScriptTokens(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.ObserveRequest("enroll", 200, 2*time.Millisecond)
	m.ObserveRequest("enroll", 200, 3*time.Millisecond)
	m.ObserveRequest("enroll", 503, 50*time.Millisecond)
	m.ObserveScript(time.Millisecond, nil)
	m.ObserveScript(50*time.Millisecond, assign.Errorf(assign.EUNAVAILABLE, "deadline"))
	m.ObserveRedisError(errors.New("READONLY"))
	m.ObserveTokenRejection("expired")
	m.ObserveTokenRejection("expired")

	want := `
# HELP assign_http_requests_total HTTP requests by route and status code.
# TYPE assign_http_requests_total counter
assign_http_requests_total{code="200",route="enroll"} 2
assign_http_requests_total{code="503",route="enroll"} 1
# HELP assign_redis_errors_total Failed Redis calls by kind: timeout (deadline missed or no connection), oom (Redis out of memory refused a write) or error.
# TYPE assign_redis_errors_total counter
assign_redis_errors_total{kind="error"} 1
assign_redis_errors_total{kind="oom"} 0
assign_redis_errors_total{kind="timeout"} 1
# HELP assign_auth_token_rejections_total User tokens refused, by reason.
# TYPE assign_auth_token_rejections_total counter
assign_auth_token_rejections_total{reason="expired"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"assign_http_requests_total", "assign_redis_errors_total", "assign_auth_token_rejections_total"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.CollectAndCount(reg, "assign_http_request_duration_seconds"); got != 1 {
		t.Fatalf("request duration series=%d, want 1 (route enroll)", got)
	}
	if got := testutil.CollectAndCount(reg, "assign_redis_script_duration_seconds"); got != 1 {
		t.Fatalf("script duration series=%d, want 1", got)
	}
	// The runtime and process collectors are there too.
	if got := testutil.CollectAndCount(reg, "go_goroutines"); got != 1 {
		t.Fatalf("go_goroutines series=%d, want 1", got)
	}
}

// TestMetrics_NoAllocations checks the hot path once labels have been seen:
// pre-resolved children mean observing allocates nothing.
func TestMetrics_NoAllocations(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry())
	e := &assign.Enrollment{ExperimentID: "a", Enrolled: true, Group: "control"}
	m.ObserveDecision(e)
	m.ObserveRequest("enroll", 200, time.Millisecond)
	if n := testing.AllocsPerRun(1000, func() {
		m.ObserveDecision(e)
		m.ObserveRequest("enroll", 200, time.Millisecond)
	}); n != 0 {
		t.Fatalf("allocations per observation = %v, want 0", n)
	}
}

func TestExperimentCollector(t *testing.T) {
	calls := 0
	fail := false
	list := func(ctx context.Context) ([]*assign.Experiment, error) {
		calls++
		if fail {
			return nil, errors.New("redis down")
		}
		return []*assign.Experiment{
			{ID: "a", MaxSampleSize: 100, Status: assign.StatusRunning,
				Groups: []assign.Group{{Name: "x", Probability: .5}, {Name: "y", Probability: .5}},
				Stats:  &assign.ExperimentStats{Enrolled: 30, PerGroup: map[string]int64{"x": 10, "y": 20}}},
			{ID: "b", MaxSampleSize: 10, Status: assign.StatusPaused,
				Groups: []assign.Group{{Name: "x", Probability: 1}},
				Stats:  &assign.ExperimentStats{Enrolled: 10, PerGroup: map[string]int64{"x": 10}}},
		}, nil
	}
	c := metrics.NewExperimentCollector(list)
	c.TTL = time.Hour
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)

	want := `
# HELP assign_experiment_fill_ratio Members over maximum sample size (1 = full), by experiment.
# TYPE assign_experiment_fill_ratio gauge
assign_experiment_fill_ratio{experiment="a"} 0.3
assign_experiment_fill_ratio{experiment="b"} 1
# HELP assign_experiment_members Members enrolled, by experiment and group.
# TYPE assign_experiment_members gauge
assign_experiment_members{experiment="a",group="x"} 10
assign_experiment_members{experiment="a",group="y"} 20
assign_experiment_members{experiment="b",group="x"} 10
# HELP assign_experiments Experiments by status.
# TYPE assign_experiments gauge
assign_experiments{status="paused"} 1
assign_experiments{status="running"} 1
assign_experiments{status="stopped"} 0
`
	names := []string{"assign_experiment_fill_ratio", "assign_experiment_members", "assign_experiments"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	// Cached: a second scrape within the TTL does not list again.
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	} else if calls != 1 {
		t.Fatalf("lister called %d times, want 1 (cached)", calls)
	}

	// A failed refresh keeps the last good values and counts the failure.
	c.TTL = 0
	fail = true
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	// Reading the counter is a second scrape during the outage: two failures.
	if got := testutil.ToFloat64(metricOnly{c, "assign_experiment_scrape_errors_total"}); got != 2 {
		t.Fatalf("scrape errors=%v, want 2", got)
	}
}

// metricOnly narrows a collector to one metric family for testutil.ToFloat64.
type metricOnly struct {
	c    prometheus.Collector
	name string
}

func (m metricOnly) Describe(ch chan<- *prometheus.Desc) { m.c.Describe(ch) }
func (m metricOnly) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 100)
	go func() { m.c.Collect(all); close(all) }()
	for metric := range all {
		if strings.Contains(metric.Desc().String(), `"`+m.name+`"`) {
			ch <- metric
		}
	}
}

func TestRedisUpAndExporterCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	var down bool
	reg.MustRegister(metrics.NewRedisUp(func(ctx context.Context) error {
		if down {
			return errors.New("connection refused")
		}
		return nil
	}, time.Second))
	snapErr := error(nil)
	reg.MustRegister(metrics.NewExporterCollector(func(ctx context.Context) (metrics.ExporterSnapshot, error) {
		return metrics.ExporterSnapshot{Rows: 10, Batches: 2, Backlog: 5, Pending: 3, OldestPendingAge: 1500 * time.Millisecond}, snapErr
	}))
	want := `
# HELP assign_redis_up 1 when Redis answered a PING at the last scrape, else 0.
# TYPE assign_redis_up gauge
assign_redis_up 1
# HELP assign_exporter_rows_total Enrollment rows written to the warehouse (duplicates ignored by the table included).
# TYPE assign_exporter_rows_total counter
assign_exporter_rows_total 10
# HELP assign_exporter_oldest_pending_age_seconds Age of the oldest entry not yet acknowledged (0 when none).
# TYPE assign_exporter_oldest_pending_age_seconds gauge
assign_exporter_oldest_pending_age_seconds 1.5
# HELP assign_exporter_backlog_up 1 when the backlog could be read from Redis at the last scrape.
# TYPE assign_exporter_backlog_up gauge
assign_exporter_backlog_up 1
`
	names := []string{"assign_redis_up", "assign_exporter_rows_total", "assign_exporter_oldest_pending_age_seconds", "assign_exporter_backlog_up"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	down, snapErr = true, errors.New("redis down")
	want = `
# HELP assign_redis_up 1 when Redis answered a PING at the last scrape, else 0.
# TYPE assign_redis_up gauge
assign_redis_up 0
# HELP assign_exporter_rows_total Enrollment rows written to the warehouse (duplicates ignored by the table included).
# TYPE assign_exporter_rows_total counter
assign_exporter_rows_total 10
# HELP assign_exporter_backlog_up 1 when the backlog could be read from Redis at the last scrape.
# TYPE assign_exporter_backlog_up gauge
assign_exporter_backlog_up 0
`
	// While Redis is down the backlog gauges are absent rather than wrong.
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), append(names, "assign_exporter_backlog_entries")...); err != nil {
		t.Fatal(err)
	}
}

type enrollFunc func(ctx context.Context, req assign.EnrollRequest) (*assign.Enrollment, error)

func (f enrollFunc) Enroll(ctx context.Context, req assign.EnrollRequest) (*assign.Enrollment, error) {
	return f(ctx, req)
}

func TestInstrumentEnrollments(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	errs := []error{nil, assign.Errorf(assign.ENOTFOUND, "no"), assign.Errorf(assign.EUNAVAILABLE, "slow"), errors.New("boom")}
	i := 0
	svc := m.InstrumentEnrollments(enrollFunc(func(ctx context.Context, req assign.EnrollRequest) (*assign.Enrollment, error) {
		err := errs[i]
		i++
		return &assign.Enrollment{ExperimentID: req.ExperimentID}, err
	}))
	for range errs {
		_, _ = svc.Enroll(context.Background(), assign.EnrollRequest{ExperimentID: "e"})
	}
	want := `
# HELP assign_redis_errors_total Failed Redis calls by kind: timeout (deadline missed or no connection), oom (Redis out of memory refused a write) or error.
# TYPE assign_redis_errors_total counter
assign_redis_errors_total{kind="error"} 1
assign_redis_errors_total{kind="oom"} 0
assign_redis_errors_total{kind="timeout"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "assign_redis_errors_total"); err != nil {
		t.Fatal(err)
	}
	// Every call is timed, including the client error.
	if got := histogramCount(t, reg, "assign_redis_script_duration_seconds"); got != 4 {
		t.Fatalf("script observations=%d, want 4", got)
	}
}

// batchFunc is an enrollment service with the batch form.
type batchFunc struct {
	enrollFunc
	many func(ctx context.Context, reqs []assign.EnrollRequest) []assign.EnrollResult
}

func (b batchFunc) EnrollMany(ctx context.Context, reqs []assign.EnrollRequest) []assign.EnrollResult {
	return b.many(ctx, reqs)
}

// The instrumented service keeps the batch form of the service it wraps
// (one call, not one per experiment) and counts the batch once, failed
// with its first Redis error; without a batch form it runs Enroll each.
func TestInstrumentEnrollments_Batch(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	var batches, singles int
	inner := batchFunc{
		enrollFunc: func(ctx context.Context, req assign.EnrollRequest) (*assign.Enrollment, error) {
			singles++
			return &assign.Enrollment{ExperimentID: req.ExperimentID}, nil
		},
		many: func(ctx context.Context, reqs []assign.EnrollRequest) []assign.EnrollResult {
			batches++
			return []assign.EnrollResult{{Enrollment: &assign.Enrollment{ExperimentID: "a"}},
				{Err: assign.Errorf(assign.EUNAVAILABLE, "slow")}, {Err: assign.Errorf(assign.ENOTFOUND, "no")}}
		},
	}
	svc, ok := m.InstrumentEnrollments(inner).(assign.BatchEnrollmentService)
	if !ok {
		t.Fatal("the instrumented service has no batch form")
	}
	out := svc.EnrollMany(context.Background(), []assign.EnrollRequest{{ExperimentID: "a"}, {ExperimentID: "b"}, {ExperimentID: "c"}})
	if len(out) != 3 || batches != 1 || singles != 0 {
		t.Fatalf("%d answers, %d batches, %d single calls: want 3, 1, 0", len(out), batches, singles)
	}
	if got := histogramCount(t, reg, "assign_redis_script_duration_seconds"); got != 1 {
		t.Fatalf("script observations=%d, want 1", got)
	}
	want := `
# HELP assign_redis_errors_total Failed Redis calls by kind: timeout (deadline missed or no connection), oom (Redis out of memory refused a write) or error.
# TYPE assign_redis_errors_total counter
assign_redis_errors_total{kind="error"} 0
assign_redis_errors_total{kind="oom"} 0
assign_redis_errors_total{kind="timeout"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "assign_redis_errors_total"); err != nil {
		t.Fatal(err)
	}

	// Without a batch form: Enroll per request.
	plain := m.InstrumentEnrollments(inner.enrollFunc).(assign.BatchEnrollmentService)
	if out := plain.EnrollMany(context.Background(), []assign.EnrollRequest{{ExperimentID: "a"}, {ExperimentID: "b"}}); len(out) != 2 || singles != 2 {
		t.Fatalf("%d answers, %d single calls: want 2, 2", len(out), singles)
	}
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
