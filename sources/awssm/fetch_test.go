package awssm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/keyexec/keyexec/sources"
)

// fakeAPI is a hand-written secretsAPI made of function fields.
type fakeAPI struct {
	get   func(*secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error)
	batch func(*secretsmanager.BatchGetSecretValueInput) (*secretsmanager.BatchGetSecretValueOutput, error)
}

func (f *fakeAPI) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f.get(in)
}

func (f *fakeAPI) BatchGetSecretValue(_ context.Context, in *secretsmanager.BatchGetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error) {
	return f.batch(in)
}

// store is a fake Secrets Manager of current string secrets that records
// every call as "Get id" or "Batch id,id,…" with the region of the client.
type store struct {
	mu       sync.Mutex
	secrets  map[string]string
	calls    []string
	batchErr error
	onGet    func(id string) error // if set, its error answers a Get
}

func (st *store) record(call string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.calls = append(st.calls, call)
}

func (st *store) api(region string) secretsAPI {
	return &fakeAPI{
		get: func(in *secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error) {
			id := aws.ToString(in.SecretId)
			st.record(region + " Get " + id)
			if st.onGet != nil {
				if err := st.onGet(id); err != nil {
					return nil, err
				}
			}
			v, ok := st.secrets[id]
			if !ok {
				return nil, &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}
			}
			return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v), VersionId: aws.String("0123456789abcdef"), VersionStages: []string{"AWSCURRENT"}}, nil
		},
		batch: func(in *secretsmanager.BatchGetSecretValueInput) (*secretsmanager.BatchGetSecretValueOutput, error) {
			st.record(region + " Batch " + strings.Join(in.SecretIdList, ","))
			if st.batchErr != nil {
				return nil, st.batchErr
			}
			out := &secretsmanager.BatchGetSecretValueOutput{}
			for _, id := range in.SecretIdList {
				v, ok := st.secrets[id]
				if !ok {
					out.Errors = append(out.Errors, types.APIErrorType{SecretId: aws.String(id), ErrorCode: aws.String("ResourceNotFoundException"), Message: aws.String("not found")})
					continue
				}
				out.SecretValues = append(out.SecretValues, types.SecretValueEntry{
					Name: aws.String(id), ARN: aws.String("arn:aws:secretsmanager:" + region + ":1:secret:" + id + "-AbCdEf"),
					SecretString: aws.String(v), VersionId: aws.String("fedcba9876543210"), VersionStages: []string{"AWSCURRENT"},
				})
			}
			return out, nil
		},
	}
}

// fakeSource returns a Source whose clients are st, with default region.
func fakeSource(st *store, region string) *Source {
	return &Source{cfg: Config{Concurrency: 4}, loaded: true, region: region, newClient: st.api}
}

func refs(t *testing.T, raws ...string) []sources.Ref {
	t.Helper()
	out := make([]sources.Ref, len(raws))
	for i, raw := range raws {
		ref, err := sources.Parse(raw)
		if err != nil {
			t.Fatalf("Parse(%q): %v", raw, err)
		}
		out[i] = ref
	}
	return out
}

func numbered(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("s%02d", i)] = fmt.Sprintf(`{"k":"v%d"}`, i)
	}
	return m
}

