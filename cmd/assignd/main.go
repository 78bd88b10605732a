// Command assignd serves experiment enrollments over HTTP from Redis.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp/fasthttpadaptor"
	"golang.org/x/term"

	"github.com/assign-dev/assign/answercache"
	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/console"
	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/metrics"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/results"
)

func main() {
	// The heap is small and short-lived (per-request garbage): collect less
	// often and spend the CPU on requests. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := NewMain()
	if err := m.Config.ParseFlags(os.Args[1:], os.Getenv); err != nil {
		if errors.Is(err, flagErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "assignd:", err)
		os.Exit(2)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "assignd:", err)
		m.Close()
		os.Exit(1)
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	if err := m.Close(); err != nil {
		m.Logger.Error("shutdown", "err", err)
		os.Exit(1)
	}
}

// Main is the assignd program, separate from main() so that end-to-end tests
// can run it in-process.
type Main struct {
	Config Config
	Logger *slog.Logger
	Stdout io.Writer // where the first-run instructions go

	embedded *miniredis.Miniredis
	client   redis.UniversalClient
	Store    *redisstore.Store
	Server   *assignhttp.Server
	Registry *prometheus.Registry
	exporter *exporterRunner
	debug    *http.Server
	insights *insights                 // the console's warehouse reads
	policy   *redisstore.PolicyMonitor // nil on the embedded Redis
	jwks     *auth.JWKS                // nil without -jwt-jwks-url/-jwt-jwks-file

	stopListen func()         // stops the answer cache's listener (nil without the cache)
	listening  sync.WaitGroup // the listener
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Stdout: os.Stdout}
}

