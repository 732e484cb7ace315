package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/egress"
	"github.com/openintegrations/integrations/internal/server"
	"github.com/openintegrations/integrations/internal/store"
)

// Environment variables of SCRIPTS.md section 7 (and the secret key of the store).
const (
	EnvAddr     = "INTEGRATIONS_ADDR"
	EnvDB       = "INTEGRATIONS_DB"
	EnvAdminKey = "INTEGRATIONS_ADMIN_KEY"
	// EnvPublicURL is the URL clients reach the server at (--public-url).
	EnvPublicURL = "INTEGRATIONS_PUBLIC_URL"
	// EnvTableGrantsRolePrefix is the prefix of the roles of Immuta's Snowflake table
	// grants (--table-grants-role-prefix).
	EnvTableGrantsRolePrefix = "INTEGRATIONS_TABLE_GRANTS_ROLE_PREFIX"
	// EnvEgressAllow lists the address ranges, beyond public addresses, that the
	// connectors may connect to (--egress-allow).
	EnvEgressAllow = "INTEGRATIONS_EGRESS_ALLOW"
)

const (
	defaultAddr = "127.0.0.1:8080"
	defaultDB   = "./integrations.db"
)

// get returns the value of the environment variable name, "" when it is not set.
func (env Env) get(name string) string {
	v, _ := env(name)
	return v
}

// or returns the value of the environment variable name, def when it is unset or empty.
func (env Env) or(name, def string) string {
	if v := env.get(name); v != "" {
		return v
	}
	return def
}

// openStore opens the store of dsn with the secret key from INTEGRATIONS_SECRET_KEY or
// the key file beside a SQLite store (created on first use).
func openStore(ctx context.Context, env Env, dsn string, stderr io.Writer) (store.Store, error) {
	key, created, err := store.LoadKey(env.get(store.SecretKeyEnv), store.KeyFilePath(dsn))
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(stderr, "integrations: created the secret key file %s (mode 0600); keep it with the database, which cannot be read without it\n", store.KeyFilePath(dsn))
	}
	return store.Open(ctx, dsn, store.Options{Key: key})
}

// minKeyBits is the least estimated entropy of an operator-chosen admin key.
const minKeyBits = 128

// checkKeyStrength refuses an admin key whose estimated entropy is under 128 bits. The
// estimate is the key's length times the bits of the smallest alphabet its characters
// come from (hex digits 4, one letter case with digits about 5.2, all printable ASCII
// about 6.6), and the key must not repeat itself: its characters' own entropy (Shannon,
// per character) must be at least 3 bits, which random keys of 32 or more characters
// reach and "aaaa..." or "abab..." do not.
func checkKeyStrength(k string) error {
	hex, lower, upper, digit, other := true, false, false, false, false
	counts := map[rune]int{}
	n := 0
	for _, r := range k {
		n++
		counts[r]++
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'f', r >= 'A' && r <= 'F':
			if r >= 'a' {
				lower = true
			} else {
				upper = true
			}
		case r >= 'a' && r <= 'z':
			lower, hex = true, false
		case r >= 'A' && r <= 'Z':
			upper, hex = true, false
		default:
			other, hex = true, false
		}
	}
	alphabet := 0
	if hex && !(lower && upper) {
		alphabet = 16
	} else {
		for _, c := range []struct {
			has  bool
			size int
		}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 33}} {
			if c.has {
				alphabet += c.size
			}
		}
	}
	shannon := 0.0
	for _, c := range counts {
		p := float64(c) / float64(n)
		shannon -= p * math.Log2(p)
	}
	bits := float64(n) * math.Log2(float64(max(alphabet, 2)))
	if bits < minKeyBits || shannon < 3 {
		return fmt.Errorf("the key is too weak (about %.0f bits; at least %d needed, e.g. 32 random hex digits or 22 random base64 characters; generate one with: openssl rand -base64 32)", min(bits, shannon*float64(n)), minKeyBits)
	}
	return nil
}

