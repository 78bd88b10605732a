package metrics_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/metrics"
)

// oomKind stands for redisstore.ErrOutOfMemory (metrics does not import the
// adapter): an error naming its kind.
type oomKind struct{}

func (oomKind) Error() string          { return "redis: oom" }
func (oomKind) RedisErrorKind() string { return "oom" }

// TestMetrics_RedisOutOfMemoryKind checks that an out-of-memory refusal is
// counted as its own kind, not as a timeout (it is EUNAVAILABLE too), and
// that an unknown kind cannot add label values.
func TestMetrics_RedisOutOfMemoryKind(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	unavailable := &assign.Error{Code: assign.EUNAVAILABLE, Message: "The store cannot record new enrollments right now."}
	m.ObserveRedisError(fmt.Errorf("%w: %w: OOM command not allowed", unavailable, oomKind{}))
	m.ObserveRedisError(fmt.Errorf("%w: %w", unavailable, oomKind{}))
	m.ObserveRedisError(assign.Errorf(assign.EUNAVAILABLE, "deadline"))
	want := `
# HELP assign_redis_errors_total Failed Redis calls by kind: timeout (deadline missed or no connection), oom (Redis out of memory refused a write) or error.
# TYPE assign_redis_errors_total counter
assign_redis_errors_total{kind="error"} 0
assign_redis_errors_total{kind="oom"} 2
assign_redis_errors_total{kind="timeout"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "assign_redis_errors_total"); err != nil {
		t.Fatal(err)
	}
}

func TestRedisPolicy(t *testing.T) {
	state := metrics.RedisPolicy{Evicting: true}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewRedisPolicy(func() metrics.RedisPolicy { return state }))
	names := []string{"assign_redis_evicting_policy", "assign_redis_eviction_policy_unknown", "assign_redis_out_of_memory"}
	check := func(evicting, unknown, oom int) {
		t.Helper()
		for i, v := range []int{evicting, unknown, oom} {
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, mf := range mfs {
				if mf.GetName() == names[i] {
					found = true
					if got := mf.GetMetric()[0].GetGauge().GetValue(); got != float64(v) {
						t.Fatalf("%s=%v, want %d", names[i], got, v)
					}
				}
			}
			if !found {
				t.Fatalf("no %s", names[i])
			}
		}
	}
	check(1, 0, 0)
	state = metrics.RedisPolicy{Unknown: true, OutOfMemory: true}
	check(0, 1, 1)
}
