package lambdasim

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// extensionFiles lists the executable regular files of dir, sorted.
func extensionFiles(dir string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read extensions dir: %w", err)
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p) // follows symlinks like the platform does
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// initialize runs the Init phase: extensions, then the runtime, then waits
// until everything called next.
func (sb *sandbox) initialize() error {
	s := sb.sim
	sb.initStart = time.Now()
	deadline := time.NewTimer(s.cfg.InitTimeout)
	defer deadline.Stop()
	sb.log(Event{Kind: EventInitStart})
	sb.emit("platform.initStart", map[string]any{
		"initializationType": s.initType(),
		"phase":              "init",
		"runtimeVersion":     "provided:al2023.simulated",
		"runtimeVersionArn":  "arn:aws:lambda:" + s.cfg.Region + "::runtime:lambdasim",
		"functionName":       s.cfg.FunctionName,
		"functionVersion":    "$LATEST",
	})
	if err := sb.startExtensions(); err != nil {
		return err
	}
	if err := sb.awaitRegistrations(deadline.C); err != nil {
		return err
	}
	rt, err := sb.startRuntime()
	if err != nil {
		return err
	}
	if err := sb.awaitRuntimeReady(rt, deadline.C); err != nil {
		return err
	}
	if err := sb.awaitExtensionsReady(rt, deadline.C); err != nil {
		return err
	}
	sb.initDone()
	return nil
}

// errShutDuringInit is the Init failure of an environment shut down
// meanwhile.
const errShutDuringInit = "the environment was shut down during init"

// startExtensions starts every external extension of ExtensionsDir.
func (sb *sandbox) startExtensions() error {
	s := sb.sim
	files, err := extensionFiles(s.cfg.ExtensionsDir)
	if err != nil {
		return sb.initFailure("Extension.LaunchError", err.Error())
	}
	if len(files) > MaxExtensions {
		return sb.initFailure("Extension.TooManyExtensions", fmt.Sprintf("%d extensions, the limit is %d", len(files), MaxExtensions))
	}
	extEnv := s.environment(false)
	for _, path := range files {
		name := filepath.Base(path)
		ext := newExtension(name, false)
		// Known before it starts: it may register at once.
		sb.mu.Lock()
		sb.byName[name] = ext
		sb.order = append(sb.order, ext)
		sb.mu.Unlock()
		p, err := startProcess(name, path, filepath.Dir(s.bootstrap), extEnv, s.out, func(line string) {
			sb.emit("extension", line)
		})
		if err != nil {
			return sb.initFailure("Extension.LaunchError", err.Error())
		}
		sb.mu.Lock()
		ext.proc = p
		dead := sb.phase == phaseShutdown
		sb.mu.Unlock()
		if dead { // a concurrent Shutdown took its snapshot before p existed
			p.kill()
			return sb.initFailure("Sandbox.Shutdown", errShutDuringInit)
		}
		sb.log(Event{Kind: EventExtensionStart, Name: name, Detail: "pid " + strconv.Itoa(p.pid())})
		go sb.watchExtension(ext)
	}
	return nil
}

// awaitRegistrations waits until every external extension registered:
// they all do before the runtime starts.
func (sb *sandbox) awaitRegistrations(deadline <-chan time.Time) error {
	for _, ext := range sb.externals() {
		if stop := sb.initWait(ext.registered, ext.proc.exited, nil, deadline); stop != initReady {
			crash := ""
			if stop == initCrash {
				crash = fmt.Sprintf("extension %s exited before registering: %s", ext.name, ext.proc.exitStatus())
			}
			return sb.initStopped(stop, nil, crash, fmt.Sprintf("extension %s did not register within %v", ext.name, sb.sim.cfg.InitTimeout))
		}
	}
	return nil
}

// startRuntime starts the function's bootstrap.
func (sb *sandbox) startRuntime() (*process, error) {
	s := sb.sim
	// Set first: the runtime may register internal extensions at once.
	sb.mu.Lock()
	sb.runtimeStarted = true
	sb.mu.Unlock()
	rt, err := startProcess("runtime", s.bootstrap, filepath.Dir(s.bootstrap), s.environment(true), s.out, func(line string) {
		sb.emit("function", line)
		sb.appendLog(line)
	})
	if err != nil {
		return nil, sb.initFailure("Runtime.InvalidEntrypoint", err.Error())
	}
	sb.mu.Lock()
	sb.runtime = rt
	dead := sb.phase == phaseShutdown
	sb.mu.Unlock()
	if dead {
		rt.kill()
		return nil, sb.initFailure("Sandbox.Shutdown", errShutDuringInit)
	}
	sb.log(Event{Kind: EventRuntimeStart, Name: "runtime", Detail: "pid " + strconv.Itoa(rt.pid())})
	go sb.watchRuntime(rt)
	return rt, nil
}

