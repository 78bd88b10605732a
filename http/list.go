package http

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
)

// Sort keys of GET /api/experiments?sort=.
var listSortKeys = []string{"experiment_id", "status", "layer", "fill", "enrolled", "created_at", "updated_at"}

// maxSortedList bounds the experiments a sorted listing reads: sorting needs
// them all, unlike the id-ordered pages.
const maxSortedList = 10_000

// sortedListResponse is the body of a sorted listing: a page of the
// experiments matching the filters, and how many match in all.
type sortedListResponse struct {
	Experiments []*assign.Experiment `json:"experiments"`
	Next        string               `json:"next"` // always "": sorted pages go by offset
	Total       int                  `json:"total"`
	Offset      int                  `json:"offset"`
}

// sortedListing reports whether a listing asks for a sort, an offset or a
// filter: the pages in id order by cursor (?after=) stay as they were.
func sortedListing(args *fasthttp.Args) bool {
	return args.Has("sort") || args.Has("order") || args.Has("offset") || args.Has("status") || args.Has("q")
}

// handleListSorted serves GET /api/experiments?sort=&order=&offset=&limit=&status=&q=:
// the experiments (at most 10,000 are read) filtered by status and by q, a
// case-insensitive part of the id or layer, sorted by one of listSortKeys
// (ties by id; fill is members over the cap), order asc or desc (default
// asc, desc for the times, fill and enrolled), limit from offset on.
func (s *Server) handleListSorted(ctx *fasthttp.RequestCtx) {
	const route = RouteExperimentList
	args := ctx.QueryArgs()
	for _, k := range []string{"after"} {
		if args.Has(k) {
			s.writeErr(ctx, route, assign.Invalidf(k, "after pages in id order; with sort, order, offset, status or q use offset."))
			return
		}
	}
	key := string(args.Peek("sort"))
	if key == "" {
		key = "experiment_id"
	}
	known := false
	for _, k := range listSortKeys {
		known = known || k == key
	}
	if !known {
		s.writeErr(ctx, route, assign.Invalidf("sort", "sort must be one of %s.", strings.Join(listSortKeys, ", ")))
		return
	}
	desc := strings.HasSuffix(key, "_at") || key == "fill" || key == "enrolled"
	switch string(args.Peek("order")) {
	case "":
	case "asc":
		desc = false
	case "desc":
		desc = true
	default:
		s.writeErr(ctx, route, assign.Invalidf("order", "order must be asc or desc."))
		return
	}
	limit, offset := assign.DefaultPageSize, 0
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > assign.MaxPageSize {
			s.writeErr(ctx, route, assign.Invalidf("limit", "limit must be an integer from 1 to %d.", assign.MaxPageSize))
			return
		}
		limit = n
	}
	if v := args.Peek("offset"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 0 {
			s.writeErr(ctx, route, assign.Invalidf("offset", "offset must be an integer from 0 on."))
			return
		}
		offset = n
	}
	status := assign.Status(args.Peek("status"))
	if status != "" && !status.Valid() {
		s.writeErr(ctx, route, assign.Invalidf("status", "status must be running, paused or stopped."))
		return
	}
	q := strings.ToLower(string(args.Peek("q")))

	c, cancel := context.WithTimeout(context.Background(), s.AdminTimeout)
	defer cancel()
	var all []*assign.Experiment
	filter := assign.ExperimentFilter{Limit: assign.MaxPageSize}
	for len(all) < maxSortedList {
		page, next, err := s.Experiments.FindExperiments(c, filter)
		if err != nil {
			s.writeErr(ctx, route, err)
			return
		}
		for _, e := range page {
			if status != "" && e.Status != status {
				continue
			}
			if q != "" && !strings.Contains(strings.ToLower(e.ID), q) && !strings.Contains(strings.ToLower(e.Layer), q) {
				continue
			}
			all = append(all, public(e))
		}
		if next == "" {
			break
		}
		filter.After = next
	}
	sortExperiments(all, key, desc)
	resp := sortedListResponse{Experiments: []*assign.Experiment{}, Total: len(all), Offset: offset}
	if offset < len(all) {
		resp.Experiments = all[offset:min(len(all), offset+limit)]
	}
	s.writeJSON(ctx, route, fasthttp.StatusOK, resp)
}

// sortExperiments sorts by key, ties (and experiments whose configuration
// cannot be read, last) by id.
func sortExperiments(list []*assign.Experiment, key string, desc bool) {
	enrolled := func(e *assign.Experiment) int64 {
		if e.Stats == nil {
			return 0
		}
		return e.Stats.Enrolled
	}
	cmp := func(a, b *assign.Experiment) int {
		switch key {
		case "experiment_id":
			return strings.Compare(a.ID, b.ID)
		case "status":
			return strings.Compare(string(a.Status), string(b.Status))
		case "layer":
			return strings.Compare(a.Layer, b.Layer)
		case "created_at":
			return a.CreatedAt.Compare(b.CreatedAt)
		case "updated_at":
			return a.UpdatedAt.Compare(b.UpdatedAt)
		case "enrolled":
			return compareInt(enrolled(a), enrolled(b))
		case "fill":
			// a/capA vs b/capB without division: a*capB vs b*capA.
			if a.MaxSampleSize > 0 && b.MaxSampleSize > 0 {
				return compareInt(enrolled(a)*b.MaxSampleSize, enrolled(b)*a.MaxSampleSize)
			}
			return compareInt(a.MaxSampleSize, b.MaxSampleSize)
		}
		return 0
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if (a.Problem != "") != (b.Problem != "") {
			return b.Problem != ""
		}
		c := cmp(a, b)
		if desc {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
		return a.ID < b.ID
	})
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
