// Package testwait lets tests wait for a condition with a deadline instead of
// sleeping for a guessed time, so they pass on a busy machine: the deadline is
// generous and only a failing test ever reaches it.
package testwait

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// For calls cond until it returns nil, first every 10ms and backing off to
// every 250ms; after total it fails tb with what and cond's last error.
func For(tb testing.TB, total time.Duration, what string, cond func() error) {
	tb.Helper()
	if err := Until(total, cond); err != nil {
		tb.Fatalf("gave up after %s waiting for %s: %v", total, what, err)
	}
}

// True is For with a condition that holds or not: it fails tb after total
// with what and "not yet".
func True(tb testing.TB, total time.Duration, what string, cond func() bool) {
	tb.Helper()
	For(tb, total, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

var errNotYet = errors.New("not yet")

// Until calls cond until it returns nil or total has passed, and returns
// cond's last error: nil when the condition came true.
func Until(total time.Duration, cond func() error) error {
	deadline := time.Now().Add(total)
	pause := 10 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(pause)
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// Metric scrapes the Prometheus text exposition at url (e.g.
// "http://127.0.0.1:9090/metrics") and returns the value of series, written
// as it appears there: `newswatch_analyzer_watches_revision` or
// `newswatch_notifier_deliveries_total{result="ok",sink="hook"}`.
func Metric(url, series string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == series {
			return strconv.ParseFloat(strings.TrimSpace(value), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s has no series %s", url, series)
}
