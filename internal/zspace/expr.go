package zspace

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// An Expr is a parsed vector expression: a Term, Neg, Scale or BinOp.
type Expr interface {
	// String renders the expression canonically: terms as in Term.String,
	// binary operators with a space either side, scales as 0.5*x, and
	// parentheses only where needed. Parse(e.String()) gives an expression
	// of the same structure, values and terms (but other Src and Offset).
	String() string
	// Terms lists the operand terms in order of appearance in the source,
	// repeats included: "s1 + s2 - s1" has three.
	Terms() []Term
	expr()
}

// TermKind tells what a Term stands for.
type TermKind int

const (
	SeedTerm TermKind = iota // s12: the z of one seed
	MeanTerm                 // mean(4, 9, 21): the mean of seeds' z
	RowTerm                  // z.npy[3]: a row of an .npy matrix
	DirTerm                  // dir(thick.npy), dir(sefa.npy, 2): a unit direction
)

func (k TermKind) String() string {
	switch k {
	case SeedTerm:
		return "seed"
	case MeanTerm:
		return "mean"
	case RowTerm:
		return "row"
	case DirTerm:
		return "dir"
	}
	return fmt.Sprintf("TermKind(%d)", int(k))
}

// A Term is an operand of an expression: a vector the caller supplies.
type Term struct {
	Kind TermKind
	// Seeds: for SeedTerm the one seed, for MeanTerm the seeds in the order
	// written (a repeated seed counts again in the mean).
	Seeds []uint64
	// File and Row: for RowTerm and DirTerm the file name as written and the
	// 0-based row (0 for dir(F)).
	File string
	Row  int
	// Src is the term's text, verbatim from the expression (spaces inside
	// included), e.g. "s12", "mean(4, 9,21)", "z.npy[3]"; Offset is its
	// byte offset there, so Src == expr[Offset:Offset+len(Src)].
	Src    string
	Offset int
}

// Neg is unary minus: −X.
type Neg struct{ X Expr }

// Scale is K·X, written K*X; K is finite and ≥ 0 as parsed (a minus sign is
// a Neg around it).
type Scale struct {
	K float64
	X Expr
}

// BinOp is X + Y or X − Y; Op is '+' or '-'.
type BinOp struct {
	Op   byte
	X, Y Expr
}

func (Term) expr()  {}
func (Neg) expr()   {}
func (Scale) expr() {}
func (BinOp) expr() {}

// String renders the term canonically: "s12", "mean(4, 9, 21)", "z.npy[3]".
func (t Term) String() string {
	switch t.Kind {
	case SeedTerm:
		if len(t.Seeds) == 1 {
			return "s" + strconv.FormatUint(t.Seeds[0], 10)
		}
	case MeanTerm:
		var b strings.Builder
		b.WriteString("mean(")
		for i, s := range t.Seeds {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatUint(s, 10))
		}
		b.WriteString(")")
		return b.String()
	case RowTerm:
		return t.File + "[" + strconv.Itoa(t.Row) + "]"
	case DirTerm:
		if t.Row == 0 {
			return "dir(" + t.File + ")"
		}
		return "dir(" + t.File + ", " + strconv.Itoa(t.Row) + ")"
	}
	return fmt.Sprintf("<bad %v term %q>", t.Kind, t.Src)
}

func (n Neg) String() string { return "-" + operand(n.X) }

func (s Scale) String() string {
	return strconv.FormatFloat(s.K, 'g', -1, 64) + "*" + operand(s.X)
}

func (b BinOp) String() string {
	return b.X.String() + " " + string(b.Op) + " " + operand(b.Y)
}

// operand renders x where a Unary is expected, parenthesised if it is a sum.
func operand(x Expr) string {
	if _, ok := x.(BinOp); ok {
		return "(" + x.String() + ")"
	}
	return x.String()
}

