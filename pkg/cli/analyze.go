package cli

import (
	"context"
	"fmt"
)

// runAnalyze is being written; see the issue tracker.
func runAnalyze(ctx context.Context, args []string, io IO) int {
	fmt.Fprintln(io.Stderr, "newswatch analyze: not built yet")
	return 2
}
