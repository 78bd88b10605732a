package results

import (
	"context"
	"fmt"

	"github.com/assign-dev/assign/assign"
)

// NoPlatform selects (Query.Platform) and names (Platforms) the members
// whose enrollment recorded no platform: rows exported before platforms
// were recorded, and clients that gave none.
const NoPlatform = "none"

// Platforms returns the platforms present among the experiment's members
// (QA overrides left out): NoPlatform first for the rows without one, then
// the recorded ones in alphabetical order. Each is one analysis of
// `assignctl results --by platform`, with its own SRM check: the web
// results say nothing of mobile.
func (w *Warehouse) Platforms(ctx context.Context, experimentID string) ([]string, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT DISTINCT coalesce(platform, '') AS p FROM enrollments
WHERE experiment_id = $1 AND NOT override ORDER BY p`, experimentID)
	if err != nil {
		return nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse: platforms: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("warehouse: platforms: %w", err)
		}
		if p == "" {
			p = NoPlatform
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// platformFilter returns the condition selecting q.Platform's members,
// with its argument at position n, or "" when q analyses every platform.
func (q Query) platformFilter(n int) (string, any) {
	if q.Platform == "" {
		return "", nil
	}
	p := q.Platform
	if p == NoPlatform {
		p = ""
	}
	return fmt.Sprintf(" AND coalesce(platform, '') = $%d", n), p
}