func (t Term) Terms() []Term { return []Term{t} }
func (n Neg) Terms() []Term  { return n.X.Terms() }
func (s Scale) Terms() []Term {
	return s.X.Terms()
}
func (b BinOp) Terms() []Term { return append(b.X.Terms(), b.Y.Terms()...) }

// ParseError is a syntax error in an expression.
type ParseError struct {
	// Pos is the 1-based column of the error in the expression, counted in
	// characters (runes; an invalid UTF-8 byte counts as one); an error at
	// the end of the expression has Pos = its length + 1.
	Pos int
	Msg string
}

// Error returns one line, e.g. "col 7: expected a term after '+'".
func (e *ParseError) Error() string { return fmt.Sprintf("col %d: %s", e.Pos, e.Msg) }

// Caret returns two lines (no trailing newline) for display under the error
// message: the expression, with tabs, newlines and other control characters
// shown as spaces, and a caret under column Pos.
func (e *ParseError) Caret(expr string) string {
	var line, pad strings.Builder
	col := 1
	for _, r := range expr {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			r = ' '
		}
		line.WriteRune(r)
		if col < e.Pos {
			pad.WriteByte(' ')
		}
		col++
	}
	return line.String() + "\n" + pad.String() + "^"
}

// maxDepth bounds the nesting of parentheses, unary minus and scales.
const maxDepth = 500

// Parse parses a vector expression (grammar in the package documentation).
// On failure the error is a *ParseError.
func Parse(expr string) (Expr, error) {
	p := &parser{src: expr}
	p.next()
	if p.tok.kind == tEOF {
		return nil, p.errAt(p.tok.off, "empty expression")
	}
	x, err := p.sum("")
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpectedAfterSum(-1)
	}
	return x, nil
}

type tokKind int

const (
	tEOF   tokKind = iota
	tNum           // a number: 12, 0.5, 1e-3
	tWord          // a word that is not a file name: s12, mean, foo
	tFile          // a file name followed by '[' (after optional spaces)
	tPunct         // one of + - * ( ) , [ ] (text "-" for U+2212 too)
	tBad           // an unexpected character
)

type token struct {
	kind     tokKind
	text     string
	off, end int // byte offsets of text
}

type parser struct {
	src   string
	tok   token
	depth int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isFileStart reports whether c can start a file name (or a word or number).
func isFileStart(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_' || c == '.' || c == '/'
}

func isFileChar(c byte) bool { return isFileStart(c) || c == '-' }

// next reads the token at the end of the current one.
func (p *parser) next() {
	s, i := p.src, p.tok.end
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) {
		p.tok = token{kind: tEOF, off: i, end: i}
		return
	}
	c := s[i]
	switch {
	case isFileStart(c):
		// A file name is the longest run of file characters followed by '['.
		j := i
		for j < len(s) && isFileChar(s[j]) {
			j++
		}
		k := j
		for k < len(s) && isSpace(s[k]) {
			k++
		}
		if k < len(s) && s[k] == '[' {
			p.tok = token{kind: tFile, text: s[i:j], off: i, end: j}
			return
		}
		if isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]) {
			// A number, with anything stuck to it so that 1.2.3 and 2s3
			// are reported whole as bad numbers.
			j = i
			for j < len(s) {
				d := s[j]
				if isLetter(d) || isDigit(d) || d == '_' || d == '.' ||
					(d == '+' || d == '-') && (s[j-1] == 'e' || s[j-1] == 'E') {
					j++
					continue
				}
				break
			}
			p.tok = token{kind: tNum, text: s[i:j], off: i, end: j}
			return
		}
		j = i
		for j < len(s) && isFileStart(s[j]) {
			j++
		}
		p.tok = token{kind: tWord, text: s[i:j], off: i, end: j}
	case strings.IndexByte("+-*(),[]", c) >= 0:
		p.tok = token{kind: tPunct, text: s[i : i+1], off: i, end: i + 1}
	case strings.HasPrefix(s[i:], "\u2212"): // − MINUS SIGN, as typeset
		p.tok = token{kind: tPunct, text: "-", off: i, end: i + len("\u2212")}
	default:
		_, n := utf8.DecodeRuneInString(s[i:])
		p.tok = token{kind: tBad, text: s[i : i+n], off: i, end: i + n}
	}
}

