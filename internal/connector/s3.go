package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// The "Native S3" test names (registered in init).
const (
	s3CredentialsTest = "Initial Validation: AWS Credentials Test"
	s3InstanceTest    = "Initial Validation: S3 Access Grants Instance Test"
	s3LocationTest    = "Initial Validation: Location Role Test"
)

// Every connector file registers itself like this: the catalogue is data each platform
// states beside its checks.
func init() {
	register(Registration{Type: "Native S3", Tests: []Spec{
		{Name: s3CredentialsTest, Recurring: true, Connection: true},
		{Name: s3InstanceTest, Recurring: true},
		{Name: s3LocationTest},
	}, New: func(o Options) Connector { return NewS3(o) }})
}

// S3SessionName is the role session name of the sessions the S3 connector opens when it
// assumes config.awsRoleToAssume (authenticationType auto); it shows in CloudTrail.
const S3SessionName = "integrations-validation"

// S3 is the live Connector of the "Native S3" type. It talks to AWS STS and S3 Control
// with the AWS SDK for Go v2:
//
//   - authenticationType accessKey signs with config.awsAccessKeyId and
//     config.awsSecretAccessKey;
//   - authenticationType auto takes the server's own credentials from the SDK's default
//     chain (environment, shared config and credentials files, web identity, ECS task or
//     EC2 instance role) and assumes config.awsRoleToAssume with sts:AssumeRole;
//   - every call goes to config.awsRegion (STS's regional endpoint, S3 Control's
//     {account}.s3-control.{region}.amazonaws.com);
//   - the server's own AWS SDK settings (AWS_CA_BUNDLE, proxies, retry mode, shared
//     config) apply as the SDK's default loader reads them.
//
// Account ids are compared as 12 digits: a shorter config.awsAccountId (the seed's
// examples use 9 digits) is read with leading zeros, as AWS writes it.
//
// The tests:
//
//   - "Initial Validation: AWS Credentials Test": sts:GetCallerIdentity succeeds (in
//     auto mode after the role was assumed) and its account is config.awsAccountId;
//   - "Initial Validation: S3 Access Grants Instance Test": s3:GetAccessGrantsInstance
//     finds the account's Access Grants instance in the region;
//   - "Initial Validation: Location Role Test": config.awsLocationRole is a role of
//     config.awsAccountId, and s3:ListAccessGrantsLocations shows whether a location
//     for config.awsLocationPath is registered. Registered with that role: passed;
//     registered with another role: failed (Access Grants would vend credentials
//     through a role that is not the configured one); not registered: warning (the
//     integration can be created, but data sources under the path need the location),
//     and the message gives the command that registers it.
//
// S3 has no scripts, so Run always fails. Verify re-runs the credentials and instance
// tests for create and edit; for delete there is nothing on AWS to check (the
// integration's grants are removed by the integration, not by a script), so it returns
// nil.
//
// An S3 holds no per-integration state and is safe for concurrent use.
type S3 struct {
	scriptless
	opts Options
	// httpClient sends every AWS API request through the egress policy; with
	// Options.AWSEndpoint set, to that endpoint.
	httpClient *awshttp.BuildableClient
}

// NewS3 returns the Native S3 connector. Every API request is dialled through the
// egress policy (Options.Egress). With o.AWSEndpoint set, STS and S3 Control use it as
// their base endpoint, and every connection, whatever its host name (S3 Control
// prefixes the host with the account id), is made to that endpoint's host and port:
// tests point it at a local server, and a local AWS emulator works the same way.
func NewS3(o Options) *S3 {
	pol := o.egress()
	dial := pol.DialContext
	if o.AWSEndpoint != "" {
		if u, err := url.Parse(o.AWSEndpoint); err == nil && u.Host != "" {
			addr := u.Host
			if u.Port() == "" {
				port := "443"
				if u.Scheme == "http" {
					port = "80"
				}
				addr = net.JoinHostPort(u.Hostname(), port)
			}
			dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return pol.DialContext(ctx, network, addr)
			}
		}
	}
	timeout := o.connectTimeout()
	return &S3{scriptless: "Native S3", opts: o, httpClient: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return dial(ctx, network, address)
		}
	})}
}

