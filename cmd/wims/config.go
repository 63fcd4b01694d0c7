package main

import (
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wims/wims"
	"github.com/wims/wims/eventcrypt"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/mail"
)

// Config is everything `wims serve` is configured with: flags, each also an
// environment variable WIMS_<NAME>.
type Config struct {
	Addr         string
	DataDir      string
	Store        string
	NATSURLs     []string
	Namespace    string
	NATSReplicas int
	PaymentsURL  string
	PaymentsRate float64
	// PaymentsMaxBackoff caps the delay between failed payment attempts.
	PaymentsMaxBackoff time.Duration
	NotifyWebhooks     []string
	// FulfillmentURL, if set, receives every order that becomes PAID (the
	// built-in rule order-fulfillment).
	FulfillmentURL string
	// SMTPURL is the mail server for NotifyEmails (it may hold a password:
	// String redacts it).
	SMTPURL         string
	NotifyEmails    []string
	NotifyEmailFrom string
	ConfigFile      string
	Architecture    string
	LogLevel        string
	LogFormat       string
	Insecure        bool
	// APIKeys are "KEY[:ROLE]" (--api-key, WIMS_API_KEYS). Never log them:
	// Config.String redacts them.
	APIKeys []string
	// RateLimit is requests/s per API key (per client address without
	// keys); 0 is unlimited.
	RateLimit     float64
	ShutdownGrace time.Duration
	// NoSync turns off fsync on every commit (SQLite synchronous=NORMAL,
	// JetStream without sync-always): faster, but a power loss can lose the
	// last acknowledged writes. A process crash still loses nothing.
	NoSync bool
	// BusSync is how the embedded JetStream server syncs: "always" (fsync
	// before every acknowledgement) or a duration (the default, group
	// commit): the server fsyncs every interval, and a publish that is not
	// Rebuildable waits for a group commit of the store before it returns
	// (nats/storesync.go). The database, fsynced on every commit, is the
	// source of truth either way; the relay and the reconciler rebuild what
	// a power loss takes from the bus.
	BusSync string
	// BusSyncJournal is a test hook (hidden flag): each group commit of the
	// bus's store appends what it made durable to this file.
	BusSyncJournal string
	// OTLPEndpoint, if set, is where spans are exported (OTLP over HTTP).
	OTLPEndpoint string
	// ReconcileGrace is how long an order may stay PENDING, RESERVED or
	// REFUND_PENDING (with no payment or refund queued) before the
	// reconciler puts it back on its way.
	ReconcileGrace time.Duration
	// SecretsKey seals connection secrets (64 hex digits or a passphrase);
	// empty: a key file in the data dir. Never log it: String redacts it.
	SecretsKey string
	// EventKeys are "ID:HEX" (--event-key, repeatable): the keys that
	// encrypt sensitive event fields, the last one encrypting, the others
	// still decrypting and matching (rotation). Empty: one key "default" in
	// a key file in the data dir. Never log them: String redacts them.
	EventKeys []string
	// SensitiveFields are more event fields to encrypt (--sensitive-field,
	// dotted paths under detail), besides the orders' customerId.
	SensitiveFields []string
	// PprofAddr, if set, serves net/http/pprof there (loopback only).
	PprofAddr string
	// NoSchemaDiscovery stops wims from creating the default bus's schema
	// discoverer at start when there is none (so a deleted one stays gone;
	// a stopped one stays stopped either way).
	NoSchemaDiscovery bool
}