func TestFetchCalls(t *testing.T) {
	t.Parallel()
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:iam::1:user/u is not authorized"}
	tests := []struct {
		name     string
		secrets  map[string]string
		batchErr error
		raws     []string
		want     []string // calls, sorted
	}{
		{"one call per secret however many keys", map[string]string{"a": `{"x":"1","y":"2"}`}, nil,
			[]string{"awssm://a#x", "awssm://a#y", "awssm://a#x", "awssm://a?version-stage=AWSCURRENT#y"},
			[]string{"us-east-1 Get a"}},
		{"batch for two secrets", map[string]string{"a": "1", "b": "2"}, nil,
			[]string{"awssm://a", "awssm://b"},
			[]string{"us-east-1 Batch a,b"}},
		{"versions are read one by one", map[string]string{"a": "1", "b": "2"}, nil,
			[]string{"awssm://a?version-stage=AWSPREVIOUS", "awssm://b?version-id=v1"},
			[]string{"us-east-1 Get a", "us-east-1 Get b"}},
		{"batches per region", map[string]string{"a": "1", "b": "2", "c": "3"}, nil,
			[]string{"awssm://a", "awssm://b", "awssm://c?region=eu-west-1"},
			[]string{"eu-west-1 Get c", "us-east-1 Batch a,b"}},
		{"41 secrets in three even batches", numbered(41), nil,
			refsTo(41),
			[]string{"us-east-1 Batch s00,s01,s02,s03,s04,s05,s06,s07,s08,s09,s10,s11,s12,s13",
				"us-east-1 Batch s14,s15,s16,s17,s18,s19,s20,s21,s22,s23,s24,s25,s26,s27",
				"us-east-1 Batch s28,s29,s30,s31,s32,s33,s34,s35,s36,s37,s38,s39,s40"}},
		{"denied batch falls back", map[string]string{"a": "1", "b": "2"}, denied,
			[]string{"awssm://a", "awssm://b"},
			[]string{"us-east-1 Batch a,b", "us-east-1 Get a", "us-east-1 Get b"}},
		{"rejected batch request falls back", map[string]string{"a": "1", "b": "2"}, &types.InvalidParameterException{Message: aws.String("bad id")},
			[]string{"awssm://a", "awssm://b"},
			[]string{"us-east-1 Batch a,b", "us-east-1 Get a", "us-east-1 Get b"}},
		{"throttled batch does not", map[string]string{"a": "1", "b": "2"}, &smithy.GenericAPIError{Code: "ThrottlingException", Fault: smithy.FaultClient},
			[]string{"awssm://a", "awssm://b"},
			[]string{"us-east-1 Batch a,b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &store{secrets: tt.secrets, batchErr: tt.batchErr}
			src := fakeSource(st, "us-east-1")
			if _, err := src.Fetch(context.Background(), refs(t, tt.raws...)); err != nil {
				t.Fatal(err)
			}
			slices.Sort(st.calls)
			if !slices.Equal(st.calls, tt.want) {
				t.Errorf("calls:\n got %q\nwant %q", st.calls, tt.want)
			}
		})
	}
}

func refsTo(n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("awssm://s%02d#k", i)
	}
	return out
}

func TestFetchResults(t *testing.T) {
	t.Parallel()
	st := &store{secrets: map[string]string{"a": `{"k":"va"}`, "b": `{"k":"vb"}`, "plain": "p"}}
	src := fakeSource(st, "us-east-1")
	rs := refs(t, "awssm://a#k", "awssm://missing", "awssm://b#k", "awssm://b#nope",
		"arn:aws:secretsmanager:eu-west-1:1:secret:plain", "awssm://plain")
	res, err := src.Fetch(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		value   string
		err     error
		version string
	}{
		{"va", nil, "version fedcba98… AWSCURRENT"},
		{"", sources.ErrNotFound, ""},
		{"vb", nil, "version fedcba98… AWSCURRENT"},
		{"", sources.ErrNotFound, "version fedcba98… AWSCURRENT"}, // the version read, even when the key is missing
		{"", sources.ErrNotFound, ""},                             // the eu-west-1 fake holds no such ARN
		{"p", nil, "version fedcba98… AWSCURRENT"},
	}
	for i, w := range want {
		r := res[i]
		if r.Ref.Raw != rs[i].Raw || r.Value.Reveal() != w.value || !errors.Is(r.Err, w.err) || (w.err == nil && r.Err != nil) || r.Version != w.version {
			t.Errorf("result %d (%s) = %q, %v, %q; want %q, %v, %q", i, rs[i], r.Value.Reveal(), r.Err, r.Version, w.value, w.err, w.version)
		}
	}
}