func (p *parser) is(punct string) bool { return p.tok.kind == tPunct && p.tok.text == punct }

func (p *parser) col(off int) int { return utf8.RuneCountInString(p.src[:off]) + 1 }

func (p *parser) errAt(off int, format string, args ...any) *ParseError {
	return &ParseError{Pos: p.col(off), Msg: fmt.Sprintf(format, args...)}
}

// describe names the current token for messages.
func (p *parser) describe() string {
	switch p.tok.kind {
	case tEOF:
		return "end of expression"
	case tPunct:
		return "'" + p.tok.text + "'"
	case tBad:
		return fmt.Sprintf("character %q", p.tok.text)
	}
	return strconv.Quote(p.tok.text)
}

// badToken returns the error for a tBad token or a malformed number, or nil.
func (p *parser) badToken() *ParseError {
	switch p.tok.kind {
	case tBad:
		return p.errAt(p.tok.off, "unexpected character %q", p.tok.text)
	case tNum:
		if !isNumber(p.tok.text) {
			return p.errAt(p.tok.off, "bad number %q", p.tok.text)
		}
	}
	return nil
}

// startsTerm reports whether the current token can begin a Unary.
func (p *parser) startsTerm() bool {
	switch p.tok.kind {
	case tNum, tWord, tFile:
		return true
	}
	return p.is("(") || p.is("-")
}

// unexpectedAfterSum explains a token that follows a complete sum where the
// end of the expression (open < 0) or the ')' closing the '(' at byte
// offset open was expected.
func (p *parser) unexpectedAfterSum(open int) *ParseError {
	if err := p.badToken(); err != nil {
		return err
	}
	switch {
	case p.is("*"):
		return p.errAt(p.tok.off, "a scale goes before its term: write 2*s1, not s1*2")
	case p.tok.kind == tWord && p.tok.text[0] == '/':
		return p.errAt(p.tok.off, "there is no division: scale instead, as in 0.5*s1")
	case p.tok.kind != tPunct && p.startsTerm():
		return p.errAt(p.tok.off, "expected an operator (+ or -) before %s", p.describe())
	case p.is("("):
		return p.errAt(p.tok.off, "expected an operator (+ or -) before '('")
	case open >= 0:
		return p.errAt(p.tok.off, "expected ')' to close the '(' at col %d, found %s", p.col(open), p.describe())
	case p.is(")"):
		return p.errAt(p.tok.off, "unexpected ')' without a matching '('")
	}
	return p.errAt(p.tok.off, "unexpected %s", p.describe())
}

// sum parses Sum; after describes what precedes it, for messages.
func (p *parser) sum(after string) (Expr, error) {
	x, err := p.unary(after)
	if err != nil {
		return nil, err
	}
	for p.is("+") || p.is("-") {
		op := p.tok.text[0]
		p.next()
		y, err := p.unary("'" + string(op) + "'")
		if err != nil {
			return nil, err
		}
		x = BinOp{Op: op, X: x, Y: y}
	}
	return x, nil
}

