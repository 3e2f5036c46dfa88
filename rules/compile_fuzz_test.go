package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// FuzzParseCompile checks that every policy the parser accepts compiles:
// the extension validates policies with the parser alone, so a policy it
// accepts must not fail in the wrapper.
func FuzzParseCompile(f *testing.F) {
	files, err := filepath.Glob("policy/testdata/policies/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range append(files, "policy/default.yaml") {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\ninputs: [{id: a, match: {phrases: [x, y]}}]\nsinks: {files: {deny: ['/a/**']}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if _, err := Compile(p); err != nil {
			t.Fatalf("Compile() of a parsed policy failed: %v", err)
		}
	})
}
