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
// GetSecretValue otherwise, all in one round trip, and maps every AWS
// failure to a sources sentinel: a stop to the *sources.StopError, a wrong
// address (no such host, a certificate that does not verify, HTTPS to a
// plain-HTTP server) to ErrInvalid at the first attempt, an unreachable
// service to ErrUnavailable after the SDK's retries.
package awssm

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/keyexec/keyexec/sources"
)

// Scheme is the reference scheme this source serves.
const Scheme = "awssm"

// defaultConcurrency bounds the calls in flight when Config.Concurrency is
// 0. It is the batch size, so that up to 20 distinct reads (current,
// versioned or both, one batch and the rest GetSecretValue) cost one round
// trip, far below Secrets Manager's request quotas.
const defaultConcurrency = maxBatch

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
	// Concurrency bounds the Secrets Manager calls in flight (default 20).
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
	// creds is what every region's client signs with, set by the first
	// sdkClient: one credentials cache, so one STS call however many
	// regions are read.
	creds *taggedCredentials

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
			return nil, fmt.Errorf("aws.endpoint %s is not an http(s) URL such as https://secretsmanager.eu-west-1.amazonaws.com: %w", shownEndpoint(cfg.Endpoint), sources.ErrInvalid)
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
	// Every client the configuration builds gets finalNetErrors, the
	// web identity STS client of the default chain included.
	opts := []func(*config.LoadOptions) error{config.WithAPIOptions([]func(*middleware.Stack) error{finalNetErrors})}
	if s.cfg.Region != "" {
		opts = append(opts, config.WithRegion(s.cfg.Region))
	}
	if s.cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.cfg.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("load the AWS configuration (profile %s): check aws.profile, AWS_PROFILE and ~/.aws/config: %w: %w", sources.ShowValue(s.cfg.Profile), sources.ErrInvalid, err)
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
	if s.creds == nil && s.awsCfg.Credentials != nil {
		creds := s.awsCfg.Credentials
		if s.cfg.AssumeRoleARN != "" {
			stsCfg := s.awsCfg.Copy()
			if stsCfg.Region == "" {
				stsCfg.Region = region // STS is regional; use the first secret's region
			}
			creds = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(stsCfg), s.cfg.AssumeRoleARN,
				func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "keyexec" }))
		}
		s.creds = &taggedCredentials{inner: creds, role: s.cfg.AssumeRoleARN}
		s.awsCfg.Credentials = s.creds
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
