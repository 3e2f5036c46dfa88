package rasp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

func TestCommandGuard(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	g, rec := sinkTestGuard(t, "block", sinkPolicy)
	marker := filepath.Join(t.TempDir(), "ran")

	// "; touch marker" spans shell tokens: blocked, never started.
	attack := "hello; touch " + marker
	ctx := sinkTestCtx(g, rules.Field{Source: rules.SourceQuery, Path: "query.msg", Value: attack})
	cmd, err := Command(ctx, "sh", "-c", "echo "+attack)
	if cmd != nil {
		t.Fatalf("Command returned a command for an injection")
	}
	be := sinkBlocked(t, err)
	if be.Sink != "exec" || be.RuleIDs[0] != rules.RuleCmdiSink || be.Dest == "" || !strings.HasSuffix(be.Dest, "sh") {
		t.Errorf("BlockedError = %+v", be)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the injected command ran")
	}
	ev := rec.all()
	if len(ev) != 1 || ev[0].Kind != wire.KindSink || ev[0].Sink != "exec" || ev[0].Category != "cmdi" || ev[0].Path != "query.msg" || ev[0].Excerpt == "" {
		t.Errorf("events = %+v", ev)
	}
	if err := CheckCommand(ctx, "sh", "-c", "echo "+attack); err == nil {
		t.Error("CheckCommand allowed the injection")
	}

	// A benign input runs.
	ctx = sinkTestCtx(g, rules.Field{Source: rules.SourceQuery, Path: "query.msg", Value: "hello world"})
	cmd, err = Command(ctx, "sh", "-c", "echo hello world")
	if err != nil {
		t.Fatalf("benign command: %v", err)
	}
	out, err := cmd.Output()
	if err != nil || string(out) != "hello world\n" {
		t.Errorf("benign output = %q, %v", out, err)
	}

	// Option injection into argv.
	ctx = sinkTestCtx(g, rules.Field{Source: rules.SourceBody, Path: "body.file", Value: "--help"})
	if _, err := Command(ctx, "ls", "--help"); err == nil {
		t.Error("option injection allowed")
	} else if be := sinkBlocked(t, err); be.RuleIDs[0] != rules.RuleArgiSink {
		t.Errorf("rule = %v", be.RuleIDs)
	}
	if _, err := Command(ctx, "ls", "--", "--help"); err != nil {
		t.Errorf("operand after -- refused: %v", err)
	}
}

func TestCommandDenyList(t *testing.T) {
	g, rec := sinkTestGuard(t, "block", "sinks:\n  exec: {mode: block, deny: true, allow: [echo]}\n")
	ctx := sinkTestCtx(g)
	if _, err := Command(ctx, "sh", "-c", "id"); err == nil {
		t.Error("a program outside the allow list was allowed")
	} else if be := sinkBlocked(t, err); be.RuleIDs[0] != rules.RuleExecDeny || len(be.Paths) != 0 {
		t.Errorf("BlockedError = %+v", be)
	}
	cmd, err := Command(ctx, "echo", "ok")
	if err != nil {
		t.Fatalf("allowed program: %v", err)
	}
	if cmd.Path == "" {
		t.Error("no path")
	}
	if ev := rec.all(); len(ev) != 1 || ev[0].RuleID != rules.RuleExecDeny || ev[0].Category != "exec" {
		t.Errorf("events = %+v", ev)
	}

	// Outside an invocation the process guard's deny list applies.
	withSinkProcessGuard(t, g)
	if err := CheckCommand(context.Background(), "sh", "-c", "id"); err == nil {
		t.Error("deny list not applied outside an invocation")
	}

	// Monitor mode reports and lets it through.
	g, rec = sinkTestGuard(t, "block", "sinks:\n  exec: {mode: monitor, deny: true}\n")
	if _, err := Command(sinkTestCtx(g), "echo", "x"); err != nil {
		t.Errorf("monitor mode refused: %v", err)
	}
	if ev := rec.all(); len(ev) != 1 || ev[0].Action != "monitor" {
		t.Errorf("events = %+v", ev)
	}
}

// withSinkProcessGuard installs g as the process guard for the test.
func withSinkProcessGuard(t testing.TB, g *guard) {
	t.Helper()
	old := processGuard.Swap(g)
	t.Cleanup(func() { processGuard.Store(old) })
}
