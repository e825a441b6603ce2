//go:build !unix

package benchtest

import "time"

// CPUTime is unavailable here and always 0; benchmarks then report
// wall-time figures only.
func CPUTime() time.Duration { return 0 }
