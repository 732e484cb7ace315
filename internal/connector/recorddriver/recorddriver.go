// Package recorddriver is a database/sql driver for tests: it records every statement
// it is given, per connection, answers queries with rows chosen by the test, and fails
// statements or connections on request. Nothing is registered globally: tests open
// pools with sql.OpenDB(d.Connector(target)).
//
// A Driver is safe for concurrent use.
//
// It imports nothing of the module, so any package's tests may use it.
package recorddriver

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"sync"
	"time"
)

// Exec is one statement the driver was given.
type Exec struct {
	// Target is the target of the connector the connection came from (a database
	// name, "account", ...).
	Target string
	// Conn numbers the driver's connections from 1, in the order they were opened.
	Conn int
	// SQL is the statement's text, as given.
	SQL string
}

// Driver records statements and plays back the outcomes a test chose.
type Driver struct {
	mu       sync.Mutex
	log      []Exec
	conns    int
	open     int
	fails    []*rule
	rows     []*rule
	delays   []*rule
	connFail map[string]error
}

type rule struct {
	substr  string
	err     error
	cols    []string
	rows    [][]driver.Value
	delay   time.Duration
	pending bool
}

// New returns a driver with nothing recorded and no outcomes set: every statement
// succeeds and every query returns no rows.
func New() *Driver { return &Driver{connFail: map[string]error{}} }

// Connector returns a connector whose connections are tagged with target: use it with
// sql.OpenDB.
func (d *Driver) Connector(target string) driver.Connector {
	return &connector{d: d, target: target}
}

// Open implements driver.Driver: name is the target.
func (d *Driver) Open(name string) (driver.Conn, error) {
	return d.connect(context.Background(), name)
}

// FailOn makes the first statement (exec or query) whose text contains substring fail
// with err; later statements containing it succeed. Rules are tried in the order they
// were set.
func (d *Driver) FailOn(substring string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fails = append(d.fails, &rule{substr: substring, err: err, pending: true})
}

// FailConnect makes every new connection to target fail with err (nil: connections
// succeed again).
func (d *Driver) FailConnect(target string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		delete(d.connFail, target)
		return
	}
	d.connFail[target] = err
}

// Rows makes queries whose text contains substring return columns and rows (copied on
// every query). A later call with the same substring replaces the earlier one; rules
// are tried in the order they were first set. Queries matching no rule return no rows.
func (d *Driver) Rows(substring string, columns []string, rows [][]driver.Value) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := &rule{substr: substring, cols: append([]string(nil), columns...), rows: copyRows(rows)}
	for i, old := range d.rows {
		if old.substr == substring {
			d.rows[i] = r
			return
		}
	}
	d.rows = append(d.rows, r)
}

// Delay makes statements containing substring take dur, or until their context ends
// (then they fail with the context's error): tests of timeouts use it.
func (d *Driver) Delay(substring string, dur time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.delays = append(d.delays, &rule{substr: substring, delay: dur})
}

// Log returns the statements given so far, in order.
func (d *Driver) Log() []Exec {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Exec(nil), d.log...)
}

// SQL returns the text of the statements given so far, in order.
func (d *Driver) SQL() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, len(d.log))
	for i, e := range d.log {
		out[i] = e.SQL
	}
	return out
}

// Reset forgets the recorded statements (outcomes stay set).
func (d *Driver) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log = nil
}

// OpenConns returns the number of connections opened and not yet closed.
func (d *Driver) OpenConns() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.open
}

func copyRows(rows [][]driver.Value) [][]driver.Value {
	out := make([][]driver.Value, len(rows))
	for i, r := range rows {
		out[i] = append([]driver.Value(nil), r...)
	}
	return out
}

func (d *Driver) connect(ctx context.Context, target string) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.connFail[target]; err != nil {
		return nil, err
	}
	d.conns++
	d.open++
	return &conn{d: d, target: target, id: d.conns}, nil
}

// run records a statement and returns its outcome: the rows rule for a query (nil
// when none matches) or the error.
func (d *Driver) run(ctx context.Context, c *conn, query string, args []driver.NamedValue) (*rule, error) {
	if len(args) > 0 {
		return nil, errors.New("recorddriver: statement arguments are not supported")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	if c.closed {
		d.mu.Unlock()
		return nil, driver.ErrBadConn
	}
	d.log = append(d.log, Exec{Target: c.target, Conn: c.id, SQL: query})
	var delay time.Duration
	for _, r := range d.delays {
		if strings.Contains(query, r.substr) {
			delay = r.delay
			break
		}
	}
	var err error
	for _, r := range d.fails {
		if r.pending && strings.Contains(query, r.substr) {
			r.pending = false
			err = r.err
			break
		}
	}
	var rows *rule
	for _, r := range d.rows {
		if strings.Contains(query, r.substr) {
			rows = r
			break
		}
	}
	d.mu.Unlock()
	// The same timer-or-context wait as connector.Fake's: this package stands alone.
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return rows, nil
}

type connector struct {
	d      *Driver
	target string
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	return c.d.connect(ctx, c.target)
}

func (c *connector) Driver() driver.Driver { return c.d }

type conn struct {
	d      *Driver
	target string
	id     int
	closed bool // guarded by d.mu
}

var (
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
)

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	return &stmt{c: c, query: query}, nil
}

func (c *conn) Close() error {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.d.open--
	}
	return nil
}

func (c *conn) Begin() (driver.Tx, error) { return tx{}, nil }

func (c *conn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) { return tx{}, nil }

// CheckNamedValue accepts every argument so that run can refuse them with a clear
// message.
func (c *conn) CheckNamedValue(*driver.NamedValue) error { return nil }

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if _, err := c.d.run(ctx, c, query, args); err != nil {
		return nil, err
	}
	return driver.RowsAffected(0), nil
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.d.run(ctx, c, query, args)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return &rows{}, nil
	}
	return &rows{cols: r.cols, data: copyRows(r.rows)}, nil
}

type stmt struct {
	c     *conn
	query string
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return -1 }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.c.ExecContext(context.Background(), s.query, named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.QueryContext(context.Background(), s.query, named(args))
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

type tx struct{}

func (tx) Commit() error   { return nil }
func (tx) Rollback() error { return nil }

type rows struct {
	cols []string
	data [][]driver.Value
	i    int
}

func (r *rows) Columns() []string { return r.cols }
func (r *rows) Close() error      { return nil }

func (r *rows) Next(dest []driver.Value) error {
	if r.i >= len(r.data) {
		return io.EOF
	}
	for i := range dest {
		dest[i] = nil
		if i < len(r.data[r.i]) {
			dest[i] = r.data[r.i][i]
		}
	}
	r.i++
	return nil
}
