package detect

// Character classes of the prefilter. A field's class mask is the union of
// the classes of its bytes; each detector names the classes it needs
// (its triggers) and is skipped when none of them occur, so a plain
// alphanumeric value costs one table scan for all detectors together.
const (
	cQuote   uint32 = 1 << iota // ' "
	cTick                       // `
	cAngle                      // < >
	cPct                        // %
	cDollar                     // $
	cBrace                      // { }
	cSemi                       // ;
	cPipe                       // |
	cAmp                        // &
	cDot                        // .
	cSlash                      // /
	cBslash                     // \
	cColon                      // :
	cCRLF                       // CR LF
	cHash                       // #
	cStar                       // *
	cParen                      // ( )
	cEq                         // =
	cDash                       // -
	cHigh                       // bytes >= 0x80
	cCtl                        // other control bytes, NUL
	cUnder                      // _
	cBracket                    // [ ]
	cAt                         // @
	cComma                      // ,
	cSpace                      // space, tab
	cPlus                       // +
	cExcl                       // !
)

// decodeTriggers are the classes after which [Scratch.Decoded] can differ
// from the raw value.
const decodeTriggers = cPct | cAmp | cBslash | cHigh | cCtl

// classes maps each byte to its class bits. It is computed once and never
// written afterwards.
var classes = func() (t [256]uint32) {
	set := func(chars string, c uint32) {
		for i := range len(chars) {
			t[chars[i]] |= c
		}
	}
	set(`'"`, cQuote)
	set("`", cTick)
	set("<>", cAngle)
	set("%", cPct)
	set("$", cDollar)
	set("{}", cBrace)
	set(";", cSemi)
	set("|", cPipe)
	set("&", cAmp)
	set(".", cDot)
	set("/", cSlash)
	set(`\`, cBslash)
	set(":", cColon)
	set("\r\n", cCRLF)
	set("#", cHash)
	set("*", cStar)
	set("()", cParen)
	set("=", cEq)
	set("-", cDash)
	set("_", cUnder)
	set("[]", cBracket)
	set("@", cAt)
	set(",", cComma)
	set(" \t", cSpace)
	set("+", cPlus)
	set("!", cExcl)
	for c := range 0x20 {
		if c != '\r' && c != '\n' && c != '\t' {
			t[c] |= cCtl
		}
	}
	t[0x7f] |= cCtl
	for c := 0x80; c < 0x100; c++ {
		t[c] |= cHigh
	}
	return t
}()

// classMask returns the union of the classes of s's bytes.
func classMask(s string) uint32 {
	var m uint32
	for i := range len(s) {
		m |= classes[s[i]]
	}
	return m
}
