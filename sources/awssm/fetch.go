package awssm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/keyexec/keyexec/sources"
)

// maxBatch is the most secret ids one BatchGetSecretValue call takes.
const maxBatch = 20

// readKey identifies one Secrets Manager read: references that share it are
// served by one call, whatever keys they pick.
type readKey struct {
	id        string // name, partial or full ARN, as written
	stage     string // "" for AWSCURRENT
	versionID string
	region    string
}

// read is one Secrets Manager read and what it returned.
type read struct {
	readKey
	str       *string
	binary    bool
	gotID     string
	gotStages []string
	err       error
	obj       map[string]any // SecretString parsed as JSON, on first #key
	objErr    error
}

// Fetch reads every reference, one call per distinct (secret, version,
// region), and returns one Result per ref in order. Per-reference failures
// go in Result.Err; the error is non-nil only when the AWS configuration
// itself cannot be loaded.
func (s *Source) Fetch(ctx context.Context, refs []sources.Ref) ([]sources.Result, error) {
	results := make([]sources.Result, len(refs))
	if len(refs) == 0 {
		return results, nil
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	reads := make(map[readKey]*read)
	var order []*read
	readOf := make([]*read, len(refs))
	for i, ref := range refs {
		results[i].Ref = ref
		key, err := s.keyOf(ref)
		if err != nil {
			results[i].Err = err
			continue
		}
		r, ok := reads[key]
		if !ok {
			r = &read{readKey: key}
			reads[key] = r
			order = append(order, r)
		}
		readOf[i] = r
	}
	s.readAll(ctx, order)
	for i, r := range readOf {
		if r != nil {
			results[i] = r.result(refs[i])
		}
	}
	return results, nil
}

// keyOf works out what ref reads, including its region: ?region=, else the
// ARN's, else the configured or SDK default.
func (s *Source) keyOf(ref sources.Ref) (readKey, error) {
	if ref.Scheme != Scheme {
		return readKey{}, fmt.Errorf("reference %s is not an awssm reference: %w", ref, sources.ErrInvalid)
	}
	k := readKey{id: ref.Path, stage: ref.Query.Get("version-stage"), versionID: ref.Query.Get("version-id"), region: ref.Query.Get("region")}
	if k.stage == "AWSCURRENT" && k.versionID == "" {
		k.stage = "" // the default, which BatchGetSecretValue reads too
	}
	if arnRegion := regionOfARN(ref.Path); arnRegion != "" {
		if k.region != "" && k.region != arnRegion {
			return readKey{}, fmt.Errorf("reference %s: ?region=%s contradicts the ARN's region %s: drop ?region=: %w", ref, k.region, arnRegion, sources.ErrInvalid)
		}
		k.region = arnRegion
	}
	if k.region == "" {
		k.region = s.region
	}
	if k.region == "" {
		return readKey{}, fmt.Errorf("reference %s: no AWS region: set aws.region in keyexec.yaml, AWS_REGION in the environment, add ?region=REGION to the reference, or use the secret's full ARN: %w", ref, sources.ErrInvalid)
	}
	return k, nil
}

// regionOfARN returns the region field of a Secrets Manager ARN, or "".
func regionOfARN(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return ""
	}
	parts := strings.SplitN(id, ":", 7)
	if len(parts) < 7 {
		return ""
	}
	return parts[3]
}

// readAll performs every read: batches for regions with several current
// secrets, single calls for the rest, then single calls for whatever a batch
// could not serve.
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
		r.err = classify(ctx, r.id, r.region, err)
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
				r.err = classify(ctx, r.id, r.region, err)
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

// result picks what ref asks for out of the read it shares.
func (r *read) result(ref sources.Ref) sources.Result {
	res := sources.Result{Ref: ref, Err: r.err}
	if r.err != nil {
		return res
	}
	res.Version = versionLabel(r.gotID, r.gotStages)
	switch {
	case r.str == nil && r.binary:
		res.Err = fmt.Errorf("secret %q in %s holds SecretBinary, and keyexec reads only SecretString: store the value as text (put-secret-value --secret-string): %w", r.id, r.region, sources.ErrInvalid)
	case r.str == nil:
		res.Err = fmt.Errorf("secret %q in %s has no SecretString: %w", r.id, r.region, sources.ErrNotFound)
	case ref.Field == "":
		res.Value = sources.NewSecret(*r.str)
	default:
		if r.obj == nil && r.objErr == nil {
			r.obj, r.objErr = sources.ParseJSONObject([]byte(*r.str))
		}
		if r.objErr != nil {
			res.Err = fmt.Errorf("secret %q in %s: %w", r.id, r.region, r.objErr)
			return res
		}
		v, err := sources.PickField(r.obj, ref.Field)
		if err != nil {
			res.Err = fmt.Errorf("secret %q in %s: %w", r.id, r.region, err)
			return res
		}
		res.Value = sources.NewSecret(v)
	}
	return res
}

// versionLabel describes the version read, for the report: "version
// 3f2a9c1e… AWSPREVIOUS".
func versionLabel(id string, stages []string) string {
	if id == "" {
		return ""
	}
	if len(id) > 8 {
		id = id[:8] + "…"
	}
	label := "version " + id
	if len(stages) > 0 {
		label += " " + strings.Join(stages, ",")
	}
	return label
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
