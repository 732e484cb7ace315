package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openintegrations/integrations/platforms"
)

// s3FakeErr is an AWS error answer.
type s3FakeErr struct {
	status    int
	code, msg string
}

// s3FakeLoc is a registered Access Grants location.
type s3FakeLoc struct{ id, scope, role string }

// s3FakeAWS answers the STS (Query protocol) and S3 Control (REST-XML) calls of the S3
// connector the way AWS documents them. Access keys map to accounts; an unknown key
// gets InvalidClientTokenId (STS) or InvalidAccessKeyId (S3 Control).
type s3FakeAWS struct {
	mu         sync.Mutex
	keys       map[string]string // access key id → account
	stsErr     *s3FakeErr        // GetCallerIdentity answer
	assumeErr  *s3FakeErr        // AssumeRole answer
	controlErr *s3FakeErr        // S3 Control answer
	instance   bool              // the account has an Access Grants instance
	locations  []s3FakeLoc
	pageSize   int           // ListAccessGrantsLocations page size (0: all)
	hang       chan struct{} // set: never answer (until closed)
	// What the server saw.
	hosts, accountIDs, actions, assumed []string
}

func s3AccessKey(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, "/")
	return key
}

func (f *s3FakeAWS) writeErr(w http.ResponseWriter, control bool, e *s3FakeErr) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	if control {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId><HostId>host-1</HostId></ErrorResponse>`, e.code, e.msg)
		return
	}
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, e.code, e.msg)
}

func (f *s3FakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hang := f.hang
	f.mu.Unlock()
	if hang != nil {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := s3AccessKey(r.Header.Get("Authorization"))
	account, known := f.keys[key]
	if r.Method == http.MethodPost && r.URL.Path == "/" {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		action := r.PostForm.Get("Action")
		f.actions = append(f.actions, action)
		if !known {
			f.writeErr(w, false, &s3FakeErr{403, "InvalidClientTokenId", "The security token included in the request is invalid."})
			return
		}
		switch action {
		case "GetCallerIdentity":
			if f.stsErr != nil {
				f.writeErr(w, false, f.stsErr)
				return
			}
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/integrations</Arn><UserId>AIDAEXAMPLE</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, account, account)
		case "AssumeRole":
			role := r.PostForm.Get("RoleArn")
			f.assumed = append(f.assumed, role+" as "+r.PostForm.Get("RoleSessionName"))
			if f.assumeErr != nil {
				f.writeErr(w, false, f.assumeErr)
				return
			}
			roleAccount := s3RoleAccount(role)
			temp := "ASIATEMP" + roleAccount
			f.keys[temp] = roleAccount
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>tempsecret</SecretAccessKey><SessionToken>tempsession</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::%s:assumed-role/r/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata></AssumeRoleResponse>`,
				temp, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), roleAccount)
		default:
			f.writeErr(w, false, &s3FakeErr{400, "InvalidAction", "unknown action " + action})
		}
		return
	}
	if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/v20180820/accessgrantsinstance") {
		http.NotFound(w, r)
		return
	}
	f.hosts = append(f.hosts, r.Host)
	f.accountIDs = append(f.accountIDs, r.Header.Get("x-amz-account-id"))
	switch {
	case !known:
		f.writeErr(w, true, &s3FakeErr{403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."})
		return
	case f.controlErr != nil:
		f.writeErr(w, true, f.controlErr)
		return
	case account != r.Header.Get("x-amz-account-id"):
		f.writeErr(w, true, &s3FakeErr{403, "AccessDenied", "Access Denied"})
		return
	case !f.instance:
		f.writeErr(w, true, &s3FakeErr{404, "AccessGrantsInstanceNotExistsError", "Access Grants Instance does not exist"})
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	switch r.URL.Path {
	case "/v20180820/accessgrantsinstance":
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><GetAccessGrantsInstanceResult><AccessGrantsInstanceArn>arn:aws:s3:us-east-1:%s:access-grants/default</AccessGrantsInstanceArn><AccessGrantsInstanceId>default</AccessGrantsInstanceId><CreatedAt>2024-01-01T00:00:00Z</CreatedAt></GetAccessGrantsInstanceResult>`, account)
	case "/v20180820/accessgrantsinstance/locations":
		start, _ := strconv.Atoi(r.URL.Query().Get("nextToken"))
		end := len(f.locations)
		if f.pageSize > 0 && start+f.pageSize < end {
			end = start + f.pageSize
		}
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListAccessGrantsLocationsResult>`)
		if end < len(f.locations) {
			fmt.Fprintf(&b, `<NextToken>%d</NextToken>`, end)
		}
		b.WriteString(`<AccessGrantsLocationsList>`)
		for _, l := range f.locations[start:end] {
			fmt.Fprintf(&b, `<AccessGrantsLocation><CreatedAt>2024-01-01T00:00:00Z</CreatedAt><AccessGrantsLocationId>%s</AccessGrantsLocationId><AccessGrantsLocationArn>arn:aws:s3:us-east-1:%s:access-grants/default/location/%s</AccessGrantsLocationArn><LocationScope>%s</LocationScope><IAMRoleArn>%s</IAMRoleArn></AccessGrantsLocation>`, l.id, account, l.id, l.scope, l.role)
		}
		b.WriteString(`</AccessGrantsLocationsList></ListAccessGrantsLocationsResult>`)
		w.Write([]byte(b.String()))
	default:
		http.NotFound(w, r)
	}
}

func (f *s3FakeAWS) set(change func(f *s3FakeAWS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

const (
	s3TestAccount = "123456789012"
	s3TestKey     = "AKIAIOSFODNN7EXAMPLE"
	s3TestSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	s3TestRole    = "arn:aws:iam::123456789012:role/s3-location"
	s3TestPath    = "s3://data-bucket/integrations/"
	// The server's own identity, for authenticationType auto.
	s3TestServerKey    = "AKIASERVEREXAMPLE"
	s3TestServerSecret = "serverSecretKeyEXAMPLE/0123456789abcdefgh"
)

// s3Env isolates the AWS SDK from the machine's configuration.
func s3Env(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_PROFILE":                            "",
		"AWS_REGION":                             "",
		"AWS_ROLE_ARN":                           "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_ENDPOINT_URL":                       "",
		"AWS_ENDPOINT_URL_STS":                   "",
		"AWS_ENDPOINT_URL_S3_CONTROL":            "",
	} {
		t.Setenv(k, v)
	}
}

// s3Setup starts a fake AWS with the test key in account s3TestAccount and an
// instance, and returns a connector pointed at it.
func s3Setup(t *testing.T, o Options) (*S3, *s3FakeAWS) {
	t.Helper()
	s3Env(t)
	f := &s3FakeAWS{keys: map[string]string{s3TestKey: s3TestAccount, s3TestServerKey: "111111111111"}, instance: true}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	o.AWSEndpoint = srv.URL
	if o.Egress == nil {
		o.Egress = localEgress
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = 5 * time.Second
	}
	return NewS3(o), f
}

func s3Payload(change func(c *platforms.S3)) *platforms.Payload {
	c := &platforms.S3{
		Name: "s3", AWSAccountID: s3TestAccount, AWSRegion: "us-east-1",
		AWSLocationRole: s3TestRole, AWSLocationPath: s3TestPath,
		AuthenticationType: "accessKey", AWSAccessKeyID: s3TestKey, AWSSecretAccessKey: s3TestSecret,
	}
	if change != nil {
		change(c)
	}
	return &platforms.Payload{Type: "Native S3", Config: c}
}

// s3NoSecret fails if err quotes a secret.
func s3NoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{s3TestSecret, s3TestServerSecret, "tempsecret", "tempsession"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error quotes a secret: %v", err)
		}
	}
}

