package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
)

// Defaults of JWKSConfig.
const (
	// DefaultJWKSRefreshInterval is how often every source is fetched again
	// while it answers.
	DefaultJWKSRefreshInterval = 15 * time.Minute
	// DefaultJWKSMinRefreshInterval is the rate limit of the fetches a token
	// with an unknown kid may cause (one per interval, for every source at
	// once), and the retry interval of a source that failed.
	DefaultJWKSMinRefreshInterval = 30 * time.Second
	// DefaultJWKSFetchTimeout bounds one fetch of one source.
	DefaultJWKSFetchTimeout = 5 * time.Second
	// MaxJWKSSize is the largest JWKS document read (an identity provider's
	// holds a few keys: a few KiB).
	MaxJWKSSize = 1 << 20
)

// JWKSConfig configures a JWKS.
type JWKSConfig struct {
	// URLs are JWKS endpoints (http or https), such as an identity provider's
	// https://TENANT/.well-known/jwks.json.
	URLs []string
	// Files are JWKS documents on disk, read again at every refresh.
	Files []string

	// RefreshInterval: every source is fetched again this often.
	// Default DefaultJWKSRefreshInterval.
	RefreshInterval time.Duration
	// MinRefreshInterval: a token whose kid is unknown fetches every source
	// again at most once per this interval (tokens with forged kids cannot
	// make the process fetch in a loop); a failed source is retried after
	// it. Default DefaultJWKSMinRefreshInterval.
	MinRefreshInterval time.Duration
	// FetchTimeout bounds one fetch. Default DefaultJWKSFetchTimeout.
	FetchTimeout time.Duration

	// Client fetches the URLs (its redirects never go from https to http,
	// unless it has a CheckRedirect of its own). Default: an http.Client of
	// its own, with FetchTimeout.
	Client *http.Client
	// Logger gets a line per change of a source's keys and per failure.
	// Default: discard.
	Logger *slog.Logger
}

// JWKS holds the signature keys of one or more JSON Web Key Sets (RFC 7517),
// fetched from URLs or read from files, for a Verifier (Config.JWKS).
//
// A token names its key by kid. Each key verifies the single algorithm it
// is published for: its "alg", or, without one, the algorithm of its type
// and curve (RSA: RS256; EC: ES256, ES384, ES512 by curve; OKP Ed25519:
// EdDSA); a token whose header alg differs is refused. Symmetric ("oct")
// keys, encryption keys (use "enc") and RSA keys under 2048 bits are never
// loaded, so neither "none" nor HS* can ever verify against a JWKS key.
//
// The keys are refreshed every RefreshInterval, and at once (rate-limited by
// MinRefreshInterval) when a token names an unknown kid: keys added by a
// rotation are found, and a key removed from its set stops verifying, even
// tokens the Verifier had cached. A fetch that fails keeps the keys the
// source had (and so does a document without any usable key); Status tells
// which source fails since when.
type JWKS struct {
	cfg     JWKSConfig
	log     *slog.Logger
	sources []*jwksSource
	keys    atomic.Pointer[map[string]*jwksKey] // kid -> key, of every source
	kf      keyfunc.Keyfunc

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	lastUnknown time.Time     // start of the last fetch caused by an unknown kid
	unknownDone chan struct{} // closed when that fetch ends; nil when none runs
	rebuildMu   sync.Mutex    // serializes publishing keys

	unknownRefreshes atomic.Uint64 // fetches caused by unknown kids
	unknownLimited   atomic.Uint64 // unknown kids refused without a fetch (rate limit)
}

// jwksKey is one loaded key. removed is set once its source no longer
// publishes it: the Verifier's cache then drops the tokens it verified.
type jwksKey struct {
	kid     string
	alg     string
	jwk     jwkset.JWK
	source  *jwksSource
	removed atomic.Bool
}

// jwksSource is one URL or file and what it last gave.
type jwksSource struct {
	name string // URL (password hidden) or file path: the metric label
	url  string
	file string

	mu            sync.Mutex
	inflight      chan struct{} // closed when the running fetch ends; nil when none runs
	inflightStart time.Time     // when it started
	keys          []*jwksKey
	status        JWKSSourceStatus
}

