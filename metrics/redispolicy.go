package metrics

import "github.com/prometheus/client_golang/prometheus"

// RedisPolicy is what assignd last learnt about Redis's eviction policy and
// memory (redisstore.PolicyMonitor).
type RedisPolicy struct {
	Evicting    bool // some master's maxmemory-policy may evict keys
	Unknown     bool // some master refused CONFIG GET: its policy is unknown
	OutOfMemory bool // some master refuses writes for its maxmemory
}

// NewRedisPolicy returns the gauges assign_redis_evicting_policy,
// assign_redis_eviction_policy_unknown and assign_redis_out_of_memory, read
// from state at scrape time (state must not call Redis: the monitor's last
// check is enough). Alerts fire on them.
func NewRedisPolicy(state func() RedisPolicy) prometheus.Collector {
	return &redisPolicy{state: state}
}

type redisPolicy struct{ state func() RedisPolicy }

var (
	evictingDesc = prometheus.NewDesc(Namespace+"_redis_evicting_policy",
		"1 while a Redis master's maxmemory-policy may evict keys (anything but noeviction): data is lost silently under memory pressure.", nil, nil)
	policyUnknownDesc = prometheus.NewDesc(Namespace+"_redis_eviction_policy_unknown",
		"1 while a Redis master refuses CONFIG GET, so its eviction policy cannot be checked.", nil, nil)
	outOfMemoryDesc = prometheus.NewDesc(Namespace+"_redis_out_of_memory",
		"1 while a Redis master refuses writes for its maxmemory (noeviction): new enrollments fail.", nil, nil)
)

func (c *redisPolicy) Describe(ch chan<- *prometheus.Desc) {
	ch <- evictingDesc
	ch <- policyUnknownDesc
	ch <- outOfMemoryDesc
}

func (c *redisPolicy) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	ch <- prometheus.MustNewConstMetric(evictingDesc, prometheus.GaugeValue, b2f(s.Evicting))
	ch <- prometheus.MustNewConstMetric(policyUnknownDesc, prometheus.GaugeValue, b2f(s.Unknown))
	ch <- prometheus.MustNewConstMetric(outOfMemoryDesc, prometheus.GaugeValue, b2f(s.OutOfMemory))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
