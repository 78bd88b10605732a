package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/client"
)

// UpdateCommand changes the mutable configuration of an experiment in one
// atomic, versioned update. Members keep their group whatever changes.
type UpdateCommand struct {
	*Main
	Globals
	id       string
	status   string
	sampling float64
	max      int64
	groups   multiFlag
	winner   string
	startAt  string
	endAt    string
	override multiFlag
	clear    multiFlag
	upd      assign.ExperimentUpdate
}

func (c *UpdateCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("update", &c.Globals, c.Main)
	fs.StringVar(&c.status, "status", "", "running, paused or stopped")
	fs.Float64Var(&c.sampling, "sampling", 0, "new sampling probability in (0, 1]: ramp up or down")
	fs.Int64Var(&c.max, "max", 0, "new maximum sample size")
	fs.Var(&c.groups, "group", "new probability of a group, `name=probability`, repeated; groups not named keep theirs; the result must sum to 1")
	fs.StringVar(&c.winner, "winner", "", "roll this group out to every user (see 'assignctl rollout')")
	fs.StringVar(&c.startAt, "start-at", "", "schedule: take new users from this RFC 3339 `time` on; \"none\" clears it")
	fs.Var(&c.override, "override", "QA override `user=group`, repeated: that user is always answered group, marked override, never a member")
	fs.Var(&c.clear, "clear-override", "remove the QA override of `user`, repeated")
	fs.StringVar(&c.endAt, "end-at", "", "schedule: no new users from this RFC 3339 `time` on; \"none\" clears it")
	return fs
}

// ParseFlags implements Command.
func (c *UpdateCommand) ParseFlags(args []string) error {
	fs := c.flagSet()
	args, err := parse(fs, args)
	if err != nil {
		return err
	} else if err := exactArgs(args, "experiment id"); err != nil {
		return err
	}
	c.id = args[0]
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["status"] {
		s := assign.Status(c.status)
		if !s.Valid() {
			return usageErrorf("--status must be running, paused or stopped, not %q", c.status)
		}
		c.upd.Status = &s
	}
	if set["sampling"] {
		c.upd.SamplingProbability = &c.sampling
	}
	if set["max"] {
		c.upd.MaxSampleSize = &c.max
	}
	if set["winner"] {
		c.upd.Winner = &c.winner
	}
	for _, b := range []struct {
		flag, value string
		to          *assign.TimeUpdate
	}{{"start-at", c.startAt, &c.upd.StartAt}, {"end-at", c.endAt, &c.upd.EndAt}} {
		if !set[b.flag] {
			continue
		}
		if b.value == "none" || b.value == "" {
			*b.to = assign.ClearTime()
			continue
		}
		t, err := time.Parse(time.RFC3339, b.value)
		if err != nil {
			return usageErrorf("--%s %q: want an RFC 3339 time such as 2026-12-24T09:00:00Z, or none", b.flag, b.value)
		}
		*b.to = assign.SetTime(t)
	}
	if len(c.override) > 0 || len(c.clear) > 0 {
		set, err := parseOverrides(c.override)
		if err != nil {
			return err
		}
		c.upd.Overrides = map[string]*string{}
		for user, group := range set {
			c.upd.Overrides[user] = &group
		}
		for _, user := range c.clear {
			if _, both := set[user]; both {
				return usageErrorf("--override and --clear-override both name user %q", user)
			}
			c.upd.Overrides[user] = nil
		}
	}
	if _, err := parseGroups(c.groups); err != nil {
		return err
	}
	if c.upd.Status == nil && c.upd.SamplingProbability == nil && c.upd.MaxSampleSize == nil && c.upd.Winner == nil && len(c.groups) == 0 &&
		!c.upd.StartAt.Set && !c.upd.EndAt.Set && c.upd.Overrides == nil {
		return usageErrorf("nothing to change: give --status, --sampling, --max, --group, --winner, --start-at, --end-at, --override or --clear-override")
	}
	return nil
}

// Run implements Command.
func (c *UpdateCommand) Run(ctx context.Context) error {
	format, api, err := c.adminSession(c.Main)
	if err != nil {
		return err
	}
	if len(c.groups) > 0 {
		// The API takes every group in order; the flags name only those that
		// change, so start from the current ones.
		cur, err := api.Experiment(ctx, c.id)
		if err != nil {
			return err
		}
		if c.upd.Groups, err = mergeGroups(cur.Groups, c.groups); err != nil {
			return err
		}
	}
	e, err := api.UpdateExperiment(ctx, c.id, c.upd)
	if err != nil {
		return err
	}
	return writeExperiment(c.Stdout, format, e)
}

