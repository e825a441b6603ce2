package topics_test

import (
	"fmt"

	"github.com/newswatch/newswatch/pkg/topics"
)

func ExampleClassifier_Classify() {
	c, err := topics.New(topics.DefaultTaxonomy())
	if err != nil {
		panic(err)
	}
	for _, t := range c.Classify(
		"US approves sale of air defence systems to Poland",
		"The State Department cleared the possible foreign military sale of Patriot batteries.",
	) {
		fmt.Printf("%s %.2f >= %.2f\n", t.Name, t.Score, t.Threshold)
		best := t.Evidence[0]
		fmt.Printf("  %s (%s): %s\n", best.Term, best.Field, best.Sentence)
	}
	// Output:
	// defence-cooperation 1.82 >= 1.00
	//   foreign military sale [united-states, poland] (text): The State Department cleared the possible foreign military sale of Patriot batteries.
	// military-procurement 2.53 >= 1.00
	//   approves (title): US approves sale of air defence systems to Poland
}
