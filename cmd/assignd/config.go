package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/assign-dev/assign/answercache"
	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/demo"
	"github.com/assign-dev/assign/exporter"
	"github.com/assign-dev/assign/internal/envflag"
)

// Config is the configuration of assignd. Every field has a flag and an
// environment variable; the flag wins.
type Config struct {
	Addr                string        // listen address
	RedisURL            string        // empty: an embedded in-process miniredis (demo only)
	RedisMinReplicas    int           // replicas that must hold an enrollment before it is answered (WAIT); 0: none
	Namespace           string        // key namespace, to share a Redis between deployments
	AdminTokens         string        // "token" or "name:token,name:token"
	JWTSecret           string        // HS256 secret
	JWTPublicKey        string        // path of an RSA or ECDSA public key (PEM): RS256/ES256
	JWTJWKSURLs         []string      // JWKS endpoints of identity providers
	JWTJWKSFiles        []string      // JWKS files
	JWTIssuer           string        // required iss when set
	JWTAudience         string        // required aud when set
	EnrollTimeout       time.Duration // deadline of one enrollment decision; 0: 50ms, or 1s on the embedded Redis
	Pipeline            bool          // batch concurrent enrollment script calls into pipelines
	PipelineBatches     int           // pipeline batches in flight at once
	MaxConns            int           // connections served at once; 0 for fasthttp's default
	AnswerCache         bool          // answer returning users from process memory (redisstore.Store.Answers)
	AnswerCacheSize     int           // answers kept, in entries (answercache.EntryBytes each)
	AnswerCacheMaxAge   time.Duration // longest an answer is kept
	AllowEvictingRedis  bool          // run on a Redis whose maxmemory-policy may evict keys (data loss), with a warning
	WarehouseURL        string        // postgres://... or a DuckDB file path
	Exporter            bool          // run the warehouse exporter in this process
	ExportBatchSize     int           // most enrollments per warehouse transaction
	ExportFlushInterval time.Duration // longest a partial batch waits
	Console             bool          // serve the web console at /
	ResultsWarehouseURL string        // the warehouse the console reads, read-only; empty: WarehouseURL
	MetricsFile         string        // the metrics the console's results analyse (results.LoadMetrics); empty: none
	DemoUsers           string        // the sample users the embedded demo mode's console can send (demo.ReadUsers)
	DebugAddr           string        // listen address of net/http/pprof; empty: off
	LogFormat           string        // json | text; default text on a terminal, else json
	LogLevel            string        // debug | info | warn | error
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr:                ":8080",
		Pipeline:            true,
		PipelineBatches:     1,
		MaxConns:            10_000,
		AnswerCache:         true,
		AnswerCacheSize:     answercache.DefaultSize,
		AnswerCacheMaxAge:   answercache.DefaultMaxAge,
		WarehouseURL:        "assign.duckdb",
		DemoUsers:           demo.DefaultUsersFile,
		Exporter:            true,
		Console:             true,
		ExportBatchSize:     exporter.DefaultBatchSize,
		ExportFlushInterval: time.Second,
		LogLevel:            "info",
	}
}

// flagEnv pairs each flag with its environment variable, for the help text
// and for reading the environment.
var flagEnv = map[string]string{
	"addr":                  "ASSIGN_ADDR",
	"redis-url":             "ASSIGN_REDIS_URL",
	"redis-min-replicas":    "ASSIGN_REDIS_MIN_REPLICAS",
	"namespace":             "ASSIGN_NAMESPACE",
	"admin-token":           "ASSIGN_ADMIN_TOKEN",
	"jwt-secret":            "ASSIGN_JWT_SECRET",
	"jwt-public-key":        "ASSIGN_JWT_PUBLIC_KEY",
	"jwt-jwks-url":          "ASSIGN_JWT_JWKS_URL",
	"jwt-jwks-file":         "ASSIGN_JWT_JWKS_FILE",
	"jwt-issuer":            "ASSIGN_JWT_ISSUER",
	"jwt-audience":          "ASSIGN_JWT_AUDIENCE",
	"enroll-timeout":        "ASSIGN_ENROLL_TIMEOUT",
	"pipeline":              "ASSIGN_PIPELINE",
	"pipeline-batches":      "ASSIGN_PIPELINE_BATCHES",
	"max-conns":             "ASSIGN_MAX_CONNS",
	"answer-cache":          "ASSIGN_ANSWER_CACHE",
	"answer-cache-size":     "ASSIGN_ANSWER_CACHE_SIZE",
	"answer-cache-max-age":  "ASSIGN_ANSWER_CACHE_MAX_AGE",
	"allow-evicting-redis":  "ASSIGN_ALLOW_EVICTING_REDIS",
	"warehouse-url":         "ASSIGN_WAREHOUSE_URL",
	"exporter":              "ASSIGN_EXPORTER",
	"export-batch-size":     "ASSIGN_EXPORT_BATCH_SIZE",
	"export-flush-interval": "ASSIGN_EXPORT_FLUSH_INTERVAL",
	"console":               "ASSIGN_CONSOLE",
	"results-warehouse-url": "ASSIGN_RESULTS_WAREHOUSE_URL",
	"metrics-file":          "ASSIGN_METRICS_FILE",
	"demo-users":            "ASSIGN_DEMO_USERS",
	"debug-addr":            "ASSIGN_DEBUG_ADDR",
	"log-format":            "ASSIGN_LOG_FORMAT",
	"log-level":             "ASSIGN_LOG_LEVEL",
}

