// Command fakeprovider serves providertest fakes for demos and Python
// end-to-end scripts: the real SDKs pointed at it get real answers.
//
//	fakeprovider -kind openai,azure,gemini -key sk-good -key openai:sk-poor=no_quota \
//	    -model gpt-4o-mini -reply "hello from the fake"
//
// It prints one KIND_URL=… line per kind (the value of the SDK's base URL
// variable: BaseURL), OPENAI_COMPAT_KIND_URL=… where an OpenAI SDK base
// differs, ENTRA_CA_FILE=… for the https Entra authority, then READY, and
// serves until stdin closes or SIGINT/SIGTERM. It listens on loopback only.
// Keys are never printed; with -v each request is logged to stderr with the
// fingerprint of its credential.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/providertest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// options are the parsed flags.
type options struct {
	kinds, keys, tokens, models, deployments, versions, clients list
	reply, listen, header                                       string
	latency                                                     time.Duration
	verbose                                                     bool
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("fakeprovider", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&o.kinds, "kind", "provider kinds, comma-separated or repeated: "+kindNames())
	fs.Var(&o.keys, "key", "accepted key, repeatable: [KIND:]KEY[=MODE] (no KIND: every kind)")
	fs.Var(&o.tokens, "token", "accepted Azure AD / Anthropic Bearer token, repeatable: TOKEN[=MODE]")
	fs.Var(&o.models, "model", "model the providers know, repeatable (default: each provider's own)")
	fs.Var(&o.deployments, "deployment", "Azure deployment, repeatable (default gpt-4o-mini)")
	fs.Var(&o.versions, "api-version", "Azure api-version accepted, repeatable")
	fs.Var(&o.clients, "client", "Entra service principal, repeatable: CLIENT_ID=SECRET")
	fs.StringVar(&o.reply, "reply", providertest.DefaultReply, "assistant text of every chat answer")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address; with port N>0 kind i gets port N+i")
	fs.StringVar(&o.header, "identity-header", providertest.DefaultIdentityHeader, "managed identity X-IDENTITY-HEADER value")
	fs.DurationVar(&o.latency, "latency", 0, "delay added before every answer")
	fs.BoolVar(&o.verbose, "v", false, "log each request to stderr (credentials as fingerprints)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if len(o.kinds) == 0 {
		return o, errors.New("-kind is required")
	}
	return o, nil
}

func kindNames() string {
	var names []string
	for _, k := range providertest.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// kinds splits and checks the -kind values.
func (o options) kindList() ([]providertest.Kind, error) {
	var out []providertest.Kind
	for _, v := range o.kinds {
		for _, name := range strings.Split(v, ",") {
			k := providertest.Kind(strings.TrimSpace(name))
			if !slices.Contains(providertest.Kinds(), k) {
				return nil, fmt.Errorf("unknown kind %q (known: %s)", name, kindNames())
			}
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// credential splits [KIND:]VALUE[=MODE]; KIND and MODE only when they
// name one, so a key holding ':' or '=' (base64 padding) stays whole.
func credential(v string) (kind providertest.Kind, value string, mode providertest.Mode) {
	if k, rest, ok := strings.Cut(v, ":"); ok && slices.Contains(providertest.Kinds(), providertest.Kind(k)) {
		kind, v = providertest.Kind(k), rest
	}
	if i := strings.LastIndex(v, "="); i > 0 && i < len(v)-1 && slices.Contains(providertest.Modes(), providertest.Mode(v[i+1:])) {
		return kind, v[:i], providertest.Mode(v[i+1:])
	}
	return kind, v, providertest.OK
}

// config builds the Config of one kind from the flags.
func (o options) config(kind providertest.Kind, addr string, stderr io.Writer) providertest.Config {
	cfg := providertest.Config{Keys: map[string]providertest.Key{}, Tokens: map[string]providertest.Key{},
		Deployments: o.deployments, APIVersions: o.versions, Reply: o.reply, Latency: o.latency, Addr: addr,
		IdentityHeader: o.header, Clients: map[string]providertest.Client{}}
	if len(o.models) > 0 {
		cfg.Models = o.models
	}
	for _, v := range o.keys {
		if k, key, mode := credential(v); k == "" || k == kind {
			cfg.Keys[key] = providertest.Key{Mode: mode}
		}
	}
	for _, v := range o.tokens {
		_, tok, mode := credential(v)
		cfg.Tokens[tok] = providertest.Key{Mode: mode}
	}
	for _, v := range o.clients {
		if id, secret, ok := strings.Cut(v, "="); ok {
			cfg.Clients[id] = providertest.Client{Secret: secret}
		}
	}
	if o.verbose {
		cfg.OnRequest = func(r providertest.Request) {
			cred := "-"
			if c := requestCredential(r); c != "" {
				cred = sources.Fingerprint(c)
			}
			fmt.Fprintf(stderr, "%s %s %s %s\n", r.Kind, r.Method, r.Path, cred)
		}
	}
	return cfg
}

// requestCredential finds the credential a request carried, for logging
// its fingerprint only.
func requestCredential(r providertest.Request) string {
	for _, h := range []string{"api-key", "x-api-key", "x-goog-api-key", "X-Identity-Header"} {
		if v := r.Header.Get(h); v != "" {
			return v
		}
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// address is the listen address of the i-th kind.
func address(listen string, i int) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("-listen %q: %w", listen, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return "", fmt.Errorf("-listen %q: bad port", listen)
	}
	if n > 0 {
		n += i
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// run starts the fakes, prints their URLs and READY, and serves until ctx
// ends or stdin closes. It returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "fakeprovider:", err)
		return 64
	}
	kinds, err := o.kindList()
	if err != nil {
		fmt.Fprintln(stderr, "fakeprovider:", err)
		return 64
	}
	servers, err := start(o, kinds, stdout, stderr)
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	if err != nil {
		fmt.Fprintln(stderr, "fakeprovider:", err)
		return 69
	}
	fmt.Fprintln(stdout, "READY")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, stdin) // returns at EOF: the caller is gone
		cancel()
	}()
	<-ctx.Done()
	return 0
}

// start listens for each kind and prints its variables.
func start(o options, kinds []providertest.Kind, stdout, stderr io.Writer) ([]*providertest.Server, error) {
	var servers []*providertest.Server
	for i, kind := range kinds {
		addr, err := address(o.listen, i)
		if err != nil {
			return servers, err
		}
		s, err := providertest.Listen(kind, o.config(kind, addr, stderr))
		if err != nil {
			return servers, fmt.Errorf("%s: %w", kind, err)
		}
		servers = append(servers, s)
		name := strings.ToUpper(strings.ReplaceAll(string(kind), "-", "_"))
		fmt.Fprintf(stdout, "%s_URL=%s\n", name, s.BaseURL())
		if s.OpenAIBaseURL() != s.BaseURL() {
			fmt.Fprintf(stdout, "OPENAI_COMPAT_%s_URL=%s\n", name, s.OpenAIBaseURL())
		}
		if kind == providertest.EntraID {
			ca, err := s.CAFile()
			if err != nil {
				return servers, err
			}
			fmt.Fprintf(stdout, "ENTRA_CA_FILE=%s\n", ca)
		}
	}
	return servers, nil
}