var _ Connector = (*S3)(nil)

// Check runs one test of the Native S3 catalogue with the payload's AWS credentials
// (sys is not used: S3 integrations have no system account).
func (s *S3) Check(ctx context.Context, test string, p *platforms.Payload, sys Credentials) error {
	c, ok := s3Config(p)
	if !ok {
		return errors.New("the Native S3 connector needs a Native S3 payload")
	}
	var err error
	switch test {
	case s3CredentialsTest:
		err = s.checkCredentials(ctx, c)
	case s3InstanceTest:
		err = s.checkInstance(ctx, c)
	case s3LocationTest:
		err = s.checkLocation(ctx, c)
	default:
		return fmt.Errorf("unknown Native S3 test %q", test)
	}
	return cloudFinish(ctx, err, Secrets(p, sys))
}

// Verify's outline is BigQuery's; see there.
// Verify re-runs the credentials and Access Grants instance tests for create and edit;
// for delete it returns nil (nothing on AWS has to be gone).
func (s *S3) Verify(ctx context.Context, op platforms.Operation, p *platforms.Payload, sys Credentials) error {
	if op == platforms.OpDelete {
		return nil
	}
	c, ok := s3Config(p)
	if !ok {
		return errors.New("the Native S3 connector needs a Native S3 payload")
	}
	err := s.checkCredentials(ctx, c)
	if err == nil {
		err = s.checkInstance(ctx, c)
	}
	return cloudFinish(ctx, err, Secrets(p, sys))
}

func s3Config(p *platforms.Payload) (*platforms.S3, bool) {
	if p == nil {
		return nil, false
	}
	c, ok := p.Config.(*platforms.S3)
	return c, ok && c != nil
}

// s3Account returns an account id as AWS writes it: 12 digits.
func s3Account(id string) string {
	id = strings.TrimSpace(id)
	if n := len(id); n > 0 && n < 12 {
		id = strings.Repeat("0", 12-n) + id
	}
	return id
}

func (s *S3) stsOptions(o *sts.Options) {
	if s.opts.AWSEndpoint != "" {
		o.BaseEndpoint = aws.String(s.opts.AWSEndpoint)
	}
}

func (s *S3) controlOptions(o *s3control.Options) {
	if s.opts.AWSEndpoint != "" {
		o.BaseEndpoint = aws.String(s.opts.AWSEndpoint)
	}
}

// awsConfig returns the SDK config that signs as the integration: the access key, or
// the assumed awsRoleToAssume (whose credentials it fetches now, so that a failure to
// assume the role is reported as such).
func (s *S3) awsConfig(ctx context.Context, c *platforms.S3) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(c.AWSRegion)}
	auto := c.AuthenticationType == "auto"
	if !auto {
		// The payload's access key signs every request, and the SDK asks no
		// metadata service for anything.
		opts = append(opts, config.WithHTTPClient(s.httpClient),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AWSAccessKeyID, c.AWSSecretAccessKey, "")),
			config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	// The server's own SDK settings (CA bundle, proxies, retry mode) apply; region and,
	// for accessKey, credentials come from the config.
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("could not load the server's AWS SDK configuration (%v); check its AWS environment variables and shared config files", err)
	}
	if !auto {
		return base, nil
	}
	d := s.opts.statementTimeout()
	err = cloudCall(ctx, d, "AWS", func(ctx context.Context) error {
		if base.Credentials == nil {
			return errors.New("no credential provider")
		}
		_, err := base.Credentials.Retrieve(ctx)
		return err
	}, func(err error) error {
		return fmt.Errorf("the server has no usable AWS credentials of its own to assume config.awsRoleToAssume (%s) with (%v); give the server an AWS identity (environment variables, shared credentials file, or an ECS task or EC2 instance role) that may assume the role, or use authenticationType accessKey", c.AWSRoleToAssume, vendor(err))
	})
	if err != nil {
		return aws.Config{}, err
	}
	// The server's own identity comes from the SDK's default chain, which the operator
	// configures (environment, shared files, an ECS task or EC2 instance role, whose
	// metadata service the chain may ask; AWS_EC2_METADATA_DISABLED=true turns that
	// off). Every request made for the payload, from AssumeRole on, goes through the
	// egress policy.
	base.HTTPClient = s.httpClient
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base, s.stsOptions), c.AWSRoleToAssume, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = S3SessionName
	}))
	err = cloudCall(ctx, d, "AWS STS", func(ctx context.Context) error {
		_, err := cfg.Credentials.Retrieve(ctx)
		return err
	}, func(err error) error { return s3AssumeError(err, c) })
	if err != nil {
		return aws.Config{}, err
	}
	return cfg, nil
}

