package connector

import "time"

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
