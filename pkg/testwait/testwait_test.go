package testwait

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	var calls atomic.Int32
	err := Until(10*time.Second, func() error {
		if calls.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls.Load() != 3 {
		t.Errorf("Until = %v after %d calls, want nil after 3", err, calls.Load())
	}
	want := errors.New("never")
	if err := Until(30*time.Millisecond, func() error { return want }); err != want {
		t.Errorf("Until on a condition that never holds = %v, want its last error", err)
	}
}

func TestMetric(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("# HELP x_total a counter\n# TYPE x_total counter\nx_total{sink=\"hook\"} 3\nx_total 7\ny 1.5e+09\n"))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		series string
		want   float64
	}{
		{`x_total{sink="hook"}`, 3},
		{"x_total", 7},
		{"y", 1.5e9},
	} {
		got, err := Metric(srv.URL, tc.series)
		if err != nil || got != tc.want {
			t.Errorf("Metric(%s) = %v, %v; want %v", tc.series, got, err, tc.want)
		}
	}
	if _, err := Metric(srv.URL, "z"); err == nil {
		t.Error("Metric of a missing series: no error")
	}
}

func TestTrue(t *testing.T) {
	var calls atomic.Int32
	True(t, 10*time.Second, "the third call", func() bool { return calls.Add(1) >= 3 })
	if calls.Load() != 3 {
		t.Errorf("True returned after %d calls, want 3", calls.Load())
	}
}
