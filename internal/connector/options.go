package connector

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/openintegrations/integrations/internal/egress"
	"github.com/openintegrations/integrations/platforms"
)

// Options configure the live connectors (NewSnowflake, NewRedshift, NewSynapse,
// NewS3, NewBigQuery).
type Options struct {
	// ConnectTimeout bounds opening a connection (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// StatementTimeout bounds each statement or API call (default
	// DefaultStatementTimeout).
	StatementTimeout time.Duration
	// DisableTLS turns TLS off for database connections. Only tests against local
	// servers set it; the command line never does.
	DisableTLS bool
	// AWSEndpoint, when set, replaces the AWS API endpoints (STS, S3 Control): tests
	// point it at a local server.
	AWSEndpoint string
	// GoogleTokenURL and GoogleAPIBase, when set, replace Google's OAuth token endpoint
	// and the base URL of its REST APIs: tests point them at a local server.
	GoogleTokenURL string
	GoogleAPIBase  string
	// TableGrantsRolePrefix is the prefix of the roles Immuta's Snowflake table grants
	// create (default DefaultTableGrantsRolePrefix), which the test "Initial Validation:
	// Table Grants Role Prefix is Unique" checks. It must pass CheckTableGrantsRolePrefix;
	// it is folded to upper case as Snowflake folds an unquoted name.
	TableGrantsRolePrefix string
	// Egress is the outbound-connection policy every connection is dialled through
	// (database drivers, OAuth token endpoints, cloud APIs); nil is egress.Default(),
	// public addresses only. Tests against local servers allow 127.0.0.1 here.
	Egress *egress.Policy
}

// DefaultTableGrantsRolePrefix is the prefix of the roles of Immuta's Snowflake table
// grants unless the server is told another (serve --table-grants-role-prefix).
const DefaultTableGrantsRolePrefix = "IMMUTA"

// maxTableGrantsRolePrefix bounds the prefix: Snowflake identifiers have at most 255
// characters (https://docs.snowflake.com/en/sql-reference/identifiers-syntax), and the
// roles made with the prefix append to it.
const maxTableGrantsRolePrefix = 128

// PrefixError is a table-grants role prefix that CheckTableGrantsRolePrefix refuses.
type PrefixError struct {
	Prefix string
	Reason string
}

// Error implements error.
func (e *PrefixError) Error() string {
	return fmt.Sprintf("table grants role prefix %q %s", e.Prefix, e.Reason)
}

// CheckTableGrantsRolePrefix reports whether prefix can begin the names of the roles
// Immuta's table grants create: the start of an unquoted Snowflake identifier (a letter
// or _, then letters, digits, _ or $; https://docs.snowflake.com/en/sql-reference/identifiers-syntax),
// 1 to 128 characters. The error is a *PrefixError.
func CheckTableGrantsRolePrefix(prefix string) error {
	if prefix == "" {
		return &PrefixError{prefix, "is empty"}
	}
	if len(prefix) > maxTableGrantsRolePrefix {
		return &PrefixError{prefix, fmt.Sprintf("is longer than %d characters", maxTableGrantsRolePrefix)}
	}
	if !platforms.SnowflakeUnquoted(prefix) {
		return &PrefixError{prefix, "is not the start of an unquoted Snowflake identifier (a letter or _, then letters, digits, _ or $)"}
	}
	return nil
}

// tableGrantsRolePrefix is the prefix the check looks for, folded to upper case.
func (o Options) tableGrantsRolePrefix() string {
	if o.TableGrantsRolePrefix == "" {
		return DefaultTableGrantsRolePrefix
	}
	return strings.ToUpper(o.TableGrantsRolePrefix)
}

// egress returns the policy connections are dialled through.
func (o Options) egress() *egress.Policy {
	if o.Egress != nil {
		return o.Egress
	}
	return egress.Default()
}

// refused reports the first of hosts (host names, addresses or URLs; "" is skipped)
// that the egress policy refuses, as an *egress.RefusedError, or nil. The drivers'
// dialers check every address anyway; checking before a driver gets the host reports a
// refusal in the policy's words, whatever the driver does with dial errors (oauth2
// keeps only their text).
func (o Options) refused(ctx context.Context, hosts ...string) error {
	for _, h := range hosts {
		if strings.Contains(h, "://") {
			u, err := url.Parse(h)
			if err != nil {
				continue // the caller's own check of the URL says what is wrong
			}
			h = u.Hostname()
		}
		if h == "" {
			continue
		}
		if err := o.egress().CheckHost(ctx, h); errors.Is(err, egress.ErrRefused) {
			return err
		}
	}
	return nil
}

func (o Options) connectTimeout() time.Duration {
	if o.ConnectTimeout > 0 {
		return o.ConnectTimeout
	}
	return DefaultConnectTimeout
}

func (o Options) statementTimeout() time.Duration {
	if o.StatementTimeout > 0 {
		return o.StatementTimeout
	}
	return DefaultStatementTimeout
}