// JWKSSourceStatus is what one source last did.
type JWKSSourceStatus struct {
	Source      string    // URL (without password) or file path
	Keys        int       // keys loaded from it
	Loaded      bool      // it was loaded at least once
	LastSuccess time.Time // end of the last successful fetch; zero before
	LastAttempt time.Time // end of the last fetch
	Refreshes   uint64    // successful fetches
	Failures    uint64    // failed fetches
	LastError   string    // cause of the last fetch's failure, "" when it succeeded; never secret
}

// JWKSStatus is the state of every source, for metrics and /readyz.
type JWKSStatus struct {
	Sources []JWKSSourceStatus
	// UnknownKIDRefreshes counts the fetches caused by a token with an
	// unknown kid; UnknownKIDLimited the unknown kids refused without a
	// fetch because one had just been made.
	UnknownKIDRefreshes, UnknownKIDLimited uint64
}

// NewJWKS checks cfg and returns a JWKS without any key yet: Start loads
// them. URLs must be http or https; a source may be named once.
func NewJWKS(cfg JWKSConfig) (*JWKS, error) {
	if len(cfg.URLs) == 0 && len(cfg.Files) == 0 {
		return nil, errors.New("auth: jwks: no URL and no file")
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultJWKSRefreshInterval
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = DefaultJWKSMinRefreshInterval
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultJWKSFetchTimeout
	}
	// Identity providers may redirect (a CDN, a custom domain), but never
	// from https to http: keys fetched in clear could be anyone's.
	client := &http.Client{Timeout: cfg.FetchTimeout}
	if cfg.Client != nil {
		c := *cfg.Client
		client = &c
	}
	if client.CheckRedirect == nil {
		client.CheckRedirect = noDowngrade
	}
	cfg.Client = client
	j := &JWKS{cfg: cfg, log: cfg.Logger}
	if j.log == nil {
		j.log = slog.New(slog.DiscardHandler)
	}
	seen := map[string]bool{}
	for _, raw := range cfg.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("auth: jwks: %q is not an http(s) URL", redactedURL(raw))
		}
		name := u.Redacted()
		if seen[name] {
			return nil, fmt.Errorf("auth: jwks: %s given twice", name)
		}
		seen[name] = true
		j.sources = append(j.sources, &jwksSource{name: name, url: raw})
	}
	for _, f := range cfg.Files {
		if f == "" || seen[f] {
			return nil, fmt.Errorf("auth: jwks: file %q empty or given twice", f)
		}
		seen[f] = true
		j.sources = append(j.sources, &jwksSource{name: f, file: f})
	}
	for _, s := range j.sources {
		s.status.Source = s.name
	}
	empty := map[string]*jwksKey{}
	j.keys.Store(&empty)
	j.ctx, j.cancel = context.WithCancel(context.Background())

	// keyfunc chooses the key by the token's kid in this storage and refuses
	// a token whose alg is not the key's (every loaded key has its alg set).
	kf, err := keyfunc.New(keyfunc.Options{Ctx: j.ctx, Storage: jwksStorage{j}})
	if err != nil {
		return nil, fmt.Errorf("auth: jwks: %w", err)
	}
	j.kf = kf
	return j, nil
}

// Start fetches every source once, side by side, then keeps them fresh in
// the background until Close. It returns the errors of the sources that
// could not be loaded (each named); the others are in use, and a failed one
// is retried every MinRefreshInterval. ctx bounds the first fetches only.
func (j *JWKS) Start(ctx context.Context) error {
	errs := make([]error, len(j.sources))
	var wg sync.WaitGroup
	for i, s := range j.sources {
		wg.Go(func() { errs[i] = j.refresh(ctx, s) })
	}
	wg.Wait()
	for i, s := range j.sources {
		next := j.cfg.RefreshInterval
		if errs[i] != nil {
			next = j.cfg.MinRefreshInterval
		}
		j.wg.Go(func() { j.loop(s, next) })
	}
	return errors.Join(errs...)
}

// Close stops the background refreshes.
func (j *JWKS) Close() {
	j.cancel()
	j.wg.Wait()
}

