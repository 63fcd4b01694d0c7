package nats

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// embedded is the server inside the process. The bus's connections reach it
// through embedded (an InProcessConnProvider), so that restart can replace
// the whole server and the connections reconnect to the new one.
type embedded struct {
	cfg Config
	log *slog.Logger
	mu  sync.Mutex
	srv *natsserver.Server
}

func newEmbedded(cfg Config, log *slog.Logger) (*embedded, error) {
	srv, err := startEmbedded(cfg, log)
	if err != nil {
		return nil, err
	}
	return &embedded{cfg: cfg, log: log, srv: srv}, nil
}

// server is the server running now.
func (e *embedded) server() *natsserver.Server {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.srv
}

// InProcessConn connects to the server running now; after a failed
// restart, to none (an error the connections retry).
func (e *embedded) InProcessConn() (net.Conn, error) { return e.server().InProcessConn() }

// restart shuts the server down and starts another on the same store,
// which reopens every stream and consumer from disk. It replaces the
// server rather than its JetStream (ShutdownJetStream, EnableJetStream):
// the server does not guard the state a re-enable rewrites against the
// requests of the JetStream that was shut down, a data race the race
// detector found in TestDiskFullRecovers.
func (e *embedded) restart() error {
	old := e.server()
	old.Shutdown()
	old.WaitForShutdown()
	srv, err := startEmbedded(e.cfg, e.log)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.srv = srv
	e.mu.Unlock()
	return nil
}

// shutdown stops the server running now and waits until its store is
// closed.
func (e *embedded) shutdown() {
	srv := e.server()
	srv.Shutdown()
	srv.WaitForShutdown()
}

// startEmbedded starts a JetStream server inside the process. It listens on
// no TCP port (DontListen): clients reach it only through an in-process
// connection, which is the safe default and the fastest transport.
func startEmbedded(cfg Config, log *slog.Logger) (*natsserver.Server, error) {
	opts := &natsserver.Options{
		ServerName: "wims-embedded",
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		DontListen: true,
		// SyncAlways fsyncs every write before the ack; without it JetStream
		// syncs every 2 minutes and power loss can drop acknowledged messages.
		SyncAlways:   cfg.SyncAlways,
		SyncInterval: cfg.SyncInterval,
		// The process owns signals; the server must not react to SIGINT etc.
		NoSigs: true,
		NoLog:  true,
	}
	s, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats: embedded server: %w", err)
	}
	// NoLog keeps the server from configuring its own logger; we route its
	// warnings and errors to slog instead, without debug or trace noise.
	s.SetLoggerV2(serverLogger{log.With("server", "embedded")}, false, false, false)
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("nats: embedded server not ready after 10s (store %s)", cfg.StoreDir)
	}
	return s, nil
}

// serverLogger adapts slog to the server's Logger interface. Notices (the
// start-up banner and the like) go to Debug: they say nothing an operator of
// wims acts on.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l serverLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Debugf(string, ...any)           {}
func (l serverLogger) Tracef(string, ...any)           {}
