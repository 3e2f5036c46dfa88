package rules

import "testing"

func TestCheckCommandCode(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	tests := []struct {
		name, program string
		args          []string
		give          string
		want          string // reason, "" for allow
	}{
		{"argv0 shell", "/bin/sh", []string{"-x"}, "sh", "input chooses the program"},
		{"argv0 path", "/tmp/upload/x", nil, "/tmp/upload/x", "input chooses the program"},
		{"argv0 traversal", "/srv/tools/../../bin/sh", nil, "../../bin/sh", "input chooses the program"},
		{"argv0 interpreter", "/usr/bin/python3", []string{"script.py"}, "python3", "input chooses the program"},
		{"argv0 benign word", "/bin/date", []string{"+%s"}, "date", ""},
		{"awk system", "awk", []string{"BEGIN{system(\"id\")}"}, "BEGIN{system(\"id\")}", "input is interpreter code"},
		{"awk inside code", "/usr/bin/awk", []string{"-F", ",", `$1 == "x" {system("id")} {print}`}, `x" {system("id")} {print`, "input in interpreter code"},
		{"awk -v value is data", "awk", []string{"-v", "name=x;id", "{print name}"}, "x;id", ""},
		{"awk word in code", "awk", []string{`$1 == "alice" {print $2}`}, "alice", ""},
		{"sed e command", "sed", []string{"-n", "1e id"}, "1e id", "input is interpreter code"},
		{"sed replacement", "sed", []string{"s/x/" + "y/e" + "/"}, "y/e", "input in interpreter code"},
		{"sed -e", "sed", []string{"-e", "s/a/b/", "-e", "s/c/" + "d;e id" + "/"}, "d;e id", "input in interpreter code"},
		{"sed word", "sed", []string{"s/color/colour/g", "file.txt"}, "colour", ""},
		{"sed file operand", "sed", []string{"-f", "script.sed", "x;y"}, "x;y", ""},
		{"python -c", "python3", []string{"-c", "print('" + "x');import os;os.system('id" + "')"}, "x');import os;os.system('id", "input in interpreter code"},
		{"python -Ic cluster", "python3.12", []string{"-Ic", "print(1)"}, "print(1)", "input is interpreter code"},
		{"python argument", "python3", []string{"-c", "import sys; print(sys.argv[1])", "x');id"}, "x');id", ""},
		{"perl -e", "perl", []string{"-e", "print \"" + "\";system(\"id" + "\""}, "\";system(\"id", "input in interpreter code"},
		{"perl -ne", "perl", []string{"-ne", "print if /" + "x/;system q(id);/" + "/"}, "x/;system q(id);/", "input in interpreter code"},
		{"ruby -e", "ruby", []string{"-e", "puts '" + "'+`id`+'" + "'"}, "'+`id`+'", "input in interpreter code"},
		{"node -e", "node", []string{"-e", "console.log('" + "');require('child_process').execSync('id" + "')"}, "');require('child_process').execSync('id", "input in interpreter code"},
		{"node --eval=", "node", []string{"--eval=" + "process.exit(1)"}, "process.exit(1)", "input is interpreter code"},
		{"php -r", "php", []string{"-r", "echo '" + "';system('id');'" + "';"}, "';system('id');'", "input in interpreter code"},
		{"busybox awk", "/bin/busybox", []string{"awk", "BEGIN{system(\"id\")}"}, "BEGIN{system(\"id\")}", "input is interpreter code"},
		{"env python", "/usr/bin/env", []string{"python3", "-c", "print(1);import os"}, "print(1);import os", "input is interpreter code"},
		{"perl script operand", "perl", []string{"script.pl", "-e", "x;y"}, "x;y", ""},
		{"node plain word", "node", []string{"-e", "console.log('hello')"}, "hello", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.CheckCommand(tt.program, tt.args, query(tt.give))
			if r.Reason != tt.want {
				t.Fatalf("CheckCommand(%q, %q) = %+v, want reason %q", tt.program, tt.args, r, tt.want)
			}
		})
	}
	// An allowed program may be chosen by input: the policy vetted it.
	s = sinksFor(t, "block", "sinks:\n  exec: {mode: block, allow: [python3]}\n")
	if r := s.CheckCommand("/usr/bin/python3", []string{"x.py"}, query("python3")); r.Matched() {
		t.Errorf("allowed program refused: %+v", r)
	}
}

func FuzzCodeArgs(f *testing.F) {
	f.Add("awk", "-F", ",", "{print}")
	f.Add("sed", "-e", "s/a/b/", "-f")
	f.Add("python3", "-Ic", "x", "--")
	f.Add("env", "busybox", "perl", "-ne")
	f.Fuzz(func(t *testing.T, program, a, b, c string) {
		args := []string{a, b, c}
		for _, sp := range codeArgs(nil, program, args) {
			if sp.Arg < 0 || sp.Arg >= len(args) || sp.Start < 0 || sp.Start > sp.End || sp.End > len(args[sp.Arg]) {
				t.Fatalf("codeArgs(%q, %q) = bad span %+v", program, args, sp)
			}
		}
	})
}