// mergeGroups returns cur with the probabilities of the named groups
// replaced.
func mergeGroups(cur []assign.Group, specs []string) ([]assign.Group, error) {
	changes, err := parseGroups(specs)
	if err != nil {
		return nil, err
	}
	out := append([]assign.Group(nil), cur...)
	for _, ch := range changes {
		found := false
		for i := range out {
			if out[i].Name == ch.Name {
				out[i].Probability, found = ch.Probability, true
			}
		}
		if !found {
			return nil, assign.Invalidf("groups", "the experiment has no group %q (groups: %s)", ch.Name, groupsText(cur, ", "))
		}
	}
	return out, nil
}

// Usage implements Command.
func (c *UpdateCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl update [flags] <experiment id>

Changes an experiment atomically and prints it as it is after the change.
The change is versioned and exported to the warehouse with who made it.
Members keep their group whatever changes: only new decisions see it.

Examples:

	assignctl update --sampling 0.5 ID                       # ramp up
	assignctl update --max 10000 ID
	assignctl update --group old_journey=0.2 --group new_journey=0.8 ID
	assignctl update --start-at 2026-12-24T09:00:00Z --end-at none ID  # schedule; none clears a bound
	assignctl update --override user-1=new_journey --clear-override user-2 ID  # QA overrides

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}

// StatusCommand is pause, resume or stop: an update of the status alone.
type StatusCommand struct {
	*Main
	Globals
	name   string
	status assign.Status
	id     string
}

func newStatusCommand(m *Main, name string, status assign.Status) *StatusCommand {
	return &StatusCommand{Main: m, name: name, status: status}
}

// ParseFlags implements Command.
func (c *StatusCommand) ParseFlags(args []string) error {
	args, err := parse(newFlagSet(c.name, &c.Globals, c.Main), args)
	if err != nil {
		return err
	} else if err := exactArgs(args, "experiment id"); err != nil {
		return err
	}
	c.id = args[0]
	return nil
}

// Run implements Command.
func (c *StatusCommand) Run(ctx context.Context) error {
	return runUpdate(ctx, c.Main, &c.Globals, func(api *client.Client) (*assign.Experiment, error) {
		return api.SetStatus(ctx, c.id, c.status)
	})
}

// Usage implements Command.
func (c *StatusCommand) Usage() {
	var b strings.Builder
	what := map[assign.Status]string{
		assign.StatusPaused:  "Pauses the experiment: new users get not_running until it resumes.",
		assign.StatusRunning: "Resumes the experiment: new users are enrolled again.",
		assign.StatusStopped: "Stops the experiment for good: new users get not_running.",
	}[c.status]
	fmt.Fprintf(&b, "Usage: assignctl %s [flags] <experiment id>\n\n%s\nMembers keep their group. Prints the experiment after the change.\n\nFlags:\n\n", c.name, what)
	printFlags(&b, newFlagSet(c.name, &Globals{}, c.Main))
	fmt.Fprint(c.Stdout, b.String())
}

// RolloutCommand makes a group the winner.
type RolloutCommand struct {
	*Main
	Globals
	id, group string
}

// ParseFlags implements Command.
func (c *RolloutCommand) ParseFlags(args []string) error {
	args, err := parse(newFlagSet("rollout", &c.Globals, c.Main), args)
	if err != nil {
		return err
	} else if err := exactArgs(args, "experiment id", "group"); err != nil {
		return err
	}
	c.id, c.group = args[0], args[1]
	return nil
}

// Run implements Command.
func (c *RolloutCommand) Run(ctx context.Context) error {
	return runUpdate(ctx, c.Main, &c.Globals, func(api *client.Client) (*assign.Experiment, error) {
		return api.Rollout(ctx, c.id, c.group)
	})
}

// Usage implements Command.
func (c *RolloutCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl rollout [flags] <experiment id> <group>

Rolls the winning group out: from now on every user of the experiment, new
or existing, gets <group> (100% of users in the group that showed better
results). The record of who was in which group during the experiment is
kept, in Redis and in the warehouse, so the results stay computable.

Flags:

`)
	printFlags(&b, newFlagSet("rollout", &Globals{}, c.Main))
	fmt.Fprint(c.Stdout, b.String())
}

// runUpdate runs an update through the API and prints the experiment.
func runUpdate(ctx context.Context, m *Main, g *Globals, do func(*client.Client) (*assign.Experiment, error)) error {
	format, err := g.format(m)
	if err != nil {
		return err
	}
	api, err := g.client(m)
	if err != nil {
		return err
	}
	e, err := do(api)
	if err != nil {
		return err
	}
	return writeExperiment(m.Stdout, format, e)
}
