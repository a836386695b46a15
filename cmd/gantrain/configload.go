package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/oneline"
	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// envPrefix starts the environment variables that set configuration keys:
// GANTRAIN_TRAIN_STEPS sets train.steps (viper's AutomaticEnv with this
// prefix and "." as "_").
const envPrefix = "GANTRAIN"

// configSources are the layers of a configuration besides the defaults
// and the environment, lowest first.
type configSources struct {
	File string   // YAML file, may be empty
	Sets []string // --set key=value
	// Vary holds more key=value settings, over Sets, that messages name
	// as --vary (gantrain ablate's variants).
	Vary []string
}

// loadConfig merges defaults, file, environment (GANTRAIN_*) and --set with
// viper and decodes the result with UnmarshalExact (unknown keys are
// errors) through a strict decode hook into a validated config. Every
// error is one line naming where the bad key came from.
func loadConfig(src configSources) (config.Config, error) {
	keys := config.Keys()
	v := viper.New()
	for k, d := range keys {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	v.AllowEmptyEnv(true) // GANTRAIN_TRAIN_STEPS= is a bad value, not no value

	if src.File != "" {
		fi, err := os.Stat(src.File)
		if err != nil {
			return config.Config{}, usagef("config %s: %v", src.File, unwrapPathErr(err))
		}
		if fi.IsDir() {
			return config.Config{}, usagef("config %s: is a directory, not a YAML file", src.File)
		}
		v.SetConfigFile(src.File)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return config.Config{}, usagef("config %s: %s", src.File, oneline.Error(err))
		}
		// A value for a section ("train: 5") would shadow all its keys.
		for _, k := range v.AllKeys() {
			if _, known := keys[k]; !known && isSection(k, keys) {
				return config.Config{}, usagef("config %s: %s is a section of keys (%s), not a value", src.File, k, strings.Join(sectionKeys(k, keys), ", "))
			}
		}
	}

	envVars := map[string]string{} // variable name → key
	for k := range keys {
		envVars[envName(k)] = k
	}
	var unknownEnv []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := envVars[name]; !ok && strings.HasPrefix(name, envPrefix+"_") {
			unknownEnv = append(unknownEnv, name)
		}
	}
	if len(unknownEnv) > 0 {
		sort.Strings(unknownEnv)
		return config.Config{}, usagef("environment: %s is not a configuration variable (they are %s_<KEY> with dots as underscores, e.g. %s_TRAIN_STEPS)", oneline.Quote(unknownEnv[0]), envPrefix, envPrefix)
	}

	sets := map[string]string{} // key → the --set (or --vary) that gave it, for messages
	for _, layer := range []struct {
		flag string
		kvs  []string
	}{{"--set", src.Sets}, {"--vary", src.Vary}} {
		for _, s := range layer.kvs {
			shown := oneline.Quote(s)
			k, raw, ok := strings.Cut(s, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if !ok || k == "" {
				return config.Config{}, usagef("%s %s: want key=value, e.g. %s train.steps=200", layer.flag, shown, layer.flag)
			}
			if _, known := keys[k]; !known {
				return config.Config{}, usagef("%s %s: unknown key %q%s", layer.flag, shown, k, suggest(k, keys))
			}
			v.Set(k, raw) // a string, like an environment value: the decode hook reads it
			sets[k] = layer.flag + " " + shown
		}
	}
	where := func(k string) string {
		if s, ok := sets[k]; ok {
			return s
		}
		if _, ok := os.LookupEnv(envName(k)); ok {
			return "environment " + envName(k)
		}
		if v.InConfig(k) {
			return "config " + src.File
		}
		return "config (default)"
	}

	var cfg config.Config
	err := v.UnmarshalExact(&cfg, func(dc *mapstructure.DecoderConfig) {
		dc.WeaklyTypedInput = false
		dc.DecodeHook = mapstructure.DecodeHookFuncValue(decodeValue)
	})
	if err != nil {
		for _, k := range v.AllKeys() {
			if _, known := keys[k]; !known {
				return config.Config{}, usagef("%s: unknown key %q%s", where(k), k, suggest(k, keys))
			}
		}
		if de := firstDecodeError(err); de != nil {
			k, _, _ := strings.Cut(de.Name(), "[") // optim.g.betas[1] → optim.g.betas
			return config.Config{}, usagef("%s: %s: %s", where(k), k, oneline.Error(de.Unwrap()))
		}
		return config.Config{}, usageError{err}
	}
	if err := cfg.Validate(); err != nil {
		var errs config.Errors
		if errors.As(err, &errs) && len(errs) > 0 {
			f := errs[0]
			return config.Config{}, usagef("%s: %s: %s", where(f.Key), f.Key, f.Msg)
		}
		return config.Config{}, usageError{err}
	}
	return cfg, nil
}

// envName is the environment variable of a key: train.steps →
// GANTRAIN_TRAIN_STEPS.
func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// decodeValue is the decode hook: it converts each value to its field's
// type with config.Convert, reading strings given to non-string fields
// (environment variables, --set) as YAML first: 200 is an int, 2e-4 a
// float, [0.5, 0.999] a list. Sections pass through.
func decodeValue(from, to reflect.Value) (any, error) {
	data := from.Interface()
	switch to.Kind() {
	case reflect.Struct, reflect.Map, reflect.Interface:
		return data, nil
	case reflect.String:
	default:
		if s, ok := data.(string); ok {
			var y any
			if err := yaml.Unmarshal([]byte(s), &y); err != nil {
				return nil, fmt.Errorf("cannot read value %q: %s", s, oneline.Error(err))
			}
			if y != nil {
				data = y
			}
		}
	}
	return config.Convert(data, to.Type())
}

// firstDecodeError finds the first error about one key in what
// UnmarshalExact returned.
func firstDecodeError(err error) *mapstructure.DecodeError {
	var de *mapstructure.DecodeError
	if errors.As(err, &de) {
		if inner := firstDecodeError(de.Unwrap()); inner != nil {
			return inner
		}
		return de
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if de := firstDecodeError(e); de != nil {
				return de
			}
		}
	}
	return nil
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

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
