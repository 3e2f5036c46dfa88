package decode

// entities is the named-entity subset decoded by [HTML]: the characters
// that matter for markup, script and path syntax. Names are matched case
// sensitively, as browsers do.
var entities = [...]struct {
	name string
	r    rune
	bare bool // also recognised without the trailing ';' (legacy entities)
}{
	{"lt", '<', true}, {"gt", '>', true}, {"amp", '&', true}, {"quot", '"', true},
	{"LT", '<', true}, {"GT", '>', true}, {"AMP", '&', true}, {"QUOT", '"', true},
	{"apos", '\'', false}, {"sol", '/', false}, {"bsol", '\\', false},
	{"colon", ':', false}, {"semi", ';', false}, {"comma", ',', false},
	{"period", '.', false}, {"excl", '!', false}, {"num", '#', false},
	{"dollar", '$', false}, {"percnt", '%', false}, {"plus", '+', false},
	{"equals", '=', false}, {"lpar", '(', false}, {"rpar", ')', false},
	{"lsqb", '[', false}, {"rsqb", ']', false}, {"lbrack", '[', false},
	{"rbrack", ']', false}, {"lcub", '{', false}, {"rcub", '}', false},
	{"lbrace", '{', false}, {"rbrace", '}', false}, {"grave", '`', false},
	{"Hat", '^', false}, {"ast", '*', false}, {"verbar", '|', false},
	{"vert", '|', false}, {"lowbar", '_', false}, {"commat", '@', false},
	{"quest", '?', false}, {"Tab", '\t', false}, {"NewLine", '\n', false},
	{"nbsp", ' ', true}, {"hyphen", '-', false}, {"dash", '-', false},
}

// HTML decodes character references: numeric (&#60; &#x3c;, also without
// the ';' and with leading zeros, as browsers accept them) and the named
// subset above. Unknown references are kept.
func HTML(dst []byte, s string) ([]byte, bool) {
	i := nextIndex(s, 0, '&', func(i int) bool { _, n := entityAt(s, i); return n > 0 })
	if i < 0 {
		return dst, false
	}
	out := start(dst, s, i)
	for i < len(s) {
		if s[i] == '&' {
			if r, n := entityAt(s, i); n > 0 {
				out = appendRune(out, r)
				i += n
				continue
			}
		}
		out = append(out, s[i])
		i++
	}
	return out, true
}

// entityAt decodes the character reference at s[i] ('&') and returns its
// rune and length, or length 0. A decoded reference is never shorter than
// its UTF-8 encoding.
func entityAt(s string, i int) (rune, int) {
	j := i + 1
	if j >= len(s) {
		return 0, 0
	}
	if s[j] == '#' {
		j++
		hex := j < len(s) && (s[j] == 'x' || s[j] == 'X')
		if hex {
			j++
		}
		digits := j
		var r rune
		for ; j < len(s); j++ {
			c := s[j]
			var v byte
			var ok bool
			if hex {
				v, ok = unhex(c)
			} else if c >= '0' && c <= '9' {
				v, ok = c-'0', true
			}
			if !ok {
				break
			}
			if r <= 0x10FFFF {
				if hex {
					r = r<<4 | rune(v)
				} else {
					r = r*10 + rune(v)
				}
			}
		}
		if j == digits {
			return 0, 0
		}
		if j < len(s) && s[j] == ';' {
			j++
		}
		if r == 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF) {
			r = 0xFFFD
		}
		if j-i < runeLen(r) {
			return 0, 0
		}
		return r, j - i
	}
	if c := s[j]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return 0, 0
	}
	for _, e := range entities {
		n := len(e.name)
		if e.name[0] != s[j] || j+n > len(s) || s[j:j+n] != e.name {
			continue
		}
		if j+n < len(s) && s[j+n] == ';' {
			return e.r, n + 2
		}
		if e.bare {
			return e.r, n + 1
		}
	}
	return 0, 0
}

// runeLen is the UTF-8 length of r.
func runeLen(r rune) int {
	switch {
	case r < 0x80:
		return 1
	case r < 0x800:
		return 2
	case r < 0x10000:
		return 3
	}
	return 4
}
