package awssm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// readAll performs every read in one round trip where it can: one batch per
// 20 current secrets of a region, and GetSecretValue for versioned
// references and lone secrets, all in flight together; then single calls
// for whatever a batch could not serve (a refused batch).
func (s *Source) readAll(ctx context.Context, reads []*read) {
	current := make(map[string][]*read)
	var regions []string
	var singles []*read
	for _, r := range reads {
		if r.stage != "" || r.versionID != "" {
			singles = append(singles, r) // batch reads only AWSCURRENT
			continue
		}
		if _, ok := current[r.region]; !ok {
			regions = append(regions, r.region)
		}
		current[r.region] = append(current[r.region], r)
	}
	var (
		tasks    []func()
		mu       sync.Mutex
		leftover []*read
	)
	for _, region := range regions {
		rs := current[region]
		if len(rs) < 2 || s.batchDenied.Load() {
			singles = append(singles, rs...)
			continue
		}
		for _, chunk := range chunks(rs, maxBatch) {
			tasks = append(tasks, func() {
				left := s.batchGet(ctx, chunk)
				mu.Lock()
				leftover = append(leftover, left...)
				mu.Unlock()
			})
		}
	}
	for _, r := range singles {
		tasks = append(tasks, func() { s.get(ctx, r) })
	}
	s.run(tasks)
	tasks = tasks[:0]
	for _, r := range leftover {
		tasks = append(tasks, func() { s.get(ctx, r) })
	}
	s.run(tasks)
}

// chunks splits rs into the fewest parts of at most size, of even sizes.
func chunks(rs []*read, size int) [][]*read {
	n := (len(rs) + size - 1) / size
	per := (len(rs) + n - 1) / n
	var out [][]*read
	for len(rs) > 0 {
		k := min(per, len(rs))
		out = append(out, rs[:k])
		rs = rs[k:]
	}
	return out
}

// run runs tasks with at most Concurrency in flight.
func (s *Source) run(tasks []func()) {
	limit := s.cfg.Concurrency
	if limit <= 0 {
		limit = defaultConcurrency
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, task := range tasks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			task()
		})
	}
	wg.Wait()
}

// get reads one secret with GetSecretValue.
func (s *Source) get(ctx context.Context, r *read) {
	in := &secretsmanager.GetSecretValueInput{SecretId: &r.id}
	if r.stage != "" {
		in.VersionStage = &r.stage
	}
	if r.versionID != "" {
		in.VersionId = &r.versionID
	}
	out, err := s.client(r.region).GetSecretValue(ctx, in)
	if err != nil {
		r.err = s.failure(ctx, r, err)
		return
	}
	r.str, r.binary = out.SecretString, out.SecretBinary != nil
	r.gotID, r.gotStages = deref(out.VersionId), out.VersionStages
}

// batchGet reads up to maxBatch current secrets of one region in one call
// and returns the reads it could not serve, for GetSecretValue. A refused
// batch (AccessDenied) is remembered for the rest of the run.
func (s *Source) batchGet(ctx context.Context, rs []*read) (leftover []*read) {
	pending := make(map[string]*read, len(rs))
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		pending[r.id] = r
		ids = append(ids, r.id)
	}
	in := &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids}
	client := s.client(rs[0].region)
	for range rs { // bounds the pages; one is the rule for an id list
		out, err := client.BatchGetSecretValue(ctx, in)
		if err != nil {
			if s.readOneByOne(err) {
				return remaining(pending)
			}
			for _, r := range pending {
				r.err = s.failure(ctx, r, err)
			}
			return nil
		}
		for _, e := range out.SecretValues {
			for _, id := range entryIDs(deref(e.Name), deref(e.ARN)) {
				if r, ok := pending[id]; ok {
					r.str, r.binary = e.SecretString, e.SecretBinary != nil
					r.gotID, r.gotStages = deref(e.VersionId), e.VersionStages
					delete(pending, id)
				}
			}
		}
		for _, e := range out.Errors {
			if r, ok := pending[deref(e.SecretId)]; ok {
				r.err = classifyAPI(fmt.Sprintf("secret %q in %s", r.id, r.region), batchEntryError(deref(e.ErrorCode), deref(e.Message)))
				delete(pending, r.id)
			}
		}
		if out.NextToken == nil || len(pending) == 0 {
			break
		}
		in.NextToken = out.NextToken
	}
	return remaining(pending)
}

// failure classifies the failure of a call for r. A call that ended with
// ctx before any credentials were obtained was waiting for them (STS for a
// role or a web identity, a container or instance endpoint), not for
// Secrets Manager: the SDK's credentials cache reports that as a plain
// cancellation, which is tagged here so that the error says so.
func (s *Source) failure(ctx context.Context, r *read, err error) error {
	if _, tagged := isCredentialsError(err); !tagged && ctx.Err() != nil && s.creds != nil && !s.creds.ready.Load() {
		err = &credentialsError{role: s.cfg.AssumeRoleARN, err: err}
	}
	return classify(ctx, r.id, r.region, err)
}

// readOneByOne reports whether the secrets of a failed batch call should be
// read one by one: the batch was refused (remembered for the run) or the
// request rejected, as opposed to failing for reasons a single call would
// share (network, throttling, credentials, deadline).
func (s *Source) readOneByOne(err error) bool {
	var apiErr smithy.APIError
	if _, cred := isCredentialsError(err); cred || !errors.As(err, &apiErr) {
		return false
	}
	code := apiErr.ErrorCode()
	if isDenied(code) {
		s.batchDenied.Store(true)
		return true
	}
	return !isCredentialCode(code) && !isTransient(code) && apiErr.ErrorFault() != smithy.FaultServer
}

// entryIDs lists the ids a batch entry answers: its name, its full ARN and
// its partial ARN (the full ARN without the "-xxxxxx" suffix AWS adds).
func entryIDs(name, arn string) []string {
	ids := []string{name, arn}
	if n := len(arn); n > 7 && arn[n-7] == '-' {
		ids = append(ids, arn[:n-7])
	}
	return ids
}

func remaining(pending map[string]*read) []*read {
	out := make([]*read, 0, len(pending))
	for _, r := range pending {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
