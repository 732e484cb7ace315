package platforms

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// BigQuery is the config of the "Google BigQuery" type.
// Like every config type, it lists the seed's fields one per line with their JSON
// names, so config types look alike by nature.
type BigQuery struct {
	Role          string `json:"role"`
	DatasetSuffix string `json:"datasetSuffix"`
	Dataset       string `json:"dataset"`
	Location      string `json:"location"`
	// Credential is a service-account key JSON given as a string.
	Credential string `json:"credential" secret:"true"`
}

// Defaults does nothing: every BigQuery field is required.
func (c *BigQuery) Defaults(bool) {}

// serviceAccount is the part of a service-account key the checks read.
type serviceAccount struct {
	Type        string `json:"type"`
	ProjectID   string `json:"project_id"`
	ClientEmail string `json:"client_email"`
	PrivateKey  string `json:"private_key"`
}

func (c *BigQuery) account() (serviceAccount, error) {
	var sa serviceAccount
	err := json.Unmarshal(c.CredentialJSON(), &sa)
	return sa, err
}

// CredentialJSON returns config.credential as strict JSON: the connector reads the key
// through it, so the two read the same document.
func (c *BigQuery) CredentialJSON() []byte { return escapeControlInStrings(c.Credential) }

// escapeControlInStrings escapes raw control characters inside the JSON strings of doc.
// A key file pasted into a JSON string often ends up with real line breaks in its
// private_key (the seed's own BigQuery example, sent with curl, does), which strict
// JSON refuses; they mean what their escapes mean.
func escapeControlInStrings(doc string) []byte {
	out := make([]byte, 0, len(doc)+16)
	inString, escaped := false, false
	for i := 0; i < len(doc); i++ {
		b := doc[i]
		switch {
		case !inString:
			inString = b == '"'
		case escaped:
			escaped = false
		case b == '\\':
			escaped = true
		case b == '"':
			inString = false
		case b < 0x20:
			switch b {
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, fmt.Sprintf("\\u%04x", b)...)
			}
			continue
		}
		out = append(out, b)
	}
	return out
}

// schema implements schemaRuled: every field is required.
func (c *BigQuery) schema() schemaRules {
	return schemaRules{Required: []string{"role", "datasetSuffix", "dataset", "location", "credential"}}
}

// Validate checks the required fields and the service-account key.
func (c *BigQuery) Validate(v *Validator, _ bool) {
	for _, f := range []struct{ path, val string }{
		{"config.role", c.Role}, {"config.datasetSuffix", c.DatasetSuffix},
		{"config.dataset", c.Dataset}, {"config.location", c.Location},
	} {
		if v.Required(f.path, f.val) {
			checkValue(v, f.path, f.val, 1024)
		}
	}
	if c.DatasetSuffix != "" && !strings.HasPrefix(c.DatasetSuffix, "_") {
		v.Add("config.datasetSuffix", "must start with _ (got %q)", c.DatasetSuffix)
	}
	if !v.Required("config.credential", c.Credential) {
		return
	}
	sa, err := c.account()
	if err != nil {
		// Never echo the credential: it is a secret.
		v.Add("config.credential", "must be a service-account key JSON document")
		return
	}
	if sa.Type != "service_account" {
		v.Add("config.credential", `must have "type": "service_account"`)
	}
	for _, f := range []struct{ name, val string }{
		{"project_id", sa.ProjectID}, {"client_email", sa.ClientEmail}, {"private_key", sa.PrivateKey},
	} {
		if f.val == "" {
			v.Add("config.credential", "must have %q", f.name)
		}
	}
}

// UniqueKey is (project_id, dataset).
func (c *BigQuery) UniqueKey() string {
	sa, _ := c.account()
	return sa.ProjectID + "/" + c.Dataset
}

// UniqueKeys is the project and dataset.
func (c *BigQuery) UniqueKeys() []Unique {
	return []Unique{{Key: "dataset|" + c.UniqueKey(), What: "for project and dataset " + c.UniqueKey()}}
}

// ImpersonationEnabled is false: BigQuery has no impersonation.
func (c *BigQuery) ImpersonationEnabled() bool { return false }

