package topics_test

import (
	"fmt"

	"github.com/newswatch/newswatch/pkg/topics"
)

// A topic of the learned model (defence-cooperation) scores a probability
// against its cross-validated threshold; a lighter topic of the taxonomy
// (military-procurement) a sum of taxonomy weights.
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
	// defence-cooperation 0.98 >= 0.33
	//   tx:defence-cooperation/defence-subject "air defence" (title): US approves sale of air defence systems to Poland
	// military-procurement 2.53 >= 1.00
	//   approves (title): US approves sale of air defence systems to Poland
}
