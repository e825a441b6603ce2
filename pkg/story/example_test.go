package story_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/story"
)

func ExampleSimilarity() {
	wire := story.Fingerprint("India, US agree to co-produce armoured vehicles",
		"India and the United States on Friday agreed to jointly produce armoured infantry combat vehicles and to speed up the delivery of 31 MQ-9B drones.")
	rewrite := story.Fingerprint("MQ-9B deliveries to be expedited",
		"India and the United States on Friday agreed to jointly produce armoured infantry combat vehicles and to speed up the delivery of 31 MQ-9B drones, PTI reported.")
	other := story.Fingerprint("India, US condemn 26/11 attacks",
		"India and the United States on Friday called for concerted action against Lashkar-e-Tayyiba and Jaish-e-Mohammed.")
	fmt.Println(story.Similarity(wire, rewrite) >= story.DefaultThreshold)
	fmt.Println(story.Similarity(wire, other) >= story.DefaultThreshold)
	// Output:
	// true
	// false
}

func ExampleIndex_Assign() {
	dir, _ := os.MkdirTemp("", "story-example")
	defer os.RemoveAll(dir)
	srv, _ := server.NewServer(&server.Options{JetStream: true, StoreDir: dir, Port: -1})
	go srv.Start()
	defer srv.Shutdown()
	srv.ReadyForConnections(10 * time.Second)
	nc, _ := nats.Connect(srv.ClientURL())
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	kv, _ := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "stories", TTL: story.Retention(72 * time.Hour)})

	ix := story.New(kv, story.WithWindow(72*time.Hour))
	published := time.Date(2023, 11, 10, 12, 0, 0, 0, time.UTC)
	body := "India and the United States on Friday agreed to jointly produce armoured infantry combat vehicles and to speed up the delivery of 31 MQ-9B drones, as the two sides held their 2+2 ministerial dialogue in New Delhi."
	a, _ := ix.Assign(ctx, "pti-1", "India, US to co-produce armoured vehicles", body, published)
	b, _ := ix.Assign(ctx, "outlet-7", "MQ-9B drones on track after 2+2 talks", body+" (With inputs from PTI)", published.Add(2*time.Hour))
	c, _ := ix.Assign(ctx, "pti-2", "India, US condemn 26/11 attacks",
		"India and the United States on Friday called for concerted action against Lashkar-e-Tayyiba and Jaish-e-Mohammed and condemned the 26/11 Mumbai attacks.", published)
	fmt.Println(a == story.NewStoryID("pti-1"), b == a, c == a)
	// Output: true true false
}