func s3AssumeError(err error, c *platforms.S3) error {
	code, msg, _ := awsAPIError(err)
	switch code {
	case "":
		return fmt.Errorf("could not assume config.awsRoleToAssume (%s): %v; check that AWS STS is reachable from the server", c.AWSRoleToAssume, vendor(err))
	case "AccessDenied":
		return fmt.Errorf("the server's AWS identity may not assume config.awsRoleToAssume (%s) (AccessDenied: %s); the role's trust policy must allow sts:AssumeRole by the server's identity (and that identity's IAM policy must allow sts:AssumeRole on the role); fix the trust policy in the IAM console (Roles > the role > Trust relationships) or use authenticationType accessKey", c.AWSRoleToAssume, msg)
	case "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "UnrecognizedClientException":
		return fmt.Errorf("the server's own AWS credentials were rejected when assuming config.awsRoleToAssume (%s) (%s: %s); renew the server's AWS credentials or use authenticationType accessKey", c.AWSRoleToAssume, code, msg)
	}
	return fmt.Errorf("could not assume config.awsRoleToAssume (%s) (%s: %s)", c.AWSRoleToAssume, code, msg)
}

// awsAPIError returns the code and message of the AWS error in err's chain, and the
// HTTP status of the response (0 without one).
func awsAPIError(err error) (code, msg string, status int) {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = short(ae.ErrorCode()), short(ae.ErrorMessage())
	}
	return code, msg, status
}

// s3CredentialError explains an error code that means the credentials themselves are
// wrong ("" for any other code).
func s3CredentialError(code, msg string, c *platforms.S3) string {
	if c.AuthenticationType == "auto" {
		switch code {
		case "InvalidClientTokenId", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "UnrecognizedClientException":
			return fmt.Sprintf("the credentials of the assumed role config.awsRoleToAssume (%s) were rejected by AWS (%s: %s); try again, and check that the role may be used by the server", c.AWSRoleToAssume, code, msg)
		}
		return ""
	}
	create := "create a new access key for the IAM user (IAM console > Users > the user > Security credentials > Create access key, or `aws iam create-access-key --user-name USER`) and put it in config.awsAccessKeyId and config.awsSecretAccessKey"
	switch code {
	case "InvalidClientTokenId", "InvalidAccessKeyId", "UnrecognizedClientException":
		return fmt.Sprintf("the AWS access key ID %s (config.awsAccessKeyId) is not valid: AWS does not know it (%s: %s); it is mistyped, deleted or inactive; %s", c.AWSAccessKeyID, code, msg, create)
	case "SignatureDoesNotMatch":
		return fmt.Sprintf("the secret access key (config.awsSecretAccessKey) does not belong to the access key ID %s: AWS rejected the request signature (SignatureDoesNotMatch); check the secret, or %s", c.AWSAccessKeyID, create)
	case "ExpiredToken":
		return fmt.Sprintf("the AWS access key %s has expired (ExpiredToken: %s); use the long-term access key of an IAM user: %s", c.AWSAccessKeyID, msg, create)
	}
	return ""
}