// TestFetchAfterStop: a failure that came back before the stop, or a call
// the stop cut short, is the stop; a value read is kept.
func TestFetchAfterStop(t *testing.T) {
	t.Parallel()
	ctx, stop := context.WithCancelCause(context.Background())
	st := &store{secrets: map[string]string{"a": "va"}, onGet: func(id string) error {
		if id != "cut" {
			return nil
		}
		stop(&sources.StopError{Signal: syscall.SIGTERM})
		return fmt.Errorf("operation error Secrets Manager: GetSecretValue: %w", context.Canceled)
	}}
	src := fakeSource(st, "us-east-1")
	rs := refs(t, "awssm://a?version-id=v1", "awssm://missing?version-id=v1", "awssm://cut?version-id=v1", "awssm://a#nokey?version-id=v1")
	res, err := src.Fetch(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].Value.Reveal() != "va" {
		t.Errorf("%s: %v, want the value read", rs[0], res[0].Err)
	}
	for _, r := range res[1:] {
		var se *sources.StopError
		if !errors.As(r.Err, &se) || errors.Is(r.Err, sources.ErrNotFound) || errors.Is(r.Err, sources.ErrInvalid) || errors.Is(r.Err, sources.ErrUnavailable) {
			t.Errorf("%s: %v, want the stop only", r.Ref, r.Err)
		}
	}
	// A stopped run asks nothing more.
	before := len(st.calls)
	if res, _ = src.Fetch(ctx, rs[:1]); !errors.As(res[0].Err, new(*sources.StopError)) || len(st.calls) != before {
		t.Errorf("fetch after the stop: %v and %d more calls, want the stop and none", res[0].Err, len(st.calls)-before)
	}
}

func TestBatchDeniedIsRemembered(t *testing.T) {
	t.Parallel()
	st := &store{secrets: numbered(3), batchErr: &smithy.GenericAPIError{Code: "AccessDeniedException"}}
	src := fakeSource(st, "us-east-1")
	for range 2 {
		if _, err := src.Fetch(context.Background(), refs(t, "awssm://s00#k", "awssm://s01#k", "awssm://s02#k")); err != nil {
			t.Fatal(err)
		}
	}
	batches := 0
	for _, c := range st.calls {
		if strings.Contains(c, "Batch") {
			batches++
		}
	}
	if batches != 1 || len(st.calls) != 7 {
		t.Errorf("calls %q: want 1 batch then 6 single reads", st.calls)
	}
}

func TestKeyOfRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, def, raw, want string
		err                  error
	}{
		{"default region", "eu-west-1", "awssm://a", "eu-west-1", nil},
		{"option beats default", "eu-west-1", "awssm://a?region=us-west-2", "us-west-2", nil},
		{"ARN beats default", "eu-west-1", "arn:aws:secretsmanager:ap-south-1:1:secret:a", "ap-south-1", nil},
		{"ARN needs no default", "", "awssm://arn:aws:secretsmanager:ap-south-1:1:secret:a", "ap-south-1", nil},
		{"option agreeing with ARN", "", "arn:aws:secretsmanager:ap-south-1:1:secret:a?region=ap-south-1", "ap-south-1", nil},
		{"option contradicting ARN", "", "arn:aws:secretsmanager:ap-south-1:1:secret:a?region=us-east-1", "", sources.ErrInvalid},
		{"nothing", "", "awssm://a", "", sources.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := &Source{region: tt.def}
			k, err := src.keyOf(refs(t, tt.raw)[0])
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || k.region != tt.want {
				t.Errorf("keyOf(%s) = %q, %v; want %q, %v", tt.raw, k.region, err, tt.want, tt.err)
			}
		})
	}
}

func TestChunks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ n, want int }{{2, 2}, {20, 20}, {21, 11}, {40, 20}, {41, 14}} {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			t.Parallel()
			rs := make([]*read, tt.n)
			got := chunks(rs, maxBatch)
			total := 0
			for _, c := range got {
				total += len(c)
			}
			if len(got[0]) != tt.want || total != tt.n {
				t.Errorf("chunks(%d): first of %d, total %d; want first of %d", tt.n, len(got[0]), total, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		err  error
	}{
		{"empty", Config{}, nil},
		{"endpoint", Config{Endpoint: "http://127.0.0.1:5000"}, nil},
		{"endpoint without scheme", Config{Endpoint: "127.0.0.1:5000"}, sources.ErrInvalid},
		{"endpoint of another scheme", Config{Endpoint: "ftp://host"}, sources.ErrInvalid},
		{"negative concurrency", Config{Concurrency: -1}, sources.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, err := New(context.Background(), tt.cfg)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("New: %v, want %v", err, tt.err)
			}
			if err == nil && src.Scheme() != "awssm" {
				t.Errorf("Scheme() = %q", src.Scheme())
			}
		})
	}
}
