package watches_test

import (
	"fmt"

	"github.com/newswatch/newswatch/pkg/watches"
)

func ExampleWatch_Validate() {
	known := func(sink string) bool { return sink == "analysts-slack" }
	w := watches.Watch{ID: "mq 9b", Query: `"MQ-9B"`, Sinks: []string{"analysts-slak"}}
	fmt.Println(w.Validate(known))
	// Output:
	// watch "mq 9b": id: "mq 9b" must be set and hold only letters, digits, '-' and '_' (alerts go to alerts.<id>)
	// watch "mq 9b": sinks: names "analysts-slak", which is not among the sinks: entries; add a sink named "analysts-slak" under sinks: in the file given with --config, or fix the name
}