func (p *parser) unary(after string) (Expr, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.errAt(p.tok.off, "expression nested more than %d deep", maxDepth)
	}
	defer func() { p.depth-- }()
	if err := p.badToken(); err != nil {
		return nil, err
	}
	switch {
	case p.is("-"):
		p.next()
		x, err := p.unary("'-'")
		if err != nil {
			return nil, err
		}
		return Neg{X: x}, nil
	case p.tok.kind == tNum:
		tok := p.tok
		k, err := strconv.ParseFloat(tok.text, 64)
		if err != nil {
			return nil, p.errAt(tok.off, "number %s out of range", tok.text)
		}
		p.next()
		if !p.is("*") {
			return nil, p.errAt(p.tok.off, "expected '*' after the number %s (a number scales the term after it, as in %s*s1)", tok.text, tok.text)
		}
		p.next()
		x, err := p.unary("'*'")
		if err != nil {
			return nil, err
		}
		return Scale{K: k, X: x}, nil
	case p.is("("):
		open := p.tok.off
		p.next()
		x, err := p.sum("'('")
		if err != nil {
			return nil, err
		}
		if !p.is(")") {
			return nil, p.unexpectedAfterSum(open)
		}
		p.next()
		return x, nil
	case p.tok.kind == tWord:
		return p.word()
	case p.tok.kind == tFile:
		return p.row()
	}
	what := "expected a term"
	if after != "" {
		what += " after " + after
	}
	if p.tok.kind == tEOF {
		return nil, p.errAt(p.tok.off, "%s", what)
	}
	return nil, p.errAt(p.tok.off, "%s, found %s", what, p.describe())
}

// word parses a Seed or a Mean.
func (p *parser) word() (Expr, error) {
	tok := p.tok
	switch w := tok.text; {
	case w == "mean":
		return p.mean()
	case w == "dir":
		return p.dir()
	case w == "s":
		return nil, p.errAt(tok.off, "expected the digits of a seed right after 's', as in s12")
	case w[0] == 's' && allDigits(w[1:]):
		seed, err := p.seed(w[1:], tok.off)
		if err != nil {
			return nil, err
		}
		p.next()
		return Term{Kind: SeedTerm, Seeds: []uint64{seed}, Src: w, Offset: tok.off}, nil
	case strings.ContainsAny(w, "./"):
		return nil, p.errAt(tok.end, "expected '[' and a row after the file name %q, as in %s[0]", w, w)
	}
	return nil, p.errAt(tok.off, "unknown name %q (a term is s12, mean(4, 9), file.npy[3], dir(file.npy) or a parenthesised expression)", tok.text)
}

func (p *parser) seed(digits string, off int) (uint64, error) {
	s, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, p.errAt(off, "seed %s does not fit in 64 bits (the largest is %d)", digits, uint64(1<<64-1))
	}
	return s, nil
}

func (p *parser) mean() (Expr, error) {
	start := p.tok.off
	p.next()
	if !p.is("(") {
		return nil, p.errAt(p.tok.off, "expected '(' after mean, as in mean(4, 9)")
	}
	open := p.tok.off
	p.next()
	if p.is(")") {
		return nil, p.errAt(p.tok.off, "mean() needs at least one seed")
	}
	var seeds []uint64
	for {
		if err := p.badToken(); err != nil {
			return nil, err
		}
		var digits string
		switch w := p.tok.text; {
		case p.tok.kind == tNum && allDigits(w):
			digits = w
		case p.tok.kind == tWord && len(w) > 1 && w[0] == 's' && allDigits(w[1:]):
			digits = w[1:]
		case p.tok.kind == tNum:
			return nil, p.errAt(p.tok.off, "a seed is a whole number ≥ 0, not %s", w)
		case p.is("-"):
			return nil, p.errAt(p.tok.off, "a seed is a whole number ≥ 0, not negative")
		default:
			return nil, p.errAt(p.tok.off, "expected a seed (12 or s12) in mean(...), found %s", p.describe())
		}
		s, err := p.seed(digits, p.tok.off)
		if err != nil {
			return nil, err
		}
		seeds = append(seeds, s)
		p.next()
		if p.is(",") {
			p.next()
			continue
		}
		if p.is(")") {
			end := p.tok.end
			p.next()
			return Term{Kind: MeanTerm, Seeds: seeds, Src: p.src[start:end], Offset: start}, nil
		}
		if err := p.badToken(); err != nil {
			return nil, err
		}
		if p.tok.kind == tEOF {
			return nil, p.errAt(p.tok.off, "expected ')' to close the mean( at col %d", p.col(open))
		}
		return nil, p.errAt(p.tok.off, "expected ',' or ')' in mean(...), found %s", p.describe())
	}
}

