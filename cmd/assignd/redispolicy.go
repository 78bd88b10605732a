package main

import (
	"context"
	"fmt"

	"github.com/assign-dev/assign/metrics"
	"github.com/assign-dev/assign/redisstore"
)

// startPolicyMonitor checks Redis's maxmemory-policy before serving: an
// evicting policy stops the start unless -allow-evicting-redis, a refused
// CONFIG only warns. Then it keeps checking every 5 s (readiness, log,
// assign_redis_evicting_policy, assign_redis_out_of_memory). The embedded
// miniredis is not checked.
func (m *Main) startPolicyMonitor(ctx context.Context, demo bool, redisURL string) error {
	if demo {
		return nil
	}
	p := &redisstore.PolicyMonitor{Client: m.client, AllowEvicting: m.Config.AllowEvictingRedis, Logger: m.Logger}
	if err := p.Start(ctx); err != nil {
		return fmt.Errorf("redis at %s: %w", redactURL(redisURL), err)
	}
	m.policy = p
	return nil
}

// ready is /readyz's check: Redis answers, the scripts are loaded, and no
// master may evict keys (unless allowed).
func (m *Main) ready(ctx context.Context) error {
	if err := m.Store.Load(ctx); err != nil {
		return err
	}
	if m.policy != nil {
		return m.policy.Ready(ctx)
	}
	return nil
}

// degraded tells /readyz what fails while Redis is out of memory.
func (m *Main) degraded(context.Context) string {
	if m.policy != nil {
		return m.policy.Degraded()
	}
	return ""
}

// policyState feeds the Redis policy gauges from the monitor's last check.
func (m *Main) policyState() metrics.RedisPolicy {
	if m.policy == nil {
		return metrics.RedisPolicy{}
	}
	r := m.policy.Report()
	return metrics.RedisPolicy{Evicting: len(r.Evicting()) > 0, Unknown: len(r.Refused()) > 0, OutOfMemory: len(r.OutOfMemory()) > 0}
}
