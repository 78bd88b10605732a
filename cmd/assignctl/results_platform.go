package main

import (
	"context"
	"fmt"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/results"
)

// byPlatform is the value of results --by that splits by platform.
const byPlatform = "platform"

// platformResult is one platform's analysis in the JSON of --by platform.
type platformResult struct {
	Platform string          `json:"platform"`
	Result   *results.Result `json:"result"`
}

// runByPlatform runs the analysis once per platform present among the
// experiment's members (results.Platforms), each with its own SRM check:
// results on the web say nothing of mobile. A table per platform, or one
// JSON document {"experiment_id", "by": "platform", "platforms": [{"platform",
// "result"}]}; not CSV.
func (c *ResultsCommand) runByPlatform(ctx context.Context, w *results.Warehouse, format string) error {
	if format == OutputCSV {
		return usageErrorf("--by platform writes a table or JSON, not CSV")
	}
	platforms, err := w.Platforms(ctx, c.q.ExperimentID)
	if err != nil {
		return err
	} else if len(platforms) == 0 {
		return assign.Errorf(assign.ENOTFOUND, "experiment %q has no members in the warehouse", c.q.ExperimentID)
	}
	out := make([]platformResult, 0, len(platforms))
	for _, p := range platforms {
		q := c.q
		q.Platform = p
		res, err := w.Analyze(ctx, q)
		if c.fromAssignd(ctx, &err) {
			q.Groups, q.Status, q.MaxSampleSize = c.q.Groups, c.q.Status, c.q.MaxSampleSize
			res, err = w.Analyze(ctx, q)
		}
		if err != nil {
			return fmt.Errorf("platform %s: %w", p, err)
		}
		// Loud whatever the format, naming the platform.
		if format != OutputTable && res.SRM.Mismatch {
			fmt.Fprintf(c.Stderr, "assignctl: WARNING: platform %s: %s\n", p, res.SRM.Warning)
		}
		if format != OutputTable && res.PeekingWarning != "" {
			fmt.Fprintf(c.Stderr, "assignctl: WARNING: platform %s: %s\n", p, res.PeekingWarning)
		}
		out = append(out, platformResult{Platform: p, Result: res})
	}
	if format == OutputJSON {
		return writeJSON(c.Stdout, struct {
			ExperimentID string           `json:"experiment_id"`
			By           string           `json:"by"`
			Platforms    []platformResult `json:"platforms"`
		}{c.q.ExperimentID, byPlatform, out})
	}
	for i, r := range out {
		if i > 0 {
			fmt.Fprintln(c.Stdout)
		}
		fmt.Fprintf(c.Stdout, "Platform: %s\n\n", r.Platform)
		if err := writeResultsTable(c.Stdout, r.Result); err != nil {
			return err
		}
	}
	return nil
}
