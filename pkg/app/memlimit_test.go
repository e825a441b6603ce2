package app

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

func TestApplyMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	quiet := slog.New(slog.DiscardHandler)
	noEnv := func(string) (string, bool) { return "", false }

	if got := applyMemoryLimit(300<<20, noEnv, quiet); got != 300<<20 || debug.SetMemoryLimit(-1) != 300<<20 {
		t.Errorf("runtime.memory_limit 300 MiB: applied %d, runtime has %d", got, debug.SetMemoryLimit(-1))
	}
	if got := applyMemoryLimit(0, noEnv, quiet); got != math.MaxInt64 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("runtime.memory_limit 0: applied %d, runtime has %d; want no limit", got, debug.SetMemoryLimit(-1))
	}
	// GOMEMLIMIT, applied by the runtime at start (here by hand), wins.
	debug.SetMemoryLimit(200 << 20)
	gomem := func(k string) (string, bool) { return "200MiB", k == "GOMEMLIMIT" }
	if got := applyMemoryLimit(300<<20, gomem, quiet); got != 200<<20 || debug.SetMemoryLimit(-1) != 200<<20 {
		t.Errorf("with GOMEMLIMIT=200MiB: applied %d, runtime has %d; want GOMEMLIMIT's", got, debug.SetMemoryLimit(-1))
	}
}