// ensureAdminKey makes sure the store has an admin key: the one INTEGRATIONS_ADMIN_KEY
// gives, or, for a store with no key at all, a new one printed once to stderr.
func ensureAdminKey(ctx context.Context, env Env, st store.Store, stderr io.Writer) error {
	if k := env.get(EnvAdminKey); k != "" {
		if err := checkKeyStrength(k); err != nil {
			return fmt.Errorf("%s: %w", EnvAdminKey, err)
		}
		got, err := st.Authenticate(ctx, k)
		if err == nil {
			if !got.Has(store.PermissionAdmin) {
				return fmt.Errorf("%s names a key without the %s permission", EnvAdminKey, store.PermissionAdmin)
			}
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		_, _, err = st.CreateAPIKey(ctx, store.APIKeySpec{Name: "admin (" + EnvAdminKey + ")", Permissions: []string{store.PermissionAdmin}, Plaintext: k})
		switch {
		case errors.Is(err, store.ErrAPIKeyExists):
			// Another replica starting at the same time stored it first, or it was
			// revoked: only a usable key is accepted.
			if _, aerr := st.Authenticate(ctx, k); aerr != nil {
				return fmt.Errorf("%s names a revoked key; choose another", EnvAdminKey)
			}
			return nil
		case err != nil:
			return fmt.Errorf("%s: %w", EnvAdminKey, err)
		}
		return nil
	}
	keys, err := st.ListAPIKeys(ctx)
	if err != nil || len(keys) > 0 {
		return err
	}
	_, plain, err := st.CreateAPIKey(ctx, store.APIKeySpec{Name: "admin", Permissions: []string{store.PermissionAdmin}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "integrations: new store: admin API key (shown once, keep it): %s\n", plain)
	return nil
}

func runServe(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "[flags]\n  the API server (env "+EnvAddr+", "+EnvDB+", "+EnvAdminKey+", "+store.SecretKeyEnv+")")
	addr := fs.String("addr", env.or(EnvAddr, defaultAddr), "listen address (env "+EnvAddr+")")
	db := fs.String("db", env.or(EnvDB, defaultDB), "store: a SQLite file path, sqlite:PATH or a postgres:// URL (env "+EnvDB+")")
	offline := fs.Bool("offline", false, "no platform connectivity: platform tests are skipped, automatic setup is refused")
	sandbox := fs.Bool("sandbox", false, "simulate every platform in memory (all tests pass, scripts \"run\"): for trying clients, never for real integrations")
	latency := fs.Duration("sandbox-latency", 0, "with --sandbox: how long each simulated platform call takes")
	revalidate := fs.Duration("revalidate-interval", server.DefaultRevalidateInterval, "how often each enabled integration re-runs its connection tests (0: never)")
	migrate := fs.Bool("migrate", true, "migrate on its own each enabled integration an older template bundle made, where its system account may run the whole migration (false: they stay as they are until a PUT, or a DBA's run of the edit script, migrates them)")
	lease := fs.Duration("lease", server.DefaultLease, "how long a replica's claim on a background job lasts unless renewed; a stopped replica's jobs are taken over after it")
	queue := fs.Int("queue", server.DefaultQueue, "how many accepted background jobs may wait for a worker; beyond that a request that would start one gets 503 with Retry-After")
	grace := fs.Duration("shutdown-timeout", 30*time.Second, "how long in-flight requests and jobs get to finish on SIGTERM/SIGINT")
	publicURL := fs.String("public-url", env.get(EnvPublicURL), "the URL clients reach this server at, for Trino's configurationSnippet (env "+EnvPublicURL+"; default: the listen address)")
	prefix := fs.String("table-grants-role-prefix", env.or(EnvTableGrantsRolePrefix, connector.DefaultTableGrantsRolePrefix),
		"the prefix of the Snowflake roles Immuta's table grants create, which the test \"Initial Validation: Table Grants Role Prefix is Unique\" checks: the start of an unquoted Snowflake identifier (env "+EnvTableGrantsRolePrefix+")")
	egressAllow := fs.String("egress-allow", env.get(EnvEgressAllow),
		"address ranges (CIDR, comma-separated) the connectors may connect to besides public addresses, e.g. 10.20.0.0/16 for a peered VPC; loopback, link-local (cloud metadata), private and other special ranges are refused unless listed (env "+EnvEgressAllow+")")
	if code, done := fs.parse(args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "integrations serve: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	if *offline && *sandbox {
		fmt.Fprintln(stderr, "integrations serve: --offline and --sandbox exclude each other")
		return ExitUsage
	}
	if *latency != 0 && !*sandbox {
		fmt.Fprintln(stderr, "integrations serve: --sandbox-latency needs --sandbox")
		return ExitUsage
	}
	if *revalidate < 0 {
		fmt.Fprintln(stderr, "integrations serve: --revalidate-interval must be 0 (off) or positive")
		return ExitUsage
	}
	if *publicURL != "" {
		u, err := url.Parse(*publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			fmt.Fprintln(stderr, "integrations serve: --public-url must be an http:// or https:// URL with a host and no user, query or fragment")
			return ExitUsage
		}
	}
	if err := connector.CheckTableGrantsRolePrefix(*prefix); err != nil {
		fmt.Fprintf(stderr, "integrations serve: --table-grants-role-prefix: %v\n", err)
		return ExitUsage
	}
	policy, err := egress.Parse(*egressAllow)
	if err != nil {
		fmt.Fprintf(stderr, "integrations serve: --egress-allow: %v\n", err)
		return ExitUsage
	}
	if *queue < 1 {
		fmt.Fprintln(stderr, "integrations serve: --queue must be at least 1")
		return ExitUsage
	}
	if *lease < time.Second {
		fmt.Fprintln(stderr, "integrations serve: --lease must be at least 1s")
		return ExitUsage
	}
	server.TuneGC()
	log, stopLog := newServeLog(stderr)
	defer stopLog()

	st, err := openStore(ctx, env, *db, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "integrations serve: %v\n", err)
		return ExitInvalid
	}
	defer st.Close()
	// Listen first: a new store's admin key is printed only once, so not by a start
	// that then fails on a busy port (connections wait in the listener's backlog
	// until the server serves them).
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "integrations serve: %v\n", err)
		return ExitUsage
	}
	defer ln.Close()
	if err := ensureAdminKey(ctx, env, st, stderr); err != nil {
		fmt.Fprintf(stderr, "integrations serve: %v\n", err)
		return ExitInvalid
	}
	if *publicURL == "" {
		*publicURL = "http://" + ln.Addr().String()
	}
	opts := server.Options{Store: st, Logger: log, Lease: *lease, Queue: *queue, RevalidateInterval: *revalidate, PublicURL: strings.TrimSuffix(*publicURL, "/"), NoMigrations: !*migrate}
	switch {
	case *sandbox:
		// One line per simulated script run or check of a setup: what a test counts to
		// see that each integration's work started once.
		fake := &connector.Fake{Latency: *latency, OnRun: func(call, typ, key string) {
			log.Info("sandbox run", "call", call, "type", typ, "integration", key)
		}}
		opts.Connector = func(string) connector.Connector { return fake }
		log.Warn("sandbox: every platform is simulated in memory; nothing is checked or created on a real platform")
	case *offline:
		log.Info("offline: platform tests are skipped and automatic setup is refused")
	default:
		opts.Connector = connector.Live(connector.Options{TableGrantsRolePrefix: *prefix, Egress: policy})
		allowed := make([]string, 0, len(policy.Allowed()))
		for _, a := range policy.Allowed() {
			allowed = append(allowed, a.String())
		}
		log.Info("egress policy: public addresses, and the allowed ranges", "allowed", allowed)
	}
	srv, err := server.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "integrations serve: %v\n", err)
		return ExitInternal
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "integrations serve: %v\n", err)
		return ExitInternal
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      5 * time.Minute, // validation tests may take a while on a slow platform
		IdleTimeout:       2 * time.Minute,
		// The server answers headers over server.MaxHeaderBytes with a JSON 431; this
		// hard limit (answered by net/http in plain text) is far above it.
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", "http://"+ln.Addr().String(), "db", redactDSN(*db))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(server.JSONErrors(ln)) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "integrations serve: %v\n", err)
		return ExitInternal
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests and jobs", "timeout", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	code := ExitOK
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("shutdown: requests still running were cut off", "err", err)
		code = ExitInternal
	}
	if err := srv.Close(sctx); err != nil {
		log.Warn("shutdown: jobs still running were interrupted; the next start resumes or fails them", "err", err)
	}
	log.Info("stopped")
	return code
}

