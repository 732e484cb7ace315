package connector

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/openintegrations/integrations/platforms"
)

// The "Google BigQuery" test names (registered in init).
const (
	bqCredentialTest  = "Initial Validation: Service Account Credential Test"
	bqProjectTest     = "Initial Validation: Project Access Test"
	bqPermissionsTest = "Initial Validation: Role Permissions Test"
)

// Every connector file registers itself like this: the catalogue is data each platform
// states beside its checks.
func init() {
	register(Registration{Type: "Google BigQuery", Tests: []Spec{
		{Name: bqCredentialTest, Recurring: true, Connection: true},
		{Name: bqProjectTest, Recurring: true},
		{Name: bqPermissionsTest},
	}, New: func(o Options) Connector { return NewBigQuery(o) }})
}

// BigQueryScope is the OAuth scope the BigQuery connector asks for: BigQuery and Cloud
// Resource Manager both accept it.
const BigQueryScope = "https://www.googleapis.com/auth/cloud-platform"

// BigQueryPermissions are the IAM permissions the integration's service account needs
// on its project, which "Initial Validation: Role Permissions Test" checks. The
// integration creates config.dataset and the config.datasetSuffix datasets of its
// policy-protected views (datasets.create, get, update, delete; update also authorises
// the views on the source datasets), creates and maintains the views (tables.create,
// get, list, update, delete), reads the source tables' data and metadata
// (tables.getData), runs queries (jobs.create), and creates the user-defined functions
// the masking policies call (routines.create, get, update, delete). Every one of them
// is in roles/bigquery.admin. No iam.* or resourcemanager.* permission is needed: the
// integration does not read or change IAM roles.
var BigQueryPermissions = []string{
	"bigquery.datasets.create",
	"bigquery.datasets.delete",
	"bigquery.datasets.get",
	"bigquery.datasets.update",
	"bigquery.jobs.create",
	"bigquery.routines.create",
	"bigquery.routines.delete",
	"bigquery.routines.get",
	"bigquery.routines.update",
	"bigquery.tables.create",
	"bigquery.tables.delete",
	"bigquery.tables.get",
	"bigquery.tables.getData",
	"bigquery.tables.list",
	"bigquery.tables.update",
}

// BigQuery is the live Connector of the "Google BigQuery" type. It signs in as the
// service account of config.credential (an OAuth 2.0 JWT bearer grant at Google's
// token endpoint, golang.org/x/oauth2/google) and calls the BigQuery v2 and Cloud
// Resource Manager v1 REST APIs with the access token, in the key's project_id.
//
// The tests:
//
//   - "Initial Validation: Service Account Credential Test": Google issues an access
//     token for the key;
//   - "Initial Validation: Project Access Test": the service account may list the
//     project's datasets (GET projects/{project}/datasets?maxResults=1, which needs
//     bigquery.datasets.get, e.g. from roles/bigquery.user);
//   - "Initial Validation: Role Permissions Test": projects.testIamPermissions grants
//     every permission of BigQueryPermissions; the missing ones are named, with the
//     gcloud commands that add them to config.role and grant it.
//
// BigQuery has no scripts, so Run always fails. Verify for create and edit re-runs the
// credential and project access tests: the integration creates config.dataset itself,
// so its absence is not an error; for delete it returns nil (nothing has to be gone).
//
// A BigQuery holds no per-integration state and is safe for concurrent use; it signs
// in afresh for every Check and Verify.
type BigQuery struct {
	scriptless
	opts     Options
	client   *http.Client
	tokenURL string // "" keeps the key's token_uri (or Google's)
	bqBase   string // https://bigquery.googleapis.com/bigquery/v2
	crmBase  string // https://cloudresourcemanager.googleapis.com/v1
}

// NewBigQuery returns the Google BigQuery connector. o.GoogleTokenURL replaces the
// token endpoint; o.GoogleAPIBase replaces both API hosts (BigQuery's paths start with
// /bigquery/v2, Cloud Resource Manager's with /v1, so one server can answer both).
func NewBigQuery(o Options) *BigQuery {
	b := &BigQuery{
		scriptless: "Google BigQuery",
		opts:       o,
		client:     o.egress().Client(),
		tokenURL:   o.GoogleTokenURL,
		bqBase:     "https://bigquery.googleapis.com/bigquery/v2",
		crmBase:    "https://cloudresourcemanager.googleapis.com/v1",
	}
	if o.GoogleAPIBase != "" {
		base := strings.TrimRight(o.GoogleAPIBase, "/")
		b.bqBase, b.crmBase = base+"/bigquery/v2", base+"/v1"
	}
	return b
}

