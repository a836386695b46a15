// Package zspace explores a generator's latent space: interpolation between
// latent vectors (Lerp, Slerp, Path) and a small language for arithmetic on
// them, in the spirit of "man with glasses − man + woman" (Radford et al.
// 2015).
//
// # Latent vectors
//
// "The z of seed s" is gen.Noise(s, 1, Z): the first vector of that seed's
// noise, the same on every machine.
//
// # Interpolation
//
// Lerp is the straight line between two vectors. Slerp is White's spherical
// interpolation (see Slerp for exactly what it does to the norm). For
// vectors drawn from N(0, I) in Z dimensions the norm concentrates near √Z,
// where the generator was trained; the midpoint of a straight line between
// two independent ones has a norm near √(Z/2), off that shell, which is why
// Slerp is usually preferred. Path chains either through several points.
//
// # Expressions
//
// Parse reads expressions such as
//
//	s12 - s7 + s3
//	mean(4, 9, 21) - mean(s5, s6) + 0.5*s3
//	-(z.npy[3] - s1) + 2*mean(1,2)
//	s5 + 2*dir(thick.npy)
//
// with this grammar (EBNF; whitespace may separate any two tokens and is
// otherwise ignored):
//
//	Expr      = Sum .
//	Sum       = Unary { ( "+" | "-" ) Unary } .
//	Unary     = "-" Unary | Number "*" Unary | Primary .
//	Primary   = Seed | Mean | Row | Dir | "(" Sum ")" .
//	Seed      = "s" Digits .                      (one token: s12, not s 12)
//	Mean      = "mean" "(" SeedRef { "," SeedRef } ")" .
//	SeedRef   = Digits | Seed .
//	Row       = File "[" Digits "]" .
//	Dir       = "dir" "(" File [ "," Digits ] ")" .
//	File      = FileStart { FileStart | "-" } .   (one token)
//	FileStart = Letter | Digit | "_" | "." | "/" .
//	Number    = ( Digits [ "." { Digit } ] | "." Digits )
//	            [ ( "e" | "E" ) [ "+" | "-" ] Digits ] .  (one token)
//	Digits    = Digit { Digit } .
//	Letter    = "A" … "Z" | "a" … "z" .
//	Digit     = "0" … "9" .
//
// Meaning and lexical rules:
//
//   - sN is the z of seed N; N must fit in a uint64. mean(a, b, …) is the
//     mean of the seeds' z (a repeated seed counts twice); its seeds may be
//     written 4 or s4. F[r] is row r (0-based) of the .npy matrix in file F,
//     loaded by the caller (see SeedResolver). dir(F) is the direction
//     saved in F by `gantrain directions` (a vector (Z) or the first row of a
//     matrix), scaled to length 1; dir(F, k) is row k of a matrix (K, Z)
//     such as the SeFa directions. Inside dir( ) a file name is any run of
//     file characters, '-' included.
//   - A file name is the longest run of letters, digits and _ . / - that is
//     followed, after optional whitespace, by '['. So s1-z.npy[3] is row 3 of
//     a file named "s1-z.npy": write s1 - z.npy[3]. Any word followed by '['
//     is a file name (s12[0] is row 0 of the file "s12"). A file name cannot
//     begin with '-', so -z.npy[3] negates a row.
//   - Unary minus and scaling bind tighter than + and −, which are
//     left-associative: -s1 + s2 is (−s1) + s2, s1 - s2 + s3 is
//     (s1 − s2) + s3, and 2*s1 + s2 is (2·s1) + s2. A scale is a number,
//     then '*', then what it scales: 0.5*s3, 2*(s1 - s2), 2*-s1. A number
//     after its term (s3*0.5), a number without '*' (2 s3), division and
//     unary plus are errors.
//   - "−" (U+2212 MINUS SIGN, as typeset) is accepted for "-".
//   - Names are case-sensitive; the only words are sN, mean and dir.
//
// Parse returns an Expr (a tree of Term, Neg, Scale and BinOp) whose Terms
// method lists the operands with their source text, so a caller can show
// each operand's image, and whose String method renders it canonically.
// Eval computes the vector, with the operands' vectors supplied by the
// caller; SeedResolver supplies them from seeds and a .npy loader. Syntax
// errors are *ParseError values that point at a column.
package zspace
