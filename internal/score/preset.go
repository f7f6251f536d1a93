package score

import (
	"embed"
	"errors"
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
	return ParseFile(b, "preset "+name)
}

// ParseFile reads the scoring section of a beacon.yaml.
func ParseFile(src []byte, file string) (*Spec, error) {
	var doc struct {
		Scoring *Spec `yaml:"scoring"`
	}
	if err := DecodeYAML(src, &doc, false); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if doc.Scoring == nil {
		return nil, fmt.Errorf("%s: no scoring section", file)
	}
	doc.Scoring.Source, doc.Scoring.File, doc.Scoring.Path = src, file, "$.scoring"
	return doc.Scoring, nil
}

// DecodeYAML decodes src into v, strictly (unknown keys are errors) if
// asked. The YAML library panics on some malformed input (an empty tag, for
// one: FuzzCompile found it); that is an error here, never a crash, and
// SIGHUP with a broken file must not take the server down.
func DecodeYAML(src []byte, v any, strict bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML could not be parsed (%v)", r)
		}
	}()
	var opts []yaml.DecodeOption
	if strict {
		opts = append(opts, yaml.Strict())
	}
	if err := yaml.UnmarshalWithOptions(src, v, opts...); err != nil {
		return errors.New(yaml.FormatError(err, false, true))
	}
	return nil
}
