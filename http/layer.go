package http

import (
	"context"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
)

// LayerSplitter reports how a layer's traffic slots are split between its
// experiments (redisstore.Store implements it).
type LayerSplitter interface {
	LayerSplit(ctx context.Context, layer string) (map[string]int, error)
}

// layerResponse is the body of GET /api/layers/{name}. Slots sum to all of
// the layer's slots while any experiment takes traffic, else to 0.
type layerResponse struct {
	Layer string         `json:"layer"`
	Slots map[string]int `json:"slots"` // experiment id -> slots offered to it
}

// handleGetLayer serves GET /api/layers/{name}: which running experiment of
// a layer is offered how many of its slots. An unknown layer has none.
func (s *Server) handleGetLayer(ctx *fasthttp.RequestCtx, layer string) {
	const route = RouteLayerGet
	if _, ok := s.admin(ctx, route); !ok {
		return
	}
	if s.Layers == nil || assign.ValidateLayer(layer) != nil {
		s.writeError(ctx, route, ENOROUTE, "Layer not found.", "", "", nil)
		return
	}
	c, cancel := context.WithTimeout(context.Background(), s.AdminTimeout)
	defer cancel()
	split, err := s.Layers.LayerSplit(c, layer)
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	s.writeJSON(ctx, route, fasthttp.StatusOK, layerResponse{Layer: layer, Slots: split})
}
