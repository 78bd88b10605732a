package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// JWKSSource is what one JWKS source (a URL or a file) last did.
type JWKSSource struct {
	Source      string    // the label: URL without password, or file path (set by configuration: bounded)
	Keys        int       // keys in use from it
	LastSuccess time.Time // zero before the first success
	Refreshes   uint64    // successful fetches
	Failures    uint64    // failed fetches
}

// JWKSState is the state of the identity providers' key sets.
type JWKSState struct {
	Sources             []JWKSSource
	UnknownKIDRefreshes uint64 // fetches caused by a token with an unknown kid
	UnknownKIDLimited   uint64 // unknown kids refused without a fetch (rate limit)
}

// NewJWKS returns the JWKS metrics, read from state at scrape time:
// assign_jwks_keys, assign_jwks_last_success_timestamp_seconds,
// assign_jwks_refreshes_total and assign_jwks_refresh_failures_total by
// source, and assign_jwks_unknown_kid_refreshes_total and
// assign_jwks_unknown_kid_limited_total. An endpoint that is down shows as
// failures rising and the last success ageing, with the keys still in use.
func NewJWKS(state func() JWKSState) prometheus.Collector {
	return &jwksCollector{state: state}
}

type jwksCollector struct{ state func() JWKSState }

var (
	jwksKeysDesc = prometheus.NewDesc(Namespace+"_jwks_keys",
		"Signing keys in use from a JWKS source (kept from the last successful fetch while it fails).", []string{"source"}, nil)
	jwksLastSuccessDesc = prometheus.NewDesc(Namespace+"_jwks_last_success_timestamp_seconds",
		"Unix time of the last successful fetch of a JWKS source; 0 before the first.", []string{"source"}, nil)
	jwksRefreshesDesc = prometheus.NewDesc(Namespace+"_jwks_refreshes_total",
		"Successful fetches of a JWKS source.", []string{"source"}, nil)
	jwksFailuresDesc = prometheus.NewDesc(Namespace+"_jwks_refresh_failures_total",
		"Failed fetches of a JWKS source (unreachable, HTTP error, invalid document, no usable key).", []string{"source"}, nil)
	jwksUnknownDesc = prometheus.NewDesc(Namespace+"_jwks_unknown_kid_refreshes_total",
		"Fetches of every JWKS source caused by a token whose kid was unknown.", nil, nil)
	jwksLimitedDesc = prometheus.NewDesc(Namespace+"_jwks_unknown_kid_limited_total",
		"Tokens with an unknown kid refused without a fetch, one having just been made (forged kids).", nil, nil)
)

func (c *jwksCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{jwksKeysDesc, jwksLastSuccessDesc, jwksRefreshesDesc, jwksFailuresDesc, jwksUnknownDesc, jwksLimitedDesc} {
		ch <- d
	}
}

func (c *jwksCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	for _, src := range s.Sources {
		last := 0.0
		if !src.LastSuccess.IsZero() {
			last = float64(src.LastSuccess.UnixMilli()) / 1e3
		}
		ch <- prometheus.MustNewConstMetric(jwksKeysDesc, prometheus.GaugeValue, float64(src.Keys), src.Source)
		ch <- prometheus.MustNewConstMetric(jwksLastSuccessDesc, prometheus.GaugeValue, last, src.Source)
		ch <- prometheus.MustNewConstMetric(jwksRefreshesDesc, prometheus.CounterValue, float64(src.Refreshes), src.Source)
		ch <- prometheus.MustNewConstMetric(jwksFailuresDesc, prometheus.CounterValue, float64(src.Failures), src.Source)
	}
	ch <- prometheus.MustNewConstMetric(jwksUnknownDesc, prometheus.CounterValue, float64(s.UnknownKIDRefreshes))
	ch <- prometheus.MustNewConstMetric(jwksLimitedDesc, prometheus.CounterValue, float64(s.UnknownKIDLimited))
}
