// Package auth verifies the JSON Web Tokens that identify users, with
// github.com/golang-jwt/jwt/v5.
//
// The accepted algorithms follow strictly from the configured keys: an HS256
// secret enables HS256, an RSA public key RS256, an ECDSA public key the ES
// algorithm of its curve (ES256 for P-256), and each key of a JWKS (see JWKS)
// the one algorithm it is published for, chosen by the token's kid. "none"
// and every other algorithm are always rejected, which rules out
// algorithm-confusion attacks.
//
// Every token must carry an expiry (exp) and a non-empty subject (sub): a
// token without exp would be valid forever, and the subject is the user.
package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// MinHS256SecretLen is the shortest HS256 secret NewVerifier accepts: RFC 7518
// section 3.2 requires a key at least as long as the hash output (256 bits).
const MinHS256SecretLen = 32

// DefaultCacheSize is the number of verified tokens a Verifier remembers when
// Config.CacheSize is 0.
const DefaultCacheSize = 8192

// Config configures a Verifier. At least one of HS256Secret, PublicKeyPEM and
// JWKS must be set; several may be, to accept each kind of token.
type Config struct {
	// HS256Secret enables HS256 with this shared secret.
	HS256Secret []byte

	// PublicKeyPEM enables RS256 (an RSA key) or ES256/ES384/ES512 (an ECDSA
	// key on P-256/P-384/P-521). PEM blocks "PUBLIC KEY" (PKIX),
	// "RSA PUBLIC KEY" (PKCS #1) and "CERTIFICATE" are understood.
	PublicKeyPEM []byte

	// JWKS enables the keys of JSON Web Key Sets (an identity provider's):
	// a token naming a kid is verified by that key, with its algorithm.
	// The JWKS is started and closed by its owner.
	JWKS *JWKS

	// Issuer, when set, must equal the token's iss. Default: not checked.
	Issuer string

	// Audience, when set, must be among the token's aud. Default: not checked.
	Audience string

	// Leeway tolerates clock skew on exp and nbf. Default 0.
	Leeway time.Duration

	// Now returns the current time; can be mocked for tests. Default time.Now.
	Now func() time.Time

	// CacheSize bounds how many successfully verified tokens are remembered
	// (with their expiry) so a returning token skips parsing and signature
	// checking. 0 means DefaultCacheSize; negative disables the cache.
	CacheSize int
}

// Claims is what a valid token says about its user.
type Claims struct {
	// Subject is the token's sub: the user id.
	Subject string

	// Values holds every claim of the token, for eligibility rules. Numbers
	// are float64. It may be shared between requests (cache): never modify it.
	Values map[string]any
}

// Verifier checks tokens. It is immutable after NewVerifier and safe for
// concurrent use.
type Verifier struct {
	parser   *jwt.Parser
	keyFunc  jwt.Keyfunc
	methods  []string
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
	cache    *cache     // nil when disabled
	fast     *fastHS256 // nil without an HS256 secret
	jwks     *JWKS      // nil without one
}

