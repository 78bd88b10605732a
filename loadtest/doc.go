// Package loadtest drives assignd (or a naive PostgreSQL baseline) with a
// realistic enrollment load and checks afterwards that the store kept its
// promises.
//
// The pieces:
//   - Population: N experiments, M users with pre-signed tokens; user u always
//     asks about experiment u mod N, so a user's first answer is the one every
//     later request of that user must repeat (stickiness).
//   - Mix: picks, for each request, a new user or a returning one (a user who
//     already has an answer) at a configurable ratio.
//   - Run: closed loop (C workers, as fast as the target answers) or open loop
//     (a fixed schedule of intended send times; latency is measured from the
//     intended time, so a slow target cannot hide its queueing: no coordinated
//     omission), bounded by a duration and/or a request count.
//   - Histogram: a log-linear (HDR-style) latency histogram, 0.1% precision.
//   - Ledger: the first answer of every user, to check stickiness online and
//     against the store afterwards (VerifyRedis, (*PGBaseline).Verify).
//
// Every network target must be on the loopback interface (CheckLoopbackURL):
// this tool is for measuring a server on the same machine, nothing else.
package loadtest
