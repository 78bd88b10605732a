package exporter

// SetAfterCommit installs a hook run after each warehouse commit and before
// the acknowledgement; an error from it stops Run there, like a crash.
func SetAfterCommit(e *Exporter, f func() error) { e.afterCommit = f }

// SetPrecheck turns the check of text values before the write (NUL, invalid
// UTF-8) on or off; off, the warehouse refuses those rows and the batch is
// bisected.
func SetPrecheck(e *Exporter, on bool) { e.noPrecheck = !on }
