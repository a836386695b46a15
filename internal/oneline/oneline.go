// Package oneline keeps messages on one line: gantrain's errors are one
// line on stderr, whatever text (a YAML parser's multi-line report, a file
// name with a newline) they quote.
package oneline

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s on one line: every line break, with the blanks around
// it, becomes one space, and other control characters are escaped
// (\t, \x00, …). Text without them is returned unchanged.
func String(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i, l := range lines {
		if i > 0 {
			l = strings.TrimLeft(l, " \t")
			b.WriteByte(' ')
		}
		if i < len(lines)-1 {
			l = strings.TrimRight(l, " \t")
		}
		for _, r := range l {
			if unicode.IsControl(r) {
				q := strconv.QuoteRune(r)
				b.WriteString(q[1 : len(q)-1])
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Error is String(err.Error()).
func Error(err error) string { return String(err.Error()) }

// Quote returns s as it is when every character of it is printable, and
// Go-quoted otherwise ("a\nb"), so that a name quoted in a message can
// neither break the line nor hide characters.
func Quote(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
