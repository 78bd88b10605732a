package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// CheckLoopbackHost returns nil if host (a name or an IP, without port) is
// on the loopback interface: an IP in 127.0.0.0/8 or ::1, or "localhost"
// when every address it resolves to is one. Any other name is refused
// without being resolved: this tool only loads servers on this machine.
func CheckLoopbackHost(host string) error {
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "]"), "["), ".")
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("loadtest: %s is not a loopback address: only 127.0.0.0/8, ::1 and localhost may be loaded", host)
	}
	if !strings.EqualFold(host, "localhost") {
		return fmt.Errorf("loadtest: host %q is not loopback: only 127.0.0.0/8, ::1 and localhost may be loaded", host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("loadtest: resolve %s: %w", host, err)
	} else if len(addrs) == 0 {
		return fmt.Errorf("loadtest: %s resolves to nothing", host)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return fmt.Errorf("loadtest: %s resolves to %s, which is not loopback", host, a.IP)
		}
	}
	return nil
}

// CheckLoopbackURL parses raw, checks its scheme is one of schemes and its
// host is loopback (CheckLoopbackHost), and returns it. A URL without a host
// (a Unix socket) is local, and accepted. A "host" query parameter
// (PostgreSQL's way to name sockets or several hosts) is checked too.
func CheckLoopbackURL(raw string, schemes ...string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	okScheme := len(schemes) == 0
	for _, s := range schemes {
		okScheme = okScheme || u.Scheme == s
	}
	if !okScheme {
		return nil, fmt.Errorf("loadtest: %s: scheme must be one of %s", raw, strings.Join(schemes, ", "))
	}
	hosts := []string{}
	if h := u.Hostname(); h != "" {
		hosts = append(hosts, h)
	}
	for _, h := range u.Query()["host"] {
		for _, one := range strings.Split(h, ",") {
			if !strings.HasPrefix(one, "/") { // a socket directory is local
				hosts = append(hosts, one)
			}
		}
	}
	for _, h := range hosts {
		if err := CheckLoopbackHost(h); err != nil {
			return nil, err
		}
	}
	return u, nil
}
