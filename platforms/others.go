package platforms

import (
	"encoding/json"
	"regexp"
	"strings"
)

// BigQuery is the config of the "Google BigQuery" type.
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
	err := json.Unmarshal([]byte(c.Credential), &sa)
	return sa, err
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

// S3 is the config of the "Native S3" type.
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
	awsAccountRE = regexp.MustCompile(`^[0-9]{12}$`)
	awsRegionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	iamRoleRE    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
)

// Validate checks the fields of API.md section 3 (Native S3).
func (c *S3) Validate(v *Validator, _ bool) {
	if v.Required("config.name", c.Name) {
		checkValue(v, "config.name", c.Name, 256)
	}
	if v.Required("config.awsAccountId", c.AWSAccountID) && !awsAccountRE.MatchString(c.AWSAccountID) {
		v.Add("config.awsAccountId", "must be 12 digits (got %q)", c.AWSAccountID)
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
		!v.OneOf("config.authenticationType", c.AuthenticationType, "auto", "accessKey") {
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

// UniqueKey is the integration name; the location path is unique too (see UniquePath).
func (c *S3) UniqueKey() string { return c.Name }
