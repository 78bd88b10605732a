package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/metrics"
)

// startJWKS loads the identity providers' key sets of -jwt-jwks-url and
// -jwt-jwks-file and keeps them fresh until Close; nothing when none is
// configured. An unreadable or unusable file stops the start (it is
// configuration); an endpoint that does not answer does not: assignd starts
// unready (/readyz 503 naming it) and retries every 30 s, and becomes ready
// once every source has loaded. Later failures keep the cached keys.
func (m *Main) startJWKS(ctx context.Context) error {
	if len(m.Config.JWTJWKSURLs)+len(m.Config.JWTJWKSFiles) == 0 {
		return nil
	}
	j, err := auth.NewJWKS(auth.JWKSConfig{
		URLs:   m.Config.JWTJWKSURLs,
		Files:  m.Config.JWTJWKSFiles,
		Logger: m.Logger.With("component", "jwks"),
	})
	if err != nil {
		return err
	}
	m.jwks = j
	err = j.Start(ctx)
	for _, s := range j.Status().Sources {
		if !s.Loaded && slices.Contains(m.Config.JWTJWKSFiles, s.Source) {
			return fmt.Errorf("jwt-jwks-file %s: %s", s.Source, s.LastError)
		}
	}
	if err != nil {
		m.Logger.Error("JWKS not loaded: unready until it is (retried every 30s)", "err", err)
	}
	return nil
}

// readyWithKeys is /readyz's check with the key sets: unready while a
// JWKS source never loaded (no token of that identity provider could be
// verified); a source failing after it loaded only shows in the details.
func (m *Main) readyWithKeys(ctx context.Context) error {
	if err := m.ready(ctx); err != nil {
		return err
	}
	if m.jwks != nil {
		return m.jwks.Ready()
	}
	return nil
}

// withJWKSDetails adds "jwks" to the /readyz details of inner.
func (m *Main) withJWKSDetails(inner func(context.Context) any) func(context.Context) any {
	return func(ctx context.Context) any {
		d := map[string]json.RawMessage{}
		if inner != nil {
			if b, err := json.Marshal(inner(ctx)); err == nil {
				_ = json.Unmarshal(b, &d) // an object, or nothing to merge
			}
		}
		b, _ := json.Marshal(jwksDetails(m.jwks.Status()))
		d["jwks"] = b
		return d
	}
}

type jwksSourceDetails struct {
	Source      string `json:"source"`
	Status      string `json:"status"` // ok, failing (cached keys in use) or not_loaded
	Keys        int    `json:"keys"`
	LastSuccess string `json:"last_success,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	Failures    uint64 `json:"failures"`
}

func jwksDetails(st auth.JWKSStatus) []jwksSourceDetails {
	out := []jwksSourceDetails{}
	for _, s := range st.Sources {
		d := jwksSourceDetails{Source: s.Source, Status: "ok", Keys: s.Keys, LastError: s.LastError, Failures: s.Failures}
		switch {
		case !s.Loaded:
			d.Status = "not_loaded"
		case s.LastError != "":
			d.Status = "failing"
		}
		if !s.LastSuccess.IsZero() {
			d.LastSuccess = s.LastSuccess.UTC().Format(time.RFC3339)
		}
		out = append(out, d)
	}
	return out
}

// jwksMetrics feeds the assign_jwks_* metrics.
func (m *Main) jwksMetrics() metrics.JWKSState {
	st := m.jwks.Status()
	out := metrics.JWKSState{UnknownKIDRefreshes: st.UnknownKIDRefreshes, UnknownKIDLimited: st.UnknownKIDLimited}
	for _, s := range st.Sources {
		out.Sources = append(out.Sources, metrics.JWKSSource{Source: s.Source, Keys: s.Keys, LastSuccess: s.LastSuccess,
			Refreshes: s.Refreshes, Failures: s.Failures})
	}
	return out
}

// listFlag is a repeatable flag whose values may also be comma-separated,
// the form of its environment variable. Values from the environment are
// replaced, not added to, by those given on the command line (the flag
// wins, as for every other flag).
type listFlag struct {
	vals       *[]string
	envPending bool // the next Set is envflag's, from the environment
	fromEnv    bool // *vals holds the environment's values
}

func newListFlag(vals *[]string, envSet bool) *listFlag {
	return &listFlag{vals: vals, envPending: envSet}
}

func (f *listFlag) String() string {
	if f == nil || f.vals == nil {
		return ""
	}
	return strings.Join(*f.vals, ",")
}

func (f *listFlag) Set(s string) error {
	var add []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			add = append(add, v)
		}
	}
	if len(add) == 0 {
		return errors.New("empty value")
	}
	switch {
	case f.envPending:
		f.envPending, f.fromEnv = false, true
		*f.vals = add
		return nil
	case f.fromEnv:
		f.fromEnv = false
		*f.vals = nil
	}
	*f.vals = append(*f.vals, add...)
	return nil
}
