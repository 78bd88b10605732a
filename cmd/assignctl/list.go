package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/assign-dev/assign/assign"
)

// ListCommand lists every experiment, following the API's pages.
type ListCommand struct {
	*Main
	Globals
	pageSize int
}

func (c *ListCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("list", &c.Globals, c.Main)
	fs.IntVar(&c.pageSize, "page-size", assign.DefaultPageSize, "experiments per API request (1 to 1000)")
	return fs
}

// ParseFlags implements Command.
func (c *ListCommand) ParseFlags(args []string) error {
	args, err := parse(c.flagSet(), args)
	if err != nil {
		return err
	} else if err := exactArgs(args); err != nil {
		return err
	} else if c.pageSize < 1 || c.pageSize > assign.MaxPageSize {
		return usageErrorf("--page-size must be from 1 to %d", assign.MaxPageSize)
	}
	return nil
}

// Run implements Command.
func (c *ListCommand) Run(ctx context.Context) error {
	format, api, err := c.adminSession(c.Main)
	if err != nil {
		return err
	}
	list, err := api.AllExperiments(ctx, c.pageSize)
	if err != nil {
		return err
	}
	if format != OutputJSON { // JSON carries the "problem" field itself
		list = markUnreadable(c.Stderr, list)
	}
	return writeExperiments(c.Stdout, format, list)
}

// StatusUnreadable is shown, in tables and CSV, as the status of an
// experiment the server could not read (its configuration in Redis is
// corrupt); the problem goes to stderr.
const StatusUnreadable = "unreadable"

// markUnreadable returns list with each experiment the server listed with a
// problem shown as StatusUnreadable, and writes its problem to w. Both are
// quoted Go-style (%q): they may hold anything Redis held.
func markUnreadable(w io.Writer, list []*assign.Experiment) []*assign.Experiment {
	out := make([]*assign.Experiment, len(list))
	for i, e := range list {
		out[i] = e
		if e.Problem != "" {
			fmt.Fprintf(w, "assignctl: experiment %q cannot be read: %q\n", e.ID, e.Problem)
			out[i] = &assign.Experiment{ID: e.ID, Status: StatusUnreadable}
		}
	}
	return out
}

// Usage implements Command.
func (c *ListCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl list [flags]

Lists every experiment in id order: status, groups, members, sample size,
sampling probability, winner and configuration version. An experiment the
server cannot read (its stored configuration is corrupt) is listed with the
status unreadable, and its problem is written to stderr (in JSON, the
experiment's "problem" field).

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}

// ShowCommand shows one experiment.
type ShowCommand struct {
	*Main
	Globals
	id string
}

// ParseFlags implements Command.
func (c *ShowCommand) ParseFlags(args []string) error {
	args, err := parse(newFlagSet("show", &c.Globals, c.Main), args)
	if err != nil {
		return err
	} else if err := exactArgs(args, "experiment id"); err != nil {
		return err
	}
	c.id = args[0]
	return nil
}

// Run implements Command.
func (c *ShowCommand) Run(ctx context.Context) error {
	format, api, err := c.adminSession(c.Main)
	if err != nil {
		return err
	}
	e, err := api.Experiment(ctx, c.id)
	if err != nil {
		return err
	}
	return writeExperiment(c.Stdout, format, e)
}

// Usage implements Command.
func (c *ShowCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl show [flags] <experiment id>

Shows an experiment: configuration, status, winner, members per group and
the remaining sample.

Flags:

`)
	printFlags(&b, newFlagSet("show", &Globals{}, c.Main))
	fmt.Fprint(c.Stdout, b.String())
}
