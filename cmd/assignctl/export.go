package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/warehouse/nightly"
)

// ExportCommand writes one day's enrollments as Parquet and CSV files: the
// warehouse's nightly export (package warehouse/nightly), with the same
// flags as `assign-exporter export`.
type ExportCommand struct {
	*Main
	Globals
	date string
	opts nightly.Options
}

func (c *ExportCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("export", &c.Globals, c.Main)
	fs.StringVar(&c.date, "date", c.Getenv("ASSIGN_EXPORT_DATE"), "UTC `day` to export, YYYY-MM-DD (default: yesterday) [ASSIGN_EXPORT_DATE]")
	fs.StringVar(&c.opts.Dir, "out", envOr(c.Getenv("ASSIGN_EXPORT_DIR"), "export"), "output `directory`: experiment_id=<id>/date=<day>/ partitions below it [ASSIGN_EXPORT_DIR]")
	return fs
}

func envOr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// ParseFlags implements Command.
func (c *ExportCommand) ParseFlags(args []string) error {
	args, err := parse(c.flagSet(), args)
	if err != nil {
		return err
	} else if err := exactArgs(args); err != nil {
		return err
	}
	if c.date == "" {
		c.opts.Date = time.Now().UTC().AddDate(0, 0, -1)
	} else if c.opts.Date, err = time.Parse(time.DateOnly, c.date); err != nil {
		return usageErrorf("--date %q: want YYYY-MM-DD", c.date)
	}
	if c.opts.Dir == "" {
		return usageErrorf("--out must not be empty")
	}
	return nil
}

// Run implements Command: a progress bar on a terminal, then the summary.
func (c *ExportCommand) Run(ctx context.Context) error {
	format, err := c.format(c.Main)
	if err != nil {
		return err
	}
	c.opts.Progress = c.IsTerminal
	c.opts.Output = c.Stderr
	sum, err := nightly.ExportURL(ctx, c.WarehouseURL, c.opts)
	if err != nil {
		return err
	}
	switch format {
	case OutputJSON:
		return writeJSON(c.Stdout, map[string]any{"date": sum.Date, "rows": sum.Rows, "experiments": sum.Experiments,
			"removed": sum.Removed, "dirs": sum.Dirs, "elapsed_seconds": sum.Elapsed.Seconds()})
	case OutputCSV:
		return writeCSV(c.Stdout, []string{"date", "rows", "experiments", "removed"},
			[][]string{{sum.Date, strconv.FormatInt(sum.Rows, 10), strconv.Itoa(sum.Experiments), strconv.Itoa(sum.Removed)}})
	}
	_, err = fmt.Fprintln(c.Stdout, sum)
	return err
}

// Usage implements Command.
func (c *ExportCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl export [flags]

Writes one UTC day of enrollments from the warehouse as Parquet and CSV
files partitioned experiment_id=<id>/date=<day>/. Rerunning it for the same
day replaces that day's files. A progress bar shows on a terminal. The same
as 'assign-exporter export'.

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}
