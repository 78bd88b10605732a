package metrics_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/assign-dev/assign/metrics"
)

// TestExporterCollector_DeadLetters: the dead letters are a counter by
// reason, every reason present from the start (so increase() sees the
// first one).
func TestExporterCollector_DeadLetters(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	dead := map[string]uint64{}
	reg.MustRegister(metrics.NewExporterCollector(func(ctx context.Context) (metrics.ExporterSnapshot, error) {
		return metrics.ExporterSnapshot{DeadLetters: dead}, nil
	}))
	want := `# HELP assign_exporter_dead_letters_total Stream entries acknowledged without a row and kept in the warehouse's dead_letters table, by reason (malformed, invalid_text, refused).
# TYPE assign_exporter_dead_letters_total counter
assign_exporter_dead_letters_total{reason="invalid_text"} 0
assign_exporter_dead_letters_total{reason="malformed"} 0
assign_exporter_dead_letters_total{reason="refused"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "assign_exporter_dead_letters_total"); err != nil {
		t.Fatal(err)
	}
	dead["invalid_text"], dead["refused"] = 3, 1
	want = strings.Replace(want, `"invalid_text"} 0`, `"invalid_text"} 3`, 1)
	want = strings.Replace(want, `"refused"} 0`, `"refused"} 1`, 1)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "assign_exporter_dead_letters_total"); err != nil {
		t.Fatal(err)
	}
}
