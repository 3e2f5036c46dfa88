package detect_test

import (
	"fmt"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/detect"
)

func ExampleBuiltin() {
	d, ok := detect.Builtin("traversal")
	fmt.Println(d.Name(), ok)

	sc := detect.NewScratch()
	for _, v := range []string{"docs/guide.html", "..%252f..%252fetc%252fpasswd"} {
		sc.Reset(v)
		f, hit := d.Detect(sc, detect.Input{Value: v, Source: "query"})
		fmt.Printf("%q hit=%v reason=%q evidence=%q\n", v, hit, f.Reason, f.Evidence)
	}
	// Output:
	// traversal true
	// "docs/guide.html" hit=false reason="" evidence=""
	// "..%252f..%252fetc%252fpasswd" hit=true reason="dot-dot segment" evidence="../"
}

func ExampleNames() {
	fmt.Println(detect.Names())
	// Output: [cmdi crlf jndi nosql proto sqli ssrf ssti traversal xss]
}

func ExampleScratch() {
	sc := detect.NewScratch()
	sc.Reset("%26lt%3BScript%26gt%3B")
	fmt.Println(sc.Decoded())
	fmt.Println(sc.Lower())
	// Output:
	// <Script>
	// <script>
}