// Run starts every part and returns once the server listens; Close stops them.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.Logger == nil {
		m.Logger = newLogger(m.Config, os.Stderr)
	}
	admins, err := parseAdminTokens(m.Config.AdminTokens)
	if err != nil {
		return err
	}

	// Redis: the configured one, or an embedded miniredis for a first run.
	redisURL := m.Config.RedisURL
	demo := redisURL == ""
	if demo {
		m.embedded = miniredis.NewMiniRedis()
		if err := m.embedded.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		redisURL = "redis://" + m.embedded.Addr()
		m.Logger.Warn("NO REDIS CONFIGURED: using an embedded in-process Redis (miniredis). " +
			"Everything is lost when assignd stops. Set -redis-url for real use.")
	}
	client, err := redisstore.NewClient(ctx, redisURL)
	if err != nil {
		return err
	}
	m.client = client
	m.Store = redisstore.New(client, redisstore.Keys{Namespace: m.Config.Namespace})
	m.Store.MinReplicas = m.Config.RedisMinReplicas
	if m.Config.Pipeline {
		opts := redis.DefaultAutoPipelineOptions()
		if n := m.Config.PipelineBatches; n > 1 {
			// Enrollments are independent of each other: no order to keep
			// between batches, so several may be in flight at once.
			opts.MaxConcurrentBatches, opts.Unordered = n, true
		}
		if _, ok := client.(*redis.ClusterClient); ok && opts.MaxConcurrentBatches > 1 {
			m.Logger.Warn("-pipeline-batches above 1 on a Redis Cluster: the half-duplex pipeline mixes the masters, so a dead master stalls every shard's enrollments until its calls fail; keep 1")
		} else if ok {
			// One pipeline per master: the half-duplex batches mix the
			// nodes, so one dead master would stall the batches of every
			// shard until its commands fail (measured: healthy shards' calls
			// missed their deadline during a failover).
			opts.FullDuplex = true
		}
		if m.Store.Pipeline, err = client.AsyncAutoPipelineWithOptions(opts); err != nil {
			return fmt.Errorf("redis pipeline: %w", err)
		}
	}
	if m.Config.AnswerCache {
		m.Store.Answers = answercache.New(m.Config.AnswerCacheSize, m.Config.AnswerCacheMaxAge)
		listenCtx, stop := context.WithCancel(context.Background())
		m.stopListen = stop
		m.listening.Add(1)
		go func() {
			defer m.listening.Done()
			_ = m.Store.Listen(listenCtx)
		}()
	}
	loadCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := m.Store.Load(loadCtx); err != nil {
		return fmt.Errorf("redis at %s: %w", redactURL(redisURL), err)
	}
	if err := m.startPolicyMonitor(ctx, demo, redisURL); err != nil { // redispolicy.go
		return err
	}

	// Tokens: in demo mode, generate what is missing and say how to use it.
	secret := []byte(m.Config.JWTSecret)
	var generatedSecret, generatedAdmin bool
	jwks := len(m.Config.JWTJWKSURLs)+len(m.Config.JWTJWKSFiles) > 0
	if demo && len(secret) == 0 && m.Config.JWTPublicKey == "" && !jwks {
		secret = []byte(randomHex(32))
		generatedSecret = true
	}
	if demo && len(admins) == 0 {
		admins[randomHex(16)] = "admin"
		generatedAdmin = true
	}
	acfg := auth.Config{HS256Secret: secret, Issuer: m.Config.JWTIssuer, Audience: m.Config.JWTAudience}
	if m.Config.JWTPublicKey != "" {
		if acfg.PublicKeyPEM, err = os.ReadFile(m.Config.JWTPublicKey); err != nil {
			return fmt.Errorf("jwt-public-key: %w", err)
		}
	}
	if err := m.startJWKS(ctx); err != nil { // jwks.go
		return err
	}
	acfg.JWKS = m.jwks
	verifier, err := auth.NewVerifier(acfg)
	if err != nil {
		return err
	}

	m.Registry = prometheus.NewRegistry()
	mx := metrics.New(m.Registry)
	m.Registry.MustRegister(
		metrics.NewExperimentCollector(m.listExperiments),
		metrics.NewRedisUp(m.Store.Ping, time.Second),
		metrics.NewRedisPolicy(m.policyState),
	)
	if c := m.Store.Answers; c != nil {
		m.Registry.MustRegister(metrics.NewAnswerCache(func() metrics.AnswerCacheState {
			st := c.Stats()
			return metrics.AnswerCacheState{Hits: st.Hits, Misses: st.Misses, Evictions: st.Evictions,
				Invalidations: st.Invalidations, Flushes: st.Flushes, Serving: st.Serving, Size: c.Size()}
		}))
	}
	if m.jwks != nil {
		m.Registry.MustRegister(metrics.NewJWKS(m.jwksMetrics))
	}

	s := assignhttp.NewServer()
	s.Addr = m.Config.Addr
	s.Experiments = m.Store
	s.Layers = m.Store
	s.Enrollments = mx.InstrumentEnrollments(m.Store)
	s.Verifier = verifier
	s.Admins = admins
	s.EnrollTimeout = m.Config.EnrollTimeout
	if s.EnrollTimeout == 0 {
		// The in-process miniredis runs scripts in an interpreter on the
		// server's own cores: a demo burst must not turn into 503s.
		s.EnrollTimeout = 50 * time.Millisecond
		if demo {
			s.EnrollTimeout = time.Second
		}
	}
	s.Concurrency = m.Config.MaxConns
	s.Logger = m.Logger
	s.Observer = mx
	s.Metrics = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	s.Ready = m.readyWithKeys // Redis answers, the scripts are loaded, no eviction, the JWKS loaded
	s.Degraded = m.degraded
	m.insights = newInsights(m.Config.ResultsWarehouseURL, m.Config.WarehouseURL)
	if m.Config.MetricsFile != "" {
		if m.insights.metrics, err = results.LoadMetrics(m.Config.MetricsFile); err != nil {
			return fmt.Errorf("metrics-file: %w", err)
		}
	}
	s.Insights = m.insights
	if m.Config.Console {
		s.Console = console.NewHandler(console.Options{Demo: demo})
	}
	if demo {
		s.SampleUsers = m.sampleUsers(s.Enrollments)
	}
	if m.Config.Exporter {
		if m.exporter, err = m.startExporter(redisURL, mx); err != nil {
			return err
		}
		m.Registry.MustRegister(metrics.NewExporterCollector(m.exporter.snapshot))
		s.ReadyDetails = m.exporter.readyDetails
		m.Logger.Info("exporting enrollments to the warehouse", "warehouse", redactURL(m.Config.WarehouseURL))
	}
	if m.jwks != nil {
		s.ReadyDetails = m.withJWKSDetails(s.ReadyDetails)
	}
	if m.Config.DebugAddr != "" {
		if err := m.startDebug(); err != nil {
			return fmt.Errorf("debug-addr: %w", err)
		}
	}
	if err := s.Open(); err != nil {
		return err
	}
	m.Server = s
	m.Logger.Info("assignd listening", "addr", s.URL(), "redis", redactURL(redisURL), "redis_kind", redisstore.Kind(client))

	if generatedSecret || generatedAdmin {
		m.printDemo(secret, admins, generatedSecret)
	}
	return nil
}

