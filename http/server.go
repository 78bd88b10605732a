// Package http serves the assign API over HTTP with fasthttp.
//
// Routes (all bodies JSON; errors are {"error":{"code","message","field"?}}):
//
//	POST  /api/experiment-create       admin token   create an experiment
//	POST  /api/experiment-enrollments  user JWT      enroll the token's subject
//	GET   /api/experiments             admin token   list, ?limit=&after=
//	GET   /api/experiments/{id}        admin token   one experiment with stats
//	PATCH /api/experiments/{id}        admin token   change status, sampling, cap, weights, winner
//	GET   /api/layers/{name}           admin token   how a layer's slots are split between its experiments
//	GET   /api/plan?baseline=&effect=  admin token   the sample an experiment needs (stats.MakePlan)
//	GET   /api/experiments/{id}/changes            admin token   configuration history (warehouse)
//	GET   /api/experiments/{id}/daily-enrollments  admin token   enrollments per day and group (warehouse)
//	GET   /api/experiments/{id}/results            admin token   the metrics file's results (warehouse)
//	GET   /, /console/*                              the web console (console package)
//	GET   /healthz                                   process alive
//	GET   /readyz                                    dependencies ready
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
	"github.com/valyala/fasthttp"
)

// Defaults of NewServer.
const (
	DefaultReadTimeout        = 5 * time.Second
	DefaultWriteTimeout       = 5 * time.Second
	DefaultIdleTimeout        = 60 * time.Second
	DefaultMaxRequestBodySize = 64 << 10
	DefaultEnrollTimeout      = 50 * time.Millisecond
	DefaultAdminTimeout       = 5 * time.Second
	DefaultShutdownTimeout    = 10 * time.Second
	DefaultResultsTimeout     = 30 * time.Second
)

// Observer receives what the server learns about each request, for metrics
// (see issue 4). Implementations must be cheap and safe for concurrent use.
type Observer interface {
	// ObserveRequest is called once per request, after the response is
	// built: route is one of the Route constants, status the HTTP status.
	ObserveRequest(route string, code int, elapsed time.Duration)

	// ObserveTokenRejection is called for each user token refused, with the
	// auth reason (auth.Reason*).
	ObserveTokenRejection(reason string)

	// ObserveDecision is called with each successful enrollment decision.
	// e is only valid during the call.
	ObserveDecision(e *assign.Enrollment)
}

