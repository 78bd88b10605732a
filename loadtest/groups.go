package loadtest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/assign-dev/assign/assign"
)

// ParseGroups reads groups written "name:probability,name:probability".
func ParseGroups(s string) ([]assign.Group, error) {
	var groups []assign.Group
	for _, part := range strings.Split(s, ",") {
		name, p, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("loadtest: group %q: want name:probability", part)
		}
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, fmt.Errorf("loadtest: group %q: %w", part, err)
		}
		groups = append(groups, assign.Group{Name: name, Probability: f})
	}
	if err := assign.ValidateGroups(groups); err != nil {
		return nil, err
	}
	return groups, nil
}

// MustParseGroups is ParseGroups for constants; it panics on an error.
func MustParseGroups(s string) []assign.Group {
	g, err := ParseGroups(s)
	if err != nil {
		panic(err)
	}
	return g
}
