package cli

import (
	"context"
	"fmt"
)

// runMatch is being written; see the issue tracker.
func runMatch(ctx context.Context, args []string, io IO) int {
	fmt.Fprintln(io.Stderr, "newswatch match: not built yet")
	return 2
}