// S3 is the config of the "Native S3" type.
// Like every config type, it lists the seed's fields one per line with their JSON
// names, so config types look alike by nature.
type S3 struct {
	Name               string `json:"name"`
	AWSAccountID       string `json:"awsAccountId"`
	AWSRegion          string `json:"awsRegion"`
	AWSLocationRole    string `json:"awsLocationRole"`
	AWSLocationPath    string `json:"awsLocationPath"`
	AuthenticationType string `json:"authenticationType"`
	AWSRoleToAssume    string `json:"awsRoleToAssume,omitempty"`
	AWSAccessKeyID     string `json:"awsAccessKeyId,omitempty"`
	AWSSecretAccessKey string `json:"awsSecretAccessKey,omitempty" secret:"true"`
}

// Defaults does nothing: S3 has no defaults.
func (c *S3) Defaults(bool) {}

var (
	// awsAccountRE accepts 1 to 12 digits. API.md says 12 (as AWS does), but the seed's
	// own S3 example, which existing clients copy, uses 9 ("123456789"), and the seed's
	// curl lines must work as documented, so shorter ids are accepted as given.
	awsAccountRE = regexp.MustCompile(`^[0-9]{1,12}$`)
	awsRegionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	iamRoleRE    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{1,12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
)

// s3AuthTypes are the accepted values of authenticationType.
var s3AuthTypes = []string{"auto", "accessKey"}

// schema implements schemaRuled: what Validate always requires, and per
// authenticationType.
func (c *S3) schema() schemaRules {
	return schemaRules{
		Required: []string{"name", "awsAccountId", "awsRegion", "awsLocationRole", "awsLocationPath", "authenticationType"},
		Enums:    map[string][]string{"authenticationType": s3AuthTypes},
		When: []schemaWhen{
			{Field: "authenticationType", Equals: "auto", Required: []string{"awsRoleToAssume"}},
			{Field: "authenticationType", Equals: "accessKey", Required: []string{"awsAccessKeyId", "awsSecretAccessKey"}},
		},
	}
}

// Validate checks the fields of API.md section 3 (Native S3).
func (c *S3) Validate(v *Validator, _ bool) {
	if v.Required("config.name", c.Name) {
		checkValue(v, "config.name", c.Name, 256)
	}
	if v.Required("config.awsAccountId", c.AWSAccountID) && !awsAccountRE.MatchString(c.AWSAccountID) {
		v.Add("config.awsAccountId", "must be up to 12 digits (got %q)", c.AWSAccountID)
	}
	if v.Required("config.awsRegion", c.AWSRegion) && !awsRegionRE.MatchString(c.AWSRegion) {
		v.Add("config.awsRegion", "must be an AWS region such as us-east-1 (got %q)", c.AWSRegion)
	}
	if v.Required("config.awsLocationRole", c.AWSLocationRole) && !iamRoleRE.MatchString(c.AWSLocationRole) {
		v.Add("config.awsLocationRole", "must be an IAM role ARN such as arn:aws:iam::123456789012:role/name")
	}
	if v.Required("config.awsLocationPath", c.AWSLocationPath) {
		if !strings.HasPrefix(c.AWSLocationPath, "s3://") {
			v.Add("config.awsLocationPath", "must start with s3:// (got %q)", c.AWSLocationPath)
		} else {
			checkValue(v, "config.awsLocationPath", c.AWSLocationPath, 1024)
		}
	}
	if !v.Required("config.authenticationType", c.AuthenticationType) ||
		!v.OneOf("config.authenticationType", c.AuthenticationType, s3AuthTypes...) {
		return
	}
	switch c.AuthenticationType {
	case "auto":
		if v.Required("config.awsRoleToAssume", c.AWSRoleToAssume) && !iamRoleRE.MatchString(c.AWSRoleToAssume) {
			v.Add("config.awsRoleToAssume", "must be an IAM role ARN")
		}
	case "accessKey":
		v.Required("config.awsAccessKeyId", c.AWSAccessKeyID)
		v.Required("config.awsSecretAccessKey", c.AWSSecretAccessKey)
	}
}

// UniqueKey is the integration name; the location path is unique too (see UniqueKeys).
func (c *S3) UniqueKey() string { return c.Name }

// UniqueKeys are the integration name and the location path.
func (c *S3) UniqueKeys() []Unique {
	return []Unique{
		{Key: "name|" + c.Name, What: fmt.Sprintf("with name %q", c.Name)},
		{Key: "path|" + c.AWSLocationPath, What: "for location " + c.AWSLocationPath},
	}
}

// ImpersonationEnabled is false: Native S3 has no impersonation.
func (c *S3) ImpersonationEnabled() bool { return false }
