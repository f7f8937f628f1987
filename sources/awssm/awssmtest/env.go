package awssmtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RoleARN is a role in moto's account, for aws.assume_role_arn and
// AWS_ROLE_ARN. moto does not check that it exists, and credentials it
// issues for it read the secrets created with Client (the same account).
const RoleARN = "arn:aws:iam::" + AccountID + ":role/awssmtest-llm-app"

// WebIdentityToken is what an EKS service account token file holds: a JWT
// (moto does not verify it; its signature is not even one).
const WebIdentityToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImF3c3NtdGVzdCJ9." +
	"eyJhdWQiOlsic3RzLmFtYXpvbmF3cy5jb20iXSwiaXNzIjoiaHR0cHM6Ly9vaWRjLmF3c3NtdGVzdC5pbnZhbGlkIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmxsbTphcHAifQ." +
	"YXdzc210ZXN0LXNpZ25hdHVyZQ"

// StaticEnv is the environment for a process that must read from the
// Secrets Manager and STS at endpoint, and nothing else, with the static
// test credentials: endpoint, region, no instance metadata, no shared config
// or profile. An empty value means unset (the AWS SDKs treat both alike).
// Append it to the child's environment; in os/exec the last value of a name
// wins.
func StaticEnv(endpoint string) []string {
	return append(endpointEnv(endpoint), pairs(isolation())...)
}

// WebIdentityEnv is StaticEnv for the EKS IRSA path: no static keys, and
// AWS_ROLE_ARN (RoleARN) with AWS_WEB_IDENTITY_TOKEN_FILE (tokenFile, as
// WriteToken writes it), so that the SDK's default chain calls
// AssumeRoleWithWebIdentity at endpoint. Each name appears once.
func WebIdentityEnv(endpoint, tokenFile string) []string {
	over := map[string]string{
		"AWS_ACCESS_KEY_ID":           "", // static keys come first in the chain
		"AWS_SECRET_ACCESS_KEY":       "",
		"AWS_ROLE_ARN":                RoleARN,
		"AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile,
		"AWS_ROLE_SESSION_NAME":       "awssmtest",
	}
	env := StaticEnv(endpoint)
	for i, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if v, ok := over[name]; ok {
			env[i] = name + "=" + v
		}
	}
	return env
}

// WriteToken writes WebIdentityToken to dir/token, as the kubelet projects
// a service account token, and returns the file's path.
func WriteToken(dir string) (string, error) {
	path := filepath.Join(dir, "token")
	return path, os.WriteFile(path, []byte(WebIdentityToken), 0o600)
}

// endpointEnv points every AWS service at endpoint. AWS_ENDPOINT_URL_STS is
// set as well because aws-sdk-go-v2's config builds the web identity STS
// client before it reads AWS_ENDPOINT_URL, so that the global variable alone
// would send AssumeRoleWithWebIdentity to the real STS.
func endpointEnv(endpoint string) []string {
	return []string{
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_ENDPOINT_URL_STS=" + endpoint,
		"AWS_REGION=" + Region,
	}
}

// IsolateEnv sets this process's environment so that the AWS SDK uses the
// test credentials, never instance metadata, and no shared config, profile,
// region or endpoint of the machine. Call it from TestMain: t.Setenv cannot
// be used by parallel tests.
func IsolateEnv() error {
	for _, kv := range isolation() {
		var err error
		if kv[1] == "" {
			err = os.Unsetenv(kv[0])
		} else {
			err = os.Setenv(kv[0], kv[1])
		}
		if err != nil {
			return err
		}
	}
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_STS"} {
		if err := os.Unsetenv(name); err != nil {
			return err
		}
	}
	return nil
}

// isolation lists the variables that keep the SDK on test credentials and
// off the network; an empty value means unset.
func isolation() [][2]string {
	nowhere := filepath.Join(os.TempDir(), "awssmtest-absent-"+strconv.Itoa(os.Getpid()))
	return [][2]string{
		{"AWS_ACCESS_KEY_ID", AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", SecretAccessKey},
		{"AWS_ACCESS_KEY", ""}, // the SDK's older spellings
		{"AWS_SECRET_KEY", ""},
		{"AWS_EC2_METADATA_DISABLED", "true"},
		{"AWS_CONFIG_FILE", filepath.Join(nowhere, "config")},
		{"AWS_SHARED_CREDENTIALS_FILE", filepath.Join(nowhere, "credentials")},
		{"AWS_SESSION_TOKEN", ""},
		{"AWS_PROFILE", ""},
		{"AWS_DEFAULT_PROFILE", ""},
		{"AWS_ROLE_ARN", ""},
		{"AWS_ROLE_SESSION_NAME", ""},
		{"AWS_WEB_IDENTITY_TOKEN_FILE", ""},
		{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", ""},
		{"AWS_CONTAINER_CREDENTIALS_FULL_URI", ""},
		{"AWS_CONTAINER_AUTHORIZATION_TOKEN", ""},
		{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", ""},
		{"AWS_EC2_METADATA_SERVICE_ENDPOINT", ""},
		{"AWS_MAX_ATTEMPTS", ""},
		{"AWS_RETRY_MODE", ""},
		{"AWS_CA_BUNDLE", ""},
	}
}

func pairs(kvs [][2]string) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv[0] + "=" + kv[1]
	}
	return out
}
