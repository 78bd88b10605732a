package http

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// No header value of a request may reach a log. fasthttp's own errors quote
// the raw request they could not parse (a bad, negative or repeated
// Content-Length gives "error when reading request headers: ... contents:
// "POST / HTTP/1.1\r\nAuthorization: Bearer ..."), and it logs them through
// Server.Logger and hands them to Server.ErrorHandler. Three guards, each
// enough alone: fasthttp.Server.SecureErrorLogMessage (fasthttp leaves the
// request out of the errors it builds), the ErrorHandler logs only the kind
// of the error (transportCause), and fasthttpLogger logs only the kind of any
// error and no string argument at all.

// fasthttpLogger sends fasthttp's own messages to slog, with their arguments
// reduced to what cannot carry request data: numbers, durations, addresses
// and the kind of an error.
type fasthttpLogger struct {
	l interface{ Warn(string, ...any) }
}

// Printf implements fasthttp.Logger.
func (f fasthttpLogger) Printf(format string, args ...any) {
	safe := make([]any, len(args))
	for i, a := range args {
		safe[i] = safeLogArg(a)
	}
	f.l.Warn("fasthttp: " + fmt.Sprintf(format, safe...))
}

func safeLogArg(a any) any {
	switch v := a.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, bool, time.Duration:
		return v
	case net.Addr:
		return v.String()
	case error:
		return transportCause(v).Error()
	}
	return "[redacted]"
}

// transportCause returns an error saying only which kind of failure err is,
// never its text (which may quote the request).
func transportCause(err error) error {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	var nothing fasthttp.ErrNothingRead
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return errRequestBodyTooLarge
	case errors.As(err, &small):
		return errRequestHeaderTooLarge
	case errors.As(err, &netErr) && netErr.Timeout():
		return errRequestTimeout
	case errors.As(err, &nothing):
		return errNothingRead
	case errors.As(err, &netErr):
		return errConnection
	}
	return errMalformedRequest
}

var (
	errRequestBodyTooLarge   = errors.New("request body too large")
	errRequestHeaderTooLarge = errors.New("request headers too large")
	errRequestTimeout        = errors.New("request not received in time")
	errNothingRead           = errors.New("connection closed before a request")
	errConnection            = errors.New("connection error")
	errMalformedRequest      = errors.New("malformed HTTP request (details withheld: they may quote request headers)")
)
