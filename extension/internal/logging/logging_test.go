package logging

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap/zapcore"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		give    string
		want    zapcore.Level
		wantErr bool
	}{
		{"", zapcore.InfoLevel, false},
		{"info", zapcore.InfoLevel, false},
		{"DEBUG", zapcore.DebugLevel, false},
		{" warn ", zapcore.WarnLevel, false},
		{"error", zapcore.ErrorLevel, false},
		{"verbose", zapcore.InfoLevel, true},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.give)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v, err %v", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestNewFormat(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "lambda-rasp", zapcore.InfoLevel)
	l.Debug("hidden")
	l.Info("registered")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	if m["logger"] != "lambda-rasp" || m["msg"] != "registered" || m["level"] != "info" {
		t.Errorf("line = %v", m)
	}
	if ts, _ := m["ts"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
		t.Errorf("ts = %q, want ISO-8601 UTC with milliseconds", ts)
	}
	buf.Reset()
	Security(&buf).Warn("security event")
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["logger"] != "security" {
		t.Errorf("security line = %q", buf.String())
	}
}

// chunkWriter writes in 7-byte pieces, as a pipe may split large writes.
type chunkWriter struct{ b bytes.Buffer }

func (c *chunkWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 7 {
		c.b.Write(p[i:min(i+7, len(p))])
	}
	return len(p), nil
}

func TestSyncWriterKeepsWritesWhole(t *testing.T) {
	cw := &chunkWriter{}
	w := NewSyncWriter(cw)
	var wg sync.WaitGroup
	for _, c := range "abcdefgh" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				_, _ = w.Write([]byte(strings.Repeat(string(c), 100) + "\n"))
			}
		}()
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSpace(cw.b.String()), "\n") {
		if len(line) != 100 || strings.Count(line, line[:1]) != 100 {
			t.Fatalf("interleaved line %q", line)
		}
	}
}