// NewVerifier returns a Verifier for cfg. It fails when no key is given, when
// the HS256 secret is shorter than MinHS256SecretLen bytes, or when
// PublicKeyPEM holds no usable RSA or ECDSA public key.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.HS256Secret) == 0 && len(cfg.PublicKeyPEM) == 0 && cfg.JWKS == nil {
		return nil, errors.New("auth: no verification key: set an HS256 secret, a public key or a JWKS")
	}
	if n := len(cfg.HS256Secret); n > 0 && n < MinHS256SecretLen {
		return nil, fmt.Errorf("auth: the HS256 secret is %d bytes long; RFC 7518 requires at least %d (256 bits)", n, MinHS256SecretLen)
	}
	v := &Verifier{issuer: cfg.Issuer, audience: cfg.Audience, leeway: cfg.Leeway, now: cfg.Now}
	if v.now == nil {
		v.now = time.Now
	}

	keys := map[string]any{}
	if len(cfg.HS256Secret) > 0 {
		keys[jwt.SigningMethodHS256.Alg()] = slices.Clone(cfg.HS256Secret)
	}
	if len(cfg.PublicKeyPEM) > 0 {
		alg, key, err := parsePublicKey(cfg.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		keys[alg] = key
	}
	if len(cfg.HS256Secret) > 0 {
		v.fast = newFastHS256(slices.Clone(cfg.HS256Secret))
	}
	for alg := range keys {
		v.methods = append(v.methods, alg)
	}
	if v.jwks = cfg.JWKS; v.jwks != nil {
		for _, alg := range jwksAlgs {
			if !slices.Contains(v.methods, alg) {
				v.methods = append(v.methods, alg)
			}
		}
	}
	slices.Sort(v.methods)

	// The parser has checked the alg against methods before calling this, so
	// each alg gets only its own key (an RSA key can never verify HS256).
	v.keyFunc = func(t *jwt.Token) (any, error) {
		if key, ok := keys[t.Method.Alg()]; ok {
			return key, nil
		}
		return nil, fmt.Errorf("%w: no key for alg %q", errKeyAlg, t.Method.Alg())
	}

	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(v.now),
		// One token, one encoding: no non-canonical base64 variants of a
		// valid token (they would also defeat the cache).
		jwt.WithStrictDecoding(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)

	switch {
	case cfg.CacheSize == 0:
		v.cache = newCache(DefaultCacheSize)
	case cfg.CacheSize > 0:
		v.cache = newCache(cfg.CacheSize)
	}
	return v, nil
}

// Algorithms returns the accepted signing algorithms, sorted.
func (v *Verifier) Algorithms() []string { return slices.Clone(v.methods) }

// Verify checks a compact JWS token (without the "Bearer " prefix) and
// returns its claims. Errors are *Error values; Reason(err) names the cause.
// token is not retained.
func (v *Verifier) Verify(token []byte) (Claims, error) {
	if len(token) == 0 {
		return Claims{}, errMissing
	}
	if v.cache != nil {
		if c, ok := v.cache.get(token, v.now(), v.leeway); ok {
			return c, nil
		}
	}
	// Reject what cannot be a JWS before the parser allocates.
	if bytes.Count(token, dot) != 2 {
		return Claims{}, errMalformed
	}
	if v.fast != nil {
		if c, exp, kept, ok := v.fastVerify(token); ok {
			if v.cache != nil {
				v.cache.put(kept, c, exp, nil)
			}
			return c, nil
		}
	}

	keyFunc, used := v.keyFunc, (*keyUse)(nil)
	if v.jwks != nil {
		used = &keyUse{}
		keyFunc = func(t *jwt.Token) (any, error) { return v.jwksKeyFunc(t, used) }
	}
	tok, err := v.parser.ParseWithClaims(string(token), &libClaims{}, keyFunc)
	if err != nil {
		return Claims{}, v.classify(tok, err)
	}
	if _, ok := tok.Header["crit"]; ok {
		// RFC 7515 section 4.1.11: a recipient must reject a token whose crit
		// names extensions it does not understand, and this verifier
		// understands none (an empty or malformed crit is invalid too).
		return Claims{}, errCritical
	}
	mc := mapClaims(tok)
	sub, _ := mc["sub"].(string)
	if sub == "" {
		return Claims{}, &Error{Reason: ReasonMissingSubject}
	}
	c := Claims{Subject: sub, Values: mc}
	if v.fast != nil && tok.Method.Alg() == jwt.SigningMethodHS256.Alg() {
		v.fast.remember(token)
	}
	var key *jwksKey // the JWKS key that verified it, if one did
	if used != nil {
		key = used.key
	}
	if v.cache != nil && (key == nil || !key.removed.Load()) {
		// exp is present and valid: the parser requires it.
		if exp, err := mc.GetExpirationTime(); err == nil && exp != nil {
			v.cache.put(string(token), c, exp.Time, key)
		}
	}
	return c, nil
}

