package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/assign-dev/assign/assign"
	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/duckdb"
)

// insights reads the console's warehouse data (history, enrollments per
// day, results) over a read-only connection: results.Open opens a DuckDB file
// with access_mode=read_only, and a PostgreSQL URL should name a role with
// SELECT only.
//
// A DuckDB file is opened for each call and closed right after, never kept:
// DuckDB lets one process write a file, and a reader that kept it open would
// lock out the exporter of another process (or `assignctl`). When this
// process's own exporter writes the same file, a second DuckDB instance of
// the file in one process is not safe while the exporter's is open (DuckDB's
// file lock is per process, so it does not keep the two apart, and DuckDB may
// refuse a second open with another configuration), so both take the same
// mutex: the reader opens the file only between two exporter batches, which
// open and close it themselves (warehouse/duckdb). A batch then waits for the
// read, and the Redis stream keeps its events meanwhile.
//
// A PostgreSQL warehouse is opened once, at the first call, and kept.
type insights struct {
	url      string
	duckDB   bool
	fileLock *sync.Mutex          // shared with the exporter's sink when it writes the same file
	metrics  *results.MetricsFile // nil without -metrics-file

	mu sync.Mutex
	pg *results.Warehouse
}

// newInsights returns the reader of resultsURL ("" means the -warehouse-url).
func newInsights(resultsURL, warehouseURL string) *insights {
	if resultsURL == "" {
		resultsURL = warehouseURL
	}
	in := &insights{url: resultsURL, fileLock: &sync.Mutex{}}
	in.duckDB = duckPath(resultsURL) != ""
	return in
}

// duckPath returns the absolute path of a DuckDB warehouse URL, "" for
// PostgreSQL.
func duckPath(u string) string {
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return ""
	case strings.HasPrefix(u, "duckdb://"):
		u = strings.TrimPrefix(u, "duckdb://")
	case strings.HasPrefix(u, "duckdb:"):
		u = strings.TrimPrefix(u, "duckdb:")
	case strings.Contains(u, "://"):
		return ""
	}
	if abs, err := filepath.Abs(u); err == nil {
		return abs
	}
	return u
}

// sharesFile reports whether the exporter's warehouse URL is the DuckDB file
// this reader opens.
func (in *insights) sharesFile(warehouseURL string) bool {
	return in.duckDB && duckPath(warehouseURL) == duckPath(in.url)
}

// with runs fn on the warehouse. ok is false when the DuckDB file does not
// exist yet (nothing exported).
func (in *insights) with(ctx context.Context, fn func(*results.Warehouse) error) (ok bool, err error) {
	if !in.duckDB {
		in.mu.Lock()
		w := in.pg
		if w == nil {
			if w, err = results.Open(ctx, in.url); err != nil {
				in.mu.Unlock()
				return false, err
			}
			in.pg = w
		}
		in.mu.Unlock()
		return true, fn(w)
	}
	in.fileLock.Lock()
	defer in.fileLock.Unlock()
	w, err := results.Open(ctx, in.url)
	if assign.ErrorCode(err) == assign.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer w.Close()
	return true, fn(w)
}

// Close closes a kept PostgreSQL connection pool.
func (in *insights) Close() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.pg != nil {
		return in.pg.Close()
	}
	return nil
}

func unavailable(what string, err error) error {
	if assign.ErrorCode(err) != assign.EINTERNAL {
		return err
	}
	return assign.Errorf(assign.EUNAVAILABLE, "warehouse: read %s: %v", what, err)
}

