//go:build !unix

package analyzer

import "time"

// cpuTime is unavailable here; benchmarks then report wall-time figures only.
func cpuTime() time.Duration { return 0 }