const s3NewKeyAdvice = "create a new access key for the IAM user (IAM console > Users > the user > Security credentials > Create access key, or `aws iam create-access-key --user-name USER`) and put it in config.awsAccessKeyId and config.awsSecretAccessKey"

func s3Want(t *testing.T, err error, want string) {
	t.Helper()
	s3NoSecret(t, err)
	switch {
	case want == "" && err != nil:
		t.Fatalf("got %v, want passed", err)
	case want == "":
	case err == nil:
		t.Fatalf("passed, want %q", want)
	case errors.Is(err, ErrWarning):
		t.Fatalf("got warning %q, want failure %q", err, want)
	case err.Error() != want:
		t.Fatalf("got  %q\nwant %q", err, want)
	}
}

func TestS3CredentialsAccessKey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fake   func(f *s3FakeAWS)
		config func(c *platforms.S3)
		want   string
	}{
		{name: "passes"},
		{name: "short account id is read with leading zeros",
			fake:   func(f *s3FakeAWS) { f.keys[s3TestKey] = "000123456789" },
			config: func(c *platforms.S3) { c.AWSAccountID = "123456789" }},
		{name: "unknown key",
			config: func(c *platforms.S3) { c.AWSAccessKeyID = "AKIAUNKNOWNEXAMPLE" },
			want:   "the AWS access key ID AKIAUNKNOWNEXAMPLE (config.awsAccessKeyId) is not valid: AWS does not know it (InvalidClientTokenId: The security token included in the request is invalid.); it is mistyped, deleted or inactive; " + s3NewKeyAdvice},
		{name: "wrong secret",
			fake: func(f *s3FakeAWS) {
				f.stsErr = &s3FakeErr{403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
			},
			want: "the secret access key (config.awsSecretAccessKey) does not belong to the access key ID " + s3TestKey + ": AWS rejected the request signature (SignatureDoesNotMatch); check the secret, or " + s3NewKeyAdvice},
		{name: "wrong account",
			fake: func(f *s3FakeAWS) { f.keys[s3TestKey] = "210987654321" },
			want: "the access key " + s3TestKey + " belongs to AWS account 210987654321 (arn:aws:iam::210987654321:user/integrations), but config.awsAccountId is 123456789012; use the access key of an IAM user of account 123456789012 or correct config.awsAccountId"},
		{name: "a secret in AWS's answer is redacted",
			fake: func(f *s3FakeAWS) { f.stsErr = &s3FakeErr{400, "ValidationError", "bad secret " + s3TestSecret} },
			want: "the AWS STS call GetCallerIdentity was refused (ValidationError: bad secret <REDACTED>); check the credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f := s3Setup(t, Options{})
			if tc.fake != nil {
				f.set(tc.fake)
			}
			err := s.Check(context.Background(), s3CredentialsTest, s3Payload(tc.config), Credentials{})
			s3Want(t, err, tc.want)
		})
	}
}

