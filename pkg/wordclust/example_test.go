package wordclust_test

import (
	"bytes"
	"fmt"

	"github.com/newswatch/newswatch/pkg/wordclust"
)

func ExampleClusters_Lookup() {
	words := []string{"army", "navy", "bread", "cheese"}
	vecs := [][]float32{{1, 0.1}, {0.9, 0}, {0, 1}, {0.1, 0.8}}
	c, err := wordclust.Build(words, vecs, []int{2}, 1)
	if err != nil {
		panic(err)
	}
	var file bytes.Buffer
	if err := c.Marshal(&file); err != nil {
		panic(err)
	}
	c, err = wordclust.Parse(&file)
	if err != nil {
		panic(err)
	}
	army, _ := c.Lookup([]byte("army"))
	navy, _ := c.Lookup([]byte("navy"))
	bread, _ := c.Lookup([]byte("bread"))
	fmt.Println(army[0] == navy[0], army[0] == bread[0])
	fmt.Println(c.Label(0, int(bread[0]), 5))
	// Output:
	// true false
	// [bread cheese]
}
