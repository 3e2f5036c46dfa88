package decode

// Overlong normalises byte sequences that decoders have historically let
// through as ASCII: overlong UTF-8 forms (C0/C1 xx, E0 80..9F xx,
// F0 80..8F xx xx and the obsolete 5- and 6-byte forms, e.g. C0 AF for
// '/'; C0/C1 followed by a plain ASCII byte stand for that byte, as
// lenient decoders read them) and the fullwidth forms
// U+FF01..U+FF5E, the slash look-alikes U+2215 and U+2216, the circled
// digits and letters (①, ⓐ, Ⓐ) and the ideographic and halfwidth full
// stops, all mapped to their ASCII counterpart as IDNA mapping and lax
// path decoders do.
func Overlong(dst []byte, s string) ([]byte, bool) {
	i := 0
	for ; i < len(s); i++ {
		if s[i] >= 0xC0 {
			if _, n := overlongAt(s, i); n > 0 {
				break
			}
		}
	}
	if i == len(s) {
		return dst, false
	}
	out := start(dst, s, i)
	for i < len(s) {
		if s[i] >= 0xC0 {
			if c, n := overlongAt(s, i); n > 0 {
				out = append(out, c)
				i += n
				continue
			}
		}
		out = append(out, s[i])
		i++
	}
	return out, true
}

// pathChar reports the characters overlong forms are used to smuggle.
func pathChar(c byte) bool { return c == '.' || c == '/' || c == '\\' }

// overlongAt returns the ASCII byte an overlong or look-alike sequence at
// s[i] stands for and the sequence length, or length 0.
func overlongAt(s string, i int) (byte, int) {
	c := s[i]
	cont := func(k int) bool { return k < len(s) && s[k]&0xC0 == 0x80 }
	switch {
	case c == 0xC0 || c == 0xC1:
		if i+1 < len(s) {
			// Strict overlong decoding first; lenient decoders also
			// dropped the lead's low bit or kept a bad continuation
			// byte as it was. Prefer whichever reading yields a path
			// character, since those are what the forms smuggle.
			x := s[i+1]
			v := (c&1)<<6 | x&0x3F
			switch {
			case pathChar(v):
				return v, 2
			case x < 0x80 && pathChar(x):
				return x, 2
			case pathChar(x & 0x3F):
				return x & 0x3F, 2
			case x < 0x80:
				return x, 2
			}
			return v, 2
		}
	case c == 0xE0:
		if i+2 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9F && cont(i+2) {
			r := rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
			if r < 0x80 {
				return byte(r), 3
			}
		}
	case c == 0xF0:
		if i+3 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x8F && cont(i+2) && cont(i+3) {
			r := rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F)
			if r < 0x80 {
				return byte(r), 4
			}
		}
	case c == 0xF8 || c == 0xFC:
		// Obsolete 5- and 6-byte forms (F8 80 80 80 AF, FC 80 80 80 80 AF).
		n := 5
		if c == 0xFC {
			n = 6
		}
		if i+n-1 < len(s) {
			var r rune
			for k := 1; k < n; k++ {
				if !cont(i + k) {
					return 0, 0
				}
				r = r<<6 | rune(s[i+k]&0x3F)
			}
			if r < 0x80 {
				return byte(r), n
			}
		}
	case c == 0xEF:
		// U+FF01..U+FF5E: EF BC 81..BF, EF BD 80..9E.
		if i+2 < len(s) {
			switch {
			case s[i+1] == 0xBC && s[i+2] >= 0x81 && s[i+2] <= 0xBF:
				return s[i+2] - 0x81 + '!', 3
			case s[i+1] == 0xBD && s[i+2] >= 0x80 && s[i+2] <= 0x9E:
				return s[i+2] - 0x80 + '`', 3
			case s[i+1] == 0xBD && s[i+2] == 0xA1: // U+FF61 halfwidth full stop
				return '.', 3
			}
		}
	case c == 0xE2 && i+2 < len(s):
		b1, b2 := s[i+1], s[i+2]
		switch {
		case b1 == 0x88 && b2 == 0x95: // U+2215 DIVISION SLASH
			return '/', 3
		case b1 == 0x88 && b2 == 0x96: // U+2216 SET MINUS
			return '\\', 3
		case b1 == 0x91 && b2 >= 0xA0 && b2 <= 0xA8: // U+2460..2468 circled 1..9
			return '1' + b2 - 0xA0, 3
		case b1 == 0x93 && b2 == 0xAA: // U+24EA circled 0
			return '0', 3
		case b1 == 0x93 && b2 >= 0x90 && b2 <= 0xA9: // U+24D0..24E9 circled a..z
			return 'a' + b2 - 0x90, 3
		case b1 == 0x92 && b2 >= 0xB6 && b2 <= 0xBF: // U+24B6..24BF circled A..J
			return 'A' + b2 - 0xB6, 3
		case b1 == 0x93 && b2 >= 0x80 && b2 <= 0x8F: // U+24C0..24CF circled K..Z
			return 'K' + b2 - 0x80, 3
		}
	case c == 0xE3:
		// U+3002 IDEOGRAPHIC FULL STOP, a dot to IDNA.
		if i+2 < len(s) && s[i+1] == 0x80 && s[i+2] == 0x82 {
			return '.', 3
		}
	}
	return 0, 0
}
