//go:build unix

package analyzer

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used. Benchmarks report
// throughput per CPU second too, because wall time on a shared machine
// measures the neighbours as much as the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
