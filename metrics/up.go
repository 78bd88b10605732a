package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// NewRedisUp returns the gauge assign_redis_up: 1 when ping succeeds within
// timeout at scrape time, else 0. Alerts fire on it when Redis is down.
func NewRedisUp(ping func(ctx context.Context) error, timeout time.Duration) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "redis", Name: "up",
		Help: "1 when Redis answered a PING at the last scrape, else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if ping(ctx) != nil {
			return 0
		}
		return 1
	})
}
