package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assign-dev/assign/warehouse"
)

// ExporterSnapshot is what the warehouse exporter reports about itself.
type ExporterSnapshot struct {
	Rows             uint64        // enrollment rows written to the warehouse
	Batches          uint64        // batches committed
	Failures         uint64        // batches that failed and were retried
	LastBatch        time.Duration // latency of the last committed batch
	Backlog          int64         // entries in the event streams not yet trimmed
	Pending          int64         // entries read but not acknowledged
	OldestPendingAge time.Duration // age of the oldest unacknowledged entry
	// DeadLetters is the stream entries written to the dead_letters table
	// instead of a row, by reason (warehouse.Reasons).
	DeadLetters map[string]uint64
}

// ExporterCollector exports the exporter's counters and backlog, read on
// scrape through Snapshot (which may ask Redis for the backlog).
type ExporterCollector struct {
	Snapshot func(ctx context.Context) (ExporterSnapshot, error)
	Timeout  time.Duration // of one snapshot; default 2s

	rows, batches, failures, lastBatch, backlog, pending, oldest, up, dead *prometheus.Desc
}

// NewExporterCollector returns a collector over snapshot.
func NewExporterCollector(snapshot func(ctx context.Context) (ExporterSnapshot, error)) *ExporterCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "exporter", n) }
	return &ExporterCollector{
		Snapshot:  snapshot,
		Timeout:   2 * time.Second,
		rows:      prometheus.NewDesc(name("rows_total"), "Enrollment rows written to the warehouse (duplicates ignored by the table included).", nil, nil),
		batches:   prometheus.NewDesc(name("batches_total"), "Batches committed to the warehouse.", nil, nil),
		failures:  prometheus.NewDesc(name("failures_total"), "Batches that failed and will be retried.", nil, nil),
		lastBatch: prometheus.NewDesc(name("last_batch_duration_seconds"), "Duration of the last committed batch.", nil, nil),
		backlog:   prometheus.NewDesc(name("backlog_entries"), "Entries in the event streams not yet exported and trimmed.", nil, nil),
		pending:   prometheus.NewDesc(name("pending_entries"), "Entries read by an exporter but not yet acknowledged.", nil, nil),
		oldest:    prometheus.NewDesc(name("oldest_pending_age_seconds"), "Age of the oldest entry not yet acknowledged (0 when none).", nil, nil),
		up:        prometheus.NewDesc(name("backlog_up"), "1 when the backlog could be read from Redis at the last scrape.", nil, nil),
		dead: prometheus.NewDesc(name("dead_letters_total"),
			"Stream entries acknowledged without a row and kept in the warehouse's dead_letters table, by reason (malformed, invalid_text, refused).",
			[]string{"reason"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *ExporterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rows, c.batches, c.failures, c.lastBatch, c.backlog, c.pending, c.oldest, c.up, c.dead} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *ExporterCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	s, err := c.Snapshot(ctx)
	ch <- prometheus.MustNewConstMetric(c.rows, prometheus.CounterValue, float64(s.Rows))
	ch <- prometheus.MustNewConstMetric(c.batches, prometheus.CounterValue, float64(s.Batches))
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(s.Failures))
	ch <- prometheus.MustNewConstMetric(c.lastBatch, prometheus.GaugeValue, s.LastBatch.Seconds())
	for _, r := range warehouse.Reasons { // every reason, 0 included, so that increase() sees the first
		ch <- prometheus.MustNewConstMetric(c.dead, prometheus.CounterValue, float64(s.DeadLetters[r]), r)
	}
	up := 0.0
	if err == nil {
		up = 1
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(s.Backlog))
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending))
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestPendingAge.Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
}
