package rasp

import (
	"context"
	"os/exec"
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// Command returns the *exec.Cmd that exec.CommandContext(ctx, name,
// args...) builds, once the exec guard has checked it against the
// sinks.exec policy and the inputs of the invocation ctx belongs to. A
// refused command is never started: Command returns a nil *exec.Cmd and
// a *BlockedError (in monitor mode it reports and returns the command).
//
// It refuses a program sinks.exec does not allow, a "sh -c" (bash, dash,
// ...) script in which a request input spans shell tokens ("; id",
// "$(id)", "| nc ..."), and a request input that becomes an option of
// the program ("--upload-pack=..."). As with exec.CommandContext, the
// process is killed when ctx is done, so pass a context that outlives the
// command. The check covers the command as built: changing cmd.Path or
// cmd.Args afterwards is not checked.
func Command(ctx context.Context, name string, args ...string) (*exec.Cmd, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if err := checkCommand(ctx, cmd.Path, args); err != nil {
		return nil, err
	}
	return cmd, nil
}

// CheckCommand runs the exec guard's checks of [Command] on a program
// about to be run some other way (os.StartProcess, syscall.Exec, a
// library that takes argv). name is looked up in PATH when it has no
// slash. It returns a *BlockedError when the command must not run, nil
// otherwise.
func CheckCommand(ctx context.Context, name string, args ...string) error {
	program := name
	if name != "" && !strings.Contains(name, "/") {
		if p, err := exec.LookPath(name); err == nil {
			program = p
		}
	}
	return checkCommand(ctx, program, args)
}

// checkCommand checks program (resolved, or as named) with args
// (argv[1:]).
func checkCommand(ctx context.Context, program string, args []string) error {
	g, inputs := sinkInputs(ctx)
	if g == nil {
		return nil
	}
	r := runSinkCheck(g, func() rules.SinkResult { return g.engine.Sinks().CheckCommand(program, args, inputs) })
	return decideSink(ctx, g, sinkExec, program, r)
}
