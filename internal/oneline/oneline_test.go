package oneline

import (
	"errors"
	"testing"
)

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"yaml: unmarshal errors:\n  line 2: cannot unmarshal", "yaml: unmarshal errors: line 2: cannot unmarshal"},
		{"a\r\nb", "a b"},
		{"a \n\n b", "a b"},
		{"tab\there", `tab\there`},
		{"nul\x00", `nul\x00`},
		{"end\n", "end"},
		{"ünïcode ≥ 1", "ünïcode ≥ 1"},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Error(errors.New("x\ny")); got != "x y" {
		t.Errorf("Error: %q", got)
	}
}

func TestQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"runs/a b.png", "runs/a b.png"},
		{"a\nb", `"a\nb"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"bell\a", `"bell\a"`},
	} {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
