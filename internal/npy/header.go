package npy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// header is what the dict literal of a .npy header says.
type header struct {
	descr string
	shape []int
}

// The kinds of Python value the header parser knows.
const (
	kindString = iota
	kindBool
	kindInt
	kindTuple
)

// value is a parsed Python literal.
type value struct {
	kind  int
	str   string  // kindString: the string; kindInt: the digits as written
	b     bool    // kindBool
	n     int64   // kindInt, when it fits (see big)
	big   bool    // kindInt: beyond int's range
	elems []value // kindTuple
}

// String renders v as Python would, cut short if long.
func (v *value) String() string {
	var b strings.Builder
	v.render(&b)
	s := b.String()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func (v *value) render(b *strings.Builder) {
	if b.Len() > 60 {
		return
	}
	switch v.kind {
	case kindString:
		b.WriteString(pyQuote(v.str))
	case kindBool:
		if v.b {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case kindInt:
		b.WriteString(v.str)
	case kindTuple:
		b.WriteByte('(')
		for i := range v.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			v.elems[i].render(b)
		}
		if len(v.elems) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	}
}

// kindName names v's type for error messages.
func (v *value) kindName() string {
	return [...]string{"string", "bool", "integer", "tuple"}[v.kind]
}

// pyQuote quotes s as Python's repr does for plain ASCII, and escapes
// anything else Go-style, so that the result is one printable line. Long
// strings are cut short.
func pyQuote(s string) string {
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '\'' || c == '\\' {
			return strconv.Quote(s)
		}
	}
	return "'" + s + "'"
}

// maxDepth bounds the nesting of tuples in a header.
const maxDepth = 16

// parser reads the subset of Python literals that NumPy headers use:
// strings in single or double quotes without escapes, True and False,
// decimal integers (with Python 2's L suffix in versions 1.0 and 2.0), tuples
// (and parenthesised values), and one dict of these, with whitespace between
// tokens.
type parser struct {
	s      []byte
	pos    int
	allowL bool // accept a trailing 'L' on integers (versions 1.0 and 2.0)
}

func (p *parser) errorf(format string, args ...any) error {
	return invalidf("header is not a dict literal: "+format, args...)
}

// unexpected reports the byte at p.pos, or the end of the header.
func (p *parser) unexpected(what string) error {
	if p.pos >= len(p.s) {
		return p.errorf("unexpected end of header, want %s", what)
	}
	return p.errorf("unexpected %s at byte %d, want %s", quoteByte(p.s[p.pos]), p.pos, what)
}

