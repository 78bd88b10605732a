package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
)

// storeError translates a go-redis error into an application error, in this
// one place: no answer in time or no connection is EUNAVAILABLE (the client
// can show its default experience and retry later), so are Redis's own
// transient refusals (loading, busy script, out of memory (wrapping
// ErrOutOfMemory too), cluster down);
// anything else Redis says is EINTERNAL. Application errors pass unchanged.
// The driver error stays wrapped for logs.
func storeError(err error) error {
	if err == nil {
		return nil
	}
	var ae *assign.Error
	if errors.As(err, &ae) {
		return err
	}
	if redis.IsOOMError(err) {
		// Its own kind for metrics: Redis at its maxmemory under noeviction
		// refuses writes (new enrollments), not reads (existing members).
		return fmt.Errorf("%w: %w: %w", &assign.Error{Code: assign.EUNAVAILABLE, Message: "The store cannot record new enrollments right now."}, ErrOutOfMemory, err)
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", &assign.Error{Code: assign.EUNAVAILABLE, Message: "The store is unavailable."}, err)
	}
	return fmt.Errorf("%w: %w", &assign.Error{Code: assign.EINTERNAL, Message: "Internal error."}, err)
}

// ErrOutOfMemory is wrapped in the store errors caused by Redis refusing a
// write for its maxmemory ("OOM command not allowed"). Its RedisErrorKind,
// "oom", is how metrics tell them apart without importing this package.
var ErrOutOfMemory error = kindError("oom")

type kindError string

func (e kindError) Error() string          { return "redis: " + string(e) }
func (e kindError) RedisErrorKind() string { return string(e) }

func unavailable(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted),
		errors.Is(err, redis.ErrClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne):
		return true
	case redis.IsLoadingError(err), redis.IsClusterDownError(err), redis.IsTryAgainError(err),
		redis.IsMasterDownError(err), redis.IsMaxClientsError(err), redis.IsOOMError(err),
		redis.IsReadOnlyError(err), redis.HasErrorPrefix(err, "BUSY"):
		return true
	}
	return false
}
