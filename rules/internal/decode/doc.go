// Package decode holds the decoding transforms the built-in detectors use to
// see through encodings: percent-decoding (with %uXXXX), JavaScript escapes
// (\uXXXX, \xXX), HTML entities, overlong UTF-8 and fullwidth forms,
// null-byte removal, ASCII case folding and whitespace/SQL-comment
// normalisation.
//
// # Contract
//
// Every transform has the shape
//
//	func T(dst []byte, s string) (out []byte, changed bool)
//
// When s contains nothing to transform, T returns dst unchanged (same
// length) and false, without allocating: the caller keeps using s. When it
// does, T appends the transformed value to dst[:0] and returns it with
// true; dst's capacity is reused, so a caller that keeps its buffers
// between values allocates only while they grow.
//
// # Bounds
//
// No transform makes its input longer: len(out) <= len(s) for every
// transform and every input. Work is linear in len(s); repeated decoding
// (see [Full]) is capped at [MaxPasses] passes.
package decode
