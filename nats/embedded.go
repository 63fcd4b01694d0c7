package nats

import (
	"fmt"
	"log/slog"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

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
