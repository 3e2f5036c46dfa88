package decode_test

import (
	"fmt"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/decode"
)

func ExampleChain_Full() {
	var c decode.Chain
	out, changed := c.Full("%252e%252e%c0%afetc%2fpasswd%00")
	fmt.Println(out, changed, c.SawNull())
	out, changed = c.Full("plain value")
	fmt.Println(out, changed)
	// Output:
	// ../etc/passwd true true
	// plain value false
}

func ExampleURL() {
	out, changed := decode.URL(nil, "%3Cb%3E%u00e9")
	fmt.Println(string(out), changed)
	// Output: <b>é true
}
