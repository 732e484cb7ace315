package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/egress"
	"github.com/openintegrations/integrations/internal/store"
)

// TestEgressDefaultRefusesInternalAddresses: with the live connectors and no
// --egress-allow, an integration pointed at this machine (or at the cloud metadata
// address) is a 422 whose validation result names the setting, nothing is stored, and
// no connection arrives. With 127.0.0.1 allowed the connector does connect.
func TestEgressDefaultRefusesInternalAddresses(t *testing.T) {
	var hits atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	serve := func(t *testing.T, o connector.Options) (string, string) {
		ctx := context.Background()
		st, err := store.Open(ctx, filepath.Join(t.TempDir(), "e.db"), store.Options{Key: testKey})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		_, key, err := st.CreateAPIKey(ctx, store.APIKeySpec{Name: "admin", Permissions: []string{store.PermissionAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := New(Options{Store: st, Connector: connector.Live(o)})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)
		return hs.URL, key
	}
	post := func(t *testing.T, url, key, host string) (int, string) {
		body := fmt.Sprintf(`{"type":"Redshift","autoBootstrap":false,"config":{"host":%q,"port":%d,"database":"immuta","authenticationType":"userPassword","username":"immuta_system","password":"Abc1234-secret-pw"}}`, host, port)
		req, _ := http.NewRequest("POST", url+"/integrations", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	url, key := serve(t, connector.Options{})
	for _, host := range []string{"127.0.0.1", "169.254.169.254", "localhost"} {
		status, body := post(t, url, key, host)
		var e struct {
			Results struct {
				Tests []struct{ Status, Message string } `json:"validationTests"`
			} `json:"validationResults"`
		}
		_ = json.Unmarshal([]byte(body), &e)
		if status != http.StatusUnprocessableEntity || len(e.Results.Tests) == 0 ||
			!strings.Contains(e.Results.Tests[0].Message, egress.Setting) {
			t.Errorf("host %s: %d %s; want 422 whose first test names %s", host, status, body, egress.Setting)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d connections arrived although the policy refuses loopback", n)
	}
	allowed, err := egress.Parse("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	url, key = serve(t, connector.Options{Egress: allowed, DisableTLS: true})
	if status, body := post(t, url, key, "127.0.0.1"); status != http.StatusUnprocessableEntity || strings.Contains(body, egress.Setting) {
		t.Errorf("allowed: %d %s; want a 422 from the (closing) server, not the policy", status, body)
	}
	if hits.Load() == 0 {
		t.Errorf("with 127.0.0.1 allowed, no connection arrived")
	}
}