func TestS3CredentialsAuto(t *testing.T) {
	auto := func(role string) func(c *platforms.S3) {
		return func(c *platforms.S3) {
			c.AuthenticationType, c.AWSRoleToAssume = "auto", role
			c.AWSAccessKeyID, c.AWSSecretAccessKey = "", ""
		}
	}
	t.Run("assumes the role", func(t *testing.T) {
		s, f := s3Setup(t, Options{})
		t.Setenv("AWS_ACCESS_KEY_ID", s3TestServerKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", s3TestServerSecret)
		role := "arn:aws:iam::123456789012:role/integrations"
		s3Want(t, s.Check(context.Background(), s3CredentialsTest, s3Payload(auto(role)), Credentials{}), "")
		s3Want(t, s.Check(context.Background(), s3InstanceTest, s3Payload(auto(role)), Credentials{}), "")
		if want := role + " as " + S3SessionName; len(f.assumed) == 0 || f.assumed[0] != want {
			t.Errorf("assumed %q, want %q", f.assumed, want)
		}
	})
	t.Run("role of another account", func(t *testing.T) {
		s, _ := s3Setup(t, Options{})
		t.Setenv("AWS_ACCESS_KEY_ID", s3TestServerKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", s3TestServerSecret)
		role := "arn:aws:iam::210987654321:role/integrations"
		s3Want(t, s.Check(context.Background(), s3CredentialsTest, s3Payload(auto(role)), Credentials{}),
			"config.awsRoleToAssume ("+role+") is a role of AWS account 210987654321, but config.awsAccountId is 123456789012; assume a role of account 123456789012 or correct config.awsAccountId")
	})
	t.Run("trust policy refuses", func(t *testing.T) {
		s, f := s3Setup(t, Options{})
		t.Setenv("AWS_ACCESS_KEY_ID", s3TestServerKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", s3TestServerSecret)
		f.set(func(f *s3FakeAWS) {
			f.assumeErr = &s3FakeErr{403, "AccessDenied", "User: arn:aws:iam::111111111111:user/server is not authorized to perform: sts:AssumeRole"}
		})
		role := "arn:aws:iam::123456789012:role/integrations"
		s3Want(t, s.Check(context.Background(), s3CredentialsTest, s3Payload(auto(role)), Credentials{}),
			"the server's AWS identity may not assume config.awsRoleToAssume ("+role+") (AccessDenied: User: arn:aws:iam::111111111111:user/server is not authorized to perform: sts:AssumeRole); the role's trust policy must allow sts:AssumeRole by the server's identity (and that identity's IAM policy must allow sts:AssumeRole on the role); fix the trust policy in the IAM console (Roles > the role > Trust relationships) or use authenticationType accessKey")
	})
	t.Run("server has no credentials", func(t *testing.T) {
		s, f := s3Setup(t, Options{})
		role := "arn:aws:iam::123456789012:role/integrations"
		err := s.Check(context.Background(), s3CredentialsTest, s3Payload(auto(role)), Credentials{})
		prefix := "the server has no usable AWS credentials of its own to assume config.awsRoleToAssume (" + role + ") with ("
		suffix := "); give the server an AWS identity (environment variables, shared credentials file, or an ECS task or EC2 instance role) that may assume the role, or use authenticationType accessKey"
		if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.HasSuffix(err.Error(), suffix) {
			t.Fatalf("got %v", err)
		}
		if len(f.actions) != 0 {
			t.Errorf("called AWS: %q", f.actions)
		}
	})
}

func TestS3AccessGrantsInstance(t *testing.T) {
	t.Run("exists", func(t *testing.T) {
		s, f := s3Setup(t, Options{})
		s3Want(t, s.Check(context.Background(), s3InstanceTest, s3Payload(nil), Credentials{}), "")
		// The SDK prefixes the host with the account id; the connector still reaches
		// the endpoint.
		if len(f.hosts) != 1 || !strings.HasPrefix(f.hosts[0], s3TestAccount+".") || f.accountIDs[0] != s3TestAccount {
			t.Errorf("hosts %q, account ids %q", f.hosts, f.accountIDs)
		}
	})
	t.Run("short account id", func(t *testing.T) {
		s, f := s3Setup(t, Options{})
		f.set(func(f *s3FakeAWS) { f.keys[s3TestKey] = "000123456789" })
		s3Want(t, s.Check(context.Background(), s3InstanceTest, s3Payload(func(c *platforms.S3) { c.AWSAccountID = "123456789" }), Credentials{}), "")
		if f.accountIDs[0] != "000123456789" {
			t.Errorf("account ids %q", f.accountIDs)
		}
	})
	t.Run("missing", func(t *testing.T) {
		s, f := s3Setup(t, Options{})
		f.set(func(f *s3FakeAWS) { f.instance = false })
		s3Want(t, s.Check(context.Background(), s3InstanceTest, s3Payload(func(c *platforms.S3) { c.AWSRegion = "eu-west-1" }), Credentials{}),
			"there is no S3 Access Grants instance for AWS account 123456789012 in region eu-west-1 (AccessGrantsInstanceNotExistsError); create one with `aws s3control create-access-grants-instance --account-id 123456789012 --region eu-west-1` (or in the S3 console: Access Grants > Create S3 Access Grants instance, in region eu-west-1) and validate again")
	})
	t.Run("access denied", func(t *testing.T) {
		s, f := s3Setup(t, Options{})
		f.set(func(f *s3FakeAWS) { f.controlErr = &s3FakeErr{403, "AccessDenied", "Access Denied"} })
		s3Want(t, s.Check(context.Background(), s3InstanceTest, s3Payload(nil), Credentials{}),
			"the integration's AWS identity may not call GetAccessGrantsInstance on account 123456789012 (AccessDenied: Access Denied); allow s3:GetAccessGrantsInstance (on arn:aws:s3:us-east-1:123456789012:access-grants/default) in its IAM policy")
	})
	t.Run("unknown key", func(t *testing.T) {
		s, _ := s3Setup(t, Options{})
		s3Want(t, s.Check(context.Background(), s3InstanceTest, s3Payload(func(c *platforms.S3) { c.AWSAccessKeyID = "AKIAUNKNOWNEXAMPLE" }), Credentials{}),
			"the AWS access key ID AKIAUNKNOWNEXAMPLE (config.awsAccessKeyId) is not valid: AWS does not know it (InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.); it is mistyped, deleted or inactive; "+s3NewKeyAdvice)
	})
}

func TestS3LocationRole(t *testing.T) {
	other := "arn:aws:iam::123456789012:role/other"
	for _, tc := range []struct {
		name     string
		locs     []s3FakeLoc
		pageSize int
		config   func(c *platforms.S3)
		want     string
		warning  string
	}{
		{name: "registered with the role", locs: []s3FakeLoc{
			{"default", "s3://", other}, {"loc1", "s3://data-bucket/integrations/*", s3TestRole}}},
		{name: "found on a later page", pageSize: 1, locs: []s3FakeLoc{
			{"a", "s3://a", other}, {"b", "s3://b", other}, {"loc1", "s3://data-bucket/integrations", s3TestRole}}},
		{name: "registered with another role", locs: []s3FakeLoc{{"loc1", "s3://data-bucket/integrations/", other}},
			want: "the S3 Access Grants location s3://data-bucket/integrations/ is registered with the IAM role " + other + " (location id loc1), not with config.awsLocationRole (" + s3TestRole + "); set config.awsLocationRole to that role, or change the location's role with `aws s3control update-access-grants-location --account-id 123456789012 --region us-east-1 --access-grants-location-id ID --iam-role-arn " + s3TestRole + "`"},
		{name: "not registered", locs: []s3FakeLoc{{"default", "s3://", s3TestRole}},
			warning: "no S3 Access Grants location is registered for s3://data-bucket/integrations/ yet: register it with config.awsLocationRole (" + s3TestRole + ") before registering data sources under it (the role's trust policy must allow access-grants.s3.amazonaws.com to assume it): `aws s3control create-access-grants-location --account-id 123456789012 --region us-east-1 --location-scope s3://data-bucket/integrations/ --iam-role-arn " + s3TestRole + "`"},
		{name: "role of another account",
			config: func(c *platforms.S3) { c.AWSLocationRole = "arn:aws:iam::210987654321:role/s3-location" },
			want:   "config.awsLocationRole (arn:aws:iam::210987654321:role/s3-location) is a role of AWS account 210987654321, but config.awsAccountId is 123456789012; the location role must be an IAM role of the account that owns the S3 Access Grants instance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f := s3Setup(t, Options{})
			f.set(func(f *s3FakeAWS) { f.locations, f.pageSize = tc.locs, tc.pageSize })
			err := s.Check(context.Background(), s3LocationTest, s3Payload(tc.config), Credentials{})
			if tc.warning != "" {
				if !errors.Is(err, ErrWarning) || err.Error() != tc.warning {
					t.Fatalf("got  %v\nwant warning %q", err, tc.warning)
				}
				return
			}
			s3Want(t, err, tc.want)
		})
	}
}

func TestS3Timeout(t *testing.T) {
	s, f := s3Setup(t, Options{StatementTimeout: 200 * time.Millisecond})
	release := make(chan struct{})
	defer close(release)
	f.set(func(f *s3FakeAWS) { f.hang = release })
	start := time.Now()
	err := s.Check(context.Background(), s3CredentialsTest, s3Payload(nil), Credentials{})
	s3Want(t, err, "no answer from AWS STS within 200ms; check that it is reachable from the server and try again")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
	// The caller's own deadline is reported as such (Validate words it).
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s2 := NewS3(Options{AWSEndpoint: s.opts.AWSEndpoint, StatementTimeout: time.Minute, Egress: localEgress})
	if err := s2.Check(ctx, s3InstanceTest, s3Payload(nil), Credentials{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
}

func TestS3RunVerify(t *testing.T) {
	s, f := s3Setup(t, Options{})
	if err := s.Run(context.Background(), nil, s3Payload(nil), Credentials{}); err == nil || err.Error() != "the Native S3 type has no scripts to run: its setup is checked by the validation tests" {
		t.Errorf("Run: %v", err)
	}
	for _, op := range []platforms.Operation{platforms.OpCreate, platforms.OpEdit, platforms.OpDelete} {
		if err := s.Verify(context.Background(), op, s3Payload(nil), Credentials{}); err != nil {
			t.Errorf("Verify(%s): %v", op, err)
		}
	}
	f.set(func(f *s3FakeAWS) { f.instance = false })
	if err := s.Verify(context.Background(), platforms.OpEdit, s3Payload(nil), Credentials{}); err == nil || !strings.HasPrefix(err.Error(), "there is no S3 Access Grants instance") {
		t.Errorf("Verify(edit) without instance: %v", err)
	}
	if err := s.Verify(context.Background(), platforms.OpDelete, s3Payload(nil), Credentials{}); err != nil {
		t.Errorf("Verify(delete) without instance: %v", err)
	}
	if err := s.Check(context.Background(), "Initial Validation: Basic Connection Test", s3Payload(nil), Credentials{}); err == nil {
		t.Error("an unknown test passed")
	}
}

func TestS3Validate(t *testing.T) {
	s, _ := s3Setup(t, Options{})
	r := Validate(context.Background(), s, platforms.OpCreate, s3Payload(nil), Credentials{}, 10*time.Second)
	var got []string
	for _, tc := range r.Tests {
		got = append(got, tc.Status)
	}
	if r.Status != Warning || strings.Join(got, ",") != "passed,passed,warning" {
		t.Fatalf("got %s %v: %+v", r.Status, got, r.Tests)
	}
	r = Validate(context.Background(), s, Revalidate, s3Payload(nil), Credentials{}, 10*time.Second)
	if r.Status != Passed || r.Tests[2].Status != Skipped {
		t.Fatalf("revalidate: %+v", r)
	}
	// One connector serves every integration at once.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := Validate(context.Background(), s, platforms.OpEdit, s3Payload(nil), Credentials{}, 10*time.Second); r.Status != Warning {
				t.Errorf("concurrent validate: %+v", r)
			}
		}()
	}
	wg.Wait()
}