func (c *Config) flags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.DataDir, "data-dir", "./wims-data", "directory for the SQLite database and the embedded JetStream store")
	fs.StringVar(&c.Store, "store", "", "store: empty for SQLite in the data dir, or a postgres:// URL (shared by several instances)")
	fs.StringSliceVar(&c.NATSURLs, "nats-url", nil, "external NATS server or cluster URLs (default: embedded, no TCP port)")
	fs.StringVar(&c.Namespace, "namespace", "wims", "prefix of every stream, consumer and subject")
	fs.IntVar(&c.NATSReplicas, "nats-replicas", 1, "JetStream replicas for streams and consumers")
	fs.StringVar(&c.PaymentsURL, "payments-url", "", "payments API endpoint (default: the built-in mock on its own loopback port)")
	fs.Float64Var(&c.PaymentsRate, "payments-rate", 5, "requests/s the payment dispatcher may send")
	fs.DurationVar(&c.PaymentsMaxBackoff, "payments-max-backoff", 30*time.Second, "longest delay between failed payment attempts (10 failures go to the dead-letter stream)")
	fs.StringArrayVar(&c.NotifyWebhooks, "notify-webhook", nil, "URL that receives LOW_STOCK/OUT_OF_STOCK/OVERSTOCK notifications (repeatable)")
	fs.StringVar(&c.FulfillmentURL, "fulfillment-url", "", "URL that receives every order that becomes PAID, as its change event (rule order-fulfillment, retried, dead-lettered); it reports shipments with POST /orders/{id}/shipment")
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "mail server for --notify-email: smtp://[user:pass@]host[:port] (STARTTLS when offered) or smtps://… (implicit TLS)")
	fs.StringArrayVar(&c.NotifyEmails, "notify-email", nil, "address that receives the notifications by mail, one per crossing (repeatable; needs --smtp-url)")
	fs.StringVar(&c.NotifyEmailFrom, "notify-email-from", "wims@localhost", "sender address of the notification mails")
	fs.StringVar(&c.ConfigFile, "config", "", "JSON file with extra rules: {\"rules\":[{\"name\",\"pattern\",\"targets\":[{\"type\",\"url\"}]}]}")
	fs.StringVar(&c.Architecture, "architecture", "v2", "v2 (event-driven) or v1 (the course's synchronous design)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.BoolVar(&c.Insecure, "insecure", false, "allow serving on a non-loopback address without authentication")
	fs.Var(&apiKeyFlag{&c.APIKeys}, "api-key", "API key KEY[:ROLE], role admin (default), orders or read; repeatable (env WIMS_API_KEYS, comma-separated). With any key, every request but /healthz needs Authorization: Bearer KEY")
	fs.Float64Var(&c.RateLimit, "rate-limit", 0, "requests/s each API key (or, without keys, each client address) may make; 0 is unlimited")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 15*time.Second, "how long in-flight work may take to finish on shutdown")
	fs.DurationVar(&c.ReconcileGrace, "reconcile-grace", time.Minute, "how long an order may look stuck (PENDING, or RESERVED with no payment queued) before it is put back on its way")
	fs.StringVar(&c.OTLPEndpoint, "otlp-endpoint", "", "export traces over OTLP/HTTP to this collector URL, e.g. http://127.0.0.1:4318 (off by default)")
	fs.StringVar(&c.BusSync, "bus-sync", defaultBusSync, "embedded JetStream fsync: an interval (group commit: what a client or a next step is told is stored is fsynced first; the database rebuilds the rest) or always (an fsync before every ack)")
	fs.StringVar(&c.BusSyncJournal, "bus-sync-journal", "", "test hook: log what each group commit of the bus made durable to this file")
	_ = fs.MarkHidden("bus-sync-journal")
	fs.BoolVar(&c.NoSync, "no-sync", false, "do not fsync every commit (faster; a power loss may lose recent acknowledged writes)")
	fs.StringVar(&c.SecretsKey, "secrets-key", "", "key that encrypts connection secrets: 64 hex digits or a passphrase of 16+ characters (default: a key file created in the data dir; instances sharing a PostgreSQL store need the same key)")
	fs.StringArrayVar(&c.EventKeys, "event-key", nil, "key ID:HEX (64 hex digits) that encrypts sensitive event fields; repeatable for rotation: the last one encrypts, the others still decrypt and match (default: key \"default\" in a file event.key created in the data dir)")
	fs.StringArrayVar(&c.SensitiveFields, "sensitive-field", nil, "event field to encrypt besides the orders' customerId, a dotted path under detail such as detail.data.NewImage.email (repeatable)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "serve net/http/pprof on this loopback address (profiling; off by default)")
	fs.BoolVar(&c.NoSchemaDiscovery, "no-schema-discovery", false, "do not create the default bus's schema discoverer at start when there is none (it is on by default; `wims discoverers stop` stops it)")
}