func (s *S3) checkCredentials(ctx context.Context, c *platforms.S3) error {
	cfg, err := s.awsConfig(ctx, c)
	if err != nil {
		return err
	}
	client := sts.NewFromConfig(cfg, s.stsOptions)
	var out *sts.GetCallerIdentityOutput
	err = cloudCall(ctx, s.opts.statementTimeout(), "AWS STS", func(ctx context.Context) error {
		var err error
		out, err = client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}, func(err error) error {
		code, msg, _ := awsAPIError(err)
		if m := s3CredentialError(code, msg, c); m != "" {
			return errors.New(m)
		}
		if code == "" {
			return fmt.Errorf("could not reach AWS STS in %s: %v", c.AWSRegion, vendor(err))
		}
		return fmt.Errorf("the AWS STS call GetCallerIdentity was refused (%s: %s); check the credentials", code, msg)
	})
	if err != nil {
		return err
	}
	got, want := s3Account(aws.ToString(out.Account)), s3Account(c.AWSAccountID)
	if got == want {
		return nil
	}
	if c.AuthenticationType == "auto" {
		return fmt.Errorf("config.awsRoleToAssume (%s) is a role of AWS account %s, but config.awsAccountId is %s; assume a role of account %s or correct config.awsAccountId", c.AWSRoleToAssume, got, want, want)
	}
	return fmt.Errorf("the access key %s belongs to AWS account %s (%s), but config.awsAccountId is %s; use the access key of an IAM user of account %s or correct config.awsAccountId", c.AWSAccessKeyID, got, aws.ToString(out.Arn), want, want)
}

// s3ControlError explains an S3 Control failure of operation op (which needs the IAM
// permission perm).
func s3ControlError(err error, c *platforms.S3, op, perm string) error {
	code, msg, status := awsAPIError(err)
	if m := s3CredentialError(code, msg, c); m != "" {
		return errors.New(m)
	}
	account, region := s3Account(c.AWSAccountID), c.AWSRegion
	switch {
	case strings.Contains(code, "NotExist") || strings.Contains(code, "NoSuch") || strings.Contains(code, "NotFound") || status == http.StatusNotFound:
		return fmt.Errorf("there is no S3 Access Grants instance for AWS account %s in region %s (%s); create one with `aws s3control create-access-grants-instance --account-id %s --region %s` (or in the S3 console: Access Grants > Create S3 Access Grants instance, in region %s) and validate again", account, region, code, account, region, region)
	case code == "AccessDenied" || status == http.StatusForbidden:
		return fmt.Errorf("the integration's AWS identity may not call %s on account %s (AccessDenied: %s); allow %s (on arn:aws:s3:%s:%s:access-grants/default) in its IAM policy", op, account, msg, perm, region, account)
	case code == "":
		return fmt.Errorf("could not reach AWS S3 Control in %s: %v", region, vendor(err))
	}
	return fmt.Errorf("the S3 Control call %s was refused (%s: %s)", op, code, msg)
}

func (s *S3) checkInstance(ctx context.Context, c *platforms.S3) error {
	cfg, err := s.awsConfig(ctx, c)
	if err != nil {
		return err
	}
	client := s3control.NewFromConfig(cfg, s.controlOptions)
	return cloudCall(ctx, s.opts.statementTimeout(), "AWS S3 Control", func(ctx context.Context) error {
		_, err := client.GetAccessGrantsInstance(ctx, &s3control.GetAccessGrantsInstanceInput{AccountId: aws.String(s3Account(c.AWSAccountID))})
		return err
	}, func(err error) error {
		return s3ControlError(err, c, "GetAccessGrantsInstance", "s3:GetAccessGrantsInstance")
	})
}

// s3RoleAccount returns the account of an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME).
func s3RoleAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" {
		return ""
	}
	return parts[4]
}

