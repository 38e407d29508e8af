package main

import (
	"log/slog"
	"os"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// runHost runs a multi-group process (-groups above one) until a signal
// or a fatal error, and returns the exit status.
func runHost(o *options, logger *slog.Logger, signals <-chan os.Signal) int {
	h, err := kvnode.StartHost(o.cfg)
	if err != nil {
		logger.Error("cannot start", "error", err)
		return 1
	}
	logger.Info("serving", "id", h.ID(), "groups", h.Groups(), "raft", h.RaftAddr(), "http", h.HTTPAddr(), "data", o.cfg.DataDir)
	select {
	case sig := <-signals:
		logger.Info("stopping", "signal", sig.String())
		if err := h.Stop(); err != nil {
			logger.Error("stopped with an error", "error", err)
			return 1
		}
		return 0
	case <-h.Done():
		logger.Error("the host stopped", "error", h.Stop())
		return 1
	}
}
