package score

import (
	"embed"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

//go:embed presets/*.yaml
var presets embed.FS

// DefaultPreset is the preset used when beacon.yaml has no scoring section.
const DefaultPreset = "pql-150"

// Presets lists the preset names.
func Presets() []string {
	entries, _ := presets.ReadDir("presets") // embedded: cannot fail
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// PresetFile returns a preset as a commented beacon.yaml.
func PresetFile(name string) ([]byte, error) {
	b, err := presets.ReadFile("presets/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("preset %q: want one of %s", name, strings.Join(Presets(), ", "))
	}
	return b, nil
}

// Preset returns a preset's scoring spec.
func Preset(name string) (*Spec, error) {
	b, err := PresetFile(name)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Scoring *Spec `yaml:"scoring"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil || doc.Scoring == nil {
		return nil, fmt.Errorf("preset %s: %v", name, err)
	}
	doc.Scoring.Source, doc.Scoring.File, doc.Scoring.Path = b, "preset "+name, "$.scoring"
	return doc.Scoring, nil
}
