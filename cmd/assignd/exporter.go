package main

import (
	"context"
	"fmt"
	"time"

	"github.com/assign-dev/assign/exporter"
	"github.com/assign-dev/assign/metrics"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/duckdb"
	"github.com/assign-dev/assign/warehouse/sinks"
)

// exporterRunner runs the warehouse exporter in this process, on its own
// Redis client (its blocking reads hold a connection).
type exporterRunner struct {
	exp    *exporter.Exporter
	sink   warehouse.Warehouse
	cancel context.CancelFunc
	done   chan error
}

// startExporter opens the warehouse and starts exporting in the background.
// A warehouse that is down is not an error here: the exporter retries, and
// the streams keep the events meanwhile.
func (m *Main) startExporter(redisURL string, mx *metrics.Metrics) (*exporterRunner, error) {
	sink, err := sinks.Open(context.Background(), m.Config.WarehouseURL)
	if err != nil {
		return nil, fmt.Errorf("warehouse: %w", err)
	}
	if d, ok := sink.(*duckdb.Sink); ok && m.insights != nil && m.insights.sharesFile(m.Config.WarehouseURL) {
		// The console reads the same file in this process: see insights.
		sink = lockedSink{Sink: d, mu: m.insights.fileLock}
	}
	client, err := redisstore.NewClient(context.Background(), redisURL)
	if err != nil {
		sink.Close()
		return nil, err
	}
	r := &exporterRunner{
		exp: &exporter.Exporter{
			Client:        client,
			Keys:          m.Store.Keys(),
			Sink:          sink,
			BatchSize:     m.Config.ExportBatchSize,
			FlushInterval: m.Config.ExportFlushInterval,
			Logger:        m.Logger.With("component", "exporter"),
			OnBatch:       mx.ObserveExportBatch,
		},
		sink: sink,
		done: make(chan error, 1),
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		err := r.exp.Run(ctx)
		client.Close()
		r.done <- err
	}()
	return r, nil
}

// Close stops the exporter after it flushed what it read, and closes the
// warehouse.
func (r *exporterRunner) Close() error {
	r.cancel()
	err := <-r.done
	if cerr := r.sink.Close(); err == nil {
		err = cerr
	}
	return err
}

// snapshot reports the exporter's counters and the streams' backlog.
func (r *exporterRunner) snapshot(ctx context.Context) (metrics.ExporterSnapshot, error) {
	st := r.exp.Stats()
	s := metrics.ExporterSnapshot{Rows: st.Rows, Batches: st.Batches, Failures: st.Failures, LastBatch: st.LastBatch,
		DeadLetters: map[string]uint64{
			warehouse.ReasonMalformed:   st.Skipped,
			warehouse.ReasonInvalidText: st.InvalidText,
			warehouse.ReasonRefused:     st.Refused,
		}}
	b, err := r.exp.Backlog(ctx)
	if err != nil {
		return s, err
	}
	s.Backlog, s.Pending, s.OldestPendingAge = b.Length, b.Pending, b.OldestPendingAge
	return s, nil
}

// readyDetails is the exporter's part of /readyz: reported, never blocking.
// dead_letters counts the stream entries this process wrote to the
// warehouse's dead_letters table instead of a row; last_dead_letter names
// the latest, and why.
func (r *exporterRunner) readyDetails(ctx context.Context) any {
	type deadLetter struct {
		Stream  string `json:"stream"`
		EntryID string `json:"entry_id"`
		Reason  string `json:"reason"`
		Error   string `json:"error"`
		At      string `json:"at"`
	}
	type details struct {
		Exporter struct {
			Rows             uint64      `json:"rows_exported"`
			Backlog          int64       `json:"backlog_entries"`
			Pending          int64       `json:"pending_entries"`
			OldestPendingAge float64     `json:"oldest_pending_age_seconds"`
			DeadLetters      uint64      `json:"dead_letters"`
			LastDeadLetter   *deadLetter `json:"last_dead_letter,omitempty"`
			Error            string      `json:"error,omitempty"`
		} `json:"exporter"`
	}
	var d details
	s, err := r.snapshot(ctx)
	d.Exporter.Rows, d.Exporter.Backlog, d.Exporter.Pending = s.Rows, s.Backlog, s.Pending
	d.Exporter.OldestPendingAge = s.OldestPendingAge.Round(time.Millisecond).Seconds()
	st := r.exp.Stats()
	d.Exporter.DeadLetters = st.DeadLetters
	if l := st.LastDeadLetter; l.Reason != "" {
		d.Exporter.LastDeadLetter = &deadLetter{Stream: l.Stream, EntryID: l.EntryID, Reason: l.Reason,
			Error: l.Error, At: l.At.UTC().Format(time.RFC3339Nano)}
	}
	if err != nil {
		d.Exporter.Error = "backlog unavailable"
	}
	return d
}
