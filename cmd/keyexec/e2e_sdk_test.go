package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/url"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/internal/testenv"
	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
	"github.com/keyexec/keyexec/verify/providertest"
)

// The real SDKs as the child. Every scenario runs the same app
// (testdata/sdk/sdkapp.py: one SDK call, its outcome as JSON) twice with
// the same environment: once without keyexec, where the test asserts the
// SDK's own failure, and once as `keyexec run -- python sdkapp.py`, where
// the call must succeed after keyexec's repair, or keyexec must stop
// before Python starts, with its diagnosis and exit code. Python started
// with a credential that then failed is the bug these tests look for.
// The runs without keyexec share one Python process (the SDKs are
// imported once, each scenario runs in a fork with its own environment);
// the runs with keyexec are each a real process start. The results become
// docs/sdk-matrix.md (e2e_sdk_matrix_test.go).

// TestSDKMatrix runs every scenario (e2e_sdk_cases_test.go) for every
// client it applies to.
func TestSDKMatrix(t *testing.T) {
	t.Parallel()
	w := newSDKWorld(t)
	cases := w.cases(t)
	bare := w.runBare(t, cases)
	rec := &sdkRecorder{want: len(cases), versions: bare.Versions}
	t.Cleanup(func() {
		if !t.Failed() {
			rec.write(t, w)
		}
	})
	for _, cl := range sdkClients {
		t.Run(cl.id, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				if c.client != cl {
					continue
				}
				t.Run(c.scenario.id, func(t *testing.T) {
					t.Parallel()
					res, ok := bare.Results[c.id()]
					if !ok {
						t.Fatalf("the run without keyexec reported nothing for %s", c.id())
					}
					row := sdkRow{c: c}
					row.without = c.assertWithout(t, w, res)
					row.with = c.runWith(t, w)
					if !t.Failed() {
						rec.add(row)
					}
				})
			}
		})
	}
}

// sdkWorld is what every scenario shares: the pinned Python, the app, the
// real secret stores the config-list scenarios read.
type sdkWorld struct {
	py, app string
	bao     *vaulttest.OpenBao
	moto    *awssmtest.Moto
	secrets []string // besides allTestSecrets: never in keyexec's output or the table
}

func newSDKWorld(t *testing.T) *sdkWorld {
	t.Helper()
	py := testenv.Python(t)
	app, err := filepath.Abs(filepath.Join("testdata", "sdk", "sdkapp.py"))
	if err != nil {
		t.Fatal(err)
	}
	w := &sdkWorld{py: py, app: app, bao: vaulttest.SharedOpenBao(t), moto: awssmtest.Start(t)}
	w.secrets = append([]string{w.bao.RootToken, awssmtest.SecretAccessKey}, sdkKeys...)
	return w
}

// storeEnv is what keyexec needs to read OpenBao and moto.
func (w *sdkWorld) storeEnv() map[string]string {
	return motoEnv(w.moto, map[string]string{"VAULT_ADDR": w.bao.URL, "VAULT_TOKEN": w.bao.RootToken})
}

// sdkSecret is a key kept in a secret store: the reference keyexec reads,
// and the value stored, which is what an app that fetched the secret
// itself would hold.
type sdkSecret struct{ ref, stored string }

// vault stores value as field api_key of secret/sdk/NAME in OpenBao.
func (w *sdkWorld) vault(t *testing.T, name, value string) sdkSecret {
	t.Helper()
	w.bao.Admin().PutKV2(t, "secret", "sdk/"+name, map[string]any{"api_key": value})
	return sdkSecret{ref: "vault://secret/sdk/" + name + "#api_key", stored: value}
}

// awssm stores value as key api_key of the JSON secret sdk/NAME in moto.
func (w *sdkWorld) awssm(t *testing.T, name, value string) sdkSecret {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"api_key": value})
	full := w.moto.Name("sdk/" + name)
	w.moto.CreateSecret(t, full, string(b))
	return sdkSecret{ref: "awssm://" + full + "#api_key", stored: value}
}

