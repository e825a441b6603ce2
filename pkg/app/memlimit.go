package app

import (
	"log/slog"
	"math"
	"runtime/debug"
)

// applyMemoryLimit sets the process's soft memory limit to limit bytes
// (runtime.memory_limit) unless the GOMEMLIMIT environment variable is set
// (env looks it up), which the Go runtime has applied already and which
// wins. It returns the limit in force afterwards (math.MaxInt64: none).
func applyMemoryLimit(limit int64, env func(string) (string, bool), logger *slog.Logger) int64 {
	if v, ok := env("GOMEMLIMIT"); ok && v != "" {
		cur := debug.SetMemoryLimit(-1)
		logger.Info("soft memory limit from GOMEMLIMIT; runtime.memory_limit not applied", "gomemlimit", v, "limit_bytes", cur, "memory_limit", limit)
		return cur
	}
	if limit <= 0 {
		debug.SetMemoryLimit(math.MaxInt64)
		return math.MaxInt64
	}
	debug.SetMemoryLimit(limit)
	logger.Debug("soft memory limit set from runtime.memory_limit", "limit_bytes", limit)
	return limit
}