// Ready returns nil once every source has been loaded at least once: later
// failures keep the cached keys and do not make it unready. Its error says
// which source never loaded (ReadinessMessage).
func (j *JWKS) Ready() error {
	for _, s := range j.sources {
		s.mu.Lock()
		loaded, cause := s.status.Loaded, s.status.LastError
		s.mu.Unlock()
		if !loaded {
			return &notLoadedError{source: s.name, cause: cause}
		}
	}
	return nil
}

type notLoadedError struct{ source, cause string }

func (e *notLoadedError) Error() string {
	return "auth: jwks: no key loaded yet from " + e.source + ": " + e.cause
}

// ReadinessMessage is safe to show on /readyz.
func (e *notLoadedError) ReadinessMessage() string {
	msg := "no signing key loaded yet from the JWKS " + e.source
	if e.cause != "" {
		msg += " (" + e.cause + ")"
	}
	return msg
}

// Status returns the state of every source.
func (j *JWKS) Status() JWKSStatus {
	st := JWKSStatus{UnknownKIDRefreshes: j.unknownRefreshes.Load(), UnknownKIDLimited: j.unknownLimited.Load()}
	for _, s := range j.sources {
		s.mu.Lock()
		st.Sources = append(st.Sources, s.status)
		s.mu.Unlock()
	}
	return st
}

// loop refreshes s every RefreshInterval, or every MinRefreshInterval while
// it fails.
func (j *JWKS) loop(s *jwksSource, next time.Duration) {
	t := time.NewTimer(next)
	defer t.Stop()
	for {
		select {
		case <-j.ctx.Done():
			return
		case <-t.C:
		}
		next = j.cfg.RefreshInterval
		if j.refresh(j.ctx, s) != nil {
			next = j.cfg.MinRefreshInterval
		}
		t.Reset(next)
	}
}

// lookup returns the key of kid, or nil.
func (j *JWKS) lookup(kid string) *jwksKey { return (*j.keys.Load())[kid] }

// lookupOrRefresh returns the key of kid. An unknown kid fetches every
// source again, unless a fetch for an unknown kid was made less than
// MinRefreshInterval ago: then it is refused at once. A token arriving while
// fetches run waits for them instead (so the concurrent tokens of a
// rotation's new key are all accepted), and, if one of them had started
// before the token arrived (it may predate the key), then asks for a fetch
// of its own.
func (j *JWKS) lookupOrRefresh(kid string) *jwksKey {
	if k := j.lookup(kid); k != nil {
		return k
	}
	missAt := time.Now()
	for {
		j.mu.Lock()
		if k := j.lookup(kid); k != nil { // installed meanwhile
			j.mu.Unlock()
			return k
		}
		var waits []chan struct{}
		stale := false // a running fetch started before the miss
		if j.unknownDone != nil {
			waits = append(waits, j.unknownDone)
			stale = j.lastUnknown.Before(missAt)
		}
		for _, s := range j.sources {
			s.mu.Lock()
			if s.inflight != nil {
				waits = append(waits, s.inflight)
				stale = stale || s.inflightStart.Before(missAt)
			}
			s.mu.Unlock()
		}
		if len(waits) > 0 {
			j.mu.Unlock()
			for _, ch := range waits {
				select {
				case <-ch:
				case <-j.ctx.Done():
					return nil
				}
			}
			if k := j.lookup(kid); k != nil || !stale {
				return k
			}
			continue
		}
		if time.Since(j.lastUnknown) < j.cfg.MinRefreshInterval {
			j.mu.Unlock()
			j.unknownLimited.Add(1)
			return nil
		}
		j.lastUnknown = time.Now()
		done := make(chan struct{})
		j.unknownDone = done
		j.mu.Unlock()
		j.unknownRefreshes.Add(1)

		var wg sync.WaitGroup
		for _, s := range j.sources {
			wg.Go(func() { _ = j.refresh(j.ctx, s) })
		}
		wg.Wait()
		j.mu.Lock()
		j.unknownDone = nil
		j.mu.Unlock()
		close(done)
		return j.lookup(kid)
	}
}

