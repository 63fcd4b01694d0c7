// Package natstest gives tests of any package a real JetStream bus: an
// embedded one per test (Open), a standalone server with a TCP port (Server),
// or an in-process cluster for fault tests (Cluster, Restart).
package natstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/wims/wims/nats"
)

// Open returns an embedded bus on a fresh t.TempDir() store with a unique
// namespace, closed when the test ends. SyncAlways is off: tests do not
// survive power loss, and fsync per message would slow them tenfold.
func Open(tb testing.TB) *nats.Bus {
	tb.Helper()
	return OpenConfig(tb, nats.Config{StoreDir: tb.TempDir()})
}

// OpenConfig opens a bus with cfg, giving it a unique namespace if it has
// none, and closes it when the test ends. Use it to connect to Server or
// Cluster URLs.
func OpenConfig(tb testing.TB, cfg nats.Config) *nats.Bus {
	tb.Helper()
	if cfg.Namespace == "" {
		cfg.Namespace = Namespace()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := nats.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("natstest: open bus: %v", err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("natstest: close bus: %v", err)
		}
	})
	return b
}

// Namespace returns a unique namespace ("t" and 8 hex digits).
func Namespace() string {
	var p [4]byte
	_, _ = rand.Read(p[:])
	return "t" + hex.EncodeToString(p[:])
}

// registry remembers each server's options, so Restart can bring a node
// back with the same name, ports and store.
var registry sync.Map // *natsserver.Server → *natsserver.Options

// Server starts a standalone JetStream server on a random loopback port and
// returns its URL. Several buses with different namespaces can share it.
// It is shut down when the test ends.
func Server(tb testing.TB) (string, *natsserver.Server) {
	tb.Helper()
	opts := &natsserver.Options{
		ServerName: "natstest",
		Host:       "127.0.0.1",
		Port:       natsserver.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   tb.TempDir(),
		NoSigs:     true,
		NoLog:      true,
	}
	s := start(tb, opts)
	optsOf(tb, s).Port = clientPort(tb, s) // a restart keeps the URL
	return s.ClientURL(), s
}

// Cluster starts an n-node JetStream cluster in the process, with client and
// route ports on random loopback ports (route ports chosen before start), and waits until it has a meta
// leader. It returns the client URLs (in node order) and the servers; stop a
// node with servers[i].Shutdown() and bring it back with Restart. n = 1
// gives a standalone server. Every node still running is shut down when the
// test ends.
func Cluster(tb testing.TB, n int) (urls []string, servers []*natsserver.Server) {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("natstest: cluster of %d nodes", n)
	}
	if n == 1 {
		u, s := Server(tb)
		return []string{u}, []*natsserver.Server{s}
	}
	name := "natstest-" + Namespace()
	// A clustered JetStream server refuses to start without routes, so the
	// route ports are picked up front (free loopback ports, released just
	// before the servers bind them) and every node gets the full list.
	// Client ports stay random (-1).
	routes := make([]*url.URL, n)
	for i := range routes {
		routes[i] = &url.URL{Scheme: "nats-route", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(tb)))}
	}
	for i := range n {
		port, _ := strconv.Atoi(routes[i].Port())
		opts := &natsserver.Options{
			ServerName: fmt.Sprintf("n%d", i),
			Host:       "127.0.0.1",
			Port:       natsserver.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   tb.TempDir(),
			NoSigs:     true,
			NoLog:      true,
			Cluster: natsserver.ClusterOpts{
				Name: name,
				Host: "127.0.0.1",
				Port: port,
			},
			Routes: routes,
		}
		s := start(tb, opts)
		// Pin the client port, so a restarted node keeps its URL.
		optsOf(tb, s).Port = clientPort(tb, s)
		servers = append(servers, s)
		urls = append(urls, s.ClientURL())
	}
	waitClusterReady(tb, servers)
	return urls, servers
}

// Restart starts a node that was shut down again, with its name, ports and
// store, and waits until the cluster has a meta leader and the node is
// current. Replace the old *Server with the result.
func Restart(tb testing.TB, s *natsserver.Server) *natsserver.Server {
	tb.Helper()
	if s.Running() {
		tb.Fatalf("natstest: restart %s: still running", s.Name())
	}
	opts := optsOf(tb, s).Clone()
	ns := start(tb, opts)
	if opts.Cluster.Port != 0 {
		WaitFor(tb, 30*time.Second, func() error {
			if !ns.JetStreamIsCurrent() {
				return fmt.Errorf("node %s not current", ns.Name())
			}
			return nil
		})
	}
	return ns
}

// start starts a server with opts and shuts it down at the end of the test.
func start(tb testing.TB, opts *natsserver.Options) *natsserver.Server {
	tb.Helper()
	// Keep a pristine copy: the running server owns opts, and Restart and
	// Cluster adjust the copy (pinned ports, routes) without racing it.
	saved := opts.Clone()
	s, err := natsserver.NewServer(opts)
	if err != nil {
		tb.Fatalf("natstest: new server: %v", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		tb.Fatalf("natstest: server %s not ready", opts.ServerName)
	}
	registry.Store(s, saved)
	tb.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
		registry.Delete(s)
	})
	return s
}

func optsOf(tb testing.TB, s *natsserver.Server) *natsserver.Options {
	tb.Helper()
	o, ok := registry.Load(s)
	if !ok {
		tb.Fatalf("natstest: server %s was not started by natstest", s.Name())
	}
	return o.(*natsserver.Options)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("natstest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func clientPort(tb testing.TB, s *natsserver.Server) int {
	tb.Helper()
	u, err := url.Parse(s.ClientURL())
	if err != nil {
		tb.Fatalf("natstest: client url: %v", err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		tb.Fatalf("natstest: client port: %v", err)
	}
	return p
}

// waitClusterReady waits until one node is the JetStream meta leader, every
// node is current and the leader has heard from every node, so that the
// first stream creation races neither the election nor the peers' first
// reports (until then the leader refuses a placement on all of them: "no
// suitable peers", which the bus retries, but a test asks for a formed
// cluster).
func waitClusterReady(tb testing.TB, servers []*natsserver.Server) {
	tb.Helper()
	WaitFor(tb, 30*time.Second, func() error {
		var leader *natsserver.Server
		for _, s := range servers {
			if s.JetStreamIsLeader() {
				if leader != nil {
					return fmt.Errorf("two meta leaders")
				}
				leader = s
			}
			if !s.JetStreamIsCurrent() {
				return fmt.Errorf("node %s not current", s.Name())
			}
		}
		if leader == nil {
			return fmt.Errorf("no meta leader")
		}
		if n := len(leader.JetStreamClusterPeers()); n != len(servers) {
			return fmt.Errorf("the meta leader has heard from %d of %d nodes", n, len(servers))
		}
		return nil
	})
}

// WaitFor polls f until it returns nil, failing the test after timeout: the
// way tests wait for asynchronous work, never with a fixed sleep.
func WaitFor(tb testing.TB, timeout time.Duration, f func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
