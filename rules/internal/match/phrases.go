package match

// phraseMatcher finds any of many literals in one pass over the value
// with an Aho–Corasick automaton compiled to a DFA over byte classes.
type phraseMatcher struct {
	class  [256]uint8 // byte -> class; class 0 is "no phrase uses this byte"
	nclass int
	delta  []int32 // delta[state*nclass+class] -> next state
	out    []int32 // out[state] = length of a phrase ending here, 0 if none
}

var _ Matcher = (*phraseMatcher)(nil)

// maxPhraseTable bounds the DFA size (entries), about 16 MiB.
const maxPhraseTable = 4 << 20

func newPhrases(lits []string, fold bool) Matcher {
	m := &phraseMatcher{}
	// Byte classes: every byte used by a phrase gets its own class
	// (upper and lower case share one when folding).
	next := uint8(1)
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			c := l[i]
			if fold {
				c = lowerByte(c)
			}
			if m.class[c] == 0 {
				m.class[c] = next
				next++
			}
		}
	}
	if fold {
		for c := 'A'; c <= 'Z'; c++ {
			m.class[c] = m.class[c+'a'-'A']
		}
	}
	m.nclass = int(next)

	// Trie with goto maps, then breadth-first failure links.
	type node struct {
		next map[uint8]int32
		fail int32
		out  int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for _, l := range lits {
		s := int32(0)
		for i := 0; i < len(l); i++ {
			c := m.class[l[i]]
			t, ok := nodes[s].next[c]
			if !ok {
				t = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[s].next[c] = t
			}
			s = t
		}
		if nodes[s].out == 0 || int32(len(l)) < nodes[s].out {
			nodes[s].out = int32(len(l))
		}
	}
	if len(nodes)*m.nclass > maxPhraseTable {
		return &phraseNFA{lits: lits, fold: fold}
	}
	m.delta = make([]int32, len(nodes)*m.nclass)
	m.out = make([]int32, len(nodes))
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < m.nclass; c++ {
		if t, ok := nodes[0].next[uint8(c)]; ok {
			m.delta[c] = t
			nodes[t].fail = 0
			queue = append(queue, t)
		}
	}
	m.out[0] = nodes[0].out
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		out := nodes[s].out
		if out == 0 {
			out = m.out[f]
		}
		m.out[s] = out
		for c := 0; c < m.nclass; c++ {
			if t, ok := nodes[s].next[uint8(c)]; ok {
				nodes[t].fail = m.delta[int(f)*m.nclass+c]
				m.delta[int(s)*m.nclass+c] = t
				queue = append(queue, t)
			} else {
				m.delta[int(s)*m.nclass+c] = m.delta[int(f)*m.nclass+c]
			}
		}
	}
	return m
}

// Match implements [Matcher]: it returns the first phrase occurrence to
// end in s.
func (m *phraseMatcher) Match(s string) (int, int, bool) {
	state := int32(0)
	for i := 0; i < len(s); i++ {
		state = m.delta[int(state)*m.nclass+int(m.class[s[i]])]
		if n := m.out[state]; n != 0 {
			return i + 1 - int(n), i + 1, true
		}
	}
	return 0, 0, false
}

// phraseNFA is the fallback for phrase sets too large for a DFA table:
// it tests each literal in turn.
type phraseNFA struct {
	lits []string
	fold bool
}

// Match implements [Matcher].
func (m *phraseNFA) Match(s string) (int, int, bool) {
	for _, l := range m.lits {
		if i := indexFold(s, l, m.fold); i >= 0 {
			return i, i + len(l), true
		}
	}
	return 0, 0, false
}

// indexFold returns the first index of l in s, folding ASCII case when
// fold is set.
func indexFold(s, l string, fold bool) int {
	for i := 0; i+len(l) <= len(s); i++ {
		if fold {
			if equalFoldASCIIBoth(s[i:i+len(l)], l) {
				return i
			}
		} else if s[i:i+len(l)] == l {
			return i
		}
	}
	return -1
}

func equalFoldASCIIBoth(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}
