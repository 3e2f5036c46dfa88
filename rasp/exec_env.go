package rasp

import (
	"context"
	"os"
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// minEnvInput is the shortest input correlated with an environment
// variable's value: shorter ones are found in any library path.
const minEnvInput = 4

// checkEnv checks the environment env a child of program is about to
// get: a variable that makes it load or run other code (see
// dangerousEnv), set to anything but the process's own value, is refused
// when a request input is in it, and — when added is set, for commands
// built by Command — whatever its value, since it was added after the
// check.
func checkEnv(ctx context.Context, program string, env []string, added bool) error {
	g, inputs := sinkInputs(ctx)
	if g == nil || g.engine.Sinks().ExecMode() == rules.ModeOff {
		return nil
	}
	r := runSinkCheck(g, func() rules.SinkResult { return envFinding(g.engine.Sinks().ExecMode(), env, inputs, added) })
	return decideSink(ctx, g, sinkExec, program, r)
}

// envFinding is checkEnv's decision, under the exec guard's mode.
func envFinding(mode rules.Mode, env []string, inputs []rules.Field, added bool) rules.SinkResult {
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !dangerousEnv(name) {
			continue
		}
		if own, set := os.LookupEnv(name); set && own == value {
			continue // inherited unchanged
		}
		r := rules.SinkResult{Action: rules.ActionBlock, RuleID: rules.RuleCmdiSink}
		if mode == rules.ModeMonitor {
			r.Action = rules.ActionMonitor
		}
		for i := range inputs {
			v := inputs[i].Value
			if len(v) >= minEnvInput && strings.Contains(kv, v) {
				r.Reason, r.Input = "input in a code-loading environment variable", &inputs[i]
				r.Excerpt = rules.EgressExcerpt(v, 0, len(v))
				return r
			}
		}
		if added {
			r.Reason = "code-loading environment variable set after the check"
			return r
		}
	}
	return rules.SinkResult{}
}

// dangerousEnv reports whether an environment variable of that name
// makes a child process load libraries, run start-up code or pass
// options to an interpreter: the dynamic loader's LD_* (and macOS's
// DYLD_*), shells' BASH_ENV, ENV, exported BASH_FUNC_* functions,
// SHELLOPTS, PS4 and PROMPT_COMMAND, and the start-up hooks of perl,
// python, ruby, node, php, Java, glibc's iconv and git.
func dangerousEnv(name string) bool {
	if strings.HasPrefix(name, "LD_") || strings.HasPrefix(name, "DYLD_") || strings.HasPrefix(name, "BASH_FUNC_") {
		return true
	}
	switch name {
	case "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS",
		"PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB",
		"PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME", "PYTHONINSPECT", "PYTHONWARNINGS",
		"NODE_OPTIONS", "NODE_PATH", "RUBYOPT", "RUBYLIB", "PHPRC", "PHP_INI_SCAN_DIR",
		"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "GCONV_PATH",
		"GIT_SSH_COMMAND", "GIT_SSH", "GIT_EXEC_PATH", "GIT_PROXY_COMMAND", "LESSOPEN", "LESSCLOSE":
		return true
	}
	return false
}
