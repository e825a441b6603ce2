package watches

import "testing"

// FuzzDecode: any bytes under any key of the bucket either decode to a
// valid watch whose id is the key, or are an invalid entry; never a panic.
func FuzzDecode(f *testing.F) {
	f.Add("mq-9b", []byte(`{"id":"mq-9b","query":"\"MQ-9B\"","sinks":["hook"],"digest":3600000000000}`))
	f.Add("badid", []byte(`{"id":"bad id","query":"MQ-9B"}`))
	f.Add("junk", []byte(`not json`))
	f.Add("neg", []byte(`{"id":"neg","query":"q","digest":-5,"rate_limit":-1}`))
	s := &Store{knownSink: func(name string) bool { return name == "hook" }}
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		w, err := s.decode(key, value)
		if err != nil {
			return
		}
		if w.ID != key || w.Validate(s.knownSink) != nil {
			t.Fatalf("decoded an invalid watch %+v under %q", w, key)
		}
	})
}
