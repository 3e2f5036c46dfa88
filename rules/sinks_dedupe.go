package rules

// maxUndeduped is how many inputs found in one sink value are examined
// before repeated values are skipped.
const maxUndeduped = 8

// dedupe skips input values already examined in one check, once more
// than a few inputs were found: a request that repeats one value in many
// fields costs one examination. Distinct values of one length cannot
// start at the same byte, so the work stays bounded by the value
// checked. The zero value is ready; it allocates only past the first
// maxUndeduped inputs.
type dedupe struct {
	n    int
	seen map[string]struct{}
}

// skip reports whether v was examined already, and records it.
func (d *dedupe) skip(v string) bool {
	if d.n++; d.n <= maxUndeduped {
		return false
	}
	if d.seen == nil {
		d.seen = make(map[string]struct{})
	}
	if _, ok := d.seen[v]; ok {
		return true
	}
	d.seen[v] = struct{}{}
	return false
}
