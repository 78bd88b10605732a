// Package metrics holds the Prometheus collectors of assignd.
//
// Every collector is registered on a registry passed in, never the global
// default, so tests can read them. Label cardinality is bounded: routes and
// status codes are fixed sets, experiments are labelled only once they exist,
// and at most MaxExperimentLabels of them (the rest share the label value
// "_other"); user ids are never labels.
package metrics

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/assign-dev/assign/assign"
)

// Namespace prefixes every metric name.
const Namespace = "assign"

// OtherExperiments is the experiment label of experiments past the label cap.
const OtherExperiments = "_other"

// DefaultMaxExperimentLabels caps how many experiments get their own labels.
const DefaultMaxExperimentLabels = 200

// Outcomes of an enrollment decision, as the "outcome" label.
const (
	OutcomeEnrolled  = "enrolled"
	OutcomeRolledOut = "rolled_out"
	// OutcomeOverride is a QA override's answer: the user is not a member.
	OutcomeOverride = "override"
)

// latencyBuckets cover 100µs to 1s: the enrollment deadline is 50 ms.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}

// Metrics records what the service does. Its methods are safe for
// concurrent use and do not allocate once a label set has been seen.
type Metrics struct {
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	decisions       *prometheus.CounterVec
	scriptDuration  prometheus.Histogram
	redisErrors     *prometheus.CounterVec
	tokenRejections *prometheus.CounterVec
	exportBatch     prometheus.Histogram

	maxExperiments int

	mu          sync.RWMutex
	experiments map[string]*experimentCounters // by experiment id, including aliases of "_other"
	labelled    int                            // experiments with a label of their own
	routes      map[routeCode]prometheus.Counter
	durations   map[string]prometheus.Observer
	rejections  map[string]prometheus.Counter
}

type routeCode struct {
	route string
	code  int
}

// experimentCounters are the pre-resolved decision counters of one experiment.
type experimentCounters struct {
	label     string                        // the experiment id, or OtherExperiments
	groups    map[string]prometheus.Counter // enrolled, by group
	rolledOut map[string]prometheus.Counter
	overrides map[string]prometheus.Counter
	reasons   map[assign.Reason]prometheus.Counter
}

// New creates the collectors and registers them, with the Go runtime and
// process collectors, on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from reading a request to writing its response, by route.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "enrollment_decisions_total",
			Help: "Enrollment decisions by experiment and outcome (enrolled, rolled_out and override carry the group).",
		}, []string{"experiment", "outcome", "group"}),
		scriptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "redis", Name: "script_duration_seconds",
			Help:    "Round trip of one enrollment script call, as seen by the server.",
			Buckets: latencyBuckets,
		}),
		redisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "redis", Name: "errors_total",
			Help: "Failed Redis calls by kind: timeout (deadline missed or no connection), oom (Redis out of memory refused a write) or error.",
		}, []string{"kind"}),
		tokenRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "auth", Name: "token_rejections_total",
			Help: "User tokens refused, by reason.",
		}, []string{"reason"}),
		exportBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "exporter", Name: "batch_duration_seconds",
			Help:    "Duration of one committed warehouse write (a batch of enrollments).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		maxExperiments: DefaultMaxExperimentLabels,
		experiments:    make(map[string]*experimentCounters),
		routes:         make(map[routeCode]prometheus.Counter),
		durations:      make(map[string]prometheus.Observer),
		rejections:     make(map[string]prometheus.Counter),
	}
	reg.MustRegister(m.requests, m.requestDuration, m.decisions, m.scriptDuration, m.redisErrors, m.tokenRejections, m.exportBatch,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Both kinds exist from the start, so a dashboard's rate() sees zero, not nothing.
	m.redisErrors.WithLabelValues("timeout")
	m.redisErrors.WithLabelValues("error")
	m.redisErrors.WithLabelValues("oom")
	return m
}

// SetMaxExperimentLabels changes the cap on labelled experiments; call it
// before the first observation.
func (m *Metrics) SetMaxExperimentLabels(n int) { m.maxExperiments = n }

// ObserveRequest counts one HTTP request and its latency.
func (m *Metrics) ObserveRequest(route string, code int, d time.Duration) {
	key := routeCode{route, code}
	m.mu.RLock()
	c, ok1 := m.routes[key]
	o, ok2 := m.durations[route]
	m.mu.RUnlock()
	if !ok1 || !ok2 {
		m.mu.Lock()
		if c, ok1 = m.routes[key]; !ok1 {
			c = m.requests.WithLabelValues(route, strconv.Itoa(code))
			m.routes[key] = c
		}
		if o, ok2 = m.durations[route]; !ok2 {
			o = m.requestDuration.WithLabelValues(route)
			m.durations[route] = o
		}
		m.mu.Unlock()
	}
	c.Inc()
	o.Observe(d.Seconds())
}

