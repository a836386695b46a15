package zspace

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// sexpr renders e fully parenthesised, Lisp style, to show its structure.
func sexpr(e Expr) string {
	switch e := e.(type) {
	case Term:
		switch e.Kind {
		case SeedTerm:
			return fmt.Sprintf("s%d", e.Seeds[0])
		case MeanTerm:
			return fmt.Sprintf("(mean %v)", e.Seeds)
		case RowTerm:
			return fmt.Sprintf("(row %q %d)", e.File, e.Row)
		case DirTerm:
			return fmt.Sprintf("(dir %q %d)", e.File, e.Row)
		}
	case Neg:
		return "(neg " + sexpr(e.X) + ")"
	case Scale:
		return "(* " + strconv.FormatFloat(e.K, 'g', -1, 64) + " " + sexpr(e.X) + ")"
	case BinOp:
		return "(" + string(e.Op) + " " + sexpr(e.X) + " " + sexpr(e.Y) + ")"
	}
	return fmt.Sprintf("<%T>", e)
}

// equal compares structure, values and terms, not Src or Offset.
func equal(a, b Expr) bool {
	switch a := a.(type) {
	case Term:
		b, ok := b.(Term)
		return ok && a.Kind == b.Kind && slices.Equal(a.Seeds, b.Seeds) && a.File == b.File && a.Row == b.Row
	case Neg:
		b, ok := b.(Neg)
		return ok && equal(a.X, b.X)
	case Scale:
		b, ok := b.(Scale)
		return ok && a.K == b.K && equal(a.X, b.X)
	case BinOp:
		b, ok := b.(BinOp)
		return ok && a.Op == b.Op && equal(a.X, b.X) && equal(a.Y, b.Y)
	}
	return false
}

func srcs(ts []Term) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Src)
	}
	return out
}

