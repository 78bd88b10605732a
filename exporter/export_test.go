package exporter

// SetAfterCommit installs a hook run after each warehouse commit and before
// the acknowledgement; an error from it stops Run there, like a crash.
func SetAfterCommit(e *Exporter, f func() error) { e.afterCommit = f }