// ParseFlags fills c from args, falling back to the environment (getenv) for
// flags not given, and to the defaults already in c.
func (c *Config) ParseFlags(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("assignd", flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address")
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "Redis URL: redis://host:port/db (any node of a Redis Cluster: it is detected), redis://h1:p1?addr=h2:p2 (cluster seeds), redis://sentinel:26379?master_name=NAME&addr=... (Sentinel); rediss:// for TLS; empty runs an embedded in-process Redis for demos")
	fs.IntVar(&c.RedisMinReplicas, "redis-min-replicas", c.RedisMinReplicas, "replicas that must acknowledge each enrollment (WAIT) before it is answered; 0: asynchronous replication")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "prefix of every Redis key, to share one Redis")
	fs.StringVar(&c.AdminTokens, "admin-token", c.AdminTokens, `admin bearer token(s): "token" or "name:token,name:token"`)
	fs.StringVar(&c.JWTSecret, "jwt-secret", c.JWTSecret, "HS256 secret of user tokens")
	fs.StringVar(&c.JWTPublicKey, "jwt-public-key", c.JWTPublicKey, "PEM file of the RSA/ECDSA public key of user tokens (RS256/ES256)")
	fs.Var(newListFlag(&c.JWTJWKSURLs, getenv("ASSIGN_JWT_JWKS_URL") != ""), "jwt-jwks-url", "JWKS URL of an identity provider (RS256/ES256... keys chosen by kid, refreshed); repeatable, or comma-separated")
	fs.Var(newListFlag(&c.JWTJWKSFiles, getenv("ASSIGN_JWT_JWKS_FILE") != ""), "jwt-jwks-file", "JWKS file (read again at each refresh); repeatable, or comma-separated")
	fs.StringVar(&c.JWTIssuer, "jwt-issuer", c.JWTIssuer, "required issuer (iss) of user tokens")
	fs.StringVar(&c.JWTAudience, "jwt-audience", c.JWTAudience, "required audience (aud) of user tokens")
	fs.DurationVar(&c.EnrollTimeout, "enroll-timeout", c.EnrollTimeout, "deadline of one enrollment; past it the client gets 503 (0: 50ms, or 1s on the slower embedded Redis)")
	fs.BoolVar(&c.Pipeline, "pipeline", c.Pipeline, "batch concurrent enrollments into Redis pipelines (higher throughput on a busy server)")
	fs.IntVar(&c.PipelineBatches, "pipeline-batches", c.PipelineBatches, "pipeline batches in flight at once (1: each batch waits for the previous one)")
	fs.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "client connections served at once; at the limit a new client closes the longest idle keep-alive connection, else gets the JSON 503")
	fs.BoolVar(&c.AnswerCache, "answer-cache", c.AnswerCache, "answer returning users from this process's memory, without a Redis round trip, while every configuration change is sure to reach it (within 1s); -answer-cache=false asks Redis every time")
	fs.IntVar(&c.AnswerCacheSize, "answer-cache-size", c.AnswerCacheSize, "answers the cache keeps, in entries of 40 bytes (the default is about 40 MiB)")
	fs.DurationVar(&c.AnswerCacheMaxAge, "answer-cache-max-age", c.AnswerCacheMaxAge, "longest an answer is kept: bounds what a change notice lost without any sign can cost")
	fs.BoolVar(&c.AllowEvictingRedis, "allow-evicting-redis", c.AllowEvictingRedis, "start and stay ready on a Redis whose maxmemory-policy may evict keys (it silently deletes experiments and members under memory pressure); default: refuse")
	fs.StringVar(&c.WarehouseURL, "warehouse-url", c.WarehouseURL, "warehouse: postgres://... or a DuckDB file path")
	fs.BoolVar(&c.Exporter, "exporter", c.Exporter, "run the warehouse exporter in this process")
	fs.IntVar(&c.ExportBatchSize, "export-batch-size", c.ExportBatchSize, "most enrollments written to the warehouse in one transaction")
	fs.DurationVar(&c.ExportFlushInterval, "export-flush-interval", c.ExportFlushInterval, "longest a partial batch waits before it is written")
	fs.BoolVar(&c.Console, "console", c.Console, "serve the web console at / (sign in with an admin token); -console=false turns it off")
	fs.StringVar(&c.ResultsWarehouseURL, "results-warehouse-url", c.ResultsWarehouseURL, "warehouse the console reads history and results from, read-only: postgres://... (a role with SELECT only) or a DuckDB file path (opened read-only for each read); empty: the -warehouse-url")
	fs.StringVar(&c.DemoUsers, "demo-users", c.DemoUsers, "sample users file the console's demo button sends through an experiment, in the embedded demo mode only (no -redis-url)")
	fs.StringVar(&c.MetricsFile, "metrics-file", c.MetricsFile, "metrics file (YAML, as assignctl results --metrics) whose metrics the console's results analyse; assignd runs only these queries, never SQL from a browser; empty: no results")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "listen address of the Go profiler (net/http/pprof), e.g. 127.0.0.1:6060; empty: off")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "json or text (default: text on a terminal, else json)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	envflag.SetUsage(fs, flagEnv, "Usage: assignd [flags]\n\nassignd serves experiment enrollments from Redis.\n")
	if err := envflag.Parse(fs, flagEnv, args, getenv); err != nil {
		return err
	}
	return c.Validate()
}

