// Package awssm reads secrets from AWS Secrets Manager for awssm:// and bare
// arn:aws:secretsmanager: references.
//
// Credentials and the default region come from the AWS SDK's default chain
// (environment, shared config and profiles, web identity for EKS, container
// and instance roles), optionally narrowed by the aws: section of keyexec's
// config file. The SDK configuration is loaded on the first Fetch, so
// constructing a Source costs nothing when no awssm reference is used.
//
// Fetch reads each distinct (secret, version, region) once, with
// BatchGetSecretValue when a region needs several current secrets and
// GetSecretValue otherwise, and maps every AWS failure to a sources sentinel.
package awssm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyexec/keyexec/sources"
)

// Scheme is the reference scheme this source serves.
const Scheme = "awssm"

// defaultConcurrency bounds the calls in flight when Config.Concurrency is 0.
const defaultConcurrency = 8

// Config is the aws: section of keyexec's config file. Every field is
// optional: an empty field leaves the SDK's own resolution in charge.
type Config struct {
	// Region is the default region for secret names (ARNs carry their own).
	Region string `mapstructure:"region"`
	// Profile selects a profile of the shared AWS config and credentials files.
	Profile string `mapstructure:"profile"`
	// Endpoint overrides the Secrets Manager endpoint (for example a local
	// moto server). AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SECRETS_MANAGER
	// work without it, as in every AWS SDK.
	Endpoint string `mapstructure:"endpoint"`
	// AssumeRoleARN is a role to assume with STS before reading secrets.
	AssumeRoleARN string `mapstructure:"assume_role_arn"`
	// Concurrency bounds the Secrets Manager calls in flight (default 8).
	Concurrency int `mapstructure:"concurrency"`
}

// secretsAPI is the part of the Secrets Manager client this package uses.
type secretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	BatchGetSecretValue(ctx context.Context, in *secretsmanager.BatchGetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error)
}

// Source reads awssm references. It is safe for concurrent use.
type Source struct {
	cfg Config

	mu sync.Mutex
	// loaded is set once the SDK configuration is loaded (or by tests, which
	// fill region and newClient with a fake).
	loaded    bool
	region    string // default region: Config.Region or the SDK chain's
	awsCfg    aws.Config
	newClient func(region string) secretsAPI
	clients   map[string]secretsAPI

	// batchDenied remembers that BatchGetSecretValue was refused, so later
	// fetches of this run go straight to GetSecretValue.
	batchDenied atomic.Bool
}

var _ sources.Source = (*Source)(nil)

// New checks cfg and returns a Source. It does no I/O: the SDK configuration
// is loaded on the first Fetch.
func New(_ context.Context, cfg Config) (*Source, error) {
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("aws.endpoint %q is not an http(s) URL such as https://secretsmanager.eu-west-1.amazonaws.com: %w", cfg.Endpoint, sources.ErrInvalid)
		}
	}
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("aws.concurrency must be 0 (default %d) or more, got %d: %w", defaultConcurrency, cfg.Concurrency, sources.ErrInvalid)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = defaultConcurrency
	}
	return &Source{cfg: cfg}, nil
}

// Scheme returns "awssm".
func (s *Source) Scheme() string { return Scheme }

// load reads the SDK configuration once. A failure is not remembered, so a
// later Fetch (a --watch re-resolve) tries again.
func (s *Source) load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded {
		return nil
	}
	var opts []func(*config.LoadOptions) error
	if s.cfg.Region != "" {
		opts = append(opts, config.WithRegion(s.cfg.Region))
	}
	if s.cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.cfg.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("load the AWS configuration (profile %q): check aws.profile, AWS_PROFILE and ~/.aws/config: %w: %w", s.cfg.Profile, sources.ErrInvalid, err)
	}
	s.awsCfg = awsCfg
	s.region = awsCfg.Region
	s.newClient = s.sdkClient
	s.loaded = true
	return nil
}

// client returns the client for region, creating it on first use.
func (s *Source) client(region string) secretsAPI {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[region]; ok {
		return c
	}
	if s.clients == nil {
		s.clients = make(map[string]secretsAPI)
	}
	c := s.newClient(region)
	s.clients[region] = c
	return c
}

// sdkClient builds a real client; called with s.mu held.
func (s *Source) sdkClient(region string) secretsAPI {
	if s.awsCfg.Credentials != nil {
		if _, done := s.awsCfg.Credentials.(*taggedCredentials); !done {
			creds := s.awsCfg.Credentials
			if s.cfg.AssumeRoleARN != "" {
				stsCfg := s.awsCfg.Copy()
				if stsCfg.Region == "" {
					stsCfg.Region = region // STS is regional; use the first secret's region
				}
				creds = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(stsCfg), s.cfg.AssumeRoleARN,
					func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "keyexec" }))
			}
			s.awsCfg.Credentials = &taggedCredentials{inner: creds, role: s.cfg.AssumeRoleARN}
		}
	}
	return secretsmanager.NewFromConfig(s.awsCfg, func(o *secretsmanager.Options) {
		// After the SDK resolved its client (defaults mode, CA bundle, proxy).
		o.HTTPClient = &boundedClient{next: o.HTTPClient}
		o.Region = region
		if s.cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.cfg.Endpoint)
		}
	})
}

// taggedCredentials marks failures to obtain credentials, which the SDK
// reports as plain wrapped errors, so that they are not blamed on a secret.
type taggedCredentials struct {
	inner aws.CredentialsProvider
	role  string
}

func (c *taggedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.inner.Retrieve(ctx)
	if err != nil {
		return creds, &credentialsError{role: c.role, err: err}
	}
	return creds, nil
}

// credentialsError is a failure of the credential chain or of AssumeRole.
type credentialsError struct {
	role string
	err  error
}

func (e *credentialsError) Error() string {
	if e.role != "" {
		return "assume role " + e.role + ": " + e.err.Error()
	}
	return e.err.Error()
}

func (e *credentialsError) Unwrap() error { return e.err }

// isCredentialsError reports whether err came from obtaining credentials.
func isCredentialsError(err error) (*credentialsError, bool) {
	var ce *credentialsError
	ok := errors.As(err, &ce)
	return ce, ok
}