// refresh fetches s, or waits for the fetch of s already running, and
// installs its keys. On failure s keeps its keys.
func (j *JWKS) refresh(ctx context.Context, s *jwksSource) error {
	s.mu.Lock()
	if ch := s.inflight; ch != nil {
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.status.LastError != "" {
			return errors.New(s.status.LastError)
		}
		return nil
	}
	ch := make(chan struct{})
	s.inflight, s.inflightStart = ch, time.Now()
	s.mu.Unlock()

	fctx, cancel := context.WithTimeout(ctx, j.cfg.FetchTimeout)
	keys, skipped, err := j.fetch(fctx, s)
	cancel()

	var added, removed []string
	if err == nil {
		s.mu.Lock()
		added, removed = s.replace(keys)
		s.mu.Unlock()
		if len(added) > 0 || len(removed) > 0 {
			j.rebuild() // before the status and the waiters see the fetch end
		}
	}
	s.mu.Lock()
	s.status.LastAttempt = time.Now()
	if err != nil {
		s.status.Failures++
		s.status.LastError = publicCause(err)
	} else {
		s.status.Refreshes++
		s.status.LastError = ""
		s.status.Loaded = true
		s.status.LastSuccess = s.status.LastAttempt
		s.status.Keys = len(keys)
	}
	s.inflight = nil
	s.mu.Unlock()
	close(ch)

	if err != nil {
		j.log.Warn("jwks: fetch failed, the keys already loaded stay in use", "source", s.name, "err", err)
		return err
	}
	if len(added) > 0 || len(removed) > 0 {
		j.log.Info("jwks: keys changed", "source", s.name, "added", added, "removed", removed, "keys", len(keys))
	}
	if len(skipped) > 0 && (len(added) > 0 || len(removed) > 0) {
		j.log.Warn("jwks: keys left out", "source", s.name, "skipped", skipped)
	}
	return nil
}

// replace installs keys as the keys of s (s.mu held): a key already loaded
// (same kid, same key, same alg) stays the same record, so tokens cached
// with it stay cached; the others are marked removed.
func (s *jwksSource) replace(keys []*jwksKey) (added, removed []string) {
	old := make(map[string]*jwksKey, len(s.keys))
	for _, k := range s.keys {
		old[k.kid] = k
	}
	for i, k := range keys {
		if o := old[k.kid]; o != nil && o.alg == k.alg && sameKey(o.jwk, k.jwk) {
			keys[i] = o
			delete(old, k.kid)
			continue
		}
		added = append(added, k.kid)
	}
	for _, o := range old {
		o.removed.Store(true)
		removed = append(removed, o.kid)
	}
	slices.Sort(removed)
	s.keys = keys
	return added, removed
}

// rebuild publishes the union of the sources' keys; on a kid published by
// two sources the first source configured wins.
func (j *JWKS) rebuild() {
	j.rebuildMu.Lock()
	defer j.rebuildMu.Unlock()
	m := map[string]*jwksKey{}
	for _, s := range j.sources {
		s.mu.Lock()
		for _, k := range s.keys {
			if _, dup := m[k.kid]; !dup {
				m[k.kid] = k
			}
		}
		s.mu.Unlock()
	}
	j.keys.Store(&m)
}

// fetch reads the document of s and returns its usable keys, and why the
// others were left out. A document without any usable key is an error: an
// identity provider never publishes an empty set on purpose.
func (j *JWKS) fetch(ctx context.Context, s *jwksSource) ([]*jwksKey, []string, error) {
	var body []byte
	var err error
	if s.file != "" {
		body, err = readFileLimited(s.file)
	} else {
		body, err = j.get(ctx, s.url)
	}
	if err != nil {
		return nil, nil, err
	}
	var doc jwkset.JWKSMarshal
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, &fetchError{cause: "invalid JWKS document", err: err}
	}
	var keys []*jwksKey
	var skipped []string
	seen := map[string]bool{}
	for i, m := range doc.Keys {
		k, err := parseJWK(m)
		if err == nil && seen[k.kid] {
			err = errors.New("kid published twice")
		}
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d (kid %q): %v", i, m.KID, err))
			continue
		}
		seen[k.kid] = true
		k.source = s
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, skipped, &fetchError{cause: "no usable signing key in the JWKS", err: fmt.Errorf("%d keys, none usable: %v", len(doc.Keys), skipped)}
	}
	return keys, skipped, nil
}

