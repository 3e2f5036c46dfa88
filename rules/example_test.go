package rules_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

func Example() {
	src := []byte(`
version: 1
name: shop
inputs:
  - id: admin-probe
    match: {regex: '(?i)/wp-admin|/phpmyadmin'}
    targets: [path]
  - id: scanner
    match: {phrases: [sqlmap, nikto], case_insensitive: true}
    targets: [headers]
    action: monitor
`)
	p, err := policy.Parse("shop.yaml", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	engine, err := rules.Compile(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := engine.Inspect(context.Background(), &rules.Request{
		Route: "GET /wp-admin/install.php",
		Fields: []rules.Field{
			{Source: rules.SourcePath, Path: "path", Value: "/wp-admin/install.php"},
			{Source: rules.SourceHeaders, Path: "headers.user-agent", Value: "sqlmap/1.8"},
		},
	})
	fmt.Println("action:", d.Action)
	for _, m := range d.Matches {
		fmt.Printf("%s %s %s %q\n", m.RuleID, m.Action, m.Path, m.Excerpt)
	}
	// Output:
	// action: block
	// admin-probe block path "/wp-admin/install.php"
	// scanner monitor headers.user-agent "sqlmap/1.8"
}

func Example_policyErrors() {
	_, err := policy.Parse("policy.yaml", []byte(`
version: 1
inputs:
  - id: probe
    match: {regex: '(a'}
    targets: [query, bodies]
`))
	var perrs policy.Errors
	if errors.As(err, &perrs) {
		for _, e := range perrs {
			fmt.Printf("line %d col %d rule %s: %s\n", e.Line, e.Col, e.RuleID, e.Msg)
		}
	}
	// Output:
	// line 5 col 20 rule probe: match: regex: error parsing regexp: missing closing ): `(a`
	// line 6 col 22 rule probe: unknown target source "bodies" (want query, path, headers, cookies, body, pathParams or record)
}

func ExampleDefaultEngine() {
	engine, err := rules.DefaultEngine()
	if err != nil {
		fmt.Println(err)
		return
	}
	d := engine.Inspect(context.Background(), &rules.Request{
		Route: "GET /users",
		Fields: []rules.Field{
			{Source: rules.SourceQuery, Path: "query.id", Value: "1' OR '1'='1"},
			{Source: rules.SourceHeaders, Path: "headers.user-agent", Value: "Mozilla/5.0"},
		},
	})
	fmt.Println(engine.Name(), engine.Mode(), d.Action)
	for _, m := range d.Matches {
		fmt.Println(m.RuleID, m.Category, m.Path)
	}
	// Output:
	// default block block
	// sqli sqli query.id
}
