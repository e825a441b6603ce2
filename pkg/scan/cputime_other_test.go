//go:build !unix

package scan

import "time"

// cpuTime is unavailable here; benchmarks then report wall-time figures only.
func cpuTime() time.Duration { return 0 }
