package connector

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openintegrations/integrations/platforms"
)

const (
	bqTestProject = "analytics-prod"
	bqTestEmail   = "integrations@analytics-prod.iam.gserviceaccount.com"
	bqTestToken   = "ya29.test-access-token"
)

var (
	bqKeysOnce          sync.Once
	bqTestKey, bqOthKey *rsa.PrivateKey
)

// bqKeys returns the service account's registered key and a key Google does not know.
func bqKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	bqKeysOnce.Do(func() {
		var err error
		if bqTestKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
		if bqOthKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return bqTestKey, bqOthKey
}

func bqPEM(t *testing.T, k *rsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// bqCredential returns a service-account key JSON document as Google issues it.
func bqCredential(t *testing.T, privateKey string) string {
	doc, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": bqTestProject, "private_key_id": "0123456789abcdef",
		"private_key": privateKey, "client_email": bqTestEmail, "client_id": "100000000000000000001",
		"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// bqFakeAnswer is an HTTP error answer.
type bqFakeAnswer struct {
	status int
	body   string
}

// bqFakeGoogle is Google's token endpoint (JWT bearer grant, RS256 assertions checked
// against the registered key) and the BigQuery datasets.list and Cloud Resource
// Manager projects.testIamPermissions methods.
type bqFakeGoogle struct {
	mu       sync.Mutex
	url      string
	pub      *rsa.PublicKey
	tokenErr *bqFakeAnswer
	apiErr   map[string]*bqFakeAnswer // "datasets" or "testIamPermissions"
	granted  []string
	hang     map[string]chan struct{} // "token", "datasets", "testIamPermissions"
	asked    []string                 // permissions asked for
	requests []string
}

func (g *bqFakeGoogle) set(change func(g *bqFakeGoogle)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	change(g)
}

func bqWrite(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// verifyJWT checks an RS256 assertion and returns its claims.
func (g *bqFakeGoogle) verifyJWT(assertion string) (map[string]any, bool) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(g.pub, crypto.SHA256, sum[:], sig) != nil {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var claims map[string]any
	return claims, json.Unmarshal(raw, &claims) == nil
}

func (g *bqFakeGoogle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := "other"
	switch {
	case r.URL.Path == "/token":
		kind = "token"
	case r.URL.Path == "/bigquery/v2/projects/"+bqTestProject+"/datasets":
		kind = "datasets"
	case r.URL.Path == "/v1/projects/"+bqTestProject+":testIamPermissions":
		kind = "testIamPermissions"
	}
	g.mu.Lock()
	hang := g.hang[kind]
	g.requests = append(g.requests, r.Method+" "+r.URL.RequestURI())
	g.mu.Unlock()
	if hang != nil {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if kind == "token" {
		if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			bqWrite(w, 400, `{"error":"unsupported_grant_type","error_description":"Invalid grant_type: "}`)
			return
		}
		if g.tokenErr != nil {
			bqWrite(w, g.tokenErr.status, g.tokenErr.body)
			return
		}
		claims, ok := g.verifyJWT(r.PostForm.Get("assertion"))
		if !ok {
			bqWrite(w, 400, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
			return
		}
		exp, _ := claims["exp"].(float64)
		if claims["iss"] != bqTestEmail || claims["aud"] != g.url+"/token" || claims["scope"] != BigQueryScope || int64(exp) < time.Now().Unix() {
			bqWrite(w, 400, `{"error":"invalid_grant","error_description":"Invalid JWT: bad claims."}`)
			return
		}
		bqWrite(w, 200, `{"access_token":"`+bqTestToken+`","expires_in":3599,"token_type":"Bearer"}`)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+bqTestToken {
		bqWrite(w, 401, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
		return
	}
	if e := g.apiErr[kind]; e != nil {
		bqWrite(w, e.status, e.body)
		return
	}
	switch {
	case kind == "datasets" && r.Method == http.MethodGet && r.URL.Query().Get("maxResults") == "1":
		bqWrite(w, 200, `{"kind":"bigquery#datasetList","etag":"e","nextPageToken":"d1","datasets":[{"kind":"bigquery#dataset","id":"`+bqTestProject+`:d1","datasetReference":{"datasetId":"d1","projectId":"`+bqTestProject+`"},"location":"US"}]}`)
	case kind == "testIamPermissions" && r.Method == http.MethodPost:
		var req struct {
			Permissions []string `json:"permissions"`
		}
		if json.NewDecoder(r.Body).Decode(&req) != nil {
			bqWrite(w, 400, `{"error":{"code":400,"message":"bad body","status":"INVALID_ARGUMENT"}}`)
			return
		}
		g.asked = req.Permissions
		var out struct {
			Permissions []string `json:"permissions,omitempty"`
		}
		for _, p := range req.Permissions {
			for _, q := range g.granted {
				if p == q {
					out.Permissions = append(out.Permissions, p)
				}
			}
		}
		b, _ := json.Marshal(out)
		bqWrite(w, 200, string(b))
	default:
		bqWrite(w, 404, `{"error":{"code":404,"message":"Not found: Project `+bqTestProject+`","status":"NOT_FOUND"}}`)
	}
}

// bqSetup starts a fake Google that knows the test key and grants every permission,
// and returns a connector pointed at it.
func bqSetup(t *testing.T, o Options) (*BigQuery, *bqFakeGoogle) {
	t.Helper()
	key, _ := bqKeys(t)
	g := &bqFakeGoogle{pub: &key.PublicKey, granted: append([]string(nil), BigQueryPermissions...)}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	g.url = srv.URL
	o.GoogleTokenURL, o.GoogleAPIBase = srv.URL+"/token", srv.URL
	if o.Egress == nil {
		o.Egress = localEgress
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = 5 * time.Second
	}
	return NewBigQuery(o), g
}

func bqPayload(t *testing.T, change func(c *platforms.BigQuery)) *platforms.Payload {
	key, _ := bqKeys(t)
	c := &platforms.BigQuery{
		Role: "integrations_role", DatasetSuffix: "_protected", Dataset: "integrations", Location: "US",
		Credential: bqCredential(t, bqPEM(t, key)),
	}
	if change != nil {
		change(c)
	}
	return &platforms.Payload{Type: "Google BigQuery", Config: c}
}

// bqNoSecret fails if err quotes any part of a private key or the access token.
func bqNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "PRIVATE KEY") || strings.Contains(msg, bqTestToken) {
		t.Errorf("error quotes a secret: %v", err)
	}
	k1, k2 := bqKeys(t)
	for _, k := range []*rsa.PrivateKey{k1, k2} {
		for _, line := range strings.Split(bqPEM(t, k), "\n") {
			if len(line) >= 16 && strings.Contains(msg, line) {
				t.Errorf("error quotes a private key: %v", err)
			}
		}
	}
}

func bqWant(t *testing.T, err error, want string) {
	t.Helper()
	bqNoSecret(t, err)
	switch {
	case want == "" && err != nil:
		t.Fatalf("got %v, want passed", err)
	case want == "":
	case err == nil:
		t.Fatalf("passed, want %q", want)
	case err.Error() != want:
		t.Fatalf("got  %q\nwant %q", err, want)
	}
}

const bqAdvice = "create a new JSON key (`gcloud iam service-accounts keys create key.json --iam-account=" + bqTestEmail + "`, or in the Cloud console: IAM & Admin > Service Accounts > " + bqTestEmail + " > Keys > Add key > Create new key > JSON) and put its contents in config.credential"

func TestBigQueryCredential(t *testing.T) {
	_, other := bqKeys(t)
	for _, tc := range []struct {
		name   string
		fake   func(g *bqFakeGoogle)
		config func(t *testing.T, c *platforms.BigQuery)
		want   string
	}{
		{name: "passes"},
		{name: "key pasted with raw line breaks", config: func(t *testing.T, c *platforms.BigQuery) {
			c.Credential = strings.ReplaceAll(c.Credential, `\n`, "\n")
		}},
		{name: "key unknown to Google (deleted or disabled)",
			config: func(t *testing.T, c *platforms.BigQuery) { c.Credential = bqCredential(t, bqPEM(t, other)) },
			want:   "the service-account key of " + bqTestEmail + " in config.credential was refused by Google (invalid_grant: Invalid JWT Signature.): the key is invalid, deleted or disabled, or the service account is disabled or deleted; " + bqAdvice},
		{name: "disabled service account",
			fake: func(g *bqFakeGoogle) {
				g.tokenErr = &bqFakeAnswer{400, `{"error":"invalid_grant","error_description":"Invalid grant: account not found"}`}
			},
			want: "the service-account key of " + bqTestEmail + " in config.credential was refused by Google (invalid_grant: Invalid grant: account not found): the key is invalid, deleted or disabled, or the service account is disabled or deleted; " + bqAdvice},
		{name: "a key quoted by Google is redacted",
			fake: func(g *bqFakeGoogle) {
				key, _ := bqKeys(t)
				line := strings.Split(bqPEM(t, key), "\n")[3]
				g.tokenErr = &bqFakeAnswer{400, `{"error":"invalid_grant","error_description":"bad key ` + line + `"}`}
			},
			want: "the service-account key of " + bqTestEmail + " in config.credential was refused by Google (invalid_grant: bad key <REDACTED>): the key is invalid, deleted or disabled, or the service account is disabled or deleted; " + bqAdvice},
		{name: "token endpoint fails",
			fake: func(g *bqFakeGoogle) { g.tokenErr = &bqFakeAnswer{503, `unavailable`} },
			want: "the Google OAuth token endpoint failed (HTTP 503: Service Unavailable); try again later"},
		{name: "private key is not PEM",
			config: func(t *testing.T, c *platforms.BigQuery) {
				c.Credential = bqCredential(t, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
			},
			want: "the private_key of config.credential is not a PEM RSA private key; " + bqAdvice},
		{name: "not a key document",
			config: func(t *testing.T, c *platforms.BigQuery) { c.Credential = `{"type":"authorized_user"}` },
			want:   "config.credential is not a service-account key JSON document with type service_account, project_id, client_email and private_key; download a JSON key of the service account (IAM & Admin > Service Accounts > the account > Keys > Add key > Create new key > JSON) and put its contents in config.credential"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, g := bqSetup(t, Options{})
			if tc.fake != nil {
				g.set(tc.fake)
			}
			p := bqPayload(t, nil)
			if tc.config != nil {
				tc.config(t, p.Config.(*platforms.BigQuery))
			}
			bqWant(t, b.Check(context.Background(), bqCredentialTest, p, Credentials{}), tc.want)
		})
	}
}

func TestBigQueryProjectAccess(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *bqFakeAnswer
		want string
	}{
		{name: "passes"},
		{name: "no BigQuery role",
			err:  &bqFakeAnswer{403, `{"error":{"code":403,"message":"Access Denied: Project analytics-prod: User does not have bigquery.datasets.get permission in project analytics-prod.","errors":[{"message":"Access Denied","domain":"global","reason":"accessDenied"}],"status":"PERMISSION_DENIED"}}`},
			want: "the service account " + bqTestEmail + " may not list the BigQuery datasets of project analytics-prod (HTTP 403: Access Denied: Project analytics-prod: User does not have bigquery.datasets.get permission in project analytics-prod.): it lacks bigquery.datasets.get; grant it a BigQuery role on the project, e.g. `gcloud projects add-iam-policy-binding analytics-prod --member=serviceAccount:" + bqTestEmail + " --role=roles/bigquery.user`, or add the permission to config.role"},
		{name: "API disabled",
			err:  &bqFakeAnswer{403, `{"error":{"code":403,"message":"BigQuery API has not been used in project 123 before or it is disabled.","errors":[{"message":"disabled","domain":"usageLimits","reason":"accessNotConfigured"}],"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com"}]}}`},
			want: "the BigQuery API is not enabled in project analytics-prod (BigQuery API has not been used in project 123 before or it is disabled.); enable it with `gcloud services enable bigquery.googleapis.com --project=analytics-prod` (or in the Cloud console: APIs & Services > Enable APIs and services) and validate again"},
		{name: "project not found",
			err:  &bqFakeAnswer{404, `{"error":{"code":404,"message":"Not found: Project analytics-prod","status":"NOT_FOUND"}}`},
			want: "project analytics-prod (project_id of config.credential) was not found by the BigQuery API (HTTP 404: Not found: Project analytics-prod); check that the key belongs to the integration's project"},
		{name: "token rejected",
			err:  &bqFakeAnswer{401, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`},
			want: "the BigQuery API rejected the access token of " + bqTestEmail + " (HTTP 401: Request had invalid authentication credentials.); check that the service account is enabled, or " + bqAdvice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, g := bqSetup(t, Options{})
			g.set(func(g *bqFakeGoogle) { g.apiErr = map[string]*bqFakeAnswer{"datasets": tc.err} })
			bqWant(t, b.Check(context.Background(), bqProjectTest, bqPayload(t, nil), Credentials{}), tc.want)
			if want := "GET /bigquery/v2/projects/analytics-prod/datasets?maxResults=1"; len(g.requests) != 2 || g.requests[1] != want {
				t.Errorf("requests %q, want token then %q", g.requests, want)
			}
		})
	}
}

func TestBigQueryRolePermissions(t *testing.T) {
	lacking := []string{"bigquery.datasets.create", "bigquery.tables.getData"}
	granted := func(g *bqFakeGoogle) {
		g.granted = nil
		for _, p := range BigQueryPermissions {
			if p != lacking[0] && p != lacking[1] {
				g.granted = append(g.granted, p)
			}
		}
	}
	const lacks = "the service account " + bqTestEmail + " lacks 2 of the permissions the integration needs on project analytics-prod: bigquery.datasets.create, bigquery.tables.getData; "
	for _, tc := range []struct {
		name, role string
		fake       func(g *bqFakeGoogle)
		want       string
	}{
		{name: "passes"},
		{name: "custom role of the project", role: "integrations_role", fake: granted,
			want: lacks + "add them to config.role: `gcloud iam roles update integrations_role --project=analytics-prod --add-permissions=bigquery.datasets.create,bigquery.tables.getData`, and grant the role to the service account: `gcloud projects add-iam-policy-binding analytics-prod --member=serviceAccount:" + bqTestEmail + " --role=projects/analytics-prod/roles/integrations_role`"},
		{name: "custom role by full name", role: "organizations/42/roles/integrations", fake: granted,
			want: lacks + "add them to config.role: `gcloud iam roles update integrations --organization=42 --add-permissions=bigquery.datasets.create,bigquery.tables.getData`, and grant the role to the service account: `gcloud projects add-iam-policy-binding analytics-prod --member=serviceAccount:" + bqTestEmail + " --role=organizations/42/roles/integrations`"},
		{name: "predefined role", role: "roles/bigquery.user", fake: granted,
			want: lacks + "config.role roles/bigquery.user is a predefined role that lacks them; grant a role that contains them, e.g. roles/bigquery.admin: `gcloud projects add-iam-policy-binding analytics-prod --member=serviceAccount:" + bqTestEmail + " --role=roles/bigquery.admin`"},
		{name: "Resource Manager API disabled",
			fake: func(g *bqFakeGoogle) {
				g.apiErr = map[string]*bqFakeAnswer{"testIamPermissions": {403, `{"error":{"code":403,"message":"Cloud Resource Manager API has not been used in project 123 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED"}]}}`}}
			},
			want: "the Cloud Resource Manager API is not enabled in project analytics-prod (Cloud Resource Manager API has not been used in project 123 before or it is disabled.); enable it with `gcloud services enable cloudresourcemanager.googleapis.com --project=analytics-prod` (or in the Cloud console: APIs & Services > Enable APIs and services) and validate again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, g := bqSetup(t, Options{})
			if tc.fake != nil {
				g.set(tc.fake)
			}
			p := bqPayload(t, func(c *platforms.BigQuery) {
				if tc.role != "" {
					c.Role = tc.role
				}
			})
			bqWant(t, b.Check(context.Background(), bqPermissionsTest, p, Credentials{}), tc.want)
			if tc.want == "" && strings.Join(g.asked, ",") != strings.Join(BigQueryPermissions, ",") {
				t.Errorf("asked for %q", g.asked)
			}
		})
	}
}

func TestBigQueryTimeout(t *testing.T) {
	for _, tc := range []struct{ hang, test, want string }{
		{"token", bqCredentialTest, "no answer from the Google OAuth token endpoint within 200ms; check that it is reachable from the server and try again"},
		{"datasets", bqProjectTest, "no answer from the BigQuery API within 200ms; check that it is reachable from the server and try again"},
		{"testIamPermissions", bqPermissionsTest, "no answer from the Cloud Resource Manager API within 200ms; check that it is reachable from the server and try again"},
	} {
		t.Run(tc.hang, func(t *testing.T) {
			b, g := bqSetup(t, Options{StatementTimeout: 200 * time.Millisecond})
			release := make(chan struct{})
			defer close(release)
			g.set(func(g *bqFakeGoogle) { g.hang = map[string]chan struct{}{tc.hang: release} })
			start := time.Now()
			bqWant(t, b.Check(context.Background(), tc.test, bqPayload(t, nil), Credentials{}), tc.want)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	t.Run("caller deadline", func(t *testing.T) {
		b, g := bqSetup(t, Options{StatementTimeout: time.Minute})
		release := make(chan struct{})
		defer close(release)
		g.set(func(g *bqFakeGoogle) { g.hang = map[string]chan struct{}{"token": release} })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := b.Check(ctx, bqCredentialTest, bqPayload(t, nil), Credentials{}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want a deadline error", err)
		}
	})
}

func TestBigQueryRunVerifyValidate(t *testing.T) {
	b, g := bqSetup(t, Options{})
	if err := b.Run(context.Background(), nil, bqPayload(t, nil), Credentials{}); err == nil || err.Error() != "the Google BigQuery type has no scripts to run: its setup is checked by the validation tests" {
		t.Errorf("Run: %v", err)
	}
	for _, op := range []platforms.Operation{platforms.OpCreate, platforms.OpEdit, platforms.OpDelete} {
		if err := b.Verify(context.Background(), op, bqPayload(t, nil), Credentials{}); err != nil {
			t.Errorf("Verify(%s): %v", op, err)
		}
	}
	if err := b.Check(context.Background(), "Initial Validation: Basic Connection Test", bqPayload(t, nil), Credentials{}); err == nil {
		t.Error("an unknown test passed")
	}
	r := Validate(context.Background(), b, platforms.OpCreate, bqPayload(t, nil), Credentials{}, 10*time.Second)
	if r.Status != Passed || len(r.Tests) != 3 {
		t.Fatalf("validate: %+v", r)
	}
	// One connector serves every integration at once.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := Validate(context.Background(), b, platforms.OpEdit, bqPayload(t, nil), Credentials{}, 10*time.Second); r.Status != Passed {
				t.Errorf("concurrent validate: %+v", r)
			}
		}()
	}
	wg.Wait()
	g.set(func(g *bqFakeGoogle) { g.granted = BigQueryPermissions[1:] })
	r = Validate(context.Background(), b, platforms.OpCreate, bqPayload(t, nil), Credentials{}, 10*time.Second)
	if r.Status != Failed || r.Tests[0].Status != Passed || r.Tests[1].Status != Passed || r.Tests[2].Status != Failed ||
		!strings.Contains(r.Tests[2].Message, "lacks 1 of the permissions") {
		t.Fatalf("validate without a permission: %+v", r)
	}
	g.set(func(g *bqFakeGoogle) {
		g.apiErr = map[string]*bqFakeAnswer{"datasets": {403, `{"error":{"code":403,"message":"Access Denied","status":"PERMISSION_DENIED"}}`}}
	})
	if err := b.Verify(context.Background(), platforms.OpCreate, bqPayload(t, nil), Credentials{}); err == nil || !strings.Contains(err.Error(), "roles/bigquery.user") {
		t.Errorf("Verify(create) without access: %v", err)
	}
}