// dir parses "dir" "(" File [ "," Digits ] ")".
func (p *parser) dir() (Expr, error) {
	start := p.tok.off
	p.next()
	if !p.is("(") {
		return nil, p.errAt(p.tok.off, "expected '(' after dir, as in dir(thick.npy)")
	}
	open := p.tok.off
	// The file name is read from the source: any file characters.
	i := p.tok.end
	for i < len(p.src) && isSpace(p.src[i]) {
		i++
	}
	j := i
	for j < len(p.src) && isFileChar(p.src[j]) {
		j++
	}
	if j == i {
		return nil, p.errAt(i, "expected a file name after dir(, as in dir(thick.npy)")
	}
	file := p.src[i:j]
	p.tok = token{kind: tPunct, off: i, end: j}
	p.next()
	row := 0
	if p.is(",") {
		p.next()
		if p.tok.kind != tNum || !allDigits(p.tok.text) {
			return nil, p.errAt(p.tok.off, "expected a row number after ',' in dir(...), found %s", p.describe())
		}
		r, err := strconv.ParseUint(p.tok.text, 10, 63)
		if err != nil || uint64(int(r)) != r {
			return nil, p.errAt(p.tok.off, "row %s out of range", p.tok.text)
		}
		row = int(r)
		p.next()
	}
	if !p.is(")") {
		if err := p.badToken(); err != nil {
			return nil, err
		}
		return nil, p.errAt(p.tok.off, "expected ')' to close the dir( at col %d, found %s", p.col(open), p.describe())
	}
	end := p.tok.end
	p.next()
	return Term{Kind: DirTerm, File: file, Row: row, Src: p.src[start:end], Offset: start}, nil
}

// row parses File "[" Digits "]".
func (p *parser) row() (Expr, error) {
	file := p.tok
	p.next() // the lexer saw the '['
	open := p.tok.off
	p.next()
	if p.is("-") {
		return nil, p.errAt(p.tok.off, "negative row: rows are numbered from 0")
	}
	if err := p.badToken(); err != nil {
		return nil, err
	}
	if p.tok.kind != tNum {
		if p.tok.kind == tEOF || p.is("]") {
			return nil, p.errAt(p.tok.off, "expected a row number after '['")
		}
		return nil, p.errAt(p.tok.off, "expected a row number after '[', found %s", p.describe())
	}
	if !allDigits(p.tok.text) {
		return nil, p.errAt(p.tok.off, "a row is a whole number ≥ 0, not %s", p.tok.text)
	}
	r, err := strconv.ParseUint(p.tok.text, 10, 63)
	if err != nil || uint64(int(r)) != r {
		return nil, p.errAt(p.tok.off, "row %s out of range", p.tok.text)
	}
	p.next()
	if !p.is("]") {
		if err := p.badToken(); err != nil {
			return nil, err
		}
		return nil, p.errAt(p.tok.off, "expected ']' to close the '[' at col %d, found %s", p.col(open), p.describe())
	}
	end := p.tok.end
	p.next()
	return Term{Kind: RowTerm, File: file.text, Row: int(r), Src: p.src[file.off:end], Offset: file.off}, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isNumber reports whether s matches the Number production:
// ( Digits [ "." { Digit } ] | "." Digits ) [ ( "e" | "E" ) [ "+" | "-" ] Digits ].
func isNumber(s string) bool {
	i, n := 0, 0
	for i < len(s) && isDigit(s[i]) {
		i, n = i+1, n+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i, n = i+1, n+1
		}
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		m := 0
		for i < len(s) && isDigit(s[i]) {
			i, m = i+1, m+1
		}
		if m == 0 {
			return false
		}
	}
	return i == len(s)
}