func quoteByte(c byte) string {
	if c == '\'' {
		return `"'"`
	}
	if c >= ' ' && c <= '~' {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r', '\f':
			p.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (p *parser) peek() byte {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return 0
	}
	return p.s[p.pos]
}

// parseHeader parses the header text s into the three keys NumPy requires.
func parseHeader(s []byte, major byte) (*header, error) {
	if major >= 3 && !utf8.Valid(s) {
		return nil, invalidf("header is not valid UTF-8")
	}
	p := &parser{s: s, allowL: major < 3}
	if p.peek() != '{' {
		return nil, p.unexpected("'{'")
	}
	p.pos++
	var descr, fortran, shape *value
	for p.peek() != '}' {
		keyPos := p.pos
		key, err := p.value(0)
		if err != nil {
			return nil, err
		}
		if key.kind != kindString {
			return nil, invalidf("header: key %s at byte %d is not a string", key.String(), keyPos)
		}
		if p.peek() != ':' {
			return nil, p.unexpected("':'")
		}
		p.pos++
		val, err := p.value(0)
		if err != nil {
			return nil, err
		}
		var slot **value
		switch key.str {
		case "descr":
			slot = &descr
		case "fortran_order":
			slot = &fortran
		case "shape":
			slot = &shape
		default:
			return nil, invalidf("header: unknown key %s (want 'descr', 'fortran_order' and 'shape')", pyQuote(key.str))
		}
		if *slot != nil {
			return nil, invalidf("header: duplicate key %s", pyQuote(key.str))
		}
		*slot = &val
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
		default:
			return nil, p.unexpected("',' or '}'")
		}
	}
	p.pos++
	if p.skipSpace(); p.pos < len(p.s) {
		return nil, p.errorf("unexpected %s at byte %d after the closing '}'", quoteByte(p.s[p.pos]), p.pos)
	}

	for _, k := range []struct {
		name string
		v    *value
	}{{"descr", descr}, {"fortran_order", fortran}, {"shape", shape}} {
		if k.v == nil {
			return nil, invalidf("header: missing key '%s'", k.name)
		}
	}
	if descr.kind != kindString {
		return nil, invalidf("header: descr must be a string, got %s %s (structured and other dtypes are not supported)", descr.kindName(), descr.String())
	}
	if fortran.kind != kindBool {
		return nil, invalidf("header: fortran_order must be True or False, got %s", fortran.String())
	}
	if fortran.b {
		return nil, invalidf("Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
	}
	if shape.kind != kindTuple {
		return nil, invalidf("header: shape must be a tuple of integers, got %s %s", shape.kindName(), shape.String())
	}
	h := &header{descr: descr.str, shape: make([]int, len(shape.elems))}
	for i, d := range shape.elems {
		switch {
		case d.kind != kindInt:
			return nil, invalidf("header: shape %s: dimension %s is not an integer", shape.String(), d.String())
		case d.n < 0:
			return nil, invalidf("header: shape %s has a negative dimension", shape.String())
		case d.big:
			return nil, invalidf("header: shape %s: dimension %s is too large", shape.String(), d.String())
		}
		h.shape[i] = int(d.n)
	}
	return h, nil
}

// value parses one literal, after optional whitespace.
func (p *parser) value(depth int) (value, error) {
	if depth > maxDepth {
		return value{}, p.errorf("tuples nested deeper than %d", maxDepth)
	}
	c := p.peek()
	switch {
	case c == '\'' || c == '"':
		return p.str()
	case c == '(':
		return p.tuple(depth)
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.integer()
	case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
		start := p.pos
		for p.pos < len(p.s) && isNameByte(p.s[p.pos]) {
			p.pos++
		}
		switch name := string(p.s[start:p.pos]); name {
		case "True", "False":
			return value{kind: kindBool, b: name == "True"}, nil
		default:
			p.pos = start
			return value{}, p.errorf("unexpected name %s at byte %d, want a string, True, False, an integer or a tuple", pyQuote(name), start)
		}
	}
	return value{}, p.unexpected("a string, True, False, an integer or a tuple")
}

func isNameByte(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// str parses a quoted string without escapes.
func (p *parser) str() (value, error) {
	quote, start := p.s[p.pos], p.pos
	for i := p.pos + 1; i < len(p.s); i++ {
		switch p.s[i] {
		case quote:
			p.pos = i + 1
			return value{kind: kindString, str: string(p.s[start+1 : i])}, nil
		case '\\':
			return value{}, p.errorf("escape sequence in the string at byte %d (not supported)", start)
		case '\n', '\r':
			return value{}, p.errorf("unterminated string at byte %d", start)
		}
	}
	return value{}, p.errorf("unterminated string at byte %d", start)
}

// integer parses an optionally signed decimal integer as Python does: no
// leading zeros unless the number is zero.
func (p *parser) integer() (value, error) {
	start := p.pos
	neg := false
	if c := p.s[p.pos]; c == '-' || c == '+' {
		neg = c == '-'
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	ds := p.s[digits:p.pos]
	if len(ds) == 0 {
		return value{}, p.unexpected("a digit")
	}
	if len(ds) > 1 && ds[0] == '0' && strings.Trim(string(ds), "0") != "" {
		return value{}, p.errorf("integer with a leading zero at byte %d", start)
	}
	v := value{kind: kindInt, str: string(p.s[start:p.pos])}
	for _, c := range ds {
		d := int64(c - '0')
		if v.n > (math.MaxInt-d)/10 {
			v.big = true
			break
		}
		v.n = v.n*10 + d
	}
	if neg {
		v.n = -v.n
	}
	if p.allowL && p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') {
		p.pos++
	}
	if p.pos < len(p.s) && (isNameByte(p.s[p.pos]) || p.s[p.pos] == '.') {
		return value{}, p.errorf("unexpected %s at byte %d in a number (only decimal integers are supported)", quoteByte(p.s[p.pos]), p.pos)
	}
	return v, nil
}

// tuple parses "(a, b, ...)" with an optional trailing comma, or "(a)",
// which is a itself.
func (p *parser) tuple(depth int) (value, error) {
	p.pos++ // '('
	t := value{kind: kindTuple}
	comma := false
	for p.peek() != ')' {
		e, err := p.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		t.elems = append(t.elems, e)
		switch p.peek() {
		case ',':
			p.pos++
			comma = true
		case ')':
			comma = false
		default:
			return value{}, p.unexpected("',' or ')'")
		}
	}
	p.pos++
	if len(t.elems) == 1 && !comma {
		return t.elems[0], nil
	}
	return t, nil
}