// redactDSN hides the secrets of a database URL before it is logged: the password of its
// user info and any password-like query parameter (password, sslpassword, sslkey). A
// value that does not parse as a URL is shown as <REDACTED> whole unless it is a plain
// file path.
func redactDSN(dsn string) string {
	if !strings.Contains(dsn, "://") {
		return dsn // a SQLite path or sqlite:PATH: no secret in it
	}
	u, err := url.Parse(strings.TrimSpace(dsn))
	if err != nil {
		return "<REDACTED>"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		}
	}
	q := u.Query()
	for k := range q {
		switch strings.ToLower(k) {
		case "password", "sslpassword", "sslkey", "passfile":
			q.Set(k, "REDACTED")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func runKeys(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	const keysUsage = "usage: integrations keys create --name NAME --permission APPLICATION_ADMIN [--db URL] | list [--db URL] | revoke [--db URL] ID|NAME\n  manage API keys (run 'integrations keys SUBCOMMAND --help' for its flags)\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return ExitUsage
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, keysUsage+"\n"+exitCodes)
		return ExitOK
	}
	sub := args[0]
	synopsis := map[string]string{
		"create": "--name NAME --permission P [--permission P]... [--db URL]\n  create an API key and print it once",
		"list":   "[--db URL]\n  list the API keys (never the keys themselves)",
		"revoke": "[--db URL] ID|NAME\n  revoke an API key by its ID or name",
	}[sub]
	fs := newFlags("keys "+sub, synopsis)
	db := fs.String("db", env.or(EnvDB, defaultDB), "store (env "+EnvDB+")")
	var name string
	var perms multiFlag
	if sub == "create" {
		fs.StringVar(&name, "name", "", "a name for the key (required)")
		fs.Var(&perms, "permission", "a permission to grant, required (repeatable): "+store.PermissionAdmin)
	}
	switch sub {
	case "create", "list", "revoke":
	default:
		fmt.Fprintf(stderr, "integrations keys: unknown subcommand %q%s (create, list, revoke)\n", sub, didYouMean(sub, []string{"create", "list", "revoke"}))
		return ExitUsage
	}
	if code, done := fs.parse(args[1:], stdout, stderr); done {
		return code
	}
	switch {
	case sub == "create" && name == "":
		fmt.Fprintln(stderr, "integrations keys create: --name is required")
		return ExitUsage
	case sub == "create" && len(perms) == 0:
		// Required, not defaulted: a key without a permission is refused (403) by every
		// call, and a silent default would grant the widest one.
		fmt.Fprintln(stderr, "integrations keys create: --permission is required (the one permission is "+store.PermissionAdmin+")")
		return ExitUsage
	case sub == "revoke" && fs.NArg() != 1:
		fmt.Fprintln(stderr, "integrations keys revoke: give one key ID or name")
		return ExitUsage
	case sub != "revoke" && fs.NArg() > 0:
		fmt.Fprintf(stderr, "integrations keys %s: unexpected argument %q\n", sub, fs.Arg(0))
		return ExitUsage
	}
	for _, p := range perms {
		if p != store.PermissionAdmin {
			fmt.Fprintf(stderr, "integrations keys create: unknown permission %q (known: %s)\n", p, store.PermissionAdmin)
			return ExitUsage
		}
	}
	st, err := openStore(ctx, env, *db, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "integrations keys: %v\n", err)
		return ExitInvalid
	}
	defer st.Close()
	switch sub {
	case "create":
		k, plain, err := st.CreateAPIKey(ctx, store.APIKeySpec{Name: name, Permissions: perms})
		if err != nil {
			fmt.Fprintf(stderr, "integrations keys create: %v\n", err)
			return ExitInvalid
		}
		fmt.Fprintf(stderr, "created key %s (%s); it is shown once:\n", k.ID, permString(k.Permissions))
		fmt.Fprintln(stdout, plain)
	case "list":
		keys, err := st.ListAPIKeys(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "integrations keys list: %v\n", err)
			return ExitInternal
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPERMISSIONS\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, permString(k.Permissions), k.CreatedAt.Format(time.RFC3339), revoked)
		}
		_ = tw.Flush()
	case "revoke":
		if err := st.RevokeAPIKey(ctx, fs.Arg(0)); err != nil {
			fmt.Fprintf(stderr, "integrations keys revoke: %v\n", err)
			return ExitInvalid
		}
		fmt.Fprintf(stderr, "revoked %s\n", fs.Arg(0))
	}
	return ExitOK
}

func permString(p []string) string {
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, ",")
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

// Set implements flag.Value.
func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}

var _ flag.Value = (*multiFlag)(nil)
