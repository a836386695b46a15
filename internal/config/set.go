package config

import (
	"fmt"
	"math"
	"reflect"
	"strings"
)

// Convert turns a value read from YAML (int, float64, string, bool, []any)
// into type t, a field type of Config, strictly: integers only where an
// integer is wanted (a float with a fraction or a string is an error),
// numbers where a number is wanted, strings where a string is. The
// configuration loader calls it from its decode hook for every field.
func Convert(value any, t reflect.Type) (any, error) {
	f := reflect.New(t).Elem()
	if err := assign(f, value); err != nil {
		return nil, err
	}
	return f.Interface(), nil
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q (a string)", x)
	case nil:
		return "nothing"
	case map[string]any, map[any]any:
		return "a section"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

func assign(f reflect.Value, value any) error {
	switch f.Kind() {
	case reflect.String:
		s, ok := value.(string)
		if !ok {
			return fmt.Errorf("want a string, got %s", describe(value))
		}
		f.SetString(s)
	case reflect.Bool:
		b, ok := value.(bool)
		if !ok {
			return fmt.Errorf("want true or false, got %s", describe(value))
		}
		f.SetBool(b)
	case reflect.Int:
		n, err := toInt(value)
		if err != nil {
			return err
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			return fmt.Errorf("%d is out of range", n)
		}
		f.SetInt(n)
	case reflect.Uint64:
		n, err := toInt(value)
		if err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("want a non-negative integer, got %d", n)
		}
		f.SetUint(uint64(n))
	case reflect.Float64:
		x, err := toFloat(value)
		if err != nil {
			return err
		}
		f.SetFloat(x)
	case reflect.Slice:
		if f.Type().Elem().Kind() == reflect.String {
			return assignStrings(f, value)
		}
		var list []any
		switch x := value.(type) {
		case []any:
			list = x
		case []float64:
			for _, e := range x {
				list = append(list, e)
			}
		default:
			return fmt.Errorf("want a list of numbers like [0.5, 0.999], got %s", describe(value))
		}
		out := make([]float64, len(list))
		for i, e := range list {
			x, err := toFloat(e)
			if err != nil {
				return fmt.Errorf("item %d: %v", i+1, err)
			}
			out[i] = x
		}
		f.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("unsupported field kind %s", f.Kind())
	}
	return nil
}

// assignStrings sets a list of names (train.augment) from a list of
// strings or from one string of comma-separated names ("" is none).
// Names are trimmed; an empty name in a list is an error.
func assignStrings(f reflect.Value, value any) error {
	var list []any
	switch x := value.(type) {
	case nil:
	case string:
		if strings.TrimSpace(x) != "" {
			for _, s := range strings.Split(x, ",") {
				list = append(list, s)
			}
		}
	case []string:
		for _, s := range x {
			list = append(list, s)
		}
	case []any:
		list = x
	default:
		return fmt.Errorf("want a list of names like [translation, cutout] or one string \"translation,cutout\", got %s", describe(value))
	}
	out := []string{}
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return fmt.Errorf("item %d: want a name, got %s", i+1, describe(e))
		}
		if s = strings.TrimSpace(s); s == "" {
			return fmt.Errorf("item %d is empty", i+1)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		out = nil
	}
	f.Set(reflect.ValueOf(out))
	return nil
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range", x)
		}
		return int64(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
		return 0, fmt.Errorf("want an integer, got %v", x)
	}
	return 0, fmt.Errorf("want an integer, got %s", describe(v))
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("want a finite number, got %v", x)
		}
		return x, nil
	}
	return 0, fmt.Errorf("want a number, got %s", describe(v))
}
