package cli

import (
	"context"
	"fmt"
)

// runExtract is being written; see the issue tracker.
func runExtract(ctx context.Context, args []string, io IO) int {
	fmt.Fprintln(io.Stderr, "newswatch extract: not built yet")
	return 2
}