func (j *JWKS) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &fetchError{cause: "bad URL", err: err}
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := j.cfg.Client.Do(req)
	if err != nil {
		cause := "unreachable"
		if ne, ok := errors.AsType[net.Error](err); (ok && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
			cause = "timeout"
		}
		return nil, &fetchError{cause: cause, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, &fetchError{cause: fmt.Sprintf("HTTP status %d", resp.StatusCode), err: fmt.Errorf("GET %s: %s", redactedURL(u), resp.Status)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSSize+1))
	if err != nil {
		return nil, &fetchError{cause: "unreachable", err: err}
	}
	if len(body) > MaxJWKSSize {
		return nil, &fetchError{cause: "JWKS document too large", err: fmt.Errorf("over %d bytes", MaxJWKSSize)}
	}
	return body, nil
}

// noDowngrade follows at most 5 redirects, none from https to http.
func noDowngrade(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("more than 5 redirects")
	}
	if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
		return errors.New("redirect from https to " + req.URL.Scheme + " refused")
	}
	return nil
}

func readFileLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &fetchError{cause: "file unreadable", err: err}
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, MaxJWKSSize+1))
	if err != nil {
		return nil, &fetchError{cause: "file unreadable", err: err}
	}
	if len(body) > MaxJWKSSize {
		return nil, &fetchError{cause: "JWKS document too large", err: fmt.Errorf("over %d bytes", MaxJWKSSize)}
	}
	return body, nil
}

// fetchError is a failed fetch: cause is a short phrase safe to show on
// /readyz (no address, no body), err the whole story for the log.
type fetchError struct {
	cause string
	err   error
}

func (e *fetchError) Error() string { return e.cause + ": " + e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

func publicCause(err error) string {
	if fe, ok := errors.AsType[*fetchError](err); ok {
		return fe.cause
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "fetch failed"
}

// jwksAlgs are the algorithms a JWKS key may verify: asymmetric only.
var jwksAlgs = []string{"EdDSA", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}

// parseJWK turns one published key into a loaded key with its one
// algorithm, or says why it is left out.
func parseJWK(m jwkset.JWKMarshal) (*jwksKey, error) {
	if m.KID == "" {
		return nil, errors.New("no kid: a token could not name it")
	}
	if m.USE != "" && m.USE != jwkset.UseSig {
		return nil, fmt.Errorf("use %q is not sig", m.USE)
	}
	if len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify) {
		return nil, errors.New("key_ops lacks verify")
	}
	want := defaultAlg(m.KTY, m.CRV)
	if want == "" {
		return nil, fmt.Errorf("key type %q (curve %q) cannot verify signatures here", m.KTY, m.CRV)
	}
	alg := m.ALG.String()
	if alg == "" {
		alg = want
	} else if !algFitsKey(alg, m.KTY, want) {
		return nil, fmt.Errorf("alg %q does not fit a %s key (curve %q)", alg, m.KTY, m.CRV)
	}
	m.ALG = jwkset.ALG(alg)
	// Public material only: a private part published by mistake is ignored.
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return nil, err
	}
	switch k := jwk.Key().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits is too short (want at least 2048)", k.N.BitLen())
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("unsupported key %T", k)
	}
	return &jwksKey{kid: m.KID, alg: alg, jwk: jwk}, nil
}

// defaultAlg is the algorithm of a key without "alg": the one its type and
// curve allow (RSA: RS256, the one every identity provider uses).
func defaultAlg(kty jwkset.KTY, crv jwkset.CRV) string {
	switch kty {
	case jwkset.KtyRSA:
		return "RS256"
	case jwkset.KtyEC:
		switch crv {
		case jwkset.CrvP256:
			return "ES256"
		case jwkset.CrvP384:
			return "ES384"
		case jwkset.CrvP521:
			return "ES512"
		}
	case jwkset.KtyOKP:
		if crv == jwkset.CrvEd25519 {
			return "EdDSA"
		}
	}
	return "" // oct (symmetric) and the rest: never
}