func TestParseGood(t *testing.T) {
	for _, c := range []struct {
		in, tree, str string
		terms         []string
	}{
		{"s12", "s12", "s12", []string{"s12"}},
		{"  s12\t", "s12", "s12", []string{"s12"}},
		{"s007", "s7", "s7", []string{"s007"}},
		{"s18446744073709551615", "s18446744073709551615", "s18446744073709551615", []string{"s18446744073709551615"}},
		{"s1 + s2 - s1", "(- (+ s1 s2) s1)", "s1 + s2 - s1", []string{"s1", "s2", "s1"}},
		{"s1+s2", "(+ s1 s2)", "s1 + s2", []string{"s1", "s2"}},
		{"s1 - s2 + s3", "(+ (- s1 s2) s3)", "s1 - s2 + s3", []string{"s1", "s2", "s3"}},
		{"s1 - (s2 + s3)", "(- s1 (+ s2 s3))", "s1 - (s2 + s3)", []string{"s1", "s2", "s3"}},
		{"((s1))", "s1", "s1", []string{"s1"}},
		{"-(s1)", "(neg s1)", "-s1", []string{"s1"}},
		{"-s1 + s2", "(+ (neg s1) s2)", "-s1 + s2", []string{"s1", "s2"}},
		{"s1 - -s2", "(- s1 (neg s2))", "s1 - -s2", []string{"s1", "s2"}},
		{"- - s1", "(neg (neg s1))", "--s1", []string{"s1"}},
		{"0.5*s3", "(* 0.5 s3)", "0.5*s3", []string{"s3"}},
		{"2*s1 + s2", "(+ (* 2 s1) s2)", "2*s1 + s2", []string{"s1", "s2"}},
		{"2 * (s1 - s2)", "(* 2 (- s1 s2))", "2*(s1 - s2)", []string{"s1", "s2"}},
		{"-2*-s1", "(neg (* 2 (neg s1)))", "-2*-s1", []string{"s1"}},
		{"2*3*s1", "(* 2 (* 3 s1))", "2*3*s1", []string{"s1"}},
		{"1e-3*s1 + 1.5E+2*s2 + .5*s3 + 2.*s4", "(+ (+ (+ (* 0.001 s1) (* 150 s2)) (* 0.5 s3)) (* 2 s4))",
			"0.001*s1 + 150*s2 + 0.5*s3 + 2*s4", []string{"s1", "s2", "s3", "s4"}},
		{"mean(4, 9, 21)", "(mean [4 9 21])", "mean(4, 9, 21)", []string{"mean(4, 9, 21)"}},
		{"mean(s4,9 , s21 )", "(mean [4 9 21])", "mean(4, 9, 21)", []string{"mean(s4,9 , s21 )"}},
		{"mean (7)", "(mean [7])", "mean(7)", []string{"mean (7)"}},
		{"mean(1,1,2)", "(mean [1 1 2])", "mean(1, 1, 2)", []string{"mean(1,1,2)"}},
		{"z.npy[3]", `(row "z.npy" 3)`, "z.npy[3]", []string{"z.npy[3]"}},
		{"runs/exp-1/z_2.npy [ 0 ]", `(row "runs/exp-1/z_2.npy" 0)`, "runs/exp-1/z_2.npy[0]", []string{"runs/exp-1/z_2.npy [ 0 ]"}},
		{"/tmp/Z.NPY[10]", `(row "/tmp/Z.NPY" 10)`, "/tmp/Z.NPY[10]", []string{"/tmp/Z.NPY[10]"}},
		{"s1 - z.npy[3]", `(- s1 (row "z.npy" 3))`, "s1 - z.npy[3]", []string{"s1", "z.npy[3]"}},
		// A file name runs up to the '[' (see the package documentation).
		{"s1-z.npy[3]", `(row "s1-z.npy" 3)`, "s1-z.npy[3]", []string{"s1-z.npy[3]"}},
		{"s12[0]", `(row "s12" 0)`, "s12[0]", []string{"s12[0]"}},
		{"-z.npy[0]", `(neg (row "z.npy" 0))`, "-z.npy[0]", []string{"z.npy[0]"}},
		{"\ts1\n-\r\ns2 ", "(- s1 s2)", "s1 - s2", []string{"s1", "s2"}},
		{"s1 − s2", "(- s1 s2)", "s1 - s2", []string{"s1", "s2"}}, // U+2212
		{"s5 + 2*dir(thick.npy)", `(+ s5 (* 2 (dir "thick.npy" 0)))`, "s5 + 2*dir(thick.npy)", []string{"s5", "dir(thick.npy)"}},
		{"dir( runs/a-b/sefa.npy , 3 ) - s1", `(- (dir "runs/a-b/sefa.npy" 3) s1)`, "dir(runs/a-b/sefa.npy, 3) - s1", []string{"dir( runs/a-b/sefa.npy , 3 )", "s1"}},
		{"mean(1,2) - 0.5*(s3 + a.npy[1]) + s4", `(+ (- (mean [1 2]) (* 0.5 (+ s3 (row "a.npy" 1)))) s4)`,
			"mean(1, 2) - 0.5*(s3 + a.npy[1]) + s4", []string{"mean(1,2)", "s3", "a.npy[1]", "s4"}},
	} {
		e, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := sexpr(e); got != c.tree {
			t.Errorf("Parse(%q) = %s, want %s", c.in, got, c.tree)
		}
		if got := e.String(); got != c.str {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, c.str)
		}
		terms := e.Terms()
		if got := srcs(terms); !slices.Equal(got, c.terms) {
			t.Errorf("Parse(%q).Terms() sources = %q, want %q", c.in, got, c.terms)
		}
		for _, tm := range terms {
			if c.in[tm.Offset:tm.Offset+len(tm.Src)] != tm.Src {
				t.Errorf("Parse(%q): term %q has offset %d", c.in, tm.Src, tm.Offset)
			}
		}
		e2, err := Parse(e.String())
		if err != nil || !equal(e, e2) {
			t.Errorf("Parse(%q).String() = %q reparses to %v, %v", c.in, e.String(), e2, err)
		}
	}
}

