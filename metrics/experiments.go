package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assign-dev/assign/assign"
)

// ExperimentLister returns every experiment with its Stats.
type ExperimentLister func(ctx context.Context) ([]*assign.Experiment, error)

// ExperimentCollector exports, per experiment, members per group, the
// maximum sample size and the fill ratio, read from the store on scrape and
// cached for TTL so that frequent scrapes cost Redis nothing more.
type ExperimentCollector struct {
	List    ExperimentLister
	TTL     time.Duration // default 5s
	Timeout time.Duration // of one listing; default 2s
	Max     int           // experiments labelled; the rest fold into "_other"

	members, maxSize, fill, experiments, failures *prometheus.Desc

	mu      sync.Mutex
	cached  []*assign.Experiment
	fetched time.Time
	errors  float64
}

// NewExperimentCollector returns a collector over list.
func NewExperimentCollector(list ExperimentLister) *ExperimentCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "experiment", n) }
	return &ExperimentCollector{
		List:        list,
		TTL:         5 * time.Second,
		Timeout:     2 * time.Second,
		Max:         DefaultMaxExperimentLabels,
		members:     prometheus.NewDesc(name("members"), "Members enrolled, by experiment and group.", []string{"experiment", "group"}, nil),
		maxSize:     prometheus.NewDesc(name("max_sample_size"), "Maximum sample size, by experiment.", []string{"experiment"}, nil),
		fill:        prometheus.NewDesc(name("fill_ratio"), "Members over maximum sample size (1 = full), by experiment.", []string{"experiment"}, nil),
		experiments: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "experiments"), "Experiments by status.", []string{"status"}, nil),
		failures:    prometheus.NewDesc(prometheus.BuildFQName(Namespace, "experiment", "scrape_errors_total"), "Failed reads of the experiments for these metrics.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *ExperimentCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.members
	ch <- c.maxSize
	ch <- c.fill
	ch <- c.experiments
	ch <- c.failures
}

// Collect implements prometheus.Collector.
func (c *ExperimentCollector) Collect(ch chan<- prometheus.Metric) {
	exps, errs := c.snapshot()
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, errs)

	byStatus := map[assign.Status]float64{assign.StatusRunning: 0, assign.StatusPaused: 0, assign.StatusStopped: 0}
	var otherMembers, otherMax float64
	for i, e := range exps {
		byStatus[e.Status]++
		if e.Stats == nil {
			continue
		}
		if i >= c.Max {
			otherMembers += float64(e.Stats.Enrolled)
			otherMax += float64(e.MaxSampleSize)
			continue
		}
		for _, g := range e.Groups {
			ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, float64(e.Stats.PerGroup[g.Name]), e.ID, g.Name)
		}
		ch <- prometheus.MustNewConstMetric(c.maxSize, prometheus.GaugeValue, float64(e.MaxSampleSize), e.ID)
		ch <- prometheus.MustNewConstMetric(c.fill, prometheus.GaugeValue, float64(e.Stats.Enrolled)/float64(e.MaxSampleSize), e.ID)
	}
	if otherMax > 0 {
		ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, otherMembers, OtherExperiments, "")
		ch <- prometheus.MustNewConstMetric(c.maxSize, prometheus.GaugeValue, otherMax, OtherExperiments)
		ch <- prometheus.MustNewConstMetric(c.fill, prometheus.GaugeValue, otherMembers/otherMax, OtherExperiments)
	}
	for status, n := range byStatus {
		ch <- prometheus.MustNewConstMetric(c.experiments, prometheus.GaugeValue, n, string(status))
	}
}

// snapshot returns the cached experiments, refreshing them when stale. On a
// failed refresh it keeps serving the last good list and counts the failure.
func (c *ExperimentCollector) snapshot() ([]*assign.Experiment, float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cached != nil && time.Since(c.fetched) < c.TTL {
		return c.cached, c.errors
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	exps, err := c.List(ctx)
	if err != nil {
		c.errors++
		return c.cached, c.errors
	}
	c.cached, c.fetched = exps, time.Now()
	return exps, c.errors
}