// Server is the API server. Set its fields after NewServer and before Open,
// Serve or Handler; they must not change afterwards.
type Server struct {
	// Addr is the TCP address Open listens on, e.g. ":8080" or "127.0.0.1:0".
	Addr string

	// Experiments and Enrollments are the services behind the API. Required.
	Experiments assign.ExperimentService
	Enrollments assign.EnrollmentService

	// Verifier checks user tokens on the enrollment route. Required.
	Verifier *auth.Verifier

	// Admins maps each admin Bearer token to the admin's name, recorded as
	// "who" on configuration changes. Empty means admin routes always answer
	// 401.
	Admins map[string]string

	// Ready reports whether the dependencies can serve (GET /readyz).
	// Nil means always ready.
	Ready func(ctx context.Context) error

	// ReadTimeout, WriteTimeout and IdleTimeout bound a connection's reads,
	// writes and keep-alive idleness. Defaults 5s, 5s and 60s; set them
	// explicitly since fasthttp treats 0 as "no limit".
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration

	// MaxRequestBodySize bounds request bodies; larger ones get 413.
	// Default 64 KiB.
	MaxRequestBodySize int

	// Concurrency bounds the connections served at once. At the limit a new
	// connection closes the longest idle keep-alive one; when none is idle
	// it gets the JSON 503 with a fallback (conns.go). Default 0: fasthttp's
	// default (256 Ki), counting idle connections as busy.
	Concurrency int

	// EnrollTimeout is the deadline of the store call of one enrollment;
	// past it the client gets 503 with a fallback. Default 50ms. The store
	// must honour the context deadline.
	EnrollTimeout time.Duration

	// AdminTimeout is the deadline of the store calls of admin and readiness
	// routes. Default 5s.
	AdminTimeout time.Duration

	// ShutdownTimeout bounds how long Close waits for in-flight requests.
	// Default 10s.
	ShutdownTimeout time.Duration

	// Logger receives one line per failed request (server errors at Error,
	// client errors at Debug). It never logs tokens or user ids.
	// Default slog.Default().
	Logger *slog.Logger

	// Observer, if set, receives per-request measurements for metrics.
	Observer Observer

	// Layers, if set, serves GET /api/layers/{name} (admin): a layer's split.
	Layers LayerSplitter

	// Metrics, if set, serves GET /metrics (the Prometheus exposition).
	Metrics fasthttp.RequestHandler

	// Degraded, if set, describes what fails while the server is ready but
	// cannot do everything (Redis out of memory: new enrollments fail);
	// /readyz then answers 200 with status "degraded". "" when all is well.
	Degraded func(ctx context.Context) string

	// Console, if set, serves the web console: GET / and GET /console/*
	// (the console package).
	Console fasthttp.RequestHandler

	// Insights, if set, serves the warehouse routes of the console:
	// GET /api/experiments/{id}/changes, /daily-enrollments and /results
	// (admin). Without it they answer 503.
	Insights Insights

	// ResultsTimeout is the deadline of an Insights call. Default 30s.
	ResultsTimeout time.Duration

	// SampleUsers, when set (assignd's embedded demo mode), plays the demo's
	// sample users through an experiment: POST
	// /api/experiments/{id}/sample-users, answered with its value. Nil: the
	// route is a 404.
	SampleUsers func(ctx context.Context, id string) (any, error)

	// insightsSlots bounds the warehouse reads in flight (MaxInsightsCalls).
	insightsSlots chan struct{}

	// ReadyDetails, if set, adds facts to the /readyz body that do not decide
	// readiness, such as the warehouse backlog. It must marshal to JSON.
	ReadyDetails func(ctx context.Context) any

	once    sync.Once
	ids     idTable // experiment ids of decisions, interned (intern.go)
	srv     *fasthttp.Server
	limiter *connLimiter // nil without a Concurrency (conns.go)
	admins  []adminCredential
	ln      net.Listener
}

// NewServer returns a Server with the defaults set.
func NewServer() *Server {
	return &Server{
		ReadTimeout:        DefaultReadTimeout,
		WriteTimeout:       DefaultWriteTimeout,
		IdleTimeout:        DefaultIdleTimeout,
		MaxRequestBodySize: DefaultMaxRequestBodySize,
		EnrollTimeout:      DefaultEnrollTimeout,
		AdminTimeout:       DefaultAdminTimeout,
		ShutdownTimeout:    DefaultShutdownTimeout,
		Logger:             slog.Default(),
	}
}

// init freezes the configuration into the fasthttp server, filling defaults
// left at zero (so a Server literal works too).
func (s *Server) init() {
	s.once.Do(func() {
		if s.MaxRequestBodySize <= 0 {
			s.MaxRequestBodySize = DefaultMaxRequestBodySize
		}
		if s.EnrollTimeout <= 0 {
			s.EnrollTimeout = DefaultEnrollTimeout
		}
		if s.AdminTimeout <= 0 {
			s.AdminTimeout = DefaultAdminTimeout
		}
		if s.ResultsTimeout <= 0 {
			s.ResultsTimeout = DefaultResultsTimeout
		}
		s.insightsSlots = make(chan struct{}, MaxInsightsCalls)
		if s.ShutdownTimeout <= 0 {
			s.ShutdownTimeout = DefaultShutdownTimeout
		}
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
		s.admins = newAdminCredentials(s.Admins)
		s.srv = &fasthttp.Server{
			Handler:               s.handle,
			ErrorHandler:          s.handleTransportError,
			Name:                  "assign",
			NoDefaultServerHeader: true,
			ReadTimeout:           s.ReadTimeout,
			WriteTimeout:          s.WriteTimeout,
			IdleTimeout:           s.IdleTimeout,
			MaxRequestBodySize:    s.MaxRequestBodySize,
			Concurrency:           s.Concurrency,
			CloseOnShutdown:       true,
			Logger:                fasthttpLogger{s.Logger},
			SecureErrorLogMessage: true, // no request contents in fasthttp's errors (logsafe.go)
		}
		if s.Concurrency > 0 { // the limit is kept in front of fasthttp (conns.go)
			s.limiter = &connLimiter{max: s.Concurrency}
			s.srv.Concurrency = s.Concurrency + overflowReserve(s.Concurrency)
			s.srv.ConnState = s.limiter.state
		}
	})
}

