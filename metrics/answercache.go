package metrics

import "github.com/prometheus/client_golang/prometheus"

// AnswerCacheState is what the answer cache (package answercache) did since
// the process started.
type AnswerCacheState struct {
	Hits, Misses, Evictions uint64
	Invalidations           uint64 // one experiment's answers dropped (a configuration change)
	Flushes                 uint64 // every answer dropped (the change subscription or a heartbeat was interrupted)
	Serving                 bool   // the cache answers now
	Size                    int    // capacity in entries
}

// NewAnswerCache returns the answer cache's metrics, read from state at
// scrape time: assign_answer_cache_hits_total, _misses_total,
// _evictions_total, _invalidations_total, _flushes_total, and the gauges
// assign_answer_cache_serving (1 while it answers: 0 means every call goes
// to Redis, as during a failover) and assign_answer_cache_size_entries.
func NewAnswerCache(state func() AnswerCacheState) prometheus.Collector {
	return &answerCacheCollector{state: state}
}

type answerCacheCollector struct{ state func() AnswerCacheState }

var (
	answerHitsDesc = prometheus.NewDesc(Namespace+"_answer_cache_hits_total",
		"Enrollment decisions answered from the process's answer cache, without Redis.", nil, nil)
	answerMissesDesc = prometheus.NewDesc(Namespace+"_answer_cache_misses_total",
		"Enrollment decisions the answer cache could not answer (asked of Redis).", nil, nil)
	answerEvictionsDesc = prometheus.NewDesc(Namespace+"_answer_cache_evictions_total",
		"Live answers dropped to make room: a size too small for the returning users.", nil, nil)
	answerInvalidationsDesc = prometheus.NewDesc(Namespace+"_answer_cache_invalidations_total",
		"Change notices received: one experiment's answers dropped.", nil, nil)
	answerFlushesDesc = prometheus.NewDesc(Namespace+"_answer_cache_flushes_total",
		"Times every answer was dropped: the change subscription or a heartbeat was interrupted.", nil, nil)
	answerServingDesc = prometheus.NewDesc(Namespace+"_answer_cache_serving",
		"1 while the answer cache answers; 0 while no proof that every change reaches it is fresh (Redis asked every time).", nil, nil)
	answerSizeDesc = prometheus.NewDesc(Namespace+"_answer_cache_size_entries",
		"Capacity of the answer cache in entries.", nil, nil)
)

func (c *answerCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{answerHitsDesc, answerMissesDesc, answerEvictionsDesc,
		answerInvalidationsDesc, answerFlushesDesc, answerServingDesc, answerSizeDesc} {
		ch <- d
	}
}

func (c *answerCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	serving := 0.0
	if s.Serving {
		serving = 1
	}
	ch <- prometheus.MustNewConstMetric(answerHitsDesc, prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(answerMissesDesc, prometheus.CounterValue, float64(s.Misses))
	ch <- prometheus.MustNewConstMetric(answerEvictionsDesc, prometheus.CounterValue, float64(s.Evictions))
	ch <- prometheus.MustNewConstMetric(answerInvalidationsDesc, prometheus.CounterValue, float64(s.Invalidations))
	ch <- prometheus.MustNewConstMetric(answerFlushesDesc, prometheus.CounterValue, float64(s.Flushes))
	ch <- prometheus.MustNewConstMetric(answerServingDesc, prometheus.GaugeValue, serving)
	ch <- prometheus.MustNewConstMetric(answerSizeDesc, prometheus.GaugeValue, float64(s.Size))
}
