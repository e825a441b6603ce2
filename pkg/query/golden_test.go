package query_test

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/query"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestGoldenQueries parses every query of testdata/queries.txt (the
// examples of docs/queries.md among them) and compares the canonical form
// or the error with testdata/queries.txt.golden.
func TestGoldenQueries(t *testing.T) {
	in := filepath.Join("testdata", "queries.txt")
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out.WriteString(line)
		out.WriteString("\n\t")
		if q, err := query.Parse(line); err != nil {
			out.WriteString("error: " + err.Error())
		} else {
			out.WriteString(q.String())
		}
		out.WriteString("\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	golden := in + ".golden"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenQueries -update ./pkg/query/ to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("canonical forms differ from %s; if the change is intended, rerun with -update\ngot:\n%s", golden, out.String())
	}
}
