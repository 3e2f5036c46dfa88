package export

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is a running loopback /metrics server.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	stop chan struct{}
	once sync.Once
	res  error
	err  chan error
}

// Serve serves /metrics (promhttp, from g) on a loopback address only; it
// refuses any address whose host is not 127.0.0.0/8, ::1 or localhost. The
// server stops when ctx is done or Close is called.
func Serve(ctx context.Context, addr string, g prometheus.Gatherer) (*Server, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, fmt.Errorf("export: serve: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("export: serve: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{Timeout: 2 * time.Second}))
	s := &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 2 * time.Second,
			ReadTimeout:       5 * time.Second,
			WriteTimeout:      5 * time.Second,
			IdleTimeout:       30 * time.Second,
		},
		err:  make(chan error, 1),
		stop: make(chan struct{}),
	}
	go func() { s.err <- s.srv.Serve(ln) }()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.srv.Close()
		case <-s.stop:
		}
	}()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close shuts the server down gracefully, waiting at most one second for
// in-flight scrapes, and returns once it has stopped.
func (s *Server) Close() error {
	s.once.Do(func() { s.res = s.close() })
	return s.res
}

func (s *Server) close() error {
	close(s.stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	if serr := <-s.err; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("export: serve: %w", serr)
	}
	return err
}