// Close stops the parts that were started, in reverse order.
func (m *Main) Close() error {
	var errs []error
	if m.Server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.Server.Shutdown(ctx))
		cancel()
	}
	if m.debug != nil {
		errs = append(errs, m.debug.Close())
	}
	if m.exporter != nil {
		errs = append(errs, m.exporter.Close()) // flushes what it read
	}
	if m.insights != nil {
		errs = append(errs, m.insights.Close())
	}
	if m.policy != nil {
		m.policy.Close()
	}
	if m.jwks != nil {
		m.jwks.Close()
	}
	if m.stopListen != nil {
		m.stopListen()
		m.listening.Wait()
	}
	if m.client != nil {
		errs = append(errs, m.client.Close())
	}
	if m.embedded != nil {
		m.embedded.Close()
	}
	return errors.Join(errs...)
}

// listExperiments returns every experiment with its stats, for the
// per-experiment gauges. Past maxScraped experiments the rest are left out.
func (m *Main) listExperiments(ctx context.Context) ([]*assign.Experiment, error) {
	const maxScraped = 10_000
	var all []*assign.Experiment
	filter := assign.ExperimentFilter{Limit: assign.MaxPageSize}
	for len(all) < maxScraped {
		page, next, err := m.Store.FindExperiments(ctx, filter)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		filter.After = next
	}
	return all, nil
}

// printDemo prints ready-to-paste commands with freshly made credentials.
func (m *Main) printDemo(secret []byte, admins map[string]string, withUserToken bool) {
	var admin string
	for token := range admins {
		admin = token
		break
	}
	url := m.Server.URL()
	fmt.Fprintf(m.Stdout, "\n=== assignd demo mode: credentials generated for this run only ===\n")
	fmt.Fprintf(m.Stdout, "export ADMIN_TOKEN=%s\n", admin)
	if m.Config.Console {
		fmt.Fprintf(m.Stdout, "# web console: %s/ (sign in with the ADMIN_TOKEN)\n", url)
	}
	if withUserToken {
		token, err := auth.SignHS256(secret, "user-1", 24*time.Hour, map[string]any{"first_order": true})
		if err == nil {
			fmt.Fprintf(m.Stdout, "export JWT_SECRET=%s\n", secret)
			fmt.Fprintf(m.Stdout, "export USER_TOKEN=%s   # sub=user-1, first_order=true, valid 24h\n", token)
		}
	}
	fmt.Fprintf(m.Stdout, `
curl -s -X POST %[1]s/api/experiment-create -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"experiment_id":"f380739f-62f3-4316-8acf-93ed5744cb9e",
  "maximum_sample_size":250,"sampling_probability":1,
  "groups":[{"group_name":"old_journey","probability_of_falling_in":0.5},
            {"group_name":"new_journey","probability_of_falling_in":0.5}],
  "eligibility":[{"claim":"first_order","equals":true}]}'

curl -s -X POST %[1]s/api/experiment-enrollments -H "Authorization: Bearer $USER_TOKEN" \
  -H 'Content-Type: application/json' -d '{"experiment_id":"f380739f-62f3-4316-8acf-93ed5744cb9e"}'
===
`, url)
}

// newLogger returns a JSON logger, or a text one when w is a terminal,
// unless the configuration says otherwise.
func newLogger(c Config, w *os.File) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := c.LogFormat
	if format == "" {
		format = "json"
		if term.IsTerminal(int(w.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redactURL hides a password in a Redis URL for logs.
func redactURL(s string) string {
	if u, err := parseURL(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable url)"
}
