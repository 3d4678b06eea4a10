package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// configEnv names the YAML file when -config is not given.
const configEnv = "CAIQUAN_CONFIG"

// Load returns the settings from Default, the YAML file, the environment
// (read through getenv; nil means none) and the command-line args, in that
// order of precedence, checked by Validate. For -h or -help it returns
// flag.ErrHelp so the caller can print Usage.
func Load(args []string, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	given, err := parseFlags(args)
	if err != nil {
		return Config{}, err
	}
	c := Default()
	for name := range retired {
		_, flagged := given[strings.ReplaceAll(name, "_", "-")]
		if flagged || getenv("CAIQUAN_"+strings.ToUpper(name)) != "" {
			c.Retired = append(c.Retired, name)
		}
	}
	path, from := getenv(configEnv), configEnv
	if raw, ok := given["config"]; ok {
		path, from = raw, "flag -config"
	}
	var errs []error
	if path != "" {
		if errs, err = loadFile(&c, path, from); err != nil {
			return Config{}, err
		}
	}
	for _, s := range settings {
		if raw := getenv(s.env()); raw != "" {
			errs = append(errs, apply(&c, s, raw, s.env()))
		}
	}
	for _, s := range settings {
		if raw, ok := given[s.flag()]; ok {
			errs = append(errs, apply(&c, s, raw, "flag -"+s.flag()))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	slices.Sort(c.Retired)
	c.Retired = slices.Compact(c.Retired)
	// A prefix without its trailing slash is an obvious slip, not a reason to stop.
	if c.SocketIOPrefix != "" && !strings.HasSuffix(c.SocketIOPrefix, "/") {
		c.SocketIOPrefix += "/"
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// apply sets one setting from its raw text, naming the setting and the
// source if the text does not parse.
func apply(c *Config, s setting, raw, from string) error {
	raw = strings.TrimSpace(raw)
	if err := s.set(c, raw); err != nil {
		return fmt.Errorf("config: %s: %q %v (from %s)", s.name, raw, err, from)
	}
	return nil
}

// rawFlag keeps a flag's text unparsed, so that flags are applied after the
// file and the environment and their errors read like the others.
type rawFlag struct {
	raw    string
	isBool bool
}

func (f *rawFlag) String() string     { return f.raw }
func (f *rawFlag) Set(s string) error { f.raw = s; return nil }
func (f *rawFlag) IsBoolFlag() bool   { return f.isBool }

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("caiquan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.Var(&rawFlag{}, "config", "YAML file of settings")
	for _, s := range settings {
		fs.Var(&rawFlag{isBool: s.kind == "bool"}, s.flag(), s.help)
	}
	for name, note := range retired {
		fs.Var(&rawFlag{}, strings.ReplaceAll(name, "_", "-"), "retired: "+note)
	}
	return fs
}

// parseFlags returns the text of every flag actually given, by flag name.
func parseFlags(args []string) (map[string]string, error) {
	fs := newFlagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("config: unexpected argument %q (settings are given as flags, such as -listen=:8080)", fs.Arg(0))
	}
	given := map[string]string{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = f.Value.String() })
	return given, nil
}

// loadFile applies the settings in the YAML file at path. Values that do
// not parse come back in errs, to be reported with the others; a file that
// cannot be read, is not a mapping or has an unknown key stops at once.
func loadFile(c *Config, path, from string) (errs []error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: config file (from %s): %w", from, err)
	}
	defer f.Close()
	var doc yaml.Node
	dec := yaml.NewDecoder(f)
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil // an empty file changes nothing
	case err != nil:
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %s: want one YAML document, found more", path)
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: %s line %d: want a mapping of settings such as \"room_size: 2\"", path, top.Line)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, val := top.Content[i], top.Content[i+1]
		s, ok := lookup(key.Value)
		if _, old := retired[key.Value]; !ok && old {
			c.Retired = append(c.Retired, key.Value)
			continue
		}
		if !ok {
			return nil, unknownKey(path, key)
		}
		if seen[s.name] {
			return nil, fmt.Errorf("config: %s line %d: %s is set twice", path, key.Line, s.name)
		}
		seen[s.name] = true
		errs = append(errs, applyNode(c, s, val, fmt.Sprintf("%s line %d", path, val.Line)))
	}
	return errs, nil
}

func unknownKey(path string, key *yaml.Node) error {
	err := fmt.Errorf("config: %s line %d: unknown setting %q", path, key.Line, key.Value)
	// The flag spelling is the likeliest slip.
	if s, ok := lookup(strings.ReplaceAll(strings.ToLower(key.Value), "-", "_")); ok {
		err = fmt.Errorf("%w; did you mean %q?", err, s.name)
	}
	return err
}

// applyNode sets one setting from a YAML value: a scalar, or for a list
// setting also a sequence of scalars.
func applyNode(c *Config, s setting, n *yaml.Node, from string) error {
	switch {
	case n.Kind == yaml.ScalarNode:
		return apply(c, s, n.Value, from)
	case n.Kind == yaml.SequenceNode && s.items != nil:
		items := make([]string, 0, len(n.Content))
		for _, it := range n.Content {
			if it.Kind != yaml.ScalarNode {
				return fmt.Errorf("config: %s: each entry must be a single value (from %s)", s.name, from)
			}
			items = append(items, it.Value)
		}
		s.items(c, items)
		return nil
	default:
		return fmt.Errorf("config: %s: must be a single value, not a list or mapping (from %s)", s.name, from)
	}
}

// Usage prints every flag with its kind, default, environment variable and
// a one-line description; the caller prints the command line above it.
func Usage(w io.Writer) {
	fmt.Fprintf(w, "Settings come from defaults < YAML file < environment < flags.\n\n")
	fmt.Fprintf(w, "  -config path\n    \tYAML file of settings (env %s)\n", configEnv)
	d := Default()
	for _, s := range settings {
		def := s.get(d)
		if def == "" {
			def = "none"
		} else if s.kind == "string" || s.kind == "list" {
			def = fmt.Sprintf("%q", def)
		}
		fmt.Fprintf(w, "  -%s %s\n    \t%s (default %s; env %s)\n", s.flag(), s.kind, s.help, def, s.env())
	}
}