// jwksKeyFunc chooses the key of a token when a JWKS is configured: HS256
// only ever gets the secret, a token with a kid the JWKS key of that kid
// (through keyfunc, which refuses an alg other than the key's), and a token
// without a kid, or whose kid is not in the JWKS, the PEM key of its alg.
func (v *Verifier) jwksKeyFunc(t *jwt.Token, used *keyUse) (any, error) {
	alg := t.Method.Alg()
	raw, hasKid := t.Header["kid"]
	kid, isText := raw.(string)
	if strings.HasPrefix(alg, "HS") {
		return v.keyFunc(t)
	}
	if !hasKid {
		if key, err := v.keyFunc(t); err == nil {
			return key, nil
		}
		return nil, fmt.Errorf("%w: the token names no kid", errUnknownKey)
	}
	if !isText || kid == "" {
		return nil, fmt.Errorf("%w: kid is not a non-empty string", errUnknownKey)
	}
	key, err := v.jwks.kf.KeyfuncCtx(context.WithValue(v.jwks.ctx, keyUseCtx{}, used))(t)
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, jwkset.ErrKeyNotFound):
		if pem, perr := v.keyFunc(t); perr == nil {
			return pem, nil // a PEM key configured beside the JWKS, named by a kid of its own
		}
		return nil, fmt.Errorf("%w: %w", errUnknownKey, err)
	default: // the key's alg is not the token's
		return nil, fmt.Errorf("%w: %w", errKeyAlg, err)
	}
}

// Causes of a refusal by the key functions, told apart by classify.
var (
	errUnknownKey = errors.New("no key of the token's kid")
	errKeyAlg     = errors.New("the token's alg is not its key's")
)

var dot = []byte{'.'}

// classify turns a parser error into a rejection reason. Signature and
// algorithm failures come first: the parser checks them before claims, and a
// forged token must learn nothing about claim validation.
func (v *Verifier) classify(tok *jwt.Token, err error) *Error {
	reason := ReasonMalformed
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = ReasonMalformed
	case errors.Is(err, errUnknownKey):
		reason = ReasonUnknownKey
	case errors.Is(err, errKeyAlg):
		reason = ReasonAlgNotAllowed
	case tok != nil && tok.Method == nil && errors.Is(err, jwt.ErrTokenUnverifiable):
		reason = ReasonAlgNotAllowed // alg missing or unknown to the library
	case tok != nil && tok.Method != nil && !slices.Contains(v.methods, tok.Method.Alg()):
		reason = ReasonAlgNotAllowed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		reason = ReasonBadSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		reason = ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		reason = ReasonNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		reason = ReasonWrongIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		reason = ReasonWrongAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		reason = v.missingClaim(tok)
	}
	return &Error{Reason: reason, Err: err}
}

// missingClaim tells which required claim is absent: the parser reports all
// of exp, iss and aud with the same error.
func (v *Verifier) missingClaim(tok *jwt.Token) string {
	mc := mapClaims(tok)
	if _, ok := mc["exp"]; !ok {
		return ReasonMissingExpiry
	}
	if iss, _ := mc["iss"].(string); v.issuer != "" && iss == "" {
		return ReasonWrongIssuer
	}
	return ReasonWrongAudience
}

// parsePublicKey reads the first public key of a PEM file and returns the
// only algorithm it may verify.
func parsePublicKey(data []byte) (alg string, key any, err error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return "", nil, errors.New("auth: public key: no PEM block found")
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return "", nil, fmt.Errorf("auth: public key: unsupported PEM block %q (want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)", block.Type)
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: public key: %w", err)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", nil, fmt.Errorf("auth: public key: RSA key of %d bits is too short (want at least 2048)", k.N.BitLen())
		}
		return jwt.SigningMethodRS256.Alg(), k, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return jwt.SigningMethodES256.Alg(), k, nil
		case elliptic.P384():
			return jwt.SigningMethodES384.Alg(), k, nil
		case elliptic.P521():
			return jwt.SigningMethodES512.Alg(), k, nil
		}
		return "", nil, errors.New("auth: public key: unsupported ECDSA curve")
	}
	return "", nil, fmt.Errorf("auth: public key: unsupported key type %T (want RSA or ECDSA)", pub)
}