// algFitsKey reports whether a published alg may be used with a key of kty
// whose default algorithm is def: RSA keys take RS* and PS*, EC and OKP keys
// only the algorithm of their curve.
func algFitsKey(alg string, kty jwkset.KTY, def string) bool {
	if kty == jwkset.KtyRSA {
		return slices.Contains([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}, alg)
	}
	return alg == def
}

// sameKey reports whether two JWKs hold the same public key.
func sameKey(a, b jwkset.JWK) bool {
	switch ka := a.Key().(type) {
	case *rsa.PublicKey:
		kb, ok := b.Key().(*rsa.PublicKey)
		return ok && ka.Equal(kb)
	case *ecdsa.PublicKey:
		kb, ok := b.Key().(*ecdsa.PublicKey)
		return ok && ka.Equal(kb)
	case ed25519.PublicKey:
		kb, ok := b.Key().(ed25519.PublicKey)
		return ok && ka.Equal(kb)
	}
	return false
}

func redactedURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// jwksStorage is the jwkset.Storage keyfunc reads: the keys of every source,
// read-only. KeyRead refreshes on an unknown kid and tells the Verifier
// which key it gave (keyUse in the context), for its cache.
type jwksStorage struct{ j *JWKS }

var _ jwkset.Storage = jwksStorage{}

type keyUseCtx struct{}

// keyUse receives the key KeyRead found, through the context keyfunc passes.
type keyUse struct{ key *jwksKey }

var errReadOnly = errors.New("auth: jwks: the key set is read-only")

func (s jwksStorage) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	k := s.j.lookupOrRefresh(kid)
	if k == nil {
		return jwkset.JWK{}, fmt.Errorf("%w: kid %q", jwkset.ErrKeyNotFound, kid)
	}
	if u, ok := ctx.Value(keyUseCtx{}).(*keyUse); ok {
		u.key = k
	}
	return k.jwk, nil
}

func (s jwksStorage) KeyReadAll(context.Context) ([]jwkset.JWK, error) {
	m := *s.j.keys.Load()
	out := make([]jwkset.JWK, 0, len(m))
	for _, k := range m {
		out = append(out, k.jwk)
	}
	return out, nil
}

func (s jwksStorage) KeyDelete(context.Context, string) (bool, error) { return false, errReadOnly }
func (s jwksStorage) KeyReplaceAll(context.Context, []jwkset.JWK) error {
	return errReadOnly
}
func (s jwksStorage) KeyWrite(context.Context, jwkset.JWK) error { return errReadOnly }

func (s jwksStorage) memory(ctx context.Context) *jwkset.MemoryJWKSet {
	m := jwkset.NewMemoryStorage()
	all, _ := s.KeyReadAll(ctx)
	_ = m.KeyReplaceAll(ctx, all)
	return m
}

func (s jwksStorage) JSON(ctx context.Context) (json.RawMessage, error) {
	return s.memory(ctx).JSON(ctx)
}
func (s jwksStorage) JSONPublic(ctx context.Context) (json.RawMessage, error) {
	return s.memory(ctx).JSONPublic(ctx)
}
func (s jwksStorage) JSONPrivate(ctx context.Context) (json.RawMessage, error) {
	return s.memory(ctx).JSONPublic(ctx) // public keys only: there is nothing private
}
func (s jwksStorage) JSONWithOptions(ctx context.Context, mo jwkset.JWKMarshalOptions, vo jwkset.JWKValidateOptions) (json.RawMessage, error) {
	return s.memory(ctx).JSONWithOptions(ctx, mo, vo)
}
func (s jwksStorage) Marshal(ctx context.Context) (jwkset.JWKSMarshal, error) {
	return s.memory(ctx).Marshal(ctx)
}
func (s jwksStorage) MarshalWithOptions(ctx context.Context, mo jwkset.JWKMarshalOptions, vo jwkset.JWKValidateOptions) (jwkset.JWKSMarshal, error) {
	return s.memory(ctx).MarshalWithOptions(ctx, mo, vo)
}
