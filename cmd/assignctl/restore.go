package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/sinks"
)

// DefaultRedisURL is the Redis restore writes to when none is given.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// RestoreCommand puts experiments and their members back into Redis from the
// warehouse after Redis lost them (a flush, a failover to an empty replica),
// so that every user keeps their answer: the latest configuration of each
// experiment (with its salt) and every exported enrollment. It talks to Redis
// directly, not through assignd.
type RestoreCommand struct {
	*Main
	Globals
	redisURL    string
	namespace   string
	experiments multiFlag
}

func (c *RestoreCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("restore", &c.Globals, c.Main)
	fs.StringVar(&c.redisURL, "redis-url", envOr(c.Getenv("ASSIGN_REDIS_URL"), DefaultRedisURL), "Redis `URL` to restore into [ASSIGN_REDIS_URL]")
	fs.StringVar(&c.namespace, "namespace", c.Getenv("ASSIGN_NAMESPACE"), "key `prefix` of the deployment, as given to assignd [ASSIGN_NAMESPACE]")
	fs.Var(&c.experiments, "experiment", "restore only this experiment `id` (repeatable; default: every experiment in the warehouse)")
	return fs
}

// ParseFlags implements Command.
func (c *RestoreCommand) ParseFlags(args []string) error {
	args, err := parse(c.flagSet(), args)
	if err != nil {
		return err
	} else if err := exactArgs(args); err != nil {
		return err
	}
	if c.redisURL == "" {
		return usageErrorf("--redis-url must not be empty")
	}
	for _, id := range c.experiments {
		if err := assign.ValidateID(id); err != nil {
			return usageErrorf("--experiment %q: %s", id, errorText(err))
		}
	}
	return nil
}

// restoreResult is what happened to one experiment.
type restoreResult struct {
	ID              string `json:"experiment_id"`
	Experiment      string `json:"experiment"` // restored, present, refused
	MembersRestored int    `json:"members_restored"`
	MembersPresent  int    `json:"members_present"`
	Error           string `json:"error,omitempty"`
}

// Run implements Command. An experiment that cannot be restored (in a layer,
// or exported before salts were) is reported and makes the exit code 1, after
// the others are restored.
func (c *RestoreCommand) Run(ctx context.Context) error {
	format, err := c.format(c.Main)
	if err != nil {
		return err
	}
	w, err := sinks.Open(ctx, c.WarehouseURL)
	if err != nil {
		return err
	}
	defer w.Close()
	src, ok := w.(warehouse.Source)
	if !ok {
		return fmt.Errorf("warehouse %T cannot be read back for a restore", w)
	}
	// Adds the salt column to a warehouse made before it: read-only
	// otherwise, and safe beside a running exporter.
	if err := w.Migrate(ctx); err != nil {
		return err
	}
	rows, err := src.LatestExperiments(ctx, c.experiments)
	if err != nil {
		return err
	}
	if missing := missingIDs(c.experiments, rows); len(missing) > 0 {
		return assign.Errorf(assign.ENOTFOUND, "not in the warehouse: %s", strings.Join(missing, ", "))
	}

	client, err := redisstore.NewClient(ctx, c.redisURL)
	if err != nil {
		return err
	}
	defer client.Close()
	store := redisstore.New(client, redisstore.Keys{Namespace: c.namespace})
	if err := store.Load(ctx); err != nil {
		return err
	}

	var results []restoreResult
	var refused int
	for _, row := range rows {
		res, err := restoreOne(ctx, store, src, row)
		if errors.Is(err, errRefused) {
			refused++
		} else if err != nil {
			return fmt.Errorf("experiment %q: %w", row.ExperimentID, err)
		}
		results = append(results, res)
	}
	if err := c.print(format, results); err != nil {
		return err
	}
	if refused > 0 {
		return fmt.Errorf("%d experiment(s) could not be restored; see above", refused)
	}
	return nil
}

