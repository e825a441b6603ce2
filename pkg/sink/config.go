package sink

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// DecodeConfig decodes one entry of the config's sinks: list into out (a
// sink package's Config), rejecting unknown keys so that a typo such as
// secret_fle fails at startup instead of silently sending unsigned alerts.
// yaml.Node.Decode has no strict mode, hence the round trip.
func DecodeConfig(n *yaml.Node, out any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Errorf("sink: re-encoding config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("sink: config: %w", err)
	}
	return nil
}
