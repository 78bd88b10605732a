// Package nightly writes one UTC day of enrollments from the warehouse as
// Parquet and CSV files, partitioned the Hive way:
//
//	<dir>/experiment_id=<id>/date=<YYYY-MM-DD>/enrollments.parquet
//	<dir>/experiment_id=<id>/date=<YYYY-MM-DD>/enrollments.csv
//
// A rerun for the same day replaces that day's files and nothing else: the
// files are written under a staging directory in dir, then each partition
// is renamed into place, and partitions of the day that the new run did not
// produce are removed. A reader never sees a half-written file.
package nightly

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/sinks"
)

// File names inside a partition.
const (
	ParquetFile = "enrollments.parquet"
	CSVFile     = "enrollments.csv"
)

// Options configure an Export.
type Options struct {
	// Date is the UTC day exported; only its year, month and day count.
	Date time.Time
	// Dir is the root of the partitions; created when missing. Required.
	Dir string
	// Progress shows a progress bar on Output (for a terminal). Without it
	// Export writes nothing while it runs.
	Progress bool
	// Output receives the progress bar. Default os.Stderr.
	Output io.Writer
}

// Summary is what an Export wrote.
type Summary struct {
	Date        string   // YYYY-MM-DD
	Rows        int64    // enrollments written
	Experiments int      // partitions written
	Removed     int      // stale partitions of the day removed
	Dirs        []string // partition directories written, sorted
	Elapsed     time.Duration
}

// String returns the plain summary printed when no terminal is attached.
func (s *Summary) String() string {
	return fmt.Sprintf("exported %d enrollments of %d experiments for %s in %s (%d stale partitions removed)",
		s.Rows, s.Experiments, s.Date, s.Elapsed.Round(time.Millisecond), s.Removed)
}

// Export writes the enrollments of opts.Date read from r.
func Export(ctx context.Context, r warehouse.Reader, opts Options) (*Summary, error) {
	if opts.Dir == "" {
		return nil, assign.Invalidf("dir", "output directory is required")
	}
	if opts.Output == nil {
		opts.Output = os.Stderr
	}
	began := time.Now()
	from := time.Date(opts.Date.Year(), opts.Date.Month(), opts.Date.Day(), 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 1)
	day := from.Format(time.DateOnly)
	sum := &Summary{Date: day}

	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(opts.Dir, ".staging-"+day+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)

	var bar *progressbar.ProgressBar
	if opts.Progress {
		total, err := r.CountEnrollments(ctx, from, to)
		if err != nil {
			return nil, err
		}
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(opts.Output),
			progressbar.OptionSetDescription("export "+day),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}

	var cur *partition
	closeCur := func() error {
		if cur == nil {
			return nil
		}
		err := cur.close()
		cur = nil
		return err
	}
	err = r.ScanEnrollments(ctx, from, to, func(row warehouse.EnrollmentRow) error {
		if cur == nil || cur.id != row.ExperimentID {
			if err := closeCur(); err != nil {
				return err
			}
			p, err := openPartition(staging, row.ExperimentID, day)
			if err != nil {
				return err
			}
			cur = p
			sum.Dirs = append(sum.Dirs, partitionDir(row.ExperimentID, day))
		}
		sum.Rows++
		if bar != nil && sum.Rows%1024 == 0 {
			_ = bar.Set64(sum.Rows)
		}
		return cur.write(row)
	})
	if cerr := closeCur(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if bar != nil {
		_ = bar.Set64(sum.Rows)
		_ = bar.Finish()
	}
	sort.Strings(sum.Dirs)
	sum.Experiments = len(sum.Dirs)
	if sum.Removed, err = publish(opts.Dir, staging, day, sum.Dirs); err != nil {
		return nil, err
	}
	sum.Elapsed = time.Since(began)
	return sum, nil
}

// partitionDir returns the relative directory of one experiment's day.
// Experiment ids hold only letters, digits, '-', '_' and '.', and start
// with a letter or digit, so they are safe as path elements.
func partitionDir(id, day string) string {
	return filepath.Join("experiment_id="+id, "date="+day)
}

// publish moves the staged partitions into dir, replacing the day's old
// ones, and removes the day's partitions that were not staged. It returns
// how many stale partitions it removed.
func publish(dir, staging, day string, dirs []string) (int, error) {
	keep := make(map[string]bool, len(dirs))
	for _, d := range dirs {
		keep[d] = true
		dst := filepath.Join(dir, d)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return 0, err
		}
		// A directory cannot be renamed over a non-empty one: move the old
		// partition aside first, then drop it.
		old := filepath.Join(staging, "old-"+strings.ReplaceAll(d, string(filepath.Separator), "_"))
		if err := os.Rename(dst, old); err != nil && !os.IsNotExist(err) {
			return 0, err
		}
		if err := os.Rename(filepath.Join(staging, d), dst); err != nil {
			return 0, err
		}
	}
	stale, err := filepath.Glob(filepath.Join(dir, "experiment_id=*", "date="+day))
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, p := range stale {
		rel, _ := filepath.Rel(dir, p)
		if keep[rel] {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return removed, err
		}
		removed++
		// Drop the experiment's directory if that was its last day.
		_ = os.Remove(filepath.Dir(p))
	}
	return removed, nil
}

// ExportURL opens the warehouse at warehouseURL (see sinks.Open), exports
// opts.Date from it and closes it: the whole `export` command.
func ExportURL(ctx context.Context, warehouseURL string, opts Options) (*Summary, error) {
	w, err := sinks.Open(ctx, warehouseURL)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return Export(ctx, w, opts)
}
