package warehouse

// Migration is one versioned step of a sink's schema. Sinks apply the steps
// above the highest version recorded in their schema_migrations table, in
// order, each in its own transaction with its record, so a step runs once.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Pending returns the migrations above version applied, in order.
// migrations must be sorted by Version.
func Pending(migrations []Migration, applied int) []Migration {
	for i, m := range migrations {
		if m.Version > applied {
			return migrations[i:]
		}
	}
	return nil
}
