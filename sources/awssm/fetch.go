package awssm

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
}

// Fetch reads every reference, one call per distinct (secret, version,
// region), and returns one Result per ref in order. Per-reference failures
// go in Result.Err; the error is non-nil only when the AWS configuration
// itself cannot be loaded. When the user stopped keyexec (sources.Stopped),
// every failure wraps the *sources.StopError and nothing else.
func (s *Source) Fetch(ctx context.Context, refs []sources.Ref) ([]sources.Result, error) {
	results := make([]sources.Result, len(refs))
	for i, ref := range refs {
		results[i].Ref = ref
	}
	if stop := sources.Stopped(ctx); stop != nil {
		for i := range results { // nothing is worth asking after a stop
			results[i].Err = fmt.Errorf("%s: %w", refs[i], stop)
		}
		return results, nil
	}
	if len(refs) == 0 {
		return results, nil
	}
	if err := s.load(ctx); err != nil {
		if stop := sources.Stopped(ctx); stop != nil {
			return nil, fmt.Errorf("load the AWS configuration: %w", stop)
		}
		return nil, err
	}
	reads := make(map[readKey]*read)
	var order []*read
	readOf := make([]*read, len(refs))
	for i, ref := range refs {
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
	return failClosed(ctx, results), nil
}

// failClosed makes every failure of results the stop when ctx ended by one:
// a call cut short, or one that failed just before, must not reach a lenient
// policy as "unavailable" or "not found". Values already read are kept.
func failClosed(ctx context.Context, results []sources.Result) []sources.Result {
	stop := sources.Stopped(ctx)
	if stop == nil {
		return results
	}
	var se *sources.StopError
	for i := range results {
		if r := &results[i]; r.Err != nil && !errors.As(r.Err, &se) {
			r.Err = fmt.Errorf("%s: %w", r.Ref, stop)
		}
	}
	return results
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
	default:
		// A JSON object without #key is its one field or an error naming
		// its fields, never a "key"; ?raw=true takes the text as it is.
		v, err := sources.PickText(*r.str, ref)
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
