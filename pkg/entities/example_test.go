package entities_test

import (
	"fmt"

	"github.com/newswatch/newswatch/pkg/entities"
)

func ExampleGazetteer_Find() {
	g, err := entities.New(entities.DefaultEntries())
	if err != nil {
		panic(err)
	}
	text := "The US will expedite delivery of MQ\u20119B drones; let us see, said Rajnath Singh. Lashkar-e-Taiba was named."
	for _, e := range g.Find("India\u2019s drone deal", text) {
		for _, m := range e.Mentions {
			fmt.Printf("%s (%s) %s[%d:%d] %q\n", e.Name, e.Type, m.Field, m.Start, m.End, m.Text)
		}
	}
	fmt.Println(g.Aliases("SeaGuardian")[:3])
	// Output:
	// India (state) title[0:5] "India"
	// United States (state) text[4:6] "US"
	// MQ-9B (weapon-system) text[33:40] "MQ‑9B"
	// Rajnath Singh (person) text[66:79] "Rajnath Singh"
	// Lashkar-e-Tayyiba (militant-group) text[81:96] "Lashkar-e-Taiba"
	// [MQ-9B MQ 9B MQ9B]
}
