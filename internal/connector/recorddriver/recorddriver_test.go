package recorddriver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestRecordsPerConnection(t *testing.T) {
	d := New()
	ctx := context.Background()
	a := sql.OpenDB(d.Connector("master"))
	defer a.Close()
	b := sql.OpenDB(d.Connector("db"))
	defer b.Close()

	ca, err := a.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE LOGIN x", "SELECT 1"} {
		if _, err := ca.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cb.ExecContext(ctx, "CREATE USER x"); err != nil {
		t.Fatal(err)
	}
	if d.OpenConns() != 2 {
		t.Errorf("open conns %d, want 2", d.OpenConns())
	}
	ca.Close()
	cb.Close()
	a.Close()
	b.Close()
	if d.OpenConns() != 0 {
		t.Errorf("open conns after close %d, want 0", d.OpenConns())
	}
	want := []Exec{{"master", 1, "CREATE LOGIN x"}, {"master", 1, "SELECT 1"}, {"db", 2, "CREATE USER x"}}
	got := d.Log()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log %v, want %v", got, want)
	}
	if s := d.SQL(); len(s) != 3 || s[2] != "CREATE USER x" {
		t.Errorf("SQL %q", s)
	}
	d.Reset()
	if len(d.Log()) != 0 {
		t.Error("reset kept the log")
	}
}

func TestFailOnFirstMatchOnly(t *testing.T) {
	d := New()
	boom := errors.New("boom")
	d.FailOn("GRANT", boom)
	db := sql.OpenDB(d.Connector("account"))
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE ROLE r"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "GRANT ROLE r TO USER u"); !errors.Is(err, boom) {
		t.Fatalf("first GRANT: %v", err)
	}
	if _, err := db.ExecContext(ctx, "GRANT ROLE r TO USER v"); err != nil {
		t.Fatalf("second GRANT: %v", err)
	}
	// Queries fail the same way.
	d.FailOn("SHOW", boom)
	if _, err := db.QueryContext(ctx, "SHOW ROLES"); !errors.Is(err, boom) {
		t.Fatalf("query: %v", err)
	}
	if n := len(d.Log()); n != 4 {
		t.Errorf("%d statements recorded, want 4 (failed ones included)", n)
	}
}

func TestRows(t *testing.T) {
	d := New()
	d.Rows("SHOW DATABASES", []string{"name", "owner"}, [][]driver.Value{{"D1", "SYSADMIN"}, {"D2", nil}})
	db := sql.OpenDB(d.Connector("account"))
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, "SHOW DATABASES LIKE 'D%'")
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	var got []string
	for rows.Next() {
		var name string
		var owner sql.NullString
		if err := rows.Scan(&name, &owner); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+"/"+owner.String)
	}
	rows.Close()
	if fmt.Sprint(cols, got) != "[name owner] [D1/SYSADMIN D2/]" {
		t.Errorf("got %v %v", cols, got)
	}
	// Replacing a rule; other queries have no rows.
	d.Rows("SHOW DATABASES", []string{"name"}, nil)
	for _, q := range []string{"SHOW DATABASES", "SELECT 1"} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if rows.Next() {
			t.Errorf("%s: a row", q)
		}
		rows.Close()
	}
}

func TestFailConnect(t *testing.T) {
	d := New()
	bad := errors.New("login failed")
	d.FailConnect("master", bad)
	db := sql.OpenDB(d.Connector("master"))
	defer db.Close()
	if _, err := db.Conn(context.Background()); !errors.Is(err, bad) {
		t.Fatalf("conn: %v", err)
	}
	d.FailConnect("master", nil)
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestDelayHonoursContext(t *testing.T) {
	d := New()
	d.Delay("WAITFOR", time.Minute)
	db := sql.OpenDB(d.Connector("db"))
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := db.ExecContext(ctx, "WAITFOR DELAY '01:00'"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("delay ignored the context")
	}
}

func TestArgumentsRefused(t *testing.T) {
	d := New()
	db := sql.OpenDB(d.Connector("db"))
	defer db.Close()
	if _, err := db.Exec("SELECT ?", 1); err == nil {
		t.Fatal("arguments accepted")
	}
}

func TestConcurrent(t *testing.T) {
	d := New()
	d.FailOn("FAIL", errors.New("x"))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			db := sql.OpenDB(d.Connector(fmt.Sprint("t", i)))
			defer db.Close()
			for j := 0; j < 20; j++ {
				db.Exec(fmt.Sprintf("SELECT %d", j))
				db.Exec("FAIL")
				_ = d.Log()
			}
		}(i)
	}
	wg.Wait()
	if n := len(d.Log()); n != 8*40 {
		t.Errorf("%d statements, want %d", n, 8*40)
	}
	fails := 0
	for _, e := range d.Log() {
		if e.SQL == "FAIL" {
			fails++
		}
	}
	if fails != 8*20 {
		t.Errorf("%d FAIL statements", fails)
	}
}
