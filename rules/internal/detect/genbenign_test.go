package detect

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Generated tricky benign text: the shapes of ordinary writing that share
// syntax with attacks — comparisons and arrows in sentences, words
// followed by parentheses, languages and commands named in titles and
// support tickets, relative paths in documentation, template tags in blog
// posts, development URLs in notes, markdown, code snippets, e-mail
// addresses, URLs, and non-Latin scripts. Deterministic (fixed seed).

var (
	benignNames   = []string{"Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "José", "Zoë", "Øyvind", "Dmitri", "Aiko", "Priya", "O'Brien", "D'Angelo"}
	benignLangs   = []string{"SQL", "Go", "Python", "PowerShell", "Bash", "C++", "C#", "JavaScript", "Rust", "PHP", "Perl", "Ruby", "T-SQL", "PL/SQL"}
	benignTopics  = []string{"joins", "error handling", "templates", "pipelines", "shell scripts", "stored procedures", "regular expressions", "date parsing", "unit tests"}
	benignScripts = []string{
		"Привет! Как дела? Заказ №42 отправлен сегодня.", "こんにちは、注文は明日届きます。", "你好，我的订单什么时候到？",
		"مرحبا، هل يمكنني تغيير عنوان الشحن؟", "שלום, ההזמנה שלי לא הגיעה", "Γειά σου, η παραγγελία μου άργησε.",
		"नमस्ते, मेरा ऑर्डर कहाँ है?", "안녕하세요, 배송 주소를 바꾸고 싶어요.", "Größe: 42 – Farbe: „Blau“ — danke!",
	}
)

// genBenignFamilies returns generated benign values by shape.
func genBenignFamilies() map[string][]string {
	r := rand.New(rand.NewPCG(13, 42))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	n := func(k int) int { return r.IntN(k) }
	fam := map[string][]string{}
	add := func(name string, count int, f func() string) {
		for range count {
			fam[name] = append(fam[name], f())
		}
	}
	add("comparisons", 200, func() string {
		return pick([]string{
			fmt.Sprintf("Prices went from %d -> %d, so a < b and b > c in most stores.", n(90)+10, n(90)+10),
			fmt.Sprintf("I rate it %d/10 <3 would buy again", n(10)),
			fmt.Sprintf("Temperature was <%d°C at night and >%d°C by noon", n(10), 20+n(10)),
			fmt.Sprintf("%s said: if x >= %d then it's fine, otherwise (x < %d) call me", pick(benignNames), n(50), n(50)),
			"Use <Ctrl>+<C> to copy and <Ctrl>+<V> to paste.",
			fmt.Sprintf("Order #%d: qty %d => total %d.%02d EUR (incl. VAT)", n(99999), n(9)+1, n(300), n(100)),
		})
	})
	add("parentheses", 200, func() string {
		return pick([]string{
			fmt.Sprintf("%s (my manager) asked me to call (again) about the invoice", pick(benignNames)),
			fmt.Sprintf("Call print() and then len() on the result, as the %s docs say", pick(benignLangs)),
			fmt.Sprintf("The select(%d) option in the dropdown is broken (see screenshot)", n(9)),
			fmt.Sprintf("sum(a, b) returns %d when both are zero; count(*) also works in %s", n(3), pick(benignLangs)),
			"We sleep(ish) at 11pm and wake(ish) at 7am.",
		})
	})
	add("titles", 200, func() string {
		return pick([]string{
			fmt.Sprintf("Learning %s: %s for beginners", pick(benignLangs), pick(benignTopics)),
			fmt.Sprintf("%s & %s — a practical guide to %s", pick(benignLangs), pick(benignLangs), pick(benignTopics)),
			fmt.Sprintf("Why I moved from %s to %s (and back)", pick(benignLangs), pick(benignLangs)),
			fmt.Sprintf("SELECT your size: %s's new collection", pick(benignNames)),
			"Drop Table Tennis Club — Union Street, Order online",
		})
	})
	add("support tickets", 200, func() string {
		return pick([]string{
			"When I run ls -la | grep config I get nothing, what am I doing wrong?",
			"The docs say to run `npm install && npm start` but it fails with EACCES.",
			fmt.Sprintf("Hi, I tried cat /var/log/app.log | tail -n %d but the file is empty. Thanks, %s", n(100)+1, pick(benignNames)),
			"After `sudo systemctl restart nginx; systemctl status nginx` it still shows failed, any idea?",
			"Our script does: for f in *.csv; do wc -l $f; done — is there a faster way?",
			"I typed DROP TABLE in the wrong window yesterday, can you restore the backup from Monday?",
			"Your app says \"error: can't open file\" when the name has an apostrophe like O'Neil's notes.txt",
		})
	})
	add("documentation", 200, func() string {
		return pick([]string{
			"Relative imports like ../utils/helpers.js resolve from the current file's directory.",
			fmt.Sprintf("Put the file in ../config/ and reference it as ./settings.%s.yaml", pick([]string{"dev", "prod", "test"})),
			"In Unix, .. means the parent directory, so cd ../.. goes up two levels.",
			"Copy templates/base.html to ../site/templates before building the docs.",
			"The path C:\\Users\\you\\Documents\\report.docx is where Word saves by default.",
		})
	})
	add("blog templates", 200, func() string {
		return pick([]string{
			"In Jinja you write {{ user.name }} to print a field and {% if user %} for conditions.",
			"Handlebars uses {{#each items}}...{{/each}} to loop over a list.",
			"Hello {{name}}, your order {{order_id}} has shipped!",
			"Set the greeting to ${firstName} in the email template editor.",
			"Our newsletter template: Dear {{ first_name }}, thanks for joining {{ company }}.",
		})
	})
	add("notes with URLs", 200, func() string {
		return pick([]string{
			fmt.Sprintf("Dev server runs at http://localhost:%d, staging at https://staging.example.com", 3000+n(5000)),
			"Remember: the router admin page is http://192.168.1.1 and the printer is at printer.local",
			fmt.Sprintf("See https://example.com/search?q=%s&page=%d for details", pick(benignTopics), n(9)+1),
			"Ping me at ada.lovelace+orders@example.co.uk or on https://github.com/example/repo/issues/42",
			"The API lives at https://api.example.com/v1/users/{id}/orders?limit=50",
		})
	})
	add("markdown and code", 200, func() string {
		return pick([]string{
			"# Release notes\n- **Fixed**: crash when `path` is empty\n- _Improved_: startup time (~30%)",
			"```go\nif err != nil {\n\treturn fmt.Errorf(\"open: %w\", err)\n}\n```",
			"```python\nfor i in range(10):\n    print(i * 2)\n```",
			"Use `SELECT name FROM users WHERE id = ?` with a bound parameter, never string concatenation.",
			"| col | type |\n|---|---|\n| id | int |\n| name | text |",
			"> Quote: \"It's not a bug, it's a feature\" -- someone, somewhere",
		})
	})
	add("scripts", 200, func() string { return pick(benignScripts) })
	return fam
}

// Threshold of TestGeneratedBenign: high-confidence findings per shape.
const maxGeneratedBenignFP = 0.01

func TestGeneratedBenign(t *testing.T) {
	sc := NewScratch()
	var total, blocked int
	for name, vals := range genBenignFamilies() {
		var n, h int
		var shown []string
		for _, p := range vendoredPositions {
			for _, v := range vals {
				if (p.name == "header" || p.name == "path") && strings.ContainsAny(v, "\r\n") {
					continue // a raw line break is no header or path
				}
				n++
				if highAny(sc, p.prepare(v), p.source) {
					h++
					if len(shown) < 3 {
						shown = append(shown, p.name+": "+v)
					}
				}
			}
		}
		total += n
		blocked += h
		t.Logf("benign %-18s blocked %s", name, pct(h, n))
		for _, s := range shown {
			t.Logf("    %.120q", s)
		}
		if float64(h) > maxGeneratedBenignFP*float64(n) {
			t.Errorf("%s: %s blocked, more than %.0f%%", name, pct(h, n), maxGeneratedBenignFP*100)
		}
	}
	t.Logf("generated benign: blocked %s", pct(blocked, total))
}
