package decode

import "unsafe"

// Chain applies the decoding transforms in rounds and keeps the two
// buffers it alternates between, so a reused Chain does not allocate once
// its buffers have grown. The zero value is ready to use; a Chain is not
// safe for concurrent use.
type Chain struct {
	bufs [2][]byte
	k    int
	null bool
}

// step is one transform of a round.
type step func(dst []byte, s string) ([]byte, bool)

// round is the order of the transforms within one round.
var round = [...]step{URL, Overlong, JS, HTML}

// Full decodes s: rounds of [URL], [Overlong], [JS] and [HTML] until a round
// changes nothing or [MaxPasses] rounds ran, then [Null]. It returns s itself
// and false when nothing changed. Otherwise the result aliases the Chain's
// buffers and stays valid until the next call.
func (c *Chain) Full(s string) (string, bool) {
	cur, changed := s, false
	c.null = false
	for range MaxPasses {
		any := false
		for _, t := range round {
			var ok bool
			if cur, ok = c.apply(t, cur); ok {
				any = true
			}
		}
		if !any {
			break
		}
		changed = true
	}
	var ok bool
	if cur, ok = c.apply(Null, cur); ok {
		changed, c.null = true, true
	}
	return cur, changed
}

// SawNull reports whether the last [Chain.Full] removed NUL bytes.
func (c *Chain) SawNull() bool { return c.null }

// apply runs t on cur into the buffer cur does not live in.
func (c *Chain) apply(t step, cur string) (string, bool) {
	out, ok := t(c.bufs[c.k], cur)
	if !ok {
		return cur, false
	}
	c.bufs[c.k] = out
	c.k ^= 1
	return String(out), true
}

// String returns b as a string without copying. The caller must not modify
// b while the string is in use.
func String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