func TestParseBad(t *testing.T) {
	deep := strings.Repeat("(", maxDepth+1) + "s1" + strings.Repeat(")", maxDepth+1)
	for _, c := range []struct {
		in  string
		pos int
		msg string
	}{
		{"", 1, "empty expression"},
		{"   ", 4, "empty expression"},
		{"foo", 1, `unknown name "foo"`},
		{"s1 + S2", 6, `unknown name "S2"`},
		{"s", 1, "expected the digits of a seed right after 's'"},
		{"s 12", 1, "expected the digits of a seed right after 's'"},
		{"(s1 + s2", 9, "expected ')' to close the '(' at col 1, found end of expression"},
		{"((s1) - s2", 11, "expected ')' to close the '(' at col 1"},
		{"(s1 ]", 5, "expected ')' to close the '(' at col 1, found ']'"},
		{"mean(1, 2", 10, "expected ')' to close the mean( at col 5"},
		{"s1 + s2 )", 9, "unexpected ')' without a matching '('"},
		{"s1 $", 4, `unexpected character "$"`},
		{"s1, s2", 3, "unexpected ','"},
		{"s1 − s2 + é", 11, `unexpected character "é"`}, // columns count characters
		{"mean()", 6, "mean() needs at least one seed"},
		{"mean", 5, "expected '(' after mean"},
		{"mean 4", 6, "expected '(' after mean"},
		{"mean(1,)", 8, "expected a seed (12 or s12) in mean(...), found ')'"},
		{"mean(1 2)", 8, `expected ',' or ')' in mean(...), found "2"`},
		{"mean(1.5)", 6, "a seed is a whole number ≥ 0, not 1.5"},
		{"mean(-1)", 6, "a seed is a whole number ≥ 0, not negative"},
		{"mean(s)", 6, `expected a seed (12 or s12) in mean(...), found "s"`},
		{"s18446744073709551616", 1, "seed 18446744073709551616 does not fit in 64 bits"},
		{"mean(3, s99999999999999999999)", 9, "seed 99999999999999999999 does not fit in 64 bits"},
		{"1.2.3*s1", 1, `bad number "1.2.3"`},
		{"s1 + 1e*s2", 6, `bad number "1e"`},
		{"2s3", 1, `bad number "2s3"`},
		{"1e400*s1", 1, "number 1e400 out of range"},
		{"dir", 4, "expected '(' after dir"},
		{"dir()", 5, "expected a file name after dir("},
		{"dir(a.npy", 10, "expected ')' to close the dir( at col 4, found end of expression"},
		{"dir(a.npy, x)", 12, `expected a row number after ',' in dir(...), found "x"`},
		{"z.npy[", 7, "expected a row number after '['"},
		{"z.npy[]", 7, "expected a row number after '['"},
		{"z.npy[s1]", 7, `expected a row number after '[', found "s1"`},
		{"z.npy[-1]", 7, "negative row: rows are numbered from 0"},
		{"z.npy[1.5]", 7, "a row is a whole number ≥ 0, not 1.5"},
		{"z.npy[3", 8, "expected ']' to close the '[' at col 6, found end of expression"},
		{"z.npy[99999999999999999999]", 7, "row 99999999999999999999 out of range"},
		{"z.npy", 6, `expected '[' and a row after the file name "z.npy"`},
		{"s1 s2", 4, `expected an operator (+ or -) before "s2"`},
		{"s1 z.npy[0]", 4, `expected an operator (+ or -) before "z.npy"`},
		{"mean(1) (s2)", 9, "expected an operator (+ or -) before '('"},
		{"s1 +", 5, "expected a term after '+'"},
		{"s1 + * s2", 6, "expected a term after '+', found '*'"},
		{"(", 2, "expected a term after '('"},
		{"()", 2, "expected a term after '(', found ')'"},
		{"-", 2, "expected a term after '-'"},
		{"2*", 3, "expected a term after '*'"},
		{"+s1", 1, "expected a term, found '+'"},
		{"2 s3", 3, "expected '*' after the number 2"},
		{"s1 + 2", 7, "expected '*' after the number 2"},
		{"s3*2", 3, "a scale goes before its term: write 2*s1, not s1*2"},
		{"s1 / 2", 4, "there is no division"},
		{deep, maxDepth + 1, fmt.Sprintf("nested more than %d deep", maxDepth)},
	} {
		e, err := Parse(c.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, %v; want a *ParseError", c.in, e, err)
			continue
		}
		if pe.Pos != c.pos || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("Parse(%q): %v\nwant col %d: …%s…", c.in, err, c.pos, c.msg)
		}
		if e != nil {
			t.Errorf("Parse(%q) returned %v with the error", c.in, e)
		}
		if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), fmt.Sprintf("col %d: ", c.pos)) {
			t.Errorf("Parse(%q): error %q is not one line starting col %d", c.in, err, c.pos)
		}
	}
}

