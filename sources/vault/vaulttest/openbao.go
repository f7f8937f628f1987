package vaulttest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyexec/keyexec/internal/testenv"
)

// OpenBao is a running OpenBao dev server (`bao server -dev`, from the
// pinned test environment): a real Vault-API server, in memory, unsealed,
// with "secret/" mounted as KV v2, namespaces, AppRole and Kubernetes auth.
//
// Start-up costs about 0.2 s of wall time and 100 MB of memory per server
// (OpenBao 2.7.2 on a laptop): tests share one (SharedOpenBao) and start
// their own (StartOpenBao) only to seal it or to serve TLS.
type OpenBao struct {
	// URL is the address to give clients, as VAULT_ADDR.
	URL string
	// RootToken is the dev server's root token, random per server.
	RootToken string
	// UnsealKey is the dev server's single unseal key, from its banner.
	UnsealKey string
	// CACert is, with BaoTLS, the PEM file of the dev CA (for VAULT_CACERT).
	CACert string

	cmd      *exec.Cmd
	exited   chan struct{}
	out      *logTail
	client   *http.Client
	dir      string
	ownDir   bool // remove dir at Stop (the shared server's)
	stopOnce sync.Once
}

// BaoOption configures StartOpenBao.
type BaoOption func(*baoConfig)

type baoConfig struct{ tls bool }

// BaoTLS serves HTTPS with a CA of the dev server's own (-dev-tls); CACert
// names its PEM file.
func BaoTLS() BaoOption { return func(c *baoConfig) { c.tls = true } }

// StartOpenBao starts a server of the test's own (to seal it, or with TLS)
// and stops it when the test ends. Without the pinned environment the test
// is skipped, or fails under CI (internal/testenv).
func StartOpenBao(t testing.TB, opts ...BaoOption) *OpenBao {
	t.Helper()
	bin := testenv.Bin(t, "bao")
	var cfg baoConfig
	for _, o := range opts {
		o(&cfg)
	}
	b, err := startBao(bin, t.TempDir(), cfg)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	t.Cleanup(b.Stop)
	return b
}

var shared struct {
	once sync.Once
	bao  *OpenBao
	err  error
}

// SharedOpenBao returns the test binary's one shared server, started on
// first use. Tests that share it work under names of their own (random
// prefixes, mounts, roles) and never seal it. Call StopShared from TestMain.
func SharedOpenBao(t testing.TB) *OpenBao {
	t.Helper()
	bin := testenv.Bin(t, "bao")
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "keyexec-openbao-")
		if err != nil {
			shared.err = err
			return
		}
		if shared.bao, shared.err = startBao(bin, dir, baoConfig{}); shared.err != nil {
			_ = os.RemoveAll(dir)
			return
		}
		shared.bao.ownDir = true
	})
	if shared.err != nil {
		t.Fatalf("vaulttest: shared OpenBao: %v", shared.err)
	}
	return shared.bao
}

// StopShared stops the shared server, if one was started: TestMain's last
// step. (The server also dies with the test binary, on Linux.)
func StopShared() {
	if shared.bao != nil {
		shared.bao.Stop()
	}
}

// Admin returns a set-up client with the root token.
func (b *OpenBao) Admin() *Admin { return &Admin{Addr: b.URL, Token: b.RootToken, Client: b.client} }

// Seal seals the server (PUT sys/seal): every request then answers 503.
func (b *OpenBao) Seal(t testing.TB) {
	t.Helper()
	if status, resp := b.Admin().do(t, http.MethodPut, "sys/seal", nil); status != http.StatusNoContent {
		t.Fatalf("vaulttest: seal: %d %s", status, resp)
	}
}

// Unseal unseals the server with its unseal key (PUT sys/unseal).
func (b *OpenBao) Unseal(t testing.TB) {
	t.Helper()
	status, resp := b.Admin().do(t, http.MethodPut, "sys/unseal", map[string]any{"key": b.UnsealKey})
	if status != http.StatusOK || !bytes.Contains(resp, []byte(`"sealed":false`)) {
		t.Fatalf("vaulttest: unseal: %d %s", status, resp)
	}
}

// Stop ends the server (SIGINT, then SIGKILL after 10 s). It is idempotent.
func (b *OpenBao) Stop() {
	b.stopOnce.Do(func() {
		_ = b.cmd.Process.Signal(os.Interrupt)
		select {
		case <-b.exited:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.exited
		}
		if b.ownDir {
			_ = os.RemoveAll(b.dir)
		}
	})
}

