package sink_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/newswatch/newswatch/pkg/sink"
)

func ExampleClassify() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/hooks/secret-token", "application/json", nil)
	if err == nil {
		resp.Body.Close()
	}
	err = sink.Classify(resp, err)

	var se *sink.Error
	if errors.As(err, &se) {
		fmt.Println(se.Reason, se.Retryable, se.RetryAfter)
	}
	// Output: status_429 true 30s
}

func ExampleSecret() {
	os.Setenv("EXAMPLE_WEBHOOK_SECRET", "whsec_c2VjcmV0\n")
	s, err := sink.Secret("", "", "EXAMPLE_WEBHOOK_SECRET")
	fmt.Printf("%q %v\n", s, err)

	_, err = sink.Secret("", "", "EXAMPLE_UNSET_VARIABLE")
	fmt.Println(err)
	// Output:
	// "whsec_c2VjcmV0" <nil>
	// sink: secret: environment variable "EXAMPLE_UNSET_VARIABLE" is not set
}

func ExampleHighlight() {
	for _, seg := range sink.Highlight("An MQ–9B and an MQ9B, but no MQ-9BX, over the port", "MQ-9B") {
		if seg.Match {
			fmt.Printf("[%s]", seg.Text)
		} else {
			fmt.Print(seg.Text)
		}
	}
	fmt.Println()
	// Output: An [MQ–9B] and an [MQ9B], but no MQ-9BX, over the port
}

func ExampleRedactURL() {
	fmt.Println(sink.RedactURL("https://hooks.slack.com/services/T000/B000/XXXX"))
	// Output: https://hooks.slack.com/…
}