func TestCaret(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"s1 +", "s1 +\n    ^"},
		{"", "\n^"},
		{"s1 $", "s1 $\n   ^"},
		{"s1\t+\n(", "s1 + (\n      ^"},
		{"s1 − s2 + é", "s1 − s2 + é\n          ^"},
	} {
		_, err := Parse(c.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q): %v", c.in, err)
		}
		if got := pe.Caret(c.in); got != c.want {
			t.Errorf("Caret for %q (%v) =\n%s\nwant\n%s", c.in, err, got, c.want)
		}
	}
	// Out-of-range positions are clamped.
	if got := (&ParseError{Pos: 0}).Caret("ab"); got != "ab\n^" {
		t.Errorf("Pos 0: %q", got)
	}
	if got := (&ParseError{Pos: 9}).Caret("ab"); got != "ab\n  ^" {
		t.Errorf("Pos 9: %q", got)
	}
}

func vec(t *testing.T, expr string, resolve func(Term) ([]float32, error)) []float32 {
	t.Helper()
	e, err := Parse(expr)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	v, err := Eval(e, resolve)
	if err != nil {
		t.Fatalf("Eval(%q): %v", expr, err)
	}
	return v
}

// combine returns Σ k_i·v_i in float64.
func combine(ks []float64, vs ...[]float32) []float32 {
	out := make([]float32, len(vs[0]))
	for i := range out {
		var s float64
		for j, v := range vs {
			s += ks[j] * float64(v[i])
		}
		out[i] = float32(s)
	}
	return out
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func TestEvalSeeds(t *testing.T) {
	r := SeedResolver(dim, nil)
	s1, s2, s3 := z(1), z(2), z(3)
	for _, c := range []struct {
		expr string
		want []float32
	}{
		{"s1", s1},
		{"s1 + s2 - s1", s2},
		{"mean(1,2)", combine([]float64{0.5, 0.5}, s1, s2)},
		{"mean(s1, 2, 2)", combine([]float64{1.0 / 3, 2.0 / 3}, s1, s2)},
		{"2*s3 - s3", s3},
		{"s1 - s2 + s3", combine([]float64{1, -1, 1}, s1, s2, s3)},
		{"s1 - (s2 + s3)", combine([]float64{1, -1, -1}, s1, s2, s3)},
		{"-(s1)", combine([]float64{-1}, s1)},
		{"-s1 + s2", combine([]float64{-1, 1}, s1, s2)},
		{"0.5*(s1 + s2) - mean(1, 2)", make([]float32, dim)},
		{"-2*-s1 − s1", s1},
	} {
		if d := maxDiff(vec(t, c.expr, r), c.want); d > 1e-6 {
			t.Errorf("%s: off by %g", c.expr, d)
		}
	}
	// Precedence matters: these differ.
	if d := maxDiff(vec(t, "s1 - s2 + s3", r), vec(t, "s1 - (s2 + s3)", r)); d < 1 {
		t.Errorf("s1 - s2 + s3 and s1 - (s2 + s3) differ by only %g", d)
	}
}

func TestEvalRowsAndResolveOrder(t *testing.T) {
	loads := 0
	load := func(path string) ([][]float32, error) {
		loads++
		switch path {
		case "z.npy":
			return [][]float32{{1, 2, 3}, {10, 20, 30}}, nil
		case "short.npy":
			return [][]float32{{1, 2}}, nil
		case "zero.npy":
			return [][]float32{{0, 0, 0}}, nil
		}
		return nil, fmt.Errorf("open %s: no such file", path)
	}
	r := SeedResolver(3, load)
	if got := vec(t, "z.npy[1] - 2*z.npy[0] + z.npy[0]", r); !slices.Equal(got, []float32{9, 18, 27}) {
		t.Errorf("rows: got %v", got)
	}
	if loads != 1 {
		t.Errorf("z.npy loaded %d times, want once", loads)
	}
	// dir(F) is row 0 scaled to length 1; dir(F, 1) row 1.
	if got := vec(t, "14*dir(z.npy) - dir(z.npy, 1) + dir(z.npy, 1)", r); maxDiff(got, []float32{1 * 14 / float32(math.Sqrt(14)), 2 * 14 / float32(math.Sqrt(14)), 3 * 14 / float32(math.Sqrt(14))}) > 1e-5 {
		t.Errorf("dir: got %v, want (1, 2, 3)·√14", got)
	}
	if got := vec(t, "s5 - s5 + z.npy[0]", r); !slices.Equal(got, []float32{1, 2, 3}) {
		t.Errorf("seeds with Z = 3: got %v", got)
	}

	var order []string
	rec := func(tm Term) ([]float32, error) {
		order = append(order, tm.Src)
		return r(tm)
	}
	vec(t, "-(s1 - 2*mean(3,4)) + z.npy[1] - s1", rec)
	if want := []string{"s1", "mean(3,4)", "z.npy[1]", "s1"}; !slices.Equal(order, want) {
		t.Errorf("resolve order %q, want %q", order, want)
	}

	for _, c := range []struct {
		expr string
		r    func(Term) ([]float32, error)
		want string
	}{
		{"s1 + z.npy[2]", r, "z.npy[2]: row 2 out of range: z.npy has 2 rows"},
		{"short.npy[0]", r, "short.npy[0]: short.npy has rows of 2 values, the generator's latent size is 3"},
		{"dir(short.npy)", r, "dir(short.npy): short.npy has rows of 2 values, the generator's latent size is 3"},
		{"s1 + dir(zero.npy)", r, "dir(zero.npy): zero.npy: a direction must be a finite, non-zero vector (its norm is 0)"},
		{"s1 - gone.npy[0]", r, "gone.npy[0]: open gone.npy: no such file"},
		{"z.npy[0]", SeedResolver(3, nil), "z.npy[0]: no .npy loader"},
		{"s1", SeedResolver(0, nil), "s1: latent size 0"},
		{"1e38*s1 + 1e38*s1", SeedResolver(100, nil), "not finite float32 numbers"},
		{"s1 + s2", func(tm Term) ([]float32, error) {
			return make([]float32, int(tm.Seeds[0])), nil
		}, "s2 has 2 values but s1 has 1"},
		{"s0", func(Term) ([]float32, error) { return nil, nil }, "s0: empty vector"},
	} {
		e, err := Parse(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Eval(e, c.r)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Eval(%q) = %v, %v; want error containing %q", c.expr, v, err, c.want)
		}
	}
	if _, err := Eval(nil, r); err == nil {
		t.Error("Eval(nil) succeeded")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"s12", "s1 + s2 - s1", "mean(4, 9, 21) - mean(s5,s6)", "0.5*s3", "-(s1 - 2*(s2 + z.npy[3]))",
		"runs/a-b/z_1.npy [ 7 ] - s1", "s1-z.npy[3]", "1e-3*s1 + .5*s2", "--s1", "s1 − s2",
		"", "foo", "(s1", "s1 s2", "s1*2", "mean()", "s18446744073709551616", "1.2.3*s1",
		"z.npy[", "z.npy[-1]", "2 s3", "s1 +", "s1 $", "é", "\xff", "mean(1,", strings.Repeat("(", 600),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): %T %v, want *ParseError", in, err, err)
			}
			if e != nil {
				t.Fatalf("Parse(%q) returned an expression and an error", in)
			}
			if pe.Pos < 1 || pe.Pos > utf8.RuneCountInString(in)+1 {
				t.Fatalf("Parse(%q): col %d out of range", in, pe.Pos)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("Parse(%q): error has several lines: %q", in, err)
			}
			if c := pe.Caret(in); strings.Count(c, "\n") != 1 {
				t.Fatalf("Parse(%q): caret is not two lines: %q", in, c)
			}
			return
		}
		terms := e.Terms()
		if len(terms) == 0 {
			t.Fatalf("Parse(%q) has no terms", in)
		}
		for _, tm := range terms {
			if tm.Offset < 0 || tm.Offset+len(tm.Src) > len(in) || in[tm.Offset:tm.Offset+len(tm.Src)] != tm.Src {
				t.Fatalf("Parse(%q): term %q at offset %d is not in the input", in, tm.Src, tm.Offset)
			}
		}
		s := e.String()
		e2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", in, s, err)
		}
		if !equal(e, e2) {
			t.Fatalf("Parse(%q) = %s but its String %q parses to %s", in, sexpr(e), s, sexpr(e2))
		}
		if s2 := e2.String(); s2 != s {
			t.Fatalf("String not stable for %q: %q then %q", in, s, s2)
		}
	})
}
