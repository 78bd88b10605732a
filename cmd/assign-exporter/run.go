package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/assign-dev/assign/exporter"
	"github.com/assign-dev/assign/internal/envflag"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse/sinks"
)

// RunConfig configures the continuous export.
type RunConfig struct {
	RedisURL      string
	WarehouseURL  string
	Namespace     string
	Consumer      string
	BatchSize     int
	FlushInterval time.Duration
	ClaimIdle     time.Duration
	LogLevel      string
}

var runEnv = map[string]string{
	"redis-url":      "ASSIGN_REDIS_URL",
	"warehouse-url":  "ASSIGN_WAREHOUSE_URL",
	"namespace":      "ASSIGN_NAMESPACE",
	"consumer":       "ASSIGN_EXPORTER_CONSUMER",
	"batch-size":     "ASSIGN_EXPORTER_BATCH_SIZE",
	"flush-interval": "ASSIGN_EXPORTER_FLUSH_INTERVAL",
	"claim-idle":     "ASSIGN_EXPORTER_CLAIM_IDLE",
	"log-level":      "ASSIGN_LOG_LEVEL",
}

// RunCommand exports continuously until its context ends.
type RunCommand struct {
	*Main
	Config RunConfig
	// Exporter is the running exporter, set by Run (tests read its Stats).
	Exporter *exporter.Exporter
}

// ParseFlags implements Command.
func (c *RunCommand) ParseFlags(args []string, getenv func(string) string) error {
	c.Config = RunConfig{
		RedisURL:      "redis://127.0.0.1:6379/0",
		WarehouseURL:  sinks.DefaultURL,
		BatchSize:     exporter.DefaultBatchSize,
		FlushInterval: exporter.DefaultFlushInterval,
		ClaimIdle:     exporter.DefaultClaimIdle,
		LogLevel:      "info",
	}
	cfg := &c.Config
	fs := newFlagSet(c.Main, "run", runEnv)
	fs.StringVar(&cfg.RedisURL, "redis-url", cfg.RedisURL, "Redis URL (redis://host:port/db)")
	fs.StringVar(&cfg.WarehouseURL, "warehouse-url", cfg.WarehouseURL, "warehouse: postgres://user@host/db[?schema=name] or a DuckDB file path")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "prefix of every Redis key, as given to assignd")
	fs.StringVar(&cfg.Consumer, "consumer", cfg.Consumer, "consumer name, stable across restarts of this instance (default <hostname>-<pid>)")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "most events written in one warehouse transaction")
	fs.DurationVar(&cfg.FlushInterval, "flush-interval", cfg.FlushInterval, "longest wait before a partial batch is written")
	fs.DurationVar(&cfg.ClaimIdle, "claim-idle", cfg.ClaimIdle, "idle time after which another consumer's unacknowledged events are claimed; negative disables")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	if err := envflag.Parse(fs, runEnv, args, getenv); err != nil {
		return err
	}
	if cfg.BatchSize <= 0 {
		return errors.New("batch-size must be positive")
	} else if cfg.FlushInterval <= 0 {
		return errors.New("flush-interval must be positive")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("log-level: %w", err)
	}
	return nil
}

// Run implements Command: it returns when ctx ends, after the final flush.
func (c *RunCommand) Run(ctx context.Context) error {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Config.LogLevel))
	logger := slog.New(slog.NewJSONHandler(c.Stderr, &slog.HandlerOptions{Level: lvl}))

	// The exporter's own client: its blocking reads hold a connection.
	client, err := redisstore.NewClient(ctx, c.Config.RedisURL)
	if err != nil {
		return fmt.Errorf("redis-url: %w", err)
	}
	defer client.Close()
	sink, err := sinks.Open(ctx, c.Config.WarehouseURL)
	if err != nil {
		return err
	}
	defer sink.Close()

	c.Exporter = &exporter.Exporter{
		Client:        client,
		Keys:          redisstore.Keys{Namespace: c.Config.Namespace},
		Sink:          sink,
		Consumer:      c.Config.Consumer,
		BatchSize:     c.Config.BatchSize,
		FlushInterval: c.Config.FlushInterval,
		ClaimIdle:     c.Config.ClaimIdle,
		Logger:        logger,
	}
	return c.Exporter.Run(ctx)
}
