package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/client"
)

// CreateCommand creates an experiment from flags or from a JSON file with
// the API's create body.
type CreateCommand struct {
	*Main
	Globals

	file     string
	req      client.ExperimentCreate
	sampling float64
	groups   multiFlag
	eligible multiFlag
	startAt  string
	endAt    string
	override multiFlag
}

func (c *CreateCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("create", &c.Globals, c.Main)
	fs.StringVar(&c.file, "file", "", "JSON file with the API's create body (\"-\" reads stdin); excludes the flags below")
	fs.StringVar(&c.req.ID, "id", "", "experiment id (default: a generated UUID)")
	fs.Int64Var(&c.req.MaxSampleSize, "max", 0, "maximum sample size: members never exceed it (required)")
	fs.Float64Var(&c.sampling, "sampling", 1, "probability that an eligible user joins, in (0, 1]")
	fs.Var(&c.groups, "group", "group `name=probability`, repeated; probabilities sum to 1 (required)")
	fs.Var(&c.eligible, "eligible", "eligibility rule `claim=value`, repeated: the user token's claim must equal value (true, false, a number or a string)")
	fs.StringVar(&c.req.Layer, "layer", "", "layer of mutually exclusive experiments")
	fs.Var(&c.override, "override", "QA override `user=group`, repeated: that user is always answered group, marked override, never a member")
	fs.StringVar(&c.startAt, "start-at", "", "schedule: take new users from this RFC 3339 `time` on (default: at once)")
	fs.StringVar(&c.endAt, "end-at", "", "schedule: no new users from this RFC 3339 `time` on (default: no end)")
	return fs
}

// ParseFlags implements Command.
func (c *CreateCommand) ParseFlags(args []string) error {
	args, err := parse(c.flagSet(), args)
	if err != nil {
		return err
	} else if err := exactArgs(args); err != nil {
		return err
	}

	definition := c.req.ID != "" || c.req.MaxSampleSize != 0 || len(c.groups) > 0 || len(c.eligible) > 0 || c.req.Layer != "" ||
		c.startAt != "" || c.endAt != "" || len(c.override) > 0
	if c.file != "" {
		if definition {
			return usageErrorf("--file excludes --id, --max, --group, --eligible, --layer, --start-at, --end-at and --override")
		}
		return nil
	}
	if c.req.MaxSampleSize == 0 || len(c.groups) == 0 {
		return usageErrorf("--max and at least one --group are required (or --file)")
	}
	if c.req.Groups, err = parseGroups(c.groups); err != nil {
		return err
	}
	for _, e := range c.eligible {
		rule, err := parseRule(e)
		if err != nil {
			return err
		}
		c.req.Eligibility = append(c.req.Eligibility, rule)
	}
	c.req.SamplingProbability = &c.sampling
	if c.req.Overrides, err = parseOverrides(c.override); err != nil {
		return err
	}
	for _, b := range []struct {
		flag, value string
		to          **time.Time
	}{{"start-at", c.startAt, &c.req.StartAt}, {"end-at", c.endAt, &c.req.EndAt}} {
		if b.value == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, b.value)
		if err != nil {
			return usageErrorf("--%s %q: want an RFC 3339 time such as 2026-12-24T09:00:00Z", b.flag, b.value)
		}
		*b.to = &t
	}
	return nil
}

// Run implements Command.
func (c *CreateCommand) Run(ctx context.Context) error {
	format, api, err := c.adminSession(c.Main)
	if err != nil {
		return err
	}
	if c.file != "" {
		if c.req, err = c.readFile(); err != nil {
			return err
		}
	}
	id, err := api.CreateExperiment(ctx, c.req)
	if err != nil {
		return err
	}
	switch format {
	case OutputJSON:
		return writeJSON(c.Stdout, map[string]string{"experiment_id": id})
	case OutputCSV:
		return writeCSV(c.Stdout, []string{"experiment_id"}, [][]string{{id}})
	}
	_, err = fmt.Fprintf(c.Stdout, "Created experiment %s\n", id)
	return err
}

// readFile reads the create body; unknown fields are refused here already,
// as the server would.
func (c *CreateCommand) readFile() (client.ExperimentCreate, error) {
	var req client.ExperimentCreate
	var r io.Reader = c.Stdin
	if c.file != "-" {
		f, err := os.Open(c.file)
		if err != nil {
			return req, err
		}
		defer f.Close()
		r = f
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("%s: %w", c.file, err)
	}
	return req, nil
}

// Usage implements Command.
func (c *CreateCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl create --max N --group NAME=P [--group NAME=P ...] [flags]
       assignctl create --file experiment.json

Creates a running experiment and prints its id.

Example (the seed's shipping-address experiment):

	assignctl create --id f380739f-62f3-4316-8acf-93ed5744cb9e --max 250 --sampling 0.3 \
		--group old_journey=0.5 --group new_journey=0.5 --eligible first_order=true

experiment.json holds the API's body:

	{"experiment_id": "...", "maximum_sample_size": 250, "sampling_probability": 0.3,
	 "groups": [{"group_name": "old_journey", "probability_of_falling_in": 0.5}, ...],
	 "eligibility": [{"claim": "first_order", "equals": true}],
	 "start_at": "2026-12-24T09:00:00Z", "end_at": "2027-01-07T09:00:00Z"}

--override user=group (or "overrides": {"user": "group"}) forces a group on a
QA user: answered with "override": true in every status and schedule, never a
member, never counted in the cap, left out of the results.

--start-at and --end-at (or start_at and end_at) schedule it: new users get
not_running before start_at and from end_at on, decided by Redis's clock to
the second; members keep their group.

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}

// parseOverrides reads "user=group" flags; nil for none. A user named
// twice is an error.
func parseOverrides(specs []string) (map[string]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(specs))
	for _, s := range specs {
		// The group is after the last '=': a user id may hold one.
		i := strings.LastIndex(s, "=")
		if i <= 0 || i == len(s)-1 {
			return nil, usageErrorf("--override %q: want user=group", s)
		}
		user, group := s[:i], s[i+1:]
		if _, ok := out[user]; ok {
			return nil, usageErrorf("--override names user %q twice", user)
		}
		out[user] = group
	}
	return out, nil
}

// parseGroups reads "name=probability" flags.
func parseGroups(specs []string) ([]assign.Group, error) {
	groups := make([]assign.Group, 0, len(specs))
	for _, s := range specs {
		name, p, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, usageErrorf("--group %q: want name=probability", s)
		}
		prob, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, usageErrorf("--group %q: probability %q is not a number", s, p)
		}
		groups = append(groups, assign.Group{Name: name, Probability: prob})
	}
	return groups, nil
}

// parseRule reads "claim=value": true, false and numbers are JSON scalars,
// anything else a string ("claim=\"42\"" forces the string "42").
func parseRule(s string) (assign.Rule, error) {
	claim, v, ok := strings.Cut(s, "=")
	if !ok || claim == "" {
		return assign.Rule{}, usageErrorf("--eligible %q: want claim=value", s)
	}
	var value any
	if err := json.Unmarshal([]byte(v), &value); err != nil {
		value = v
	}
	switch value.(type) {
	case bool, float64, string:
	default:
		value = v // objects, arrays and null are not scalars: take the text
	}
	return assign.Rule{Claim: claim, Equals: value}, nil
}
