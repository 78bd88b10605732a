package http

import (
	"container/list"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
)

// RouteOverCapacity labels the requests answered 503 because the server
// serves Concurrency connections already and none of them was idle.
const RouteOverCapacity = "over_capacity"

// The connection limit (Server.Concurrency, assignd's -max-conns).
//
// fasthttp alone counts a keep-alive connection waiting for its next request
// like a busy one, and past its limit answers a plain-text 503 without
// reading the request: N idle clients would lock every new one out for the
// whole idle timeout. So the limit is kept here instead, in front of
// fasthttp:
//
//   - a new connection past the limit first closes the connection that has
//     been idle (between two keep-alive requests) the longest, and is served;
//   - when none is idle (all are in a request, or opened and still sending
//     the first), the new connection is still read, and its request answered
//     with the usual JSON 503 and its fallback, then closed. fasthttp's own
//     limit is set above ours (overflowReserve) so that it never answers
//     first; past that too, the JSON 503 is written at once without reading.
//
// A client whose idle connection is closed sees what it sees when the idle
// timeout closes it, and opens a new one.
type connLimiter struct {
	max int

	mu       sync.Mutex
	open     int       // connections admitted under the limit, not closed yet
	overflow int       // connections over the limit, being answered 503
	idle     list.List // of *limitedConn idle between requests, oldest first

	reclaimed atomic.Int64 // idle connections closed to admit a new one
	refused   atomic.Int64 // connections answered 503
}

// overflowReserve is how many connections over the limit may be answered
// the JSON 503 at once by fasthttp (each takes one request's time).
func overflowReserve(max int) int { return max/8 + 16 }

// limitedConn is a connection accepted through a connLimiter.
type limitedConn struct {
	net.Conn
	l        *connLimiter
	over     bool          // admitted over the limit: answer 503 and close
	elem     *list.Element // in l.idle while idle
	released bool          // no longer counted (guarded by l.mu)
	closed   atomic.Bool
}

// Close stops counting the connection and closes it.
func (c *limitedConn) Close() error {
	c.l.release(c)
	if c.closed.Swap(true) {
		return nil
	}
	return c.Conn.Close()
}

// limitListener admits the connections its listener accepts through l.
type limitListener struct {
	net.Listener
	l *connLimiter
}

func (ln limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := ln.l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit counts a new connection, making room by closing the longest idle
// one when the limit is reached, or marks it over the limit. It returns nil
// when it answered the connection itself.
func (l *connLimiter) admit(c net.Conn) net.Conn {
	lc := &limitedConn{Conn: c, l: l}
	var victim *limitedConn
	raw := false
	l.mu.Lock()
	if l.open >= l.max {
		if e := l.idle.Front(); e != nil {
			victim = e.Value.(*limitedConn)
			l.releaseLocked(victim)
		}
	}
	switch {
	case l.open < l.max:
		l.open++
	case l.overflow < overflowReserve(l.max):
		lc.over = true
		l.overflow++
	default:
		raw = true
	}
	l.mu.Unlock()
	if victim != nil {
		l.reclaimed.Add(1)
		_ = victim.Close()
	}
	if raw {
		l.refused.Add(1)
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Write(overCapacityRaw)
		_ = c.Close()
		return nil
	}
	return lc
}

// state follows fasthttp's view of the connection (Server.ConnState).
func (l *connLimiter) state(c net.Conn, st fasthttp.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case fasthttp.StateIdle:
		if !lc.released && !lc.over && lc.elem == nil {
			lc.elem = l.idle.PushBack(lc)
		}
	case fasthttp.StateActive, fasthttp.StateHijacked:
		if lc.elem != nil {
			l.idle.Remove(lc.elem)
			lc.elem = nil
		}
	case fasthttp.StateClosed:
		l.releaseLocked(lc)
	}
}

func (l *connLimiter) release(c *limitedConn) {
	l.mu.Lock()
	l.releaseLocked(c)
	l.mu.Unlock()
}

func (l *connLimiter) releaseLocked(c *limitedConn) {
	if c.released {
		return
	}
	c.released = true
	if c.elem != nil {
		l.idle.Remove(c.elem)
		c.elem = nil
	}
	if c.over {
		l.overflow--
	} else {
		l.open--
	}
}

// overCapacity answers, when the request came on a connection over the
// limit, the JSON 503 with its fallback and closes the connection after it.
// It logs nothing: under a flood that would be one line per connection; the
// requests are counted under RouteOverCapacity.
func (s *Server) overCapacity(ctx *fasthttp.RequestCtx) bool {
	lc, ok := ctx.Conn().(*limitedConn)
	if !ok || !lc.over {
		return false
	}
	s.limiter.refused.Add(1)
	ctx.SetConnectionClose()
	ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
	ctx.SetBody(overCapacityBody)
	return true
}

const overCapacityMessage = "The server is at its connection limit; try again later."

var (
	overCapacityBody = appendError(nil, assign.EUNAVAILABLE, overCapacityMessage, "", FallbackDefaultExperience)
	overCapacityRaw  = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\nRetry-After: 1\r\n" +
		"Content-Length: " + itoa(len(overCapacityBody)) + "\r\n\r\n" + string(overCapacityBody))
)

func itoa(n int) string { return strconv.Itoa(n) }

// ConnStats are the connection limiter's counters, for tests and metrics.
type ConnStats struct {
	Open, Idle   int   // connections under the limit, and those idle
	Reclaimed    int64 // idle connections closed to admit new ones
	OverCapacity int64 // connections answered 503 for the limit
}

// ConnStats returns the limiter's counters; zero without a Concurrency.
func (s *Server) ConnStats() ConnStats {
	l := s.limiter
	if l == nil {
		return ConnStats{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return ConnStats{Open: l.open, Idle: l.idle.Len(), Reclaimed: l.reclaimed.Load(), OverCapacity: l.refused.Load()}
}
