package httpguard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/newswatch/newswatch/pkg/httpguard"
)

func ExampleClient_Get() {
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, "<rss version=\"2.0\"><channel><title>Defence news</title></channel></rss>")
	}))
	defer feed.Close()

	// The test server listens on 127.0.0.1, which the client refuses unless
	// private networks are allowed.
	client := httpguard.New(
		httpguard.WithAllowPrivateNetworks(true),
		httpguard.WithTimeouts(2*time.Second, 5*time.Second, 10*time.Second),
	)
	resp, err := client.Get(context.Background(), feed.URL+"/rss.xml", nil)
	if err != nil {
		fmt.Println("fetch failed:", httpguard.Reason(err))
		return
	}
	fmt.Println(resp.StatusCode, resp.ContentType)
	fmt.Println(string(resp.Body))
	// Output:
	// 200 application/rss+xml
	// <rss version="2.0"><channel><title>Defence news</title></channel></rss>
}

func ExampleReason() {
	client := httpguard.New()
	// A feed entry pointing at the cloud metadata endpoint is refused before
	// any connection is made.
	_, err := client.Get(context.Background(), "http://169.254.169.254/latest/meta-data/", nil)
	fmt.Println(httpguard.Reason(err))
	fmt.Println(err)
	// Output:
	// private_network
	// GET http://169.254.169.254/latest/meta-data/: dial tcp 169.254.169.254:80: httpguard: refusing private network host: 169.254.169.254 is a link-local address; set fetcher.allow_private_networks: true to allow it
}
