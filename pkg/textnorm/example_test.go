package textnorm_test

import (
	"fmt"
	"strings"

	"github.com/newswatch/newswatch/pkg/textnorm"
)

func ExampleNormalize() {
	orig := "the Hamas\u2014Israel war and the Quad\u2019s\nsummit"
	txt := textnorm.Normalize(orig, textnorm.CollapseSpace)
	fmt.Println(txt.String())

	i := strings.Index(txt.String(), "Quad's summit")
	start, end := txt.Span(i, i+len("Quad's summit"))
	fmt.Printf("%+q\n", orig[start:end])
	// Output:
	// the Hamas-Israel war and the Quad's summit
	// "Quad\u2019s\nsummit"
}