// awaitRuntimeReady waits for the runtime's first next.
func (sb *sandbox) awaitRuntimeReady(rt *process, deadline <-chan time.Time) error {
	if stop := sb.initWait(sb.runtimeReady, nil, rt.exited, deadline); stop != initReady {
		return sb.initStopped(stop, rt, "", fmt.Sprintf("runtime did not call next within %v", sb.sim.cfg.InitTimeout))
	}
	rt.syncOutput()
	sb.emit("platform.initRuntimeDone", map[string]any{
		"initializationType": sb.sim.initType(), "phase": "init", "status": "success",
	})
	return nil
}

// awaitExtensionsReady waits until every extension called next: Init ends
// then.
func (sb *sandbox) awaitExtensionsReady(rt *process, deadline <-chan time.Time) error {
	for _, ext := range sb.extensions() {
		if stop := sb.initWait(ext.ready, ext.exited(), rt.exited, deadline); stop != initReady {
			crash := ""
			if stop == initCrash {
				crash = fmt.Sprintf("extension %s exited during init: %s", ext.name, ext.proc.exitStatus())
			}
			return sb.initStopped(stop, rt, crash, fmt.Sprintf("extension %s did not call next within %v", ext.name, sb.sim.cfg.InitTimeout))
		}
	}
	return nil
}

// initDone ends a successful Init.
func (sb *sandbox) initDone() {
	s := sb.sim
	sb.mu.Lock()
	sb.phase = phaseReady
	sb.backlog = nil
	sb.mu.Unlock()
	for _, ext := range sb.extensions() {
		sb.emit("platform.extension", map[string]any{"name": ext.name, "state": "Ready", "events": nonNil(ext.events)})
	}
	sb.initDuration = time.Since(sb.initStart)
	sb.emit("platform.initReport", map[string]any{
		"initializationType": s.initType(), "phase": "init", "status": "success",
		"metrics": map[string]any{"durationMs": ms(sb.initDuration)},
	})
	sb.log(Event{Kind: EventInitDone, Detail: sb.initDuration.Round(time.Millisecond).String()})
	sb.freeze()
}

// initStop is why a wait during Init ended.
type initStop int

const (
	initReady       initStop = iota // what was waited for happened
	initCrash                       // the extension waited for exited
	initRuntimeExit                 // the runtime exited
	initErrorCall                   // an init/error call failed Init
	initShutdown                    // the environment is shutting down
	initTimeout                     // Config.InitTimeout passed
)

// initWait waits during Init for ready, unless the extension's process
// (crashed) or the runtime (rtExited) exits, Init fails, the environment
// shuts down or the deadline passes first. Nil channels never fire.
func (sb *sandbox) initWait(ready, crashed, rtExited <-chan struct{}, deadline <-chan time.Time) initStop {
	select {
	case <-ready:
		return initReady
	case <-crashed:
		return initCrash
	case <-rtExited:
		return initRuntimeExit
	case <-sb.initFailed:
		return initErrorCall
	case <-sb.dead:
		return initShutdown
	case <-deadline:
		return initTimeout
	}
}

// initStopped fails Init for stop: crash describes an initCrash, timeout
// an initTimeout.
func (sb *sandbox) initStopped(stop initStop, rt *process, crash, timeout string) error {
	switch stop {
	case initCrash:
		return sb.initFailure("Extension.Crash", crash)
	case initRuntimeExit:
		return sb.initFailure("Runtime.ExitError", "runtime exited during init: "+rt.exitStatus())
	case initErrorCall:
		return sb.initFailure("", "")
	case initShutdown:
		return sb.initFailure("Sandbox.Shutdown", errShutDuringInit)
	}
	return sb.initFailure("Sandbox.Timedout", timeout)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// initFailure records the failure (typ empty: an init/error call already
// did), emits the failed init telemetry and tears the environment down.
func (sb *sandbox) initFailure(typ, msg string) error {
	if typ != "" {
		sb.failInit(typ, msg)
	}
	sb.mu.Lock()
	ie := sb.initErr
	sb.mu.Unlock()
	if ie == nil { // the phase moved on concurrently; report what we saw
		ie = &InitError{Type: typ, Message: msg}
	}
	status := "failure"
	if ie.Type == "Sandbox.Timedout" {
		status = "timeout"
	}
	sb.emit("platform.initRuntimeDone", map[string]any{
		"initializationType": sb.sim.initType(), "phase": "init", "status": status, "errorType": ie.Type,
	})
	sb.emit("platform.initReport", map[string]any{
		"initializationType": sb.sim.initType(), "phase": "init", "status": status, "errorType": ie.Type,
		"metrics": map[string]any{"durationMs": ms(time.Since(sb.initStart))},
	})
	sb.log(Event{Kind: EventInitFailed, Detail: ie.Type + ": " + ie.Message})
	sb.shutdown(ReasonFailure, sb.sim.cfg.ShutdownBudget)
	return ie
}
