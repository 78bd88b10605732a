package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
)

// ExportOptions are the nightly export's inputs, as the exporter's own
// `assign-exporter export` command takes them.
type ExportOptions struct {
	WarehouseURL string
	Date         time.Time // the UTC day exported
	Out          string    // root directory of experiment_id=<id>/date=<day>/ partitions
	Progress     bool      // a progress bar (on a terminal) rather than a plain summary
}

// Exporter runs the nightly export. It is the warehouse's export function
// (issue 3); until that lands, assignctl's export says so and exits 1.
// The integrator assigns it in export_wire.go.
var Exporter func(ctx context.Context, opts ExportOptions) error

// ExportCommand writes one day's enrollments as Parquet and CSV files by
// delegating to the warehouse's nightly export.
type ExportCommand struct {
	*Main
	Globals
	date string
	opts ExportOptions
}

func (c *ExportCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("export", &c.Globals, c.Main)
	fs.StringVar(&c.date, "date", "", "UTC `day` to export, YYYY-MM-DD (default: yesterday)")
	fs.StringVar(&c.opts.Out, "out", "export", "output `directory`: experiment_id=<id>/date=<day>/ partitions below it")
	return fs
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
		c.opts.Date = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	} else if c.opts.Date, err = time.Parse(time.DateOnly, c.date); err != nil {
		return usageErrorf("--date %q: want YYYY-MM-DD", c.date)
	}
	if c.opts.Out == "" {
		return usageErrorf("--out must not be empty")
	}
	return nil
}

// Run implements Command.
func (c *ExportCommand) Run(ctx context.Context) error {
	if Exporter == nil {
		return errors.New("export is not available in this build: the warehouse's nightly export is not wired in (use assign-exporter export)")
	}
	c.opts.WarehouseURL = c.WarehouseURL
	c.opts.Progress = c.IsTerminal
	return Exporter(ctx, c.opts)
}

// Usage implements Command.
func (c *ExportCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl export [flags]

Writes one UTC day of enrollments from the warehouse as Parquet and CSV
files partitioned experiment_id=<id>/date=<day>/. Rerunning it for the same
day rewrites the same files. A progress bar shows on a terminal, a plain
summary otherwise.

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}
