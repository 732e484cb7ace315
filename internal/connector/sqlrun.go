package connector

// The import block is connector.go's but for database/sql: both files handle a payload's scripts.
import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// Default timeouts of the live connectors.
const (
	DefaultConnectTimeout   = 15 * time.Second
	DefaultStatementTimeout = 2 * time.Minute
)

// Opener opens a connection pool to one target of a platform: a database name, or
// "account" for Snowflake (render.Phase.ConnectTo), signed in as the payload's
// credentials. Connectors take it as a field so that tests can record statements.
type Opener func(ctx context.Context, connectTo string) (*sql.DB, error)

// runLive runs a live connector's script phase by phase on the connections open makes,
// with the payload's secrets and the script's passwords (backslash: the dialect escapes
// backslashes in string literals) scrubbed from every message.
func runLive(ctx context.Context, script *render.Script, p *platforms.Payload, sys Credentials, opts Options, backslash bool, open Opener) error {
	secrets := append(Secrets(p, sys), liveSQLPasswords(script, backslash)...)
	return RunPhases(ctx, script, open, opts.statementTimeout(), secrets)
}

// verifiable refuses the operations a SQL connector's Verify does not check.
func verifiable(op platforms.Operation) error {
	switch op {
	case platforms.OpCreate, platforms.OpEdit, platforms.OpDelete:
		return nil
	}
	return fmt.Errorf("cannot verify a %s: Verify checks create, edit and delete", op)
}

// RunPhases runs the phases of s in order, each on its own connection to its ConnectTo,
// each statement with timeout. It stops at the first failing statement and returns a
// *RunError with its phase, its 1-based index and the platform's error with every
// secret removed; a phase whose connection fails has index 0.
func RunPhases(ctx context.Context, s *render.Script, open Opener, timeout time.Duration, secrets []string) error {
	for _, ph := range s.Phases {
		if err := runPhase(ctx, ph, open, timeout, secrets); err != nil {
			return err
		}
	}
	return nil
}

func runPhase(ctx context.Context, ph render.Phase, open Opener, timeout time.Duration, secrets []string) error {
	db, err := open(ctx, ph.ConnectTo)
	if err != nil {
		return &RunError{Phase: ph.Name, Err: Scrub(err, secrets)}
	}
	defer db.Close()
	// One connection for the whole phase: session state (USE, roles) carries over.
	conn, err := db.Conn(ctx)
	if err != nil {
		return &RunError{Phase: ph.Name, Err: Scrub(vendor(err), secrets)}
	}
	defer conn.Close()
	for i, st := range ph.Statements {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		_, err := conn.ExecContext(sctx, st.SQL)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				err = fmt.Errorf("the statement did not finish within %s", timeout)
			} else {
				err = vendor(err)
			}
			return &RunError{Phase: ph.Name, Index: i + 1, Err: Scrub(err, secrets)}
		}
	}
	return nil
}

// scrubbed is an error whose text had secrets removed; it keeps no link to the
// original (which may carry them in its fields).
type scrubbed struct{ msg string }

func (e *scrubbed) Error() string { return e.msg }

// Scrub returns err with every secret (of at least 3 characters) replaced by
// <REDACTED>; nil stays nil. Context errors are kept as they are (they hold no
// secrets) so errors.Is still sees them.
func Scrub(err error, secrets []string) error {
	if err == nil || errors.Is(err, context.Canceled) && err.Error() == context.Canceled.Error() {
		return err
	}
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, platforms.Redacted)
		}
	}
	return &scrubbed{scrubCuts(msg, secrets)}
}

// scrubCuts removes, before each cutMark in msg, the longest start of a secret that the
// text there ends with: what is left of a secret that short cut in two.
func scrubCuts(msg string, secrets []string) string {
	if !strings.Contains(msg, cutMark) {
		return msg
	}
	var b strings.Builder
	for {
		i := strings.Index(msg, cutMark)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		head := msg[:i]
		for _, s := range secrets {
			for k := len(s) - 1; k > 0; k-- {
				if strings.HasSuffix(head, s[:k]) {
					head = head[:len(head)-k]
					break
				}
			}
		}
		b.WriteString(head)
		b.WriteString(cutMark)
		msg = msg[i+len(cutMark):]
	}
}

// Secrets lists the secret values of a payload and of the server-held credentials, for
// Scrub.
func Secrets(p *platforms.Payload, sys Credentials) []string {
	var out []string
	if p != nil && p.Config != nil {
		out = platforms.SecretValues(p.Config)
	}
	if sys.Password != "" {
		out = append(out, sys.Password)
	}
	return out
}
