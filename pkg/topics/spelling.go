package topics

import (
	_ "embed"
	"strings"
	"sync"
)

// spellingFile lists British spellings and their American forms
// (FeatureOptions.Spelling); its header names its source and licence.
//
//go:embed spelling.txt
var spellingFile string

// americanSpellings maps each British spelling of spelling.txt to its
// American form.
var americanSpellings = sync.OnceValue(func() map[string][]byte {
	m := map[string][]byte{}
	for line := range strings.Lines(spellingFile) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if uk, us, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			m[uk] = []byte(us)
		}
	}
	return m
})
