package consume

import (
	"context"
	"sync"
)

// Parallel runs n copies of run (each typically a Run over the same durable
// consumer, so that n messages are handled at once while each handler waits
// on its round trips) and returns when all have returned. The first error
// cancels the others and is returned. n below 1 counts as 1.
func Parallel(ctx context.Context, n int, run func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range max(n, 1) {
		wg.Go(func() {
			if err := run(ctx); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	return first
}
