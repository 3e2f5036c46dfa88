package rasp

import (
	"context"
	"os/exec"
	"slices"
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// Cmd is a command built by [Command]: an *exec.Cmd (every field and
// method of it is available) whose Start, Run, Output and CombinedOutput
// run the exec guard again on the command as it is then — the final
// Path, Args and Env — so that changing cmd.Path, cmd.Args or cmd.Env
// after Command returned is checked too. Pass cmd.Cmd where an
// *exec.Cmd is wanted; its own Start is then unchecked.
type Cmd struct {
	*exec.Cmd
	ctx context.Context
	// path and args are what Command checked; Start checks again only
	// what changed, so a monitored finding is not reported twice.
	path string
	args []string
}

// Command returns the command exec.CommandContext(ctx, name, args...)
// builds, once the exec guard has checked it against the sinks.exec
// policy and the inputs of the invocation ctx belongs to. A refused
// command is never started: Command returns a nil *Cmd and a
// *BlockedError (in monitor mode it reports and returns the command).
//
// It refuses a program sinks.exec does not allow; a program an input
// chose (argv[0], see [rules.Sinks.CheckCommand]); a "sh -c" (bash,
// dash, busybox sh, ...) script in which a request input spans shell
// tokens ("; id", "$(id)", "| nc ..."); an input inside the code an
// interpreter runs (awk's program, sed's script, perl/ruby -e, python
// -c, node -e, php -r); and a request input that becomes an option of
// the program ("--upload-pack=..."). When the command starts, the same
// checks run on its final Path and Args, and its environment is checked:
// a variable that makes the child load or run other code (LD_PRELOAD,
// LD_LIBRARY_PATH, BASH_ENV, ENV, PERL5OPT, PYTHONSTARTUP, NODE_OPTIONS,
// ...) is refused when it was added or changed after Command returned
// (the process's own value, inherited unchanged, passes). As with
// exec.CommandContext, the process is killed when ctx is done, so pass a
// context that outlives the command.
func Command(ctx context.Context, name string, args ...string) (*Cmd, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if err := checkCommand(ctx, cmd.Path, args); err != nil {
		return nil, err
	}
	return &Cmd{Cmd: cmd, ctx: ctx, path: cmd.Path, args: slices.Clone(cmd.Args)}, nil
}

// Start checks the command as it is now (see [Command]) and starts it.
func (c *Cmd) Start() error {
	if err := c.check(); err != nil {
		return err
	}
	return c.Cmd.Start()
}

// Run checks the command as it is now (see [Command]), starts it and
// waits for it to complete.
func (c *Cmd) Run() error {
	if err := c.check(); err != nil {
		return err
	}
	return c.Cmd.Run()
}

// Output checks the command as it is now (see [Command]), runs it and
// returns its standard output.
func (c *Cmd) Output() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.Cmd.Output()
}

// CombinedOutput checks the command as it is now (see [Command]), runs
// it and returns its combined standard output and standard error.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.Cmd.CombinedOutput()
}

// check runs the exec guard on the final Path, Args and Env.
func (c *Cmd) check() error {
	if c.Path != c.path || !slices.Equal(c.Args, c.args) {
		var args []string
		if len(c.Args) > 1 {
			args = c.Args[1:]
		}
		if err := checkCommand(c.ctx, c.Path, args); err != nil {
			return err
		}
		c.path, c.args = c.Path, slices.Clone(c.Args)
	}
	if c.Env == nil {
		return nil // inherited unchanged
	}
	return checkEnv(c.ctx, c.Path, c.Env, true)
}

// CheckCmd runs the exec guard's checks of [Command] on a command built
// some other way, as it is now: its Path, Args and Env. A variable that
// makes the child load or run other code is refused here only when a
// request input is in it (code that sets LD_LIBRARY_PATH deliberately
// builds the command itself and calls CheckCmd just before Start). It
// returns a *BlockedError when the command must not run, nil otherwise.
func CheckCmd(ctx context.Context, cmd *exec.Cmd) error {
	var args []string
	if len(cmd.Args) > 1 {
		args = cmd.Args[1:]
	}
	if err := checkCommand(ctx, cmd.Path, args); err != nil {
		return err
	}
	if cmd.Env == nil {
		return nil
	}
	return checkEnv(ctx, cmd.Path, cmd.Env, false)
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