var _ Connector = (*BigQuery)(nil)

// Check runs one test of the Google BigQuery catalogue as the service account of the
// payload's credential (sys is not used: BigQuery integrations have no system account).
func (b *BigQuery) Check(ctx context.Context, test string, p *platforms.Payload, sys Credentials) error {
	c, ok := bqConfig(p)
	if !ok {
		return errors.New("the Google BigQuery connector needs a Google BigQuery payload")
	}
	switch test {
	case bqCredentialTest, bqProjectTest, bqPermissionsTest:
	default:
		return fmt.Errorf("unknown Google BigQuery test %q", test)
	}
	s, err := b.session(ctx, c)
	if err == nil {
		switch test {
		case bqProjectTest:
			err = b.checkProject(ctx, s)
		case bqPermissionsTest:
			err = b.checkPermissions(ctx, s, c)
		}
	}
	return cloudFinish(ctx, err, bqSecrets(p, sys, s))
}

// Verify's outline is S3's (nothing to check after a delete, then the type's own
// tests); the tests differ, so each type keeps its own.
// Verify re-runs the credential and project access tests for create and edit; for
// delete it returns nil.
func (b *BigQuery) Verify(ctx context.Context, op platforms.Operation, p *platforms.Payload, sys Credentials) error {
	if op == platforms.OpDelete {
		return nil
	}
	c, ok := bqConfig(p)
	if !ok {
		return errors.New("the Google BigQuery connector needs a Google BigQuery payload")
	}
	s, err := b.session(ctx, c)
	if err == nil {
		err = b.checkProject(ctx, s)
	}
	return cloudFinish(ctx, err, bqSecrets(p, sys, s))
}

func bqConfig(p *platforms.Payload) (*platforms.BigQuery, bool) {
	if p == nil {
		return nil, false
	}
	c, ok := p.Config.(*platforms.BigQuery)
	return c, ok && c != nil
}

// bqKey is the part of a service-account key the connector reads.
type bqKey struct {
	Type        string `json:"type"`
	ProjectID   string `json:"project_id"`
	ClientEmail string `json:"client_email"`
	PrivateKey  string `json:"private_key"`
}

// bqSession is a signed-in service account.
type bqSession struct {
	key   bqKey
	token string
}

// bqSecrets adds to the payload's secrets the parts of the key and the access token,
// which an error could quote on their own.
func bqSecrets(p *platforms.Payload, sys Credentials, s *bqSession) []string {
	out := Secrets(p, sys)
	if c, ok := bqConfig(p); ok {
		var k bqKey
		if json.Unmarshal(c.CredentialJSON(), &k) == nil && k.PrivateKey != "" {
			out = append(out, k.PrivateKey)
			for _, line := range strings.Split(k.PrivateKey, "\n") {
				if line = strings.TrimSpace(line); len(line) >= 16 && !strings.HasPrefix(line, "-----") {
					out = append(out, line)
				}
			}
		}
	}
	if s != nil && s.token != "" {
		out = append(out, s.token)
	}
	return out
}

// bqCheckKey reports whether pemKey is a PEM RSA private key (PKCS#8 or PKCS#1), as
// Google's keys are.
func bqCheckKey(pemKey string) bool {
	blk, _ := pem.Decode([]byte(pemKey))
	if blk == nil {
		return false
	}
	if _, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		return true
	}
	_, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	return err == nil
}

func bqNewKeyAdvice(email string) string {
	return fmt.Sprintf("create a new JSON key (`gcloud iam service-accounts keys create key.json --iam-account=%s`, or in the Cloud console: IAM & Admin > Service Accounts > %s > Keys > Add key > Create new key > JSON) and put its contents in config.credential", email, email)
}

// bqCtxTransport gives every request the context of the call: the JWT token source
// posts without one.
type bqCtxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t bqCtxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}