// s3Scope normalises an S3 location for comparison: no trailing * or /, except the
// default location s3://.
func s3Scope(p string) string {
	p = strings.TrimRight(strings.TrimSpace(p), "*")
	for strings.HasSuffix(p, "/") && p != "s3://" {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

// s3MaxLocationPages bounds the ListAccessGrantsLocations pages read (1000 a page).
const s3MaxLocationPages = 20

func (s *S3) checkLocation(ctx context.Context, c *platforms.S3) error {
	account := s3Account(c.AWSAccountID)
	if ra := s3RoleAccount(c.AWSLocationRole); s3Account(ra) != account {
		return fmt.Errorf("config.awsLocationRole (%s) is a role of AWS account %s, but config.awsAccountId is %s; the location role must be an IAM role of the account that owns the S3 Access Grants instance", c.AWSLocationRole, ra, account)
	}
	cfg, err := s.awsConfig(ctx, c)
	if err != nil {
		return err
	}
	client := s3control.NewFromConfig(cfg, s.controlOptions)
	want := s3Scope(c.AWSLocationPath)
	var found []string // roles registered for the exact scope
	var next *string
	for page := 0; page < s3MaxLocationPages; page++ {
		var out *s3control.ListAccessGrantsLocationsOutput
		err := cloudCall(ctx, s.opts.statementTimeout(), "AWS S3 Control", func(ctx context.Context) error {
			var err error
			out, err = client.ListAccessGrantsLocations(ctx, &s3control.ListAccessGrantsLocationsInput{
				AccountId: aws.String(account), MaxResults: 1000, NextToken: next,
			})
			return err
		}, func(err error) error {
			return s3ControlError(err, c, "ListAccessGrantsLocations", "s3:ListAccessGrantsLocations")
		})
		if err != nil {
			return err
		}
		for _, l := range out.AccessGrantsLocationsList {
			if s3Scope(aws.ToString(l.LocationScope)) != want {
				continue
			}
			if aws.ToString(l.IAMRoleArn) == c.AWSLocationRole {
				return nil
			}
			found = append(found, fmt.Sprintf("%s (location id %s)", aws.ToString(l.IAMRoleArn), aws.ToString(l.AccessGrantsLocationId)))
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		next = out.NextToken
	}
	if len(found) > 0 {
		return fmt.Errorf("the S3 Access Grants location %s is registered with the IAM role %s, not with config.awsLocationRole (%s); set config.awsLocationRole to that role, or change the location's role with `aws s3control update-access-grants-location --account-id %s --region %s --access-grants-location-id ID --iam-role-arn %s`", c.AWSLocationPath, strings.Join(found, ", "), c.AWSLocationRole, account, c.AWSRegion, c.AWSLocationRole)
	}
	return cloudWarningf("no S3 Access Grants location is registered for %s yet: register it with config.awsLocationRole (%s) before registering data sources under it (the role's trust policy must allow access-grants.s3.amazonaws.com to assume it): `aws s3control create-access-grants-location --account-id %s --region %s --location-scope %s --iam-role-arn %s`", c.AWSLocationPath, c.AWSLocationRole, account, c.AWSRegion, c.AWSLocationPath, c.AWSLocationRole)
}

// cloudWarning is a Check warning (errors.Is(err, ErrWarning)) whose text is just the
// message.
type cloudWarning struct{ msg string }

func (w *cloudWarning) Error() string        { return w.msg }
func (w *cloudWarning) Is(target error) bool { return target == ErrWarning }

func cloudWarningf(format string, args ...any) error {
	return &cloudWarning{fmt.Sprintf(format, args...)}
}

// cloudCall runs call with the statement timeout d. If it fails because that timeout
// passed, the error says that what (the service) did not answer within d; if ctx itself
// ended, the error is ctx's (Validate reports it); any other failure goes through
// explain.
func cloudCall(ctx context.Context, d time.Duration, what string, call func(context.Context) error, explain func(error) error) error {
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := call(cctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case cctx.Err() != nil:
		return fmt.Errorf("no answer from %s within %s; check that it is reachable from the server and try again", what, d)
	}
	return explain(err)
}

// scriptless is embedded by the connectors of the types without scripts: its Run refuses,
// naming the type.
type scriptless string

// Run fails: the type has no scripts; its setup is checked by the validation tests.
func (typ scriptless) Run(context.Context, *render.Script, *platforms.Payload, Credentials) error {
	return fmt.Errorf("the %s type has no scripts to run: its setup is checked by the validation tests", string(typ))
}

// cloudFinish returns a Check or Verify result with every secret removed, keeping
// context errors and warnings recognisable.
func cloudFinish(ctx context.Context, err error, secrets []string) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return ctx.Err()
	}
	clean := Scrub(err, secrets)
	if errors.Is(err, ErrWarning) {
		return &cloudWarning{clean.Error()}
	}
	return clean
}
