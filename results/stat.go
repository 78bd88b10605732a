package results

import (
	"errors"
	"io/fs"
	"os"

	"github.com/assign-dev/assign/assign"
)

// statFile checks that a DuckDB file exists: DuckDB would otherwise create
// an empty database and the analysis would fail later with a less helpful
// "table enrollments does not exist".
func statFile(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return assign.Errorf(assign.ENOTFOUND, "warehouse: no DuckDB file at %s (has the exporter run? set --warehouse-url)", path)
	} else if err != nil {
		return assign.Errorf(assign.EUNAVAILABLE, "warehouse: %v", err)
	}
	return nil
}
