package main

import (
	"context"
	"flag"
	"fmt"
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
	return writeExperiments(c.Stdout, format, list)
}

// Usage implements Command.
func (c *ListCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl list [flags]

Lists every experiment in id order: status, groups, members, sample size,
sampling probability, winner and configuration version.

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