// ObserveDecision counts one enrollment decision of an existing experiment.
func (m *Metrics) ObserveDecision(e *assign.Enrollment) {
	ec := m.experimentCounters(e.ExperimentID)
	switch {
	case e.Override:
		// Not a member: counted apart, so that decisions by group stay
		// the experiment's assignment.
		counterOf(&m.mu, ec.overrides, e.Group, func() prometheus.Counter {
			return m.decisions.WithLabelValues(ec.label, OutcomeOverride, e.Group)
		}).Inc()
	case e.Enrolled && e.RolledOut:
		counterOf(&m.mu, ec.rolledOut, e.Group, func() prometheus.Counter {
			return m.decisions.WithLabelValues(ec.label, OutcomeRolledOut, e.Group)
		}).Inc()
	case e.Enrolled:
		counterOf(&m.mu, ec.groups, e.Group, func() prometheus.Counter {
			return m.decisions.WithLabelValues(ec.label, OutcomeEnrolled, e.Group)
		}).Inc()
	default:
		counterOf(&m.mu, ec.reasons, e.Reason, func() prometheus.Counter {
			return m.decisions.WithLabelValues(ec.label, string(e.Reason), "")
		}).Inc()
	}
}

// ObserveScript records the latency of one enrollment script call and, when
// it failed, its kind of failure.
func (m *Metrics) ObserveScript(d time.Duration, err error) {
	m.scriptDuration.Observe(d.Seconds())
	if err != nil {
		m.ObserveRedisError(err)
	}
}

// ObserveRedisError counts a failed Redis call: timeouts apart, and errors
// that name their own kind (RedisErrorKind, such as "oom" for Redis out of
// memory) under it.
func (m *Metrics) ObserveRedisError(err error) {
	var k interface{ RedisErrorKind() string }
	switch {
	case errors.As(err, &k) && redisErrorKinds[k.RedisErrorKind()]:
		m.redisErrors.WithLabelValues(k.RedisErrorKind()).Inc()
	case assign.ErrorCode(err) == assign.EUNAVAILABLE:
		m.redisErrors.WithLabelValues("timeout").Inc()
	default:
		m.redisErrors.WithLabelValues("error").Inc()
	}
}

// redisErrorKinds bounds the kind label: timeout, error, and these.
var redisErrorKinds = map[string]bool{"oom": true}

// ObserveExportBatch records the duration of one committed warehouse write.
func (m *Metrics) ObserveExportBatch(rows int, d time.Duration) {
	m.exportBatch.Observe(d.Seconds())
}

// ObserveTokenRejection counts a refused user token by reason.
func (m *Metrics) ObserveTokenRejection(reason string) {
	m.mu.RLock()
	c, ok := m.rejections[reason]
	m.mu.RUnlock()
	if !ok {
		m.mu.Lock()
		if c, ok = m.rejections[reason]; !ok {
			c = m.tokenRejections.WithLabelValues(reason)
			m.rejections[reason] = c
		}
		m.mu.Unlock()
	}
	c.Inc()
}

// experimentCounters returns the counters of an experiment, creating them on
// first sight. Past the cap, experiments share the counters of "_other".
func (m *Metrics) experimentCounters(id string) *experimentCounters {
	m.mu.RLock()
	ec, ok := m.experiments[id]
	m.mu.RUnlock()
	if ok {
		return ec
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ec, ok = m.experiments[id]; ok {
		return ec
	}
	label := id
	if m.labelled >= m.maxExperiments {
		label = OtherExperiments
		if other, ok := m.experiments[OtherExperiments]; ok {
			// Alias the id so later calls take the read-locked path.
			m.experiments[id] = other
			return other
		}
	}
	ec = &experimentCounters{
		label:     label,
		groups:    make(map[string]prometheus.Counter),
		rolledOut: make(map[string]prometheus.Counter),
		overrides: make(map[string]prometheus.Counter),
		reasons:   make(map[assign.Reason]prometheus.Counter),
	}
	if label == OtherExperiments {
		m.experiments[OtherExperiments] = ec
	} else {
		m.labelled++
	}
	m.experiments[id] = ec
	return ec
}

// counterOf returns the counter under key in cache, creating it with make
// under the write lock on first use.
func counterOf[K comparable](mu *sync.RWMutex, cache map[K]prometheus.Counter, key K, make func() prometheus.Counter) prometheus.Counter {
	mu.RLock()
	c, ok := cache[key]
	mu.RUnlock()
	if ok {
		return c
	}
	mu.Lock()
	defer mu.Unlock()
	if c, ok = cache[key]; !ok {
		c = make()
		cache[key] = c
	}
	return c
}
