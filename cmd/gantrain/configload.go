package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// envPrefix starts the environment variables that set configuration keys:
// GANTRAIN_TRAIN_STEPS sets train.steps.
const envPrefix = "GANTRAIN_"

// configSources are the layers of a configuration, lowest first.
type configSources struct {
	File string   // YAML file, may be empty
	Env  []string // os.Environ()
	Sets []string // --set key=value
}

// loadConfig merges defaults, file, environment and --set with viper and
// decodes the result strictly into a validated config. Every error is one
// line naming where the bad key came from.
func loadConfig(src configSources) (config.Config, error) {
	keys := config.Keys()
	v := viper.New()
	for k, d := range keys {
		v.SetDefault(k, d)
	}
	origin := map[string]string{}

	if src.File != "" {
		fi, err := os.Stat(src.File)
		if err != nil {
			return config.Config{}, usagef("config %s: %v", src.File, unwrapPathErr(err))
		}
		if fi.IsDir() {
			return config.Config{}, usagef("config %s: is a directory, not a YAML file", src.File)
		}
		fv := viper.New()
		fv.SetConfigFile(src.File)
		fv.SetConfigType("yaml")
		if err := fv.ReadInConfig(); err != nil {
			return config.Config{}, usagef("config %s: %s", src.File, oneLine(err))
		}
		for _, k := range fv.AllKeys() {
			if _, ok := keys[k]; !ok {
				if isSection(k, keys) {
					return config.Config{}, usagef("config %s: %s is a section of keys (%s), not a value", src.File, k, strings.Join(sectionKeys(k, keys), ", "))
				}
				return config.Config{}, usagef("config %s: unknown key %q%s", src.File, k, suggest(k, keys))
			}
			v.Set(k, fv.Get(k))
			origin[k] = "config " + src.File
		}
	}

	envKeys := map[string]string{}
	for k := range keys {
		envKeys[envPrefix+strings.ToUpper(strings.ReplaceAll(k, ".", "_"))] = k
	}
	var envNames []string
	envVals := map[string]string{}
	for _, kv := range src.Env {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) {
			continue
		}
		envNames = append(envNames, name)
		envVals[name] = val
	}
	sort.Strings(envNames)
	for _, name := range envNames {
		k, ok := envKeys[name]
		if !ok {
			return config.Config{}, usagef("environment: %s is not a configuration variable (they are %s<KEY> with dots as underscores, e.g. %sTRAIN_STEPS)", name, envPrefix, envPrefix)
		}
		val, err := parseValue(envVals[name])
		if err != nil {
			return config.Config{}, usagef("environment: %s: %v", name, err)
		}
		v.Set(k, val)
		origin[k] = "environment " + name
	}

	for _, s := range src.Sets {
		shown := printable(s) // for messages: one line whatever s holds
		k, raw, ok := strings.Cut(s, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return config.Config{}, usagef("--set %s: want key=value, e.g. --set train.steps=200", shown)
		}
		if _, known := keys[k]; !known {
			return config.Config{}, usagef("--set %s: unknown key %q%s", shown, k, suggest(k, keys))
		}
		val, err := parseValue(raw)
		if err != nil {
			return config.Config{}, usagef("--set %s: %v", shown, err)
		}
		v.Set(k, val)
		origin[k] = "--set " + shown
	}

	cfg := config.Config{}
	for _, k := range config.SortedKeys() {
		val := v.Get(k)
		if err := cfg.Set(k, val); err != nil {
			// A string key given something YAML read as a number (--set data.path=123).
			if raw, ok := rawString(src, k); ok && cfg.Set(k, raw) == nil {
				continue
			}
			return config.Config{}, usageError{fmt.Errorf("%s: %w", where(origin, k), err)}
		}
	}
	if err := cfg.Validate(); err != nil {
		var errs config.Errors
		if errors.As(err, &errs) && len(errs) > 0 {
			f := errs[0]
			return config.Config{}, usagef("%s: %s: %s", where(origin, f.Key), f.Key, f.Msg)
		}
		return config.Config{}, usageError{err}
	}
	return cfg, nil
}

func where(origin map[string]string, key string) string {
	if o, ok := origin[key]; ok {
		return o
	}
	return "config (default)"
}

// parseValue reads a --set or environment value as YAML: 200 is an int,
// 2e-4 a float, [0.5, 0.999] a list, anything else a string.
func parseValue(raw string) (any, error) {
	var v any
	if err := yaml.Unmarshal([]byte(raw), &v); err != nil {
		return nil, fmt.Errorf("cannot read value %q: %s", raw, oneLine(err))
	}
	if v == nil {
		return raw, nil
	}
	return v, nil
}

// rawString returns the unparsed text given to key by --set or the
// environment.
func rawString(src configSources, key string) (string, bool) {
	val, found := "", false
	for _, kv := range src.Env {
		name, v, _ := strings.Cut(kv, "=")
		if name == envPrefix+strings.ToUpper(strings.ReplaceAll(key, ".", "_")) {
			val, found = v, true
		}
	}
	for _, s := range src.Sets {
		k, v, _ := strings.Cut(s, "=")
		if strings.ToLower(strings.TrimSpace(k)) == key {
			val, found = v, true
		}
	}
	return val, found
}

// printable quotes text with control or unprintable characters, so that
// an error quoting it stays on one line.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// isSection reports whether k names a group of keys ("train").
func isSection(k string, keys map[string]any) bool { return len(sectionKeys(k, keys)) > 0 }

// sectionKeys lists the keys of section k, sorted.
func sectionKeys(k string, keys map[string]any) []string {
	var out []string
	for known := range keys {
		if rest, ok := strings.CutPrefix(known, k+"."); ok {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out
}

// suggest proposes the closest known key for a misspelt one.
func suggest(k string, keys map[string]any) string {
	best, bestD := "", 4
	for known := range keys {
		if d := editDistance(k, known); d < bestD || (d == bestD && known < best) {
			best, bestD = known, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