// validate checks the configuration before anything starts.
func (c *Config) validate() error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", c.Addr, err)
	}
	keys, err := c.apiKeys()
	if err != nil {
		return err
	}
	if c.RateLimit < 0 {
		return fmt.Errorf("--rate-limit must be >= 0")
	}
	if !isLoopback(host) && len(keys) == 0 && !c.Insecure {
		return fmt.Errorf("--addr %s is not a loopback address and wims has no authentication configured; "+
			"give --api-key (or WIMS_API_KEYS), or pass --insecure to serve it anyway", c.Addr)
	}
	switch {
	case c.Store == "":
	case isPostgresURL(c.Store):
	default:
		return fmt.Errorf("--store %q: want empty (SQLite) or a postgres:// URL", c.Store)
	}
	switch c.Architecture {
	case "v2", "v1":
	default:
		return fmt.Errorf("--architecture %q: want v2 or v1", c.Architecture)
	}
	if _, _, err := c.busSync(); err != nil {
		return err
	}
	if c.PaymentsRate <= 0 {
		return fmt.Errorf("--payments-rate must be > 0")
	}
	if c.PaymentsURL != "" {
		if err := checkURL(c.PaymentsURL); err != nil {
			return fmt.Errorf("--payments-url: %w", err)
		}
	}
	for _, u := range c.NotifyWebhooks {
		if err := checkURL(u); err != nil {
			return fmt.Errorf("--notify-webhook: %w", err)
		}
	}
	for _, k := range c.EventKeys {
		if _, err := eventcrypt.ParseKey(k); err != nil {
			return fmt.Errorf("--event-key: %w", err) // the error names the id, never the secret
		}
	}
	for _, f := range c.SensitiveFields {
		if _, err := eventcrypt.ParseField(f); err != nil {
			return fmt.Errorf("--sensitive-field: %w", err)
		}
	}
	if c.FulfillmentURL != "" {
		if err := checkURL(c.FulfillmentURL); err != nil {
			return fmt.Errorf("--fulfillment-url: %w", err)
		}
	}
	if len(c.NotifyEmails) > 0 && c.SMTPURL == "" {
		return fmt.Errorf("--notify-email needs --smtp-url")
	}
	for _, addr := range c.NotifyEmails {
		if _, err := netmail.ParseAddress(addr); err != nil {
			return fmt.Errorf("--notify-email %q: %w", addr, err)
		}
	}
	if c.SMTPURL != "" {
		if _, err := mail.New(c.SMTPURL, c.NotifyEmailFrom); err != nil {
			return fmt.Errorf("--smtp-url / --notify-email-from: %s", wims.ErrorMessage(err))
		}
	}
	if c.NATSReplicas < 1 || c.NATSReplicas > 5 {
		return fmt.Errorf("--nats-replicas must be between 1 and 5")
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiKeyFlag is --api-key: repeatable, and from WIMS_API_KEYS (plural,
// comma-separated) when not given. It is a slice value whose Replace does
// nothing, because bindEnv would otherwise fill it from WIMS_API_KEY, the
// client commands' single key: a client's key in the shell must never
// become an admin key of a server started from it.
type apiKeyFlag struct{ keys *[]string }

func (f *apiKeyFlag) String() string         { return fmt.Sprintf("[%d keys]", len(*f.keys)) }
func (f *apiKeyFlag) Type() string           { return "KEY[:ROLE]" }
func (f *apiKeyFlag) Set(v string) error     { *f.keys = append(*f.keys, v); return nil }
func (f *apiKeyFlag) Append(v string) error  { return f.Set(v) }
func (f *apiKeyFlag) Replace([]string) error { return nil }
func (f *apiKeyFlag) GetSlice() []string     { return *f.keys }

// apiKeys parses --api-key, or WIMS_API_KEYS when no --api-key was given.
// Errors name a key by its fingerprint only.
func (c *Config) apiKeys() ([]wimshttp.APIKey, error) {
	var keys []wimshttp.APIKey
	list := c.APIKeys
	if len(list) == 0 {
		list = splitList(os.Getenv("WIMS_API_KEYS"))
	}
	for _, s := range list {
		k, err := wimshttp.ParseAPIKey(s)
		if err != nil {
			return nil, fmt.Errorf("--api-key: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// hostOf is the host of a host:port address, or addr itself.
func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// String describes the configuration for logs with the API keys redacted
// (their roles and fingerprints only), so a config dump never leaks a key.
func (c Config) String() string {
	redacted := c
	redacted.APIKeys = nil
	if redacted.SMTPURL != "" {
		redacted.SMTPURL = "<redacted>"
	}
	if redacted.SecretsKey != "" {
		redacted.SecretsKey = "<redacted>"
	}
	redacted.EventKeys = nil
	for _, k := range c.EventKeys {
		id, _, _ := strings.Cut(k, ":")
		redacted.EventKeys = append(redacted.EventKeys, id+":<redacted>")
	}
	for _, s := range c.APIKeys {
		if k, err := wimshttp.ParseAPIKey(s); err == nil {
			redacted.APIKeys = append(redacted.APIKeys, wimshttp.Fingerprint(k.Key)+":"+string(k.Role))
		} else {
			redacted.APIKeys = append(redacted.APIKeys, "<invalid>")
		}
	}
	type plain Config // without this String method, so %+v does not recurse
	return fmt.Sprintf("%+v", plain(redacted))
}

// defaultBusSync group-commits the bus's fsyncs: the power-loss test
// (TestPowerLossLosesOnlyWhatIsRebuilt) proves nothing acknowledged is lost
// and nothing sticks with it; BENCHMARKS.md has what it buys.
const defaultBusSync = "100ms"

// busSync parses --bus-sync into the bus's settings; --no-sync turns both off.
func (c *Config) busSync() (always bool, interval time.Duration, err error) {
	if c.NoSync {
		return false, 0, nil
	}
	if c.BusSync == "always" {
		return true, 0, nil
	}
	v := c.BusSync
	if v == "" {
		v = defaultBusSync
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > time.Minute {
		return false, 0, fmt.Errorf("--bus-sync %q: want always or an interval between 1ms and 1m", c.BusSync)
	}
	return false, d, nil
}