// sdkResult is what sdkapp.py printed for one call.
type sdkResult struct {
	OK      bool      `json:"ok"`
	Reply   string    `json:"reply"`
	Error   *sdkError `json:"error"`
	Guard   []string  `json:"guard"`
	Harness bool      `json:"harness"`
}

type sdkError struct {
	Type    string   `json:"type"`
	MRO     []string `json:"mro"`
	Message string   `json:"message"`
	Status  int      `json:"status"`
	Code    string   `json:"code"`
	// BodyMessage is the provider's error message, from the body.
	BodyMessage string `json:"body_message"`
	Causes      []struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"causes"`
}

// is reports whether the exception is of class name (or a subclass).
func (e *sdkError) is(name string) bool {
	for _, c := range e.MRO {
		if c == name {
			return true
		}
	}
	return e.Type == name
}

// says reports whether the message or one of its causes holds s.
func (e *sdkError) says(s string) bool {
	if strings.Contains(e.Message, s) {
		return true
	}
	for _, c := range e.Causes {
		if strings.Contains(c.Message, s) {
			return true
		}
	}
	return false
}

// sdkBatch is the answer of `sdkapp.py batch`.
type sdkBatch struct {
	Versions map[string]string    `json:"versions"`
	Results  map[string]sdkResult `json:"results"`
}

// runBare runs every scenario without keyexec, in one Python process.
func (w *sdkWorld) runBare(t *testing.T, cases []*sdkCase) sdkBatch {
	t.Helper()
	type scenario struct {
		ID     string            `json:"id"`
		Client string            `json:"client"`
		Env    map[string]string `json:"env"`
		Dir    string            `json:"dir"`
	}
	var in []scenario
	for _, c := range cases {
		env := sdkBaseEnv(t)
		for k, v := range c.bareEnv() {
			env[k] = v
		}
		in = append(in, scenario{ID: c.id(), Client: c.client.id, Env: env, Dir: t.TempDir()})
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := osexec.CommandContext(ctx, w.py, w.app, "batch")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sdkapp.py batch: %v\n%s", err, stderr.String())
	}
	var out sdkBatch
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("sdkapp.py batch printed no results: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return out
}

// sdkBaseEnv is what keyexecCmd adds to every run, so that both runs of
// a scenario see the same environment.
func sdkBaseEnv(t *testing.T) map[string]string {
	return map[string]string{
		"PATH":                      os.Getenv("PATH"),
		"HOME":                      t.TempDir(),
		"AWS_EC2_METADATA_DISABLED": "true",
		"NO_COLOR":                  "1",
	}
}

// assertWithout checks the SDK's own outcome without keyexec.
func (c *sdkCase) assertWithout(t *testing.T, w *sdkWorld, res sdkResult) sdkResult {
	t.Helper()
	if len(res.Guard) > 0 {
		t.Errorf("without keyexec the SDK tried to reach non-loopback hosts %v", res.Guard)
	}
	if res.Harness {
		t.Fatalf("without keyexec the scenario did not run: %+v", res.Error)
	}
	want := c.without
	switch {
	case want.ok && !res.OK:
		t.Errorf("without keyexec the call failed, want success: %s", c.errText(w, res))
	case want.ok && res.Reply != providertest.DefaultReply:
		t.Errorf("without keyexec the reply is %q, want the fake's %q", res.Reply, providertest.DefaultReply)
	case !want.ok && res.OK:
		t.Errorf("without keyexec the call succeeded, want %s (%q)", want.errType, want.says)
	case !want.ok && !res.Error.is(want.errType):
		t.Errorf("without keyexec the SDK raised %s, want %s: %s", res.Error.Type, want.errType, c.errText(w, res))
	case !want.ok && want.says != "" && !res.Error.says(want.says):
		t.Errorf("without keyexec the SDK's message lacks %q: %s", want.says, c.errText(w, res))
	case !want.ok && want.status != 0 && res.Error.Status != want.status:
		t.Errorf("without keyexec the SDK's status is %d, want %d: %s", res.Error.Status, want.status, c.errText(w, res))
	}
	if c.afterBare != nil {
		c.afterBare(t, c.fake.Log())
	}
	return res
}

func (c *sdkCase) errText(w *sdkWorld, res sdkResult) string {
	b, _ := json.Marshal(res)
	return w.mask(string(b))
}

// sdkRun is what the run with keyexec did.
type sdkRun struct {
	run, check outcome
	started    bool
	result     sdkResult
	fixes      []string
}

// runWith runs `keyexec run -- python sdkapp.py run CLIENT MARKER` and
// `keyexec check --json` with the scenario's environment.
func (c *sdkCase) runWith(t *testing.T, w *sdkWorld) sdkRun {
	t.Helper()
	dir := t.TempDir()
	for name, content := range c.files {
		writeTestFile(t, dir, name, content)
	}
	marker := filepath.Join(dir, "python-started")
	seen := len(c.fake.Log())
	var r sdkRun
	r.run = keyexecCmd(t, dir, c.env, "run", "--", w.py, w.app, "run", c.client.id, marker)
	_, err := os.Stat(marker)
	r.started = err == nil
	calls := sdkCalls(c.fake.Log()[seen:])
	r.check = keyexecCmd(t, dir, c.env, "check", "--json")
	w.assertNoLeak(t, r.run.stderr, r.check.stdout, r.check.stderr)
	var probed []string
	r.fixes, probed = parseCheck(t, r.check.stdout)
	for _, u := range probed {
		if !sdkLocalURL(u) {
			t.Errorf("keyexec probed %s: the tests never reach a real host", u)
		}
	}
	if c.afterWith != nil {
		c.afterWith(t)
	}
	want := c.with
	if !r.started {
		w.assertNoLeak(t, r.run.stdout)
		if want.code == 0 {
			t.Fatalf("keyexec stopped (exit %d) where the call should have succeeded:\n%s", r.run.code, r.run.stderr)
		}
		if r.run.code != want.code {
			t.Errorf("keyexec exit %d, want %d:\n%s", r.run.code, want.code, r.run.stderr)
		}
		if r.check.code != r.run.code {
			t.Errorf("check exit %d, run exit %d", r.check.code, r.run.code)
		}
		if !strings.Contains(r.run.stderr, want.diag) {
			t.Errorf("keyexec's stderr lacks %q:\n%s", want.diag, r.run.stderr)
		}
		if r.run.stdout != "" {
			t.Errorf("keyexec wrote to stdout, which belongs to the child: %q", r.run.stdout)
		}
		if len(calls) > 0 {
			t.Errorf("the provider got %d SDK calls although Python never started", len(calls))
		}
		return r
	}
	errLog, _ := os.ReadFile(marker + ".stderr")
	if err := json.Unmarshal([]byte(r.run.stdout), &r.result); err != nil {
		t.Fatalf("Python started but printed no result (exit %d): %v\nstdout: %s\nkeyexec: %s\npython: %s",
			r.run.code, err, w.mask(r.run.stdout), r.run.stderr, w.mask(string(errLog)))
	}
	if len(r.result.Guard) > 0 {
		t.Errorf("with keyexec the SDK tried to reach non-loopback hosts %v", r.result.Guard)
	}
	if want.code != 0 {
		t.Fatalf("keyexec let Python start (exit %d) where it should have stopped with %d (%q); the call: %s\nkeyexec: %s",
			r.run.code, want.code, want.diag, c.errText(w, r.result), r.run.stderr)
	}
	if !r.result.OK || r.run.code != 0 {
		t.Fatalf("BUG: keyexec let Python start with a credential that then failed (exit %d): %s\nkeyexec: %s\npython: %s",
			r.run.code, c.errText(w, r.result), r.run.stderr, w.mask(string(errLog)))
	}
	if r.result.Reply != providertest.DefaultReply {
		t.Errorf("the reply is %q, want the fake's %q", r.result.Reply, providertest.DefaultReply)
	}
	if r.check.code != 0 {
		t.Errorf("check exit %d where run started the app:\n%s", r.check.code, r.check.stderr)
	}
	if want.fix != "" && !containsAny(r.fixes, want.fix) {
		t.Errorf("check --json reports no fix %q; fixes: %q", want.fix, r.fixes)
	}
	if want.fix == "" && len(r.fixes) > 0 {
		t.Errorf("check --json reports fixes %q where nothing needed repair", r.fixes)
	}
	if len(calls) == 0 {
		t.Errorf("the provider got no SDK call from the app")
	}
	for _, call := range calls {
		if call.cred != c.goodKey {
			t.Errorf("the app called %s with %s, want the good key", call.path, w.mask(call.cred))
		}
	}
	return r
}

func containsAny(list []string, s string) bool {
	for _, v := range list {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// parseCheck lists every fix `check --json` reports, for variables and
// config-list entries, with the reasons of dropped entries; and the URLs
// it probed.
func parseCheck(t *testing.T, stdout string) (fixes, probed []string) {
	t.Helper()
	var rep struct {
		Probes []struct {
			URL string `json:"url"`
		} `json:"probes"`
		Resolve struct {
			Variables []struct {
				Fixes []string `json:"fixes"`
			} `json:"variables"`
		} `json:"resolve"`
		ConfigList struct {
			Entries []struct {
				Index  int      `json:"index"`
				Fixes  []string `json:"fixes"`
				Status string   `json:"status"`
				Reason string   `json:"reason"`
			} `json:"entries"`
		} `json:"config_list"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Errorf("check --json is not JSON: %v\n%s", err, stdout)
		return nil, nil
	}
	for _, v := range rep.Resolve.Variables {
		fixes = append(fixes, v.Fixes...)
	}
	for _, e := range rep.ConfigList.Entries {
		for _, f := range e.Fixes {
			fixes = append(fixes, "entry "+strconv.Itoa(e.Index)+" "+f)
		}
		if e.Status == "dropped" {
			fixes = append(fixes, "entry "+strconv.Itoa(e.Index)+" dropped: "+e.Reason)
		}
	}
	for _, p := range rep.Probes {
		probed = append(probed, p.URL)
	}
	return fixes, probed
}