var errRefused = errors.New("refused")

// restoreOne restores one experiment, then its members in batches as the
// warehouse streams them. An experiment the store refuses (EINVALID) is
// reported, not fatal.
func restoreOne(ctx context.Context, store *redisstore.Store, src warehouse.Source, row warehouse.ExperimentRow) (restoreResult, error) {
	res := restoreResult{ID: row.ExperimentID, Experiment: "present"}
	created, err := store.RestoreExperiment(ctx, row.Experiment())
	if assign.ErrorCode(err) == assign.EINVALID || assign.ErrorCode(err) == assign.ECONFLICT {
		res.Experiment, res.Error = "refused", errorText(err)
		return res, errRefused
	} else if err != nil {
		return res, err
	}
	if created {
		res.Experiment = "restored"
	}
	batch := make([]assign.Member, 0, redisstore.RestoreBatch)
	flush := func() error {
		n, err := store.RestoreMembers(ctx, row.ExperimentID, batch)
		res.MembersRestored += n
		res.MembersPresent += len(batch) - n
		batch = batch[:0]
		return err
	}
	err = src.ScanExperimentEnrollments(ctx, row.ExperimentID, func(r warehouse.EnrollmentRow) error {
		batch = append(batch, assign.Member{ExperimentID: r.ExperimentID, UserID: r.UserID, Group: r.Group, EnrolledAt: r.EnrolledAt})
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	return res, err
}

// missingIDs returns the ids asked for that the warehouse has no row of.
func missingIDs(ids []string, rows []warehouse.ExperimentRow) []string {
	have := make(map[string]bool, len(rows))
	for _, r := range rows {
		have[r.ExperimentID] = true
	}
	var missing []string
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	return missing
}

func (c *RestoreCommand) print(format string, results []restoreResult) error {
	var restored, present, refused, mNew, mOld int
	for _, r := range results {
		switch r.Experiment {
		case "restored":
			restored++
		case "present":
			present++
		default:
			refused++
		}
		mNew += r.MembersRestored
		mOld += r.MembersPresent
	}
	switch format {
	case OutputJSON:
		if results == nil {
			results = []restoreResult{}
		}
		return writeJSON(c.Stdout, map[string]any{
			"experiments_restored": restored, "experiments_present": present, "experiments_refused": refused,
			"members_restored": mNew, "members_present": mOld, "experiments": results,
		})
	case OutputCSV:
		var recs [][]string
		for _, r := range results {
			recs = append(recs, []string{r.ID, r.Experiment, strconv.Itoa(r.MembersRestored), strconv.Itoa(r.MembersPresent), r.Error})
		}
		return writeCSV(c.Stdout, []string{"experiment_id", "experiment", "members_restored", "members_present", "error"}, recs)
	}
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "%-40s %-9s %d members restored, %d already present", r.ID, r.Experiment, r.MembersRestored, r.MembersPresent)
		if r.Error != "" {
			b.WriteString(": " + r.Error)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "experiments: %d restored, %d already present (left alone), %d refused; members: %d restored, %d already present\n",
		restored, present, refused, mNew, mOld)
	_, err := fmt.Fprint(c.Stdout, b.String())
	return err
}

// Usage implements Command.
func (c *RestoreCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl restore [flags]

Puts experiments and their members back into Redis from the warehouse after
Redis lost them (a flush, a failover to an empty replica), so every user
keeps their answer. Each experiment missing from Redis is recreated exactly
as its latest exported version (salt, status, probabilities, cap, winner,
version); one already in Redis is left alone. Then every exported enrollment
missing from Redis is written back and counted, without new events. Safe to
rerun. Enrollments made after the exporter's last batch are lost with Redis.

Run it before assignd takes traffic again; a running assignd needs no
restart (its enrollments notice a changed member bucket layout and reload
it). Experiments in a layer are refused: the warehouse does not keep a
layer's traffic split.

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}