// session signs in as the key's service account.
func (b *BigQuery) session(ctx context.Context, c *platforms.BigQuery) (*bqSession, error) {
	doc := c.CredentialJSON()
	var k bqKey
	if err := json.Unmarshal(doc, &k); err != nil || k.Type != "service_account" || k.ClientEmail == "" || k.ProjectID == "" {
		return nil, errors.New("config.credential is not a service-account key JSON document with type service_account, project_id, client_email and private_key; download a JSON key of the service account (IAM & Admin > Service Accounts > the account > Keys > Add key > Create new key > JSON) and put its contents in config.credential")
	}
	if !bqCheckKey(k.PrivateKey) {
		return nil, fmt.Errorf("the private_key of config.credential is not a PEM RSA private key; %s", bqNewKeyAdvice(k.ClientEmail))
	}
	jc, err := google.JWTConfigFromJSON(doc, BigQueryScope)
	if err != nil {
		return nil, fmt.Errorf("config.credential is not a usable service-account key; %s", bqNewKeyAdvice(k.ClientEmail))
	}
	if b.tokenURL != "" {
		jc.TokenURL = b.tokenURL
	} else if u, err := url.Parse(jc.TokenURL); err != nil || u.Scheme != "https" || u.Host == "" {
		// The signed JWT goes to token_uri: only over TLS, and (through the client)
		// only where the egress policy allows.
		return nil, fmt.Errorf("the token_uri of config.credential (%q) must be an https:// URL, Google's is https://oauth2.googleapis.com/token", jc.TokenURL)
	}
	if err := b.opts.refused(ctx, jc.TokenURL); err != nil {
		return nil, err
	}
	s := &bqSession{key: k}
	err = cloudCall(ctx, b.opts.statementTimeout(), "the Google OAuth token endpoint", func(ctx context.Context) error {
		base := b.client.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		hc := &http.Client{Transport: bqCtxTransport{ctx: ctx, base: base}}
		tok, err := jc.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)).Token()
		if err == nil {
			s.token = tok.AccessToken
		}
		return err
	}, func(err error) error { return bqTokenError(err, k.ClientEmail) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

func bqTokenError(err error, email string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return fmt.Errorf("could not reach the Google OAuth token endpoint: %v; check that it is reachable from the server", vendor(err))
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(re.Body, &body)
	code, desc := short(body.Error), short(body.Description)
	if code == "" {
		code = fmt.Sprintf("HTTP %d", re.Response.StatusCode)
	}
	if desc == "" {
		desc = http.StatusText(re.Response.StatusCode)
	}
	if re.Response.StatusCode >= 500 {
		return fmt.Errorf("the Google OAuth token endpoint failed (%s: %s); try again later", code, desc)
	}
	return fmt.Errorf("the service-account key of %s in config.credential was refused by Google (%s: %s): the key is invalid, deleted or disabled, or the service account is disabled or deleted; %s", email, code, desc, bqNewKeyAdvice(email))
}

// googleError is the error body of Google's REST APIs.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Reason string `json:"reason"`
		} `json:"errors"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

func (g *googleError) serviceDisabled() bool {
	for _, e := range g.Error.Errors {
		if e.Reason == "accessNotConfigured" {
			return true
		}
	}
	for _, d := range g.Error.Details {
		if d.Reason == "SERVICE_DISABLED" {
			return true
		}
	}
	return false
}

// call sends one API request as the session and returns the status and body.
func (b *BigQuery) call(ctx context.Context, s *bqSession, what, method, u string, body any) (int, []byte, error) {
	var status int
	var data []byte
	err := cloudCall(ctx, b.opts.statementTimeout(), what, func(ctx context.Context) error {
		var rd io.Reader
		if body != nil {
			j, err := json.Marshal(body)
			if err != nil {
				return err
			}
			rd = bytes.NewReader(j)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := b.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		status = resp.StatusCode
		return err
	}, func(err error) error {
		return fmt.Errorf("could not reach %s: %v; check that it is reachable from the server", what, vendor(err))
	})
	return status, data, err
}

// bqAPIError explains a non-2xx answer of an API; forbidden explains a 403 that is not
// a disabled API.
func bqAPIError(s *bqSession, what, api string, status int, data []byte, forbidden func(msg string) error) error {
	var g googleError
	_ = json.Unmarshal(data, &g)
	msg := short(g.Error.Message)
	if msg == "" {
		msg = http.StatusText(status)
	}
	project, email := s.key.ProjectID, s.key.ClientEmail
	switch {
	case g.serviceDisabled():
		return fmt.Errorf("%s is not enabled in project %s (%s); enable it with `gcloud services enable %s --project=%s` (or in the Cloud console: APIs & Services > Enable APIs and services) and validate again", what, project, msg, api, project)
	case status == http.StatusUnauthorized:
		return fmt.Errorf("%s rejected the access token of %s (HTTP 401: %s); check that the service account is enabled, or %s", what, email, msg, bqNewKeyAdvice(email))
	case status == http.StatusForbidden:
		return forbidden(msg)
	case status == http.StatusNotFound:
		return fmt.Errorf("project %s (project_id of config.credential) was not found by %s (HTTP 404: %s); check that the key belongs to the integration's project", project, what, msg)
	case status >= 500:
		return fmt.Errorf("%s failed (HTTP %d: %s); try again later", what, status, msg)
	}
	return fmt.Errorf("%s refused the request (HTTP %d: %s)", what, status, msg)
}

func (b *BigQuery) checkProject(ctx context.Context, s *bqSession) error {
	project, email := s.key.ProjectID, s.key.ClientEmail
	u := b.bqBase + "/projects/" + url.PathEscape(project) + "/datasets?maxResults=1"
	status, data, err := b.call(ctx, s, "the BigQuery API", http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if status/100 == 2 {
		return nil
	}
	return bqAPIError(s, "the BigQuery API", "bigquery.googleapis.com", status, data, func(msg string) error {
		return fmt.Errorf("the service account %s may not list the BigQuery datasets of project %s (HTTP 403: %s): it lacks bigquery.datasets.get; grant it a BigQuery role on the project, e.g. `gcloud projects add-iam-policy-binding %s --member=serviceAccount:%s --role=roles/bigquery.user`, or add the permission to config.role", email, project, msg, project, email)
	})
}

// bqRoleCommands returns the commands that add perms to the integration's role and
// grant it to the service account.
func bqRoleCommands(role, project, email string, perms []string) string {
	list := strings.Join(perms, ",")
	grant := func(r string) string {
		return fmt.Sprintf("`gcloud projects add-iam-policy-binding %s --member=serviceAccount:%s --role=%s`", project, email, r)
	}
	parts := strings.Split(role, "/")
	switch {
	case strings.HasPrefix(role, "roles/"):
		// A predefined role cannot be changed.
		return fmt.Sprintf("config.role %s is a predefined role that lacks them; grant a role that contains them, e.g. roles/bigquery.admin: %s", role, grant("roles/bigquery.admin"))
	case len(parts) == 4 && parts[0] == "projects" && parts[2] == "roles":
		return fmt.Sprintf("add them to config.role: `gcloud iam roles update %s --project=%s --add-permissions=%s`, and grant the role to the service account: %s", parts[3], parts[1], list, grant(role))
	case len(parts) == 4 && parts[0] == "organizations" && parts[2] == "roles":
		return fmt.Sprintf("add them to config.role: `gcloud iam roles update %s --organization=%s --add-permissions=%s`, and grant the role to the service account: %s", parts[3], parts[1], list, grant(role))
	}
	return fmt.Sprintf("add them to config.role: `gcloud iam roles update %s --project=%s --add-permissions=%s`, and grant the role to the service account: %s", role, project, list, grant("projects/"+project+"/roles/"+role))
}

func (b *BigQuery) checkPermissions(ctx context.Context, s *bqSession, c *platforms.BigQuery) error {
	project, email := s.key.ProjectID, s.key.ClientEmail
	const what = "the Cloud Resource Manager API"
	u := b.crmBase + "/projects/" + url.PathEscape(project) + ":testIamPermissions"
	status, data, err := b.call(ctx, s, what, http.MethodPost, u, map[string][]string{"permissions": BigQueryPermissions})
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return bqAPIError(s, what, "cloudresourcemanager.googleapis.com", status, data, func(msg string) error {
			return fmt.Errorf("%s refused to test the permissions of %s on project %s (HTTP 403: %s); check that the service account belongs to the project and is enabled", what, email, project, msg)
		})
	}
	var out struct {
		Permissions []string `json:"permissions"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return fmt.Errorf("%s answered testIamPermissions with an unreadable body", what)
	}
	granted := map[string]bool{}
	for _, p := range out.Permissions {
		granted[p] = true
	}
	var missing []string
	for _, p := range BigQueryPermissions {
		if !granted[p] {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("the service account %s lacks %d of the permissions the integration needs on project %s: %s; %s", email, len(missing), project, strings.Join(missing, ", "), bqRoleCommands(c.Role, project, email, missing))
}
