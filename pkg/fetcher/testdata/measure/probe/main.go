// Command probe prints how many messages ARTICLES holds for a subject and
// how many of them are summary-only (not committed; a measuring aid).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	nc, err := nats.Connect(os.Args[1])
	if err != nil {
		panic(err)
	}
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	c, err := js.OrderedConsumer(ctx, "ARTICLES", jetstream.OrderedConsumerConfig{FilterSubjects: []string{os.Args[2]}})
	if err != nil {
		panic(err)
	}
	s, _ := js.Stream(ctx, "ARTICLES")
	info, _ := s.Info(ctx, jetstream.WithSubjectFilter(os.Args[2]))
	n := info.State.Subjects[os.Args[2]]
	ids := map[string]bool{}
	summary := 0
	for i := uint64(0); i < n; i++ {
		m, err := c.Next()
		if err != nil {
			break
		}
		var a struct {
			ID           string `json:"id"`
			ExtractError string `json:"extract_error"`
		}
		json.Unmarshal(m.Data(), &a)
		ids[a.ID] = true
		if a.ExtractError != "" {
			summary++
		}
	}
	fmt.Printf("%d messages %d distinct %d summary-only\n", n, len(ids), summary)
}
