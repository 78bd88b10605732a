package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/internal/envflag"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/sinks"
)

// DeadLettersConfig configures the dead-letters command.
type DeadLettersConfig struct {
	RedisURL     string
	WarehouseURL string
	Stream       string // only the letters of this stream; empty: all
	Entry        string // only this entry id; empty: all
	Reason       string // only this reason; empty: all
	Replay       bool
}

var deadLettersEnv = map[string]string{
	"redis-url":     "ASSIGN_REDIS_URL",
	"warehouse-url": "ASSIGN_WAREHOUSE_URL",
}

// DeadLettersCommand lists the dead letters, or replays them: each selected
// letter's fields are appended again to its stream (a new entry, read by the
// exporter like any other), then the letter is deleted. Replay after fixing
// what refused them (the table, or the fields themselves, edited with SQL).
type DeadLettersCommand struct {
	*Main
	Config DeadLettersConfig
}

// ParseFlags implements Command.
func (c *DeadLettersCommand) ParseFlags(args []string, getenv func(string) string) error {
	c.Config = DeadLettersConfig{RedisURL: "redis://127.0.0.1:6379/0", WarehouseURL: sinks.DefaultURL}
	cfg := &c.Config
	fs := newFlagSet(c.Main, "dead-letters", deadLettersEnv)
	fs.StringVar(&cfg.RedisURL, "redis-url", cfg.RedisURL, "Redis URL holding the streams (for --replay)")
	fs.StringVar(&cfg.WarehouseURL, "warehouse-url", cfg.WarehouseURL, "warehouse: postgres://user@host/db[?schema=name] or a DuckDB file path")
	fs.StringVar(&cfg.Stream, "stream", "", "only the dead letters of this stream key")
	fs.StringVar(&cfg.Entry, "entry", "", "only the dead letter of this stream entry id")
	fs.StringVar(&cfg.Reason, "reason", "", "only the dead letters of this reason: malformed, invalid_text or refused")
	fs.BoolVar(&cfg.Replay, "replay", false, "append the selected letters to their streams again, then delete them")
	if err := envflag.Parse(fs, deadLettersEnv, args, getenv); err != nil {
		return err
	}
	if cfg.Reason != "" && cfg.Reason != warehouse.ReasonMalformed && cfg.Reason != warehouse.ReasonInvalidText && cfg.Reason != warehouse.ReasonRefused {
		return fmt.Errorf("reason %q: want malformed, invalid_text or refused", cfg.Reason)
	}
	return nil
}

// Run implements Command.
func (c *DeadLettersCommand) Run(ctx context.Context) error {
	sink, err := sinks.Open(ctx, c.Config.WarehouseURL)
	if err != nil {
		return err
	}
	defer sink.Close()
	store, ok := sink.(warehouse.DeadLetterReader)
	if !ok {
		return errors.New("this warehouse keeps no dead letters")
	}
	if err := sink.Migrate(ctx); err != nil {
		return err
	}
	all, err := store.ReadDeadLetters(ctx)
	if err != nil {
		return err
	}
	var sel []warehouse.DeadLetter
	for _, l := range all {
		if (c.Config.Stream == "" || l.Stream == c.Config.Stream) && (c.Config.Entry == "" || l.EntryID == c.Config.Entry) &&
			(c.Config.Reason == "" || l.Reason == c.Config.Reason) {
			sel = append(sel, l)
		}
	}
	if !c.Config.Replay {
		for _, l := range sel {
			fmt.Fprintf(c.Stdout, "%s\t%s\t%s\t%s\t%s\t%s\n", l.SeenAt.UTC().Format(time.RFC3339Nano), l.Reason,
				l.Stream, l.EntryID, l.Error, l.Fields)
		}
		fmt.Fprintf(c.Stderr, "%d dead letters\n", len(sel))
		return nil
	}
	client, err := redisstore.NewClient(ctx, c.Config.RedisURL)
	if err != nil {
		return fmt.Errorf("redis-url: %w", err)
	}
	defer client.Close()
	replayed := 0
	for _, l := range sel {
		if l.ExperimentID == "" {
			fmt.Fprintf(c.Stderr, "skipped %s %s: the stream is no experiment's\n", l.Stream, l.EntryID)
			continue
		}
		fields, err := warehouse.DecodeFields(l.Fields)
		if err != nil {
			return fmt.Errorf("%s %s: %w", l.Stream, l.EntryID, err)
		}
		vals := make([]any, 0, 2*len(fields))
		for k, v := range fields {
			vals = append(vals, k, v)
		}
		// Append first, delete after: a crash in between replays the entry
		// twice, which the enrollments table ignores.
		id, err := client.XAdd(ctx, &redis.XAddArgs{Stream: l.Stream, Values: vals}).Result()
		if err != nil {
			return fmt.Errorf("%s %s: %w", l.Stream, l.EntryID, err)
		}
		if err := store.DeleteDeadLetters(ctx, []warehouse.DeadLetter{l}); err != nil {
			return fmt.Errorf("%s %s appended as %s but not deleted: %w", l.Stream, l.EntryID, id, err)
		}
		fmt.Fprintf(c.Stdout, "%s\t%s\treplayed as %s\n", l.Stream, l.EntryID, id)
		replayed++
	}
	fmt.Fprintf(c.Stderr, "%d dead letters replayed\n", replayed)
	return nil
}
