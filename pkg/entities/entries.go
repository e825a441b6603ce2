package entities

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Entity types the gazetteer knows. The notifier and the docs rely on this
// closed set, so a typo in the config is an error rather than a new type.
const (
	TypeState         = "state"
	TypeGrouping      = "grouping"
	TypeOrganisation  = "organisation"
	TypeMilitantGroup = "militant-group"
	TypeWeaponSystem  = "weapon-system"
	TypePerson        = "person"
	TypeCompany       = "company"
)

var knownTypes = []string{TypeState, TypeGrouping, TypeOrganisation, TypeMilitantGroup, TypeWeaponSystem, TypePerson, TypeCompany}

// Errors returned by ParseEntries and New, wrapped with the entry and key at
// fault.
var (
	ErrInvalidEntry   = errors.New("entities: invalid gazetteer entry")
	ErrDuplicateAlias = errors.New("entities: alias names two entities")
)

// Entry is one entity of the gazetteer as written in YAML.
type Entry struct {
	Name    string   `yaml:"name"`
	Type    string   `yaml:"type"`
	Aliases []string `yaml:"aliases"`
	// CaseSensitive, when set, decides case sensitivity for the name and
	// every alias. Unset, a word with two or more capitals (US, LeT, MQ-9B)
	// is case-sensitive and everything else folds case.
	CaseSensitive *bool `yaml:"case_sensitive"`
}

//go:embed gazetteer.yaml
var defaultYAML []byte

// DefaultEntries returns the gazetteer shipped in the binary. It is a fresh
// copy each call, so callers may append to it.
func DefaultEntries() []Entry {
	entries, err := ParseEntries(defaultYAML)
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return entries
}

var entryKeys = map[string]bool{"name": true, "type": true, "aliases": true, "case_sensitive": true}

// ParseEntries parses a YAML list of entries. Errors name the entry (by
// position and name) and the key, with the line, so a config author can find
// the mistake.
func ParseEntries(yamlBytes []byte) ([]Entry, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(yamlBytes, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%w: line %d: want a list of entries (- name: ..., type: ...)", ErrInvalidEntry, list.Line)
	}
	entries := make([]Entry, 0, len(list.Content))
	for i, item := range list.Content {
		where := fmt.Sprintf("entry %d (line %d)", i+1, item.Line)
		if item.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%w: %s: want a mapping with name, type and aliases", ErrInvalidEntry, where)
		}
		for k := 0; k+1 < len(item.Content); k += 2 {
			if key := item.Content[k].Value; key == "name" {
				where = fmt.Sprintf("entry %d %q (line %d)", i+1, item.Content[k+1].Value, item.Line)
			}
		}
		for k := 0; k+1 < len(item.Content); k += 2 {
			key := item.Content[k]
			if !entryKeys[key.Value] {
				return nil, fmt.Errorf("%w: %s: unknown key %q on line %d (want name, type, aliases, case_sensitive)", ErrInvalidEntry, where, key.Value, key.Line)
			}
			var err error
			switch val := item.Content[k+1]; key.Value {
			case "aliases":
				if val.Kind != yaml.SequenceNode {
					err = errors.New("want a list of strings")
				}
			case "case_sensitive":
				var b bool
				err = val.Decode(&b)
			default:
				if val.Kind != yaml.ScalarNode {
					err = errors.New("want a string")
				}
			}
			if err != nil {
				return nil, fmt.Errorf("%w: %s: key %q on line %d: %v", ErrInvalidEntry, where, key.Value, key.Line, err)
			}
		}
		var e Entry
		if err := item.Decode(&e); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidEntry, where, err)
		}
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidEntry, where, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func (e *Entry) validate() error {
	if strings.TrimSpace(e.Name) == "" {
		return errors.New(`key "name" is empty`)
	}
	if !validType(e.Type) {
		return fmt.Errorf("key \"type\": unknown type %q (want one of %s)", e.Type, strings.Join(knownTypes, ", "))
	}
	for j, a := range e.Aliases {
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("key \"aliases\": alias %d is empty", j+1)
		}
	}
	return nil
}

func validType(t string) bool {
	for _, k := range knownTypes {
		if t == k {
			return true
		}
	}
	return false
}
