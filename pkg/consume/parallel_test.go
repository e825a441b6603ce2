package consume

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestParallel(t *testing.T) {
	t.Run("all copies run at once", func(t *testing.T) {
		var started sync.WaitGroup
		started.Add(3)
		var calls atomic.Int32
		err := Parallel(t.Context(), 3, func(ctx context.Context) error {
			calls.Add(1)
			started.Done()
			started.Wait() // returns only if the three run concurrently
			return nil
		})
		if err != nil || calls.Load() != 3 {
			t.Fatalf("err %v, %d calls; want nil, 3", err, calls.Load())
		}
	})
	t.Run("first error cancels the rest", func(t *testing.T) {
		boom := errors.New("boom")
		var started sync.WaitGroup
		started.Add(2)
		err := Parallel(t.Context(), 2, func(ctx context.Context) error {
			started.Done()
			started.Wait()
			select {
			case <-ctx.Done():
				return nil
			default:
				return boom
			}
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err %v, want boom", err)
		}
	})
	t.Run("n below 1 runs one", func(t *testing.T) {
		var calls atomic.Int32
		_ = Parallel(t.Context(), 0, func(context.Context) error { calls.Add(1); return nil })
		if calls.Load() != 1 {
			t.Fatalf("%d calls", calls.Load())
		}
	})
}
