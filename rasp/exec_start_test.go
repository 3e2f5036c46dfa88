package rasp

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// TestCommandCheckedAtStart: what a command is when it starts is what
// the guard judges, not only what Command built.
func TestCommandCheckedAtStart(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	g, _ := sinkTestGuard(t, "block", sinkPolicy)
	marker := filepath.Join(t.TempDir(), "ran")
	attack := "x; touch " + marker
	ctx := sinkTestCtx(g, rules.Field{Source: rules.SourceBody, Path: "body.name", Value: attack})

	starts := []struct {
		name string
		run  func(*Cmd) error
	}{
		{"Run", func(c *Cmd) error { return c.Run() }},
		{"Start", func(c *Cmd) error {
			if err := c.Start(); err != nil {
				return err
			}
			return c.Wait()
		}},
		{"Output", func(c *Cmd) error { _, err := c.Output(); return err }},
		{"CombinedOutput", func(c *Cmd) error { _, err := c.CombinedOutput(); return err }},
	}
	for _, st := range starts {
		t.Run(st.name, func(t *testing.T) {
			// Args rewritten after Command returned.
			cmd, err := Command(ctx, "echo", "hello")
			if err != nil {
				t.Fatal(err)
			}
			cmd.Path, cmd.Args = sh, []string{"sh", "-c", "echo " + attack}
			if err := st.run(cmd); err == nil {
				t.Fatal("rewritten Args ran")
			} else {
				sinkBlocked(t, err)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the injected command ran")
			}
			// LD_PRELOAD added after Command returned.
			cmd, err = Command(ctx, "true")
			if err != nil {
				t.Fatal(err)
			}
			cmd.Env = append(os.Environ(), "LD_PRELOAD=/tmp/evil.so")
			if err := st.run(cmd); err == nil {
				t.Fatal("LD_PRELOAD added after the check ran")
			} else if be := sinkBlocked(t, err); be.Reason != "code-loading environment variable set after the check" {
				t.Errorf("reason = %q", be.Reason)
			}
			// Ordinary variables and the inherited environment pass.
			cmd, err = Command(ctx, "true")
			if err != nil {
				t.Fatal(err)
			}
			cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
			if err := st.run(cmd); err != nil {
				t.Fatalf("benign environment refused: %v", err)
			}
		})
	}
}

func TestCheckCmdEnvironment(t *testing.T) {
	g, _ := sinkTestGuard(t, "block", sinkPolicy)
	ctx := sinkTestCtx(g, rules.Field{Source: rules.SourceBody, Path: "body.lib", Value: "/tmp/upload/x.so"})
	cmd := exec.Command("true")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LD_PRELOAD=/tmp/upload/x.so"}
	if err := CheckCmd(ctx, cmd); err == nil {
		t.Fatal("LD_PRELOAD from input allowed")
	} else if be := sinkBlocked(t, err); be.Reason != "input in a code-loading environment variable" || len(be.Paths) != 1 || be.Paths[0] != "body.lib" {
		t.Errorf("BlockedError = %+v", be)
	}
	// Set deliberately, with no input in it: CheckCmd lets it through.
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LD_LIBRARY_PATH=/opt/vendor/lib"}
	if err := CheckCmd(ctx, cmd); err != nil {
		t.Errorf("deliberate LD_LIBRARY_PATH refused: %v", err)
	}
	for _, name := range []string{"LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "ENV", "PERL5OPT", "PYTHONSTARTUP", "NODE_OPTIONS", "BASH_FUNC_x%%"} {
		if !dangerousEnv(name) {
			t.Errorf("dangerousEnv(%q) = false", name)
		}
	}
	for _, name := range []string{"PATH", "HOME", "LANG", "AWS_REGION", "TZ"} {
		if dangerousEnv(name) {
			t.Errorf("dangerousEnv(%q) = true", name)
		}
	}
}

func TestCommandInterpreterCode(t *testing.T) {
	g, _ := sinkTestGuard(t, "block", sinkPolicy)
	tests := []struct {
		give string
		name string
		args []string
	}{
		{`BEGIN{system("id")}`, "awk", []string{`BEGIN{system("id")}`}},
		{"1e id", "sed", []string{"-n", "1e id"}},
		{"x');__import__('os').system('id", "python3", []string{"-c", "print('x');__import__('os').system('id')"}},
		{"sh", "sh", []string{"-s"}},
	}
	for _, tt := range tests {
		ctx := sinkTestCtx(g, rules.Field{Source: rules.SourceQuery, Path: "query.q", Value: tt.give})
		if _, err := Command(ctx, tt.name, tt.args...); err == nil {
			t.Errorf("Command(%q, %q) allowed", tt.name, tt.args)
		}
	}
}