// Changes reads experiment_changes.
func (in *insights) Changes(ctx context.Context, id string) ([]assignhttp.ExperimentChange, error) {
	var out []assignhttp.ExperimentChange
	_, err := in.with(ctx, func(w *results.Warehouse) error {
		rows, err := w.DB().QueryContext(ctx, `SELECT version, changed_at, changed_by, status, sampling_probability, maximum_sample_size,
CAST(groups AS TEXT), CAST(eligibility AS TEXT), layer, winner, start_at, end_at FROM experiment_changes WHERE experiment_id = $1 ORDER BY version`, id)
		if err != nil {
			if missingTable(err) {
				return nil
			}
			return unavailable("the history", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c assignhttp.ExperimentChange
			var groups, rules string
			var start, end sql.NullTime
			if err := rows.Scan(&c.Version, &c.ChangedAt, &c.ChangedBy, &c.Status, &c.SamplingProbability, &c.MaxSampleSize,
				&groups, &rules, &c.Layer, &c.Winner, &start, &end); err != nil {
				return unavailable("the history", err)
			}
			c.ChangedAt = c.ChangedAt.UTC()
			if start.Valid {
				t := start.Time.UTC()
				c.StartAt = &t
			}
			if end.Valid {
				t := end.Time.UTC()
				c.EndAt = &t
			}
			if err := json.Unmarshal([]byte(groups), &c.Groups); err != nil {
				return assign.Errorf(assign.EINTERNAL, "warehouse: groups of version %d: %v", c.Version, err)
			}
			if rules != "" && rules != "null" {
				if err := json.Unmarshal([]byte(rules), &c.Eligibility); err != nil {
					return assign.Errorf(assign.EINTERNAL, "warehouse: eligibility of version %d: %v", c.Version, err)
				}
			}
			out = append(out, c)
		}
		return unavailable("the history", rows.Err())
	})
	return out, err
}

// DailyEnrollments counts the enrollments per UTC day (the session zone
// results.Open sets) and group: members only, not the rows of QA
// overrides, as the Fill card counts them from Redis.
func (in *insights) DailyEnrollments(ctx context.Context, id string) ([]assignhttp.DailyEnrollments, error) {
	var out []assignhttp.DailyEnrollments
	_, err := in.with(ctx, func(w *results.Warehouse) error {
		rows, err := w.DB().QueryContext(ctx, `SELECT CAST(CAST(enrolled_at AS DATE) AS TEXT) AS day, group_name, count(*)
FROM enrollments WHERE experiment_id = $1 AND NOT override GROUP BY 1, 2 ORDER BY 1, 2`, id)
		if err != nil {
			if missingTable(err) {
				return nil
			}
			return unavailable("the enrollments", err)
		}
		defer rows.Close()
		for rows.Next() {
			var day, group string
			var n int64
			if err := rows.Scan(&day, &group, &n); err != nil {
				return unavailable("the enrollments", err)
			}
			if len(out) == 0 || out[len(out)-1].Day != day {
				out = append(out, assignhttp.DailyEnrollments{Day: day, PerGroup: map[string]int64{}})
			}
			d := &out[len(out)-1]
			d.PerGroup[group] += n
			d.Enrolled += n
		}
		return unavailable("the enrollments", rows.Err())
	})
	return out, err
}

// missingTable reports whether a query failed because the exporter has not
// created the tables yet.
func missingTable(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "does not exist") && (strings.Contains(s, "table") || strings.Contains(s, "relation"))
}

var _ assignhttp.Insights = (*insights)(nil)

// Results analyses the metrics of the metrics file (results.AnalyzeMetrics):
// only its queries run, never SQL from a request.
func (in *insights) Results(ctx context.Context, id string) (any, error) {
	if in.metrics == nil {
		return nil, assign.Errorf(assign.ENOTFOUND, "No metrics file: start assignd with -metrics-file to see results here.")
	}
	var res *results.MetricsResult
	ok, err := in.with(ctx, func(w *results.Warehouse) error {
		var err error
		res, err = w.AnalyzeMetrics(ctx, results.Query{ExperimentID: id}, in.metrics)
		return err
	})
	if (err == nil && !ok) || (err != nil && missingTable(err)) {
		return nil, assign.Errorf(assign.ENOTFOUND, "The warehouse has no data yet: the exporter writes the enrollments within seconds.")
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// lockedSink is the exporter's DuckDB sink taking the reader's file lock
// around each use of the file (see insights).
type lockedSink struct {
	*duckdb.Sink
	mu *sync.Mutex
}

func (s lockedSink) Migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Sink.Migrate(ctx)
}

func (s lockedSink) WriteBatch(ctx context.Context, e []warehouse.EnrollmentRow, x []warehouse.ExperimentRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Sink.WriteBatch(ctx, e, x)
}

func (s lockedSink) WriteDeadLetters(ctx context.Context, letters []warehouse.DeadLetter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Sink.WriteDeadLetters(ctx, letters)
}

func (s lockedSink) CountEnrollments(ctx context.Context, from, to time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Sink.CountEnrollments(ctx, from, to)
}

func (s lockedSink) ScanEnrollments(ctx context.Context, from, to time.Time, fn func(warehouse.EnrollmentRow) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Sink.ScanEnrollments(ctx, from, to, fn)
}
