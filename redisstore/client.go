package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
)

// Client defaults the store needs, for options a URL leaves unset.
const (
	defaultDialTimeout  = 2 * time.Second
	defaultReadTimeout  = time.Second
	defaultWriteTimeout = time.Second
	defaultPoolTimeout  = time.Second
)

// ClusterReloadInterval is how often a cluster client reads the slot map
// again: how long after a replica's promotion its shard is found.
const ClusterReloadInterval = time.Second

// defaultPoolSize is max(64, 10 per CPU) connections (per node on a cluster).
func defaultPoolSize() int { return max(64, 10*runtime.GOMAXPROCS(0)) }

// NewClient returns a Redis client for a redis:// or rediss:// URL, of the
// kind the URL and the server say:
//
//   - master_name=<name> in the query: Redis Sentinel. The host (and every
//     addr=host:port) is a sentinel; the client follows the primary they
//     name through failovers (go-redis's FailoverClient, ParseFailoverURL).
//   - addr=host:port in the query (go-redis's ParseClusterURL form
//     redis://h1:p1?addr=h2:p2&addr=h3:p3): a Redis Cluster seeded with
//     every address.
//   - otherwise one node, which is asked (INFO cluster) whether it belongs
//     to a cluster: with cluster_enabled:1 the cluster client is used with
//     that node as its seed, else the plain client.
//
// Every client has ContextTimeoutEnabled (so per-request deadlines work) and,
// unless the URL sets them, a pool of max(64, 10 per CPU) connections (per
// node), a 2 s dial timeout, 1 s read and write timeouts (for calls without a
// deadline) and a 1 s pool wait. Returns EINVALID for a bad URL and
// EUNAVAILABLE when a single seed cannot be asked.
func NewClient(ctx context.Context, rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, assign.Errorf(assign.EINVALID, "redis url: %v", err)
	}
	q := u.Query()
	switch {
	case q.Get("master_name") != "":
		opt, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, assign.Errorf(assign.EINVALID, "redis url (sentinel): %v", err)
		}
		opt.ContextTimeoutEnabled = true
		setDefaults(&opt.PoolSize, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout)
		return redis.NewFailoverClient(opt), nil
	case q.Has("addr"):
		return newClusterClient(rawURL)
	}
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, assign.Errorf(assign.EINVALID, "redis url: %v", err)
	}
	opt.ContextTimeoutEnabled = true
	setDefaults(&opt.PoolSize, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout)
	// Asked on database 0: a cluster node refuses SELECT of any other.
	probeOpt := *opt
	probeOpt.DB = 0
	probe := redis.NewClient(&probeOpt)
	cluster, err := isCluster(ctx, probe)
	probe.Close()
	if err != nil {
		return nil, err
	}
	if !cluster {
		return redis.NewClient(opt), nil
	}
	if opt.DB != 0 {
		return nil, assign.Errorf(assign.EINVALID, "redis url: %s is a Redis Cluster node, which has only database 0", opt.Addr)
	}
	return seededClusterClient(opt), nil
}

// seededClusterClient returns a cluster client seeded with the one node of
// opt, with everything its URL set (credentials, TLS, pool and timeouts):
// the URL was parsed as a single node's, whose options ParseClusterURL
// would not all accept.
func seededClusterClient(opt *redis.Options) *redis.ClusterClient {
	return newClusterFromOptions(&redis.ClusterOptions{
		Addrs:           []string{opt.Addr},
		ClientName:      opt.ClientName,
		Protocol:        opt.Protocol,
		Username:        opt.Username,
		Password:        opt.Password,
		TLSConfig:       opt.TLSConfig,
		MaxRetries:      opt.MaxRetries,
		MinRetryBackoff: opt.MinRetryBackoff,
		MaxRetryBackoff: opt.MaxRetryBackoff,
		DialTimeout:     opt.DialTimeout,
		ReadTimeout:     opt.ReadTimeout,
		WriteTimeout:    opt.WriteTimeout,
		PoolFIFO:        opt.PoolFIFO,
		PoolSize:        opt.PoolSize,
		PoolTimeout:     opt.PoolTimeout,
		MinIdleConns:    opt.MinIdleConns,
		MaxIdleConns:    opt.MaxIdleConns,
		MaxActiveConns:  opt.MaxActiveConns,
		ConnMaxIdleTime: opt.ConnMaxIdleTime,
		ConnMaxLifetime: opt.ConnMaxLifetime,
	})
}

func newClusterClient(rawURL string) (*redis.ClusterClient, error) {
	opt, err := redis.ParseClusterURL(rawURL)
	if err != nil {
		return nil, assign.Errorf(assign.EINVALID, "redis url (cluster): %v", err)
	}
	if opt.TLSConfig != nil {
		opt.TLSConfig.MinVersion = tls.VersionTLS12
	}
	return newClusterFromOptions(opt), nil
}

func newClusterFromOptions(opt *redis.ClusterOptions) *redis.ClusterClient {
	opt.ContextTimeoutEnabled = true
	setDefaults(&opt.PoolSize, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout)
	// go-redis reloads the slot map on MOVED and every reload interval, but
	// not when a master stops answering: with its 60 s default, a shard whose
	// replica took over kept failing for about a minute.
	opt.ClusterStateReloadInterval = ClusterReloadInterval
	return redis.NewClusterClient(opt)
}

func setDefaults(pool *int, dial, read, write, wait *time.Duration) {
	if *pool == 0 {
		*pool = defaultPoolSize()
	}
	if *dial == 0 {
		*dial = defaultDialTimeout
	}
	if *read == 0 {
		*read = defaultReadTimeout
	}
	if *write == 0 {
		*write = defaultWriteTimeout
	}
	if *wait == 0 {
		*wait = defaultPoolTimeout
	}
}

// isCluster asks a node whether it runs in cluster mode. A server that does
// not know the cluster section (miniredis, some proxies) is a single node; one
// that refuses to say (an ACL without INFO, NOPERM) is an error: guessing
// "single" there would send a cluster's keys to one node (MOVED on every
// call), so the user is told to name the kind (addr= seeds, or the
// permission). Errors are EUNAVAILABLE (no answer) or EINVALID.
func isCluster(ctx context.Context, c *redis.Client) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addr := c.Options().Addr
	info, err := c.Info(ctx, "cluster").Result()
	var reply redis.Error
	switch {
	case errors.As(err, &reply) && (strings.Contains(err.Error(), "not supported") || strings.Contains(err.Error(), "unknown")):
		return false, nil
	case errors.As(err, &reply):
		return false, assign.Errorf(assign.EINVALID, "redis at %s refused INFO cluster (%v): cannot tell a cluster node from a single one; allow INFO, or name a cluster by its seeds (redis://h1:p1?addr=h2:p2)", addr, err)
	case err != nil:
		return false, assign.Errorf(assign.EUNAVAILABLE, "redis at %s: %v (for a cluster, name several seeds: redis://h1:p1?addr=h2:p2)", addr, err)
	}
	return strings.Contains(info, "cluster_enabled:1"), nil
}

// Kind names the kind of client: "cluster", "sentinel" or "single", for logs
// and /readyz details.
func Kind(c redis.UniversalClient) string {
	switch c := c.(type) {
	case *redis.ClusterClient:
		return "cluster"
	case *redis.Client:
		if c.Options().Addr == "FailoverClient" {
			return "sentinel"
		}
	}
	return "single"
}