// Validate checks the parts of the configuration that can be checked without
// connecting anywhere.
func (c *Config) Validate() error {
	if c.EnrollTimeout < 0 {
		return errors.New("enroll-timeout must not be negative")
	}
	if c.RedisMinReplicas < 0 {
		return errors.New("redis-min-replicas must not be negative")
	}
	if c.AnswerCache && (c.AnswerCacheSize <= 0 || c.AnswerCacheMaxAge <= 0) {
		return errors.New("answer-cache-size and answer-cache-max-age must be positive (-answer-cache=false turns the cache off)")
	}
	if c.ExportBatchSize <= 0 || c.ExportFlushInterval <= 0 {
		return errors.New("export-batch-size and export-flush-interval must be positive")
	}
	switch c.LogFormat {
	case "", "json", "text":
	default:
		return fmt.Errorf("log-format must be json or text, not %q", c.LogFormat)
	}
	if strings.TrimSpace(c.WarehouseURL) == "" {
		// Only an explicit -warehouse-url "" gets here (the default is
		// assign.duckdb, an empty variable is not read): never guess a file.
		return errors.New(`warehouse-url must not be empty: give postgres://... or a DuckDB file path (default "assign.duckdb")`)
	}
	if u := c.ResultsWarehouseURL; strings.Contains(u, "://") && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") && !strings.HasPrefix(u, "duckdb://") {
		return errors.New("results-warehouse-url: use postgres://... (a role with SELECT only) or a DuckDB file path")
	}
	if n := len(c.JWTSecret); n > 0 && n < auth.MinHS256SecretLen {
		return fmt.Errorf("jwt-secret is %d bytes long: an HS256 secret needs at least %d (RFC 7518)", n, auth.MinHS256SecretLen)
	}
	if c.RedisURL != "" && c.JWTSecret == "" && c.JWTPublicKey == "" && len(c.JWTJWKSURLs)+len(c.JWTJWKSFiles) == 0 {
		return errors.New("with a real Redis, a JWT key is required: set -jwt-secret, -jwt-public-key, -jwt-jwks-url or -jwt-jwks-file")
	}
	if c.RedisURL != "" && c.AdminTokens == "" {
		return errors.New("with a real Redis, an admin token is required: set -admin-token")
	}
	_, err := parseAdminTokens(c.AdminTokens)
	return err
}

// parseAdminTokens reads "token" or "name:token,name:token" into token -> name.
func parseAdminTokens(s string) (map[string]string, error) {
	m := make(map[string]string)
	if s == "" {
		return m, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		name, token, ok := strings.Cut(part, ":")
		if !ok {
			name, token = "admin", part
		}
		if token == "" || name == "" {
			return nil, fmt.Errorf("admin-token: empty name or token in %q", part)
		} else if len(token) < 16 {
			return nil, fmt.Errorf("admin-token: the token of %q is shorter than 16 characters", name)
		}
		m[token] = name
	}
	return m, nil
}

// flagErrHelp is returned by ParseFlags for -h and -help.
var flagErrHelp = flag.ErrHelp

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }
