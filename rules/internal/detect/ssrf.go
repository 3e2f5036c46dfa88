package detect

import (
	"net/netip"
	"strings"
)

// ssrf detects server-side request forgery attempts: URLs that point
// inward, and URL schemes that turn a fetch into something else.
//
// Every URL in the decoded, lower-case view ("scheme://", or "//" at the
// start of the value) is parsed leniently: userinfo is dropped (the host
// is what follows the last '@'), the port is dropped, and the host is
// classified. Inward hosts are loopback (127/8, ::1, localhost,
// *.localhost), the unspecified address (0, 0.0.0.0, ::), link-local and
// metadata endpoints (169.254/16, fe80::/10, 100.100.100.200,
// fd00:ec2::254, metadata.google.internal, instance-data), private and
// shared ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) and
// IPv4-mapped IPv6 forms of all of them. IPv4 hosts are read the way
// inet_aton reads them, so decimal (2130706433), octal (0177.0.0.1), hex
// (0x7f.1) and short (127.1) spellings resolve to the same address.
// Wildcard-DNS names that resolve to an embedded address (*.nip.io,
// *.sslip.io, *.xip.io, localtest.me, lvh.me) count as inward.
//
// The schemes file:, gopher:, dict:, jar:, netdoc:, tftp:, phar:, php:
// and expect: are hits wherever they appear as a URL scheme. ftp: is a hit
// only towards an inward host, since public FTP links are ordinary.
// A bare IP address without a scheme (an X-Forwarded-For value) is not a
// URL and is left alone, except for the cloud metadata addresses.
type ssrf struct{}

// Name implements Detector.
func (ssrf) Name() string { return "ssrf" }

// Category implements Detector.
func (ssrf) Category() string { return "ssrf" }

// Detect implements Detector.
func (ssrf) Detect(sc *Scratch, in Input) (Finding, bool) {
	m := sc.Mask()
	if m&cColon == 0 && m&cSlash == 0 {
		return miss()
	}
	l := sc.Lower()
	if m&cColon != 0 {
		for off := 0; off < len(l); {
			k := strings.IndexByte(l[off:], ':')
			if k < 0 {
				break
			}
			c := off + k
			off = c + 1
			i := c
			for i > 0 && l[i-1] >= 'a' && l[i-1] <= 'z' {
				i--
			}
			if i > 0 && isSchemeChar(l[i-1]) {
				continue
			}
			switch l[i:c] {
			case "jar", "expect":
				return hit(l, i, c+1, "dangerous scheme")
			case "file", "gopher", "dict", "netdoc", "tftp", "phar", "php":
				if c+1 < len(l) && l[c+1] == '/' {
					return hit(l, i, c+2, "dangerous scheme")
				}
			}
		}
	}
	if strings.HasPrefix(l, "//") {
		if host := authorityHost(l[2:]); inwardHost(host) {
			return hit(l, 0, 2+len(host), "inward url")
		}
	}
	for off := 0; off < len(l); {
		i := strings.Index(l[off:], "://")
		if i < 0 {
			break
		}
		i += off
		off = i + 3
		host := authorityHost(l[i+3:])
		if host != "" && inwardHost(host) {
			// A development URL mentioned in a note ("it runs on
			// http://localhost:3000 for me") is Low; a metadata
			// endpoint never is.
			if proseLike(l) && !metadataHost(host) {
				return lowHit(l, i, i+3+len(host), "inward url in prose")
			}
			return hit(l, i, i+3+len(host), "inward url")
		}
		// Parsers disagree on http://a#@b/ and http://a?@b/: some take
		// the host after the '@'.
		if h := confusedHost(l[i+3:]); h != "" && inwardHost(h) {
			return hit(l, i, i+3, "inward url behind userinfo confusion")
		}
	}
	for _, meta := range [...]string{"169.254.169.254", "100.100.100.200", "[fd00:ec2::254]"} {
		if strings.HasPrefix(l, meta) && (len(l) == len(meta) || strings.IndexByte("/:", l[len(meta)]) >= 0) {
			return hit(l, 0, len(meta), "metadata address")
		}
	}
	return miss()
}

// isSchemeChar reports a character that may occur in a URL scheme.
func isSchemeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

// authorityHost returns the host part of the authority at the start of
// s: up to '/', '?', '#', '\' or whitespace, after the last '@', without
// the port. IPv6 literals keep their brackets off.
func authorityHost(s string) string {
	end := 0
	for end < len(s) && strings.IndexByte("/?#\\ \t\r\n\"'<>`", s[end]) < 0 {
		end++
	}
	a := s[:end]
	if k := strings.LastIndexByte(a, '@'); k >= 0 {
		a = a[k+1:]
	}
	if strings.HasPrefix(a, "[") {
		if k := strings.IndexByte(a, ']'); k > 0 {
			return a[1:k]
		}
		return a[1:]
	}
	if k := strings.IndexByte(a, ':'); k >= 0 {
		a = a[:k]
	}
	// Trailing junk some parsers ignore (http://127.0.0.1!/, a final dot).
	for len(a) > 0 && !isWord(a[len(a)-1]) && a[len(a)-1] != ']' {
		a = a[:len(a)-1]
	}
	return a
}

// confusedHost returns the host after the last '@' that comes before the
// first '/' of s when a '#', '?' or '\\' precedes that '@', or "".
func confusedHost(s string) string {
	end := strings.IndexByte(s, '/')
	if end < 0 {
		end = len(s)
	}
	a := s[:end]
	k := strings.LastIndexByte(a, '@')
	if k < 0 || strings.IndexAny(a[:k], "#?\\") < 0 {
		return ""
	}
	return authorityHost(a[k+1:])
}

// inwardNames are host names that resolve inward.
var inwardNames = [...]string{
	"localhost", "localhost.localdomain", "metadata", "metadata.google.internal",
	"instance-data", "instance-data.ec2.internal", "metadata.internal",
	"kubernetes.default", "kubernetes.default.svc", "localtest.me", "lvh.me",
	"vcap.me", "lacolhost.com", "ip6-localhost", "ip6-loopback", "rancher-metadata",
}

// rebindSuffixes are wildcard-DNS domains that resolve to an address
// spelled in the name.
var rebindSuffixes = [...]string{
	".localhost", ".nip.io", ".sslip.io", ".xip.io", ".localtest.me", ".lvh.me",
	".vcap.me", ".lacolhost.com", ".internal", ".local", ".localdomain", ".home.arpa",
}

// inwardHost reports whether host (lower case) points inward.
func inwardHost(host string) bool {
	if host == "" {
		return false
	}
	for _, n := range inwardNames {
		if host == n {
			return true
		}
	}
	for _, s := range rebindSuffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	if v, ok := parseIPv4(host); ok {
		return inwardV4(v)
	}
	if strings.IndexByte(host, ':') >= 0 {
		if k := strings.IndexByte(host, '%'); k >= 0 {
			host = host[:k]
		}
		if a, err := netip.ParseAddr(host); err == nil {
			return inwardAddr(a)
		}
	}
	return false
}

// parseIPv4 reads s as inet_aton does: one to four parts separated by
// dots, each decimal, octal (leading 0) or hex (0x); the last part fills
// the remaining bytes.
func parseIPv4(s string) (uint32, bool) {
	var parts [4]uint64
	n := 0
	for len(s) > 0 {
		if n == 4 {
			return 0, false
		}
		k := strings.IndexByte(s, '.')
		p := s
		if k >= 0 {
			p, s = s[:k], s[k+1:]
			if s == "" {
				return 0, false
			}
		} else {
			s = ""
		}
		v, ok := parseNum(p)
		if !ok {
			return 0, false
		}
		parts[n] = v
		n++
	}
	if n == 0 {
		return 0, false
	}
	for i := 0; i < n-1; i++ {
		if parts[i] > 0xff {
			return 0, false
		}
	}
	last := parts[n-1]
	if last >= 1<<(8*(5-n)) {
		return 0, false
	}
	var v uint64
	for i := 0; i < n-1; i++ {
		v |= parts[i] << (24 - 8*i)
	}
	return uint32(v | last), true
}

// parseNum parses a decimal, octal (leading 0) or hex (0x) number of at
// most 32 bits.
func parseNum(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(p) > 1 && p[0] == '0' && (p[1] == 'x'):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	var v uint64
	for i := range len(p) {
		var d uint64
		c := p[i]
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, false
		}
	}
	return v, true
}

// inwardV4 reports loopback, unspecified, private, shared, link-local
// and broadcast IPv4 addresses and the Alibaba metadata address.
func inwardV4(v uint32) bool {
	switch {
	case v>>24 == 0, v>>24 == 127, v>>24 == 10:
		return true
	case v>>20 == 0xac1, v>>16 == 0xc0a8, v>>16 == 0xa9fe: // 172.16/12, 192.168/16, 169.254/16
		return true
	case v>>22 == 0x64<<2|1: // 100.64/10
		return true
	case v == 0xffffffff:
		return true
	}
	return false
}

// inwardAddr classifies an IPv6 (or IPv4) address.
func inwardAddr(a netip.Addr) bool {
	if a.Is4In6() || a.Is4() {
		b := a.Unmap().As4()
		return inwardV4(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	}
	if a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.IsPrivate() {
		return true
	}
	// IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) forms.
	b := a.As16()
	compat := true
	for _, x := range b[:12] {
		if x != 0 {
			compat = false
			break
		}
	}
	nat64 := b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b
	if compat || nat64 {
		return inwardV4(uint32(b[12])<<24 | uint32(b[13])<<16 | uint32(b[14])<<8 | uint32(b[15]))
	}
	switch {
	case b[0] == 0x20 && b[1] == 0x02:
		// 6to4 (2002:aabb:ccdd::/48) carries the IPv4 address aa.bb.cc.dd.
		return inwardV4(uint32(b[2])<<24 | uint32(b[3])<<16 | uint32(b[4])<<8 | uint32(b[5]))
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0:
		// Teredo (2001:0::/32): the server's IPv4 address, then the
		// client's, inverted, in the last 32 bits.
		client := ^(uint32(b[12])<<24 | uint32(b[13])<<16 | uint32(b[14])<<8 | uint32(b[15]))
		return inwardV4(uint32(b[4])<<24|uint32(b[5])<<16|uint32(b[6])<<8|uint32(b[7])) || inwardV4(client)
	}
	return false
}

// metadataHost reports the cloud metadata endpoints among inward hosts.
func metadataHost(host string) bool {
	if strings.Contains(host, "metadata") || strings.Contains(host, "instance-data") {
		return true
	}
	if v, ok := parseIPv4(host); ok {
		return v>>16 == 169<<8|254 || v == 100<<24|100<<16|100<<8|200
	}
	return strings.Contains(host, "fd00:ec2::254") || strings.Contains(host, "a9fe:a9fe") || strings.Contains(host, "169.254.")
}
