package main

import (
	"net"
	"net/http"
	"net/http/pprof"
)

// startDebug serves the Go profiler on its own listener, apart from the API,
// so that it can stay on a private address.
func (m *Main) startDebug() error {
	ln, err := net.Listen("tcp", m.Config.DebugAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.debug = &http.Server{Handler: mux}
	go m.debug.Serve(ln)
	m.Logger.Info("profiler listening", "addr", ln.Addr().String())
	return nil
}