// errPortTaken: another process took a port between the check and bao's bind.
var errPortTaken = errors.New("port taken")

// startBao starts bao on a free loopback port pair (bao binds its cluster
// listener on the port after the API's), trying again on a lost race.
func startBao(bin, dir string, cfg baoConfig) (*OpenBao, error) {
	for attempt := 1; ; attempt++ {
		port, err := freePortPair()
		if err != nil {
			return nil, err
		}
		b, err := launch(bin, dir, port, cfg)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 5 {
			return b, err
		}
	}
}

// launch runs one bao and waits until it answers sys/health unsealed and
// has printed its unseal key.
func launch(bin, dir string, port int, cfg baoConfig) (*OpenBao, error) {
	b := &OpenBao{RootToken: "root-" + randomHex(12), dir: dir, exited: make(chan struct{}), out: &logTail{}}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"server", "-dev", "-dev-root-token-id=" + b.RootToken, "-dev-listen-address=" + addr,
		"-dev-no-store-token", "-log-level=warn"}
	b.URL = "http://" + addr
	if cfg.tls {
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+dir)
		b.URL, b.CACert = "https://"+addr, filepath.Join(dir, "vault-ca.pem")
	}
	b.cmd = exec.Command(bin, args...)
	// Nothing of the caller's environment (VAULT_*, BAO_*, a token helper
	// in HOME) reaches the server.
	b.cmd.Env = []string{"HOME=" + dir, "TMPDIR=" + dir, "PATH=" + os.Getenv("PATH")}
	b.cmd.Dir = dir
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	b.cmd.SysProcAttr = procAttr()
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = b.cmd.Wait(); close(b.exited) }()
	if err := b.waitReady(60 * time.Second); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// waitReady polls sys/health until the server answers 200 and its banner
// gave the unseal key. The bound only stops a hung start; it is no test of
// speed.
func (b *OpenBao) waitReady(bound time.Duration) error {
	end := time.Now().Add(bound)
	for {
		select {
		case <-b.exited:
			if strings.Contains(b.out.String(), "address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("bao server -dev exited before it answered: %s", b.out.String())
		default:
		}
		if b.client == nil {
			b.client = b.newClient()
		}
		if b.client != nil {
			resp, err := b.client.Get(b.URL + "/v1/sys/health")
			if err == nil {
				resp.Body.Close()
				if key := b.out.unsealKey(); resp.StatusCode == http.StatusOK && key != "" {
					b.UnsealKey = key
					return nil
				}
			}
		}
		if time.Now().After(end) {
			return fmt.Errorf("bao server -dev did not answer within %s: %s", bound, b.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newClient is a client for the server; with TLS, nil until the dev CA is
// written.
func (b *OpenBao) newClient() *http.Client {
	if b.CACert == "" {
		return &http.Client{Timeout: 10 * time.Second}
	}
	pemBytes, err := os.ReadFile(b.CACert)
	pool := x509.NewCertPool()
	if err != nil || !pool.AppendCertsFromPEM(pemBytes) {
		return nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// freePortPair finds a loopback port p with p+1 also free.
func freePortPair() (int, error) {
	for range 20 {
		l1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l1.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1))
		l1.Close()
		if err == nil {
			l2.Close()
			return p, nil
		}
	}
	return 0, errors.New("no free pair of loopback ports")
}

// logTail keeps the last 16 KiB of bao's output, for errors, and the
// unseal key from its banner.
type logTail struct {
	mu   sync.Mutex
	buf  []byte
	line []byte
	key  string
}

// Write keeps p and looks for the unseal key in each whole line.
func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) > 16<<10 {
		l.buf = l.buf[len(l.buf)-16<<10:]
	}
	l.line = append(l.line, p...)
	for {
		i := bytes.IndexByte(l.line, '\n')
		if i < 0 {
			break
		}
		if k, ok := strings.CutPrefix(strings.TrimSpace(string(l.line[:i])), "Unseal Key: "); ok && l.key == "" {
			l.key = k
		}
		l.line = l.line[i+1:]
	}
	if len(l.line) > 4<<10 {
		l.line = nil // a line that long holds no key
	}
	return len(p), nil
}

// String is the output kept.
func (l *logTail) String() string { l.mu.Lock(); defer l.mu.Unlock(); return string(l.buf) }

func (l *logTail) unsealKey() string { l.mu.Lock(); defer l.mu.Unlock(); return l.key }
