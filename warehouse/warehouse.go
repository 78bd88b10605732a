// Package warehouse defines the rows the exporter writes to an analytics
// warehouse and the interfaces its sinks implement. The concrete sinks live
// in the sub-packages postgres and duckdb; sinks.Open picks one by URL.
//
// Every write is idempotent, because the exporter delivers at least once:
// enrollments have the primary key (experiment_id, user_id) and duplicates are
// ignored; experiments keep the row of the highest version; the
// experiment_changes history has the key (experiment_id, version).
package warehouse

import (
	"context"
	"time"
)

// Sink receives batches from the exporter.
type Sink interface {
	// Migrate creates or upgrades the warehouse tables. It is safe to call
	// on every start and from several processes.
	Migrate(ctx context.Context) error

	// WriteBatch stores enrollments and experiment changes in one
	// transaction: either all of the batch is committed or none of it.
	// Writing the same batch twice leaves the tables as after one write.
	WriteBatch(ctx context.Context, enrollments []EnrollmentRow, experiments []ExperimentRow) error

	// Close releases the sink's connections.
	Close() error
}

// Reader reads enrollments back, for the nightly export.
type Reader interface {
	// CountEnrollments returns the number of enrollments with
	// from <= enrolled_at < to. Members only: rows of QA overrides are left
	// out, here and in every read below.
	CountEnrollments(ctx context.Context, from, to time.Time) (int64, error)

	// ScanEnrollments calls fn for every enrollment with
	// from <= enrolled_at < to, ordered by experiment_id then enrolled_at
	// then user_id. An error from fn stops the scan and is returned.
	ScanEnrollments(ctx context.Context, from, to time.Time, fn func(EnrollmentRow) error) error
}

// Warehouse is a sink that can also be read back.
type Warehouse interface {
	Sink
	Reader
}

// Source reads back what a restore of Redis needs: the latest configuration
// of each experiment (with its salt) and its enrollments. Both sinks
// implement it; it is apart from Warehouse so other implementations need not.
type Source interface {
	// LatestExperiments returns the experiments table's row (the highest
	// version) of each of ids, or of every experiment when ids is empty,
	// ordered by id. An id absent from the warehouse is left out.
	LatestExperiments(ctx context.Context, ids []string) ([]ExperimentRow, error)

	// ScanExperimentEnrollments calls fn for every enrollment of one
	// experiment, ordered by enrolled_at then user_id. An error from fn stops
	// the scan and is returned.
	ScanExperimentEnrollments(ctx context.Context, experimentID string, fn func(EnrollmentRow) error) error
}
