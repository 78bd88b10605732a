package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Target answers enrollment requests: the decision for user u of a
// Population, in the experiment the population gives that user. Run calls
// Enroll from many goroutines at once.
type Target interface {
	Enroll(ctx context.Context, u int) (Outcome, error)
}

// RequestError is a failed request, classified for the report.
type RequestError struct {
	Kind string // "status_503", "timeout", "connection", "bad_body", ...
	Err  error
}

// Error implements the error interface.
func (e *RequestError) Error() string {
	if e.Err != nil {
		return e.Kind + ": " + e.Err.Error()
	}
	return e.Kind
}

// Unwrap returns the underlying error.
func (e *RequestError) Unwrap() error { return e.Err }

// Kinds of failed requests besides status_<code>.
const (
	KindTimeout    = "timeout"       // no answer within the request timeout
	KindConnection = "connection"    // could not connect, or the connection broke
	KindNoConns    = "no_free_conns" // the client's connection pool was exhausted
	KindBadBody    = "bad_body"      // a 200 whose body is not a decision
	KindOther      = "other"
)

// StatusKind returns the kind of an unexpected HTTP status.
func StatusKind(code int) string { return fmt.Sprintf("status_%d", code) }

// ErrorKind classifies an error returned by a Target.
func ErrorKind(err error) string {
	var re *RequestError
	var ne net.Error
	switch {
	case errors.As(err, &re):
		return re.Kind
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	case errors.As(err, &ne):
		return KindConnection
	}
	return KindOther
}