// Open listens on Addr synchronously, so a bad or busy address fails here,
// and serves in a goroutine until Close.
func (s *Server) Open() error {
	if s.Experiments == nil || s.Enrollments == nil || s.Verifier == nil {
		return errors.New("http: Experiments, Enrollments and Verifier are required")
	}
	s.init()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("http: listen on %q: %w", s.Addr, err)
	}
	s.ln = ln
	if s.limiter != nil {
		ln = limitListener{ln, s.limiter}
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil {
			s.Logger.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// Serve serves on ln until Close or Shutdown and returns nil then.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	s.ln = ln
	if s.limiter != nil {
		ln = limitListener{ln, s.limiter}
	}
	return s.srv.Serve(ln)
}

// URL returns the base URL of the listener, e.g. "http://127.0.0.1:41234",
// with a loopback host when listening on all interfaces; "" before Open.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	addr, ok := s.ln.Addr().(*net.TCPAddr)
	if !ok {
		return "http://" + s.ln.Addr().String()
	}
	host := "127.0.0.1"
	if addr.IP != nil && !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// Port returns the TCP port listened on, 0 before Open.
func (s *Server) Port() int {
	if s.ln == nil {
		return 0
	}
	if addr, ok := s.ln.Addr().(*net.TCPAddr); ok {
		return addr.Port
	}
	return 0
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.ShutdownWithContext(ctx)
}

// Close shuts down gracefully within ShutdownTimeout.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	return s.Shutdown(ctx)
}

// Handler returns the request handler, for tests and benchmarks that drive
// the API without a network.
func (s *Server) Handler() fasthttp.RequestHandler {
	s.init()
	return s.handle
}

// handle is the single place where a request's route, status and latency are
// all known.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	var route string
	if s.limiter != nil && s.overCapacity(ctx) {
		route = RouteOverCapacity
	} else {
		route = s.route(ctx)
	}
	if s.Observer != nil {
		s.Observer.ObserveRequest(route, ctx.Response.StatusCode(), time.Since(start))
	}
}

// handleTransportError answers requests fasthttp could not read (body over
// the limit, timeouts, broken framing) with the same JSON error shape.
func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	code := EMALFORMEDREQUEST
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		code = ETOOLARGE
	case errors.As(err, &small):
		code = EHEADERTOOLARGE
	case errors.As(err, &netErr) && netErr.Timeout():
		code = ETIMEOUT
	}
	s.writeError(ctx, RouteTransport, code, transportMessages[code], "", "", transportCause(err))
	if s.Observer != nil {
		s.Observer.ObserveRequest(RouteTransport, ctx.Response.StatusCode(), 0)
	}
}

var transportMessages = map[string]string{
	ETOOLARGE:         "The request body is too large.",
	EHEADERTOOLARGE:   "The request headers are too large.",
	ETIMEOUT:          "The request was not received in time.",
	EMALFORMEDREQUEST: "The HTTP request is malformed.",
}

// writeError writes THE error body with the status of code and logs one line.
// cause is for the log only.
func (s *Server) writeError(ctx *fasthttp.RequestCtx, route, code, message, field, fallback string, cause error) {
	status := ErrorStatus(code)
	var buf [512]byte
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(appendError(buf[:0], code, message, field, fallback))
	if status >= 500 {
		s.Logger.Error("request failed", "route", route, "status", status, "code", code, "err", cause)
	} else if s.Logger.Enabled(context.Background(), slog.LevelDebug) {
		s.Logger.Debug("request refused", "route", route, "status", status, "code", code, "field", field, "err", cause)
	}
}

// writeErr writes err, an application error or any other error.
func (s *Server) writeErr(ctx *fasthttp.RequestCtx, route string, err error) {
	code := errorCode(err)
	s.writeError(ctx, route, code, errorMessage(code, err), assign.ErrorField(err), "", err)
}