// sdkLocalURL reports whether a probe stayed on loopback or went to a
// name under .invalid, which never resolves.
func sdkLocalURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host == "localhost" || strings.HasSuffix(host, ".invalid")
}

// sdkCall is one SDK request the provider fake received: chat
// completions or messages, never keyexec's probes.
type sdkCall struct{ path, cred string }

func sdkCalls(log []providertest.Request) []sdkCall {
	var out []sdkCall
	for _, r := range log {
		if r.Method != "POST" || !(strings.HasSuffix(r.Path, "/chat/completions") || strings.HasSuffix(r.Path, "/messages")) {
			continue
		}
		cred := r.Header.Get("api-key")
		if cred == "" {
			cred = r.Header.Get("x-api-key")
		}
		if cred == "" {
			cred = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		// A body of "{}" is keyexec's zero-token Azure deployment check.
		if r.Body == "{}" {
			continue
		}
		out = append(out, sdkCall{path: r.Path, cred: cred})
	}
	return out
}

// assertNoLeak is the harness's check plus this file's own secrets.
func (w *sdkWorld) assertNoLeak(t *testing.T, texts ...string) {
	t.Helper()
	assertNoLeak(t, texts...)
	for _, text := range texts {
		for _, s := range w.secrets {
			for _, probe := range []string{s, s[:len(s)/2], s[len(s)/2:]} {
				if len(probe) >= 12 && strings.Contains(text, probe) {
					t.Fatalf("a test secret (%s…) appears in keyexec's output:\n%s", s[:6], text)
				}
			}
		}
	}
}

// mask replaces every test secret in s, for messages and the table.
func (w *sdkWorld) mask(s string) string {
	all := append(append([]string{}, allTestSecrets...), w.secrets...)
	for _, sec := range all {
		s = strings.ReplaceAll(s, sec, "[key]")
	}
	return s
}
