package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/assign-dev/assign/internal/envflag"
	"github.com/assign-dev/assign/warehouse/nightly"
	"github.com/assign-dev/assign/warehouse/sinks"
)

var exportEnv = map[string]string{
	"warehouse-url": "ASSIGN_WAREHOUSE_URL",
	"date":          "ASSIGN_EXPORT_DATE",
	"out":           "ASSIGN_EXPORT_DIR",
}

// ExportCommand writes one UTC day of enrollments as Parquet and CSV.
type ExportCommand struct {
	*Main
	WarehouseURL string
	Options      nightly.Options
}

// ParseFlags implements Command.
func (c *ExportCommand) ParseFlags(args []string, getenv func(string) string) error {
	c.WarehouseURL = sinks.DefaultURL
	date := ""
	fs := newFlagSet(c.Main, "export", exportEnv)
	fs.StringVar(&c.WarehouseURL, "warehouse-url", c.WarehouseURL, "warehouse: postgres://user@host/db[?schema=name] or a DuckDB file path")
	fs.StringVar(&date, "date", "", "UTC day to export, YYYY-MM-DD (default yesterday)")
	fs.StringVar(&c.Options.Dir, "out", "export", "output directory of the experiment_id=<id>/date=<day>/ partitions")
	if err := envflag.Parse(fs, exportEnv, args, getenv); err != nil {
		return err
	}
	if date == "" {
		c.Options.Date = time.Now().UTC().AddDate(0, 0, -1)
	} else {
		d, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return fmt.Errorf("date %q: want YYYY-MM-DD", date)
		}
		c.Options.Date = d
	}
	if c.Options.Dir == "" {
		return fmt.Errorf("out must not be empty")
	}
	return nil
}

// Run implements Command: a progress bar on a terminal, then the summary.
func (c *ExportCommand) Run(ctx context.Context) error {
	c.Options.Progress = c.IsTerminal()
	c.Options.Output = c.Stderr
	sum, err := nightly.ExportURL(ctx, c.WarehouseURL, c.Options)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, sum)
	return nil
}

func stderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }
