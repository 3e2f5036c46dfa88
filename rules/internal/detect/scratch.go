package detect

// Scratch holds the decoded views of one field value and reusable buffers.
// It is not safe for concurrent use: the engine takes one from a pool per
// inspection and calls Reset before each field.
type Scratch struct {
	raw string
}

// NewScratch returns an empty Scratch.
func NewScratch() *Scratch { return &Scratch{} }

// Reset prepares sc for a new field value, dropping cached views.
func (sc *Scratch) Reset(value string) { sc.raw = value }

// Raw returns the value sc was last Reset with.
func (sc *Scratch) Raw() string { return sc.raw }
