// Command extension is a test external extension for the simulator. Its
// behaviour is selected by the prefix of its file name; it reports what it
// sees as one JSON object per stdout line.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

var (
	name = filepath.Base(os.Args[0])
	base = "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API")
)

func report(what string, status int, body any) {
	line, _ := json.Marshal(map[string]any{"ext": name, "what": what, "status": status, "body": body})
	fmt.Println(string(line))
}

func call(method, path string, headers map[string]string, body string) (int, http.Header, []byte) {
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		os.Exit(5)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		report("error", 0, err.Error())
		os.Exit(6)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func raw(b []byte) any {
	var v any
	if json.Unmarshal(b, &v) == nil {
		return v
	}
	return string(b)
}

func register(regName, events string, extra map[string]string) (int, string) {
	h := map[string]string{"Lambda-Extension-Name": regName}
	for k, v := range extra {
		h[k] = v
	}
	status, hdr, b := call(http.MethodPost, "/2020-01-01/extension/register", h, `{"events":[`+events+`]}`)
	report("register", status, raw(b))
	return status, hdr.Get("Lambda-Extension-Identifier")
}

func has(prefix string) bool { return strings.HasPrefix(name, prefix) }

func main() {
	env := map[string]string{}
	for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_MAX_CONCURRENCY", "SIMTEST_CUSTOM", "AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_INITIALIZATION_TYPE"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	report("env", 0, env)

	events := `"INVOKE","SHUTDOWN"`
	if os.Getenv("AWS_LAMBDA_INITIALIZATION_TYPE") == "lambda-managed-instances" {
		events = `"SHUTDOWN"`
	}
	var extra map[string]string
	switch {
	case has("crash"):
		os.Exit(1)
	case has("neverregister"):
		time.Sleep(time.Hour)
	case has("wrongname"):
		if status, _ := register("not-"+name, events, nil); status != http.StatusOK {
			os.Exit(1)
		}
	case has("noshutdown"):
		events = `"INVOKE"`
	case has("shutdownonly"):
		events = `"SHUTDOWN"`
	case has("managed"):
		if status, _ := register(name, `"INVOKE","SHUTDOWN"`, nil); status == http.StatusOK {
			os.Exit(7)
		}
		events = `"SHUTDOWN"`
	case has("feature"):
		extra = map[string]string{"Lambda-Extension-Accept-Feature": "accountId"}
	case has("stuck"):
		signal.Ignore(syscall.SIGTERM)
	}
	status, id := register(name, events, extra)
	if status != http.StatusOK {
		os.Exit(1)
	}
	idh := map[string]string{"Lambda-Extension-Identifier": id}
	if has("ticker") {
		// Background work that only runs while the sandbox is not frozen.
		go func() {
			for n := 0; ; n++ {
				report("tick", n, nil)
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}

	if has("initerr") {
		status, _, b := call(http.MethodPost, "/2020-01-01/extension/init/error",
			map[string]string{"Lambda-Extension-Identifier": id, "Lambda-Extension-Function-Error-Type": "Extension.TestFailure"},
			`{"errorMessage":"cannot start","errorType":"Extension.TestFailure"}`)
		report("initerror", status, raw(b))
		os.Exit(1)
	}
	if has("telemetry") {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.Exit(8)
		}
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var batch []json.RawMessage
			if err := json.Unmarshal(b, &batch); err != nil {
				report("badbatch", 0, string(b))
			} else {
				report("batch", len(batch), json.RawMessage(b))
			}
		}))
		schema := os.Getenv("SIMTEST_SCHEMA")
		if schema == "" {
			schema = "2022-12-13"
		}
		timeoutMs := os.Getenv("SIMTEST_TIMEOUT_MS")
		if timeoutMs == "" {
			timeoutMs = "25"
		}
		port := ln.Addr().(*net.TCPAddr).Port
		body := fmt.Sprintf(`{"schemaVersion":%q,"types":["platform","function"],"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":%s},"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:%d/telemetry"}}`, schema, timeoutMs, port)
		status, _, b := call(http.MethodPut, "/2022-07-01/telemetry", map[string]string{"Lambda-Extension-Identifier": id, "Content-Type": "application/json"}, body)
		report("subscribe", status, raw(b))
	}
	for {
		status, _, b := call(http.MethodGet, "/2020-01-01/extension/event/next", idh, "")
		report("event", status, raw(b))
		if status != http.StatusOK {
			os.Exit(1)
		}
		var ev struct {
			EventType string `json:"eventType"`
		}
		_ = json.Unmarshal(b, &ev)
		if ev.EventType == "SHUTDOWN" {
			if has("stuck") {
				time.Sleep(time.Hour)
			}
			os.Exit(0)
		}
		if has("slow") {
			time.Sleep(400 * time.Millisecond)
			report("slowdone", 0, nil)
		}
	}
}
