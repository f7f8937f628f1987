package resolve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/keyexec/keyexec/sources"
)

// MaxComponentSize bounds a component file: a model config is a few lines,
// an AutoGen Studio team a few hundred.
const MaxComponentSize = 1 << 20

// ComponentFile is one AutoGen 0.4+ component file (components: in the
// config file, --component): a single component ({provider, config}), a list
// of them, or a map of name to component, in JSON or YAML, as
// ChatCompletionClient.load_component takes them. References may sit in any
// string of it; the file is resolved whole, and every model client in it
// (also nested, as an agent's model_client) is checked.
type ComponentFile struct {
	Path string
	// Env is the variable the resolved component goes to, as JSON. It is
	// required when the file holds a reference: the app cannot read the
	// file as written, and resolved secrets are never written to disk.
	Env string
	Doc
	// Clients are the model-client components found in the file.
	Clients []*Component
	shape   string // "component", "list" or "map"
}

// Component is one model-client component inside a file.
type Component struct {
	Index    int    // in the order found
	Provider string // as written ("OpenAIChatCompletionClient", the full class path…)
	// Config is the component's config object, inside the file's tree:
	// resolved in place.
	Config map[string]any
	// Path is where it sits in the file ("", "[1]", "team.config.model_client").
	Path     string
	leafPath string // the same as the file's Refs keys spell it
	label    string
	file     *ComponentFile
}

// Ref is the reference a field of the component's config ("api_key") was
// resolved from, "" for a literal.
func (c *Component) Ref(field string) string { return c.file.Refs[c.leafPath+".config."+field] }

// Label names the component for reports: "component model_config.yaml (gpt-4o)".
func (c *Component) Label() string { return c.label }

// File is the file the component is in.
func (c *Component) File() *ComponentFile { return c.file }

// LoadComponent reads and parses a component file. dir is where a relative
// path starts. Errors wrap sources.ErrInvalid and say how to fix the file.
func LoadComponent(path, env, dir string) (*ComponentFile, error) {
	p := path
	if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	data, err := readSmall(p, MaxComponentSize)
	switch {
	case errors.Is(err, errTooBig):
		return nil, fmt.Errorf("component file %s is over %d KiB, far more than a component config: check the path: %w", path, MaxComponentSize>>10, sources.ErrInvalid)
	case errors.As(err, new(openError)):
		return nil, fmt.Errorf("component file %s: %v: fix components: or --component: %w", path, err, sources.ErrInvalid)
	case err != nil:
		return nil, fmt.Errorf("component file %s: %v: %w", path, err, sources.ErrInvalid)
	}
	if env != "" && !sources.IsVarName(env) {
		return nil, fmt.Errorf("components: env %s for %s is not a variable name: %w", sources.ShowValue(env), path, sources.ErrInvalid)
	}
	root, err := parseComponentData(path, data)
	if err != nil {
		return nil, err
	}
	cf := &ComponentFile{Path: path, Env: env}
	switch root.(type) {
	case []any:
		cf.shape = "list"
	case map[string]any:
		cf.shape = "component"
		if !isComponent(root) {
			cf.shape = "map"
		}
	default:
		return nil, fmt.Errorf("component file %s holds a %s: want a component {provider, config}, a list or a map of them: %w", path, jsonKind(root), sources.ErrInvalid)
	}
	cf.Doc = newDoc(map[string]any{"": root})
	cf.label = "component file " + path
	cf.findClients(root, "")
	if len(cf.Clients) == 0 && cf.shape != "map" && !isComponent(root) {
		return nil, fmt.Errorf("component file %s holds no component ({\"provider\": …, \"config\": {…}}): %w", path, sources.ErrInvalid)
	}
	cf.sanitize = func(*Doc) error { return cf.sanitizeFile() }
	cf.relabel = cf.relabelClients
	cf.relabelClients()
	return cf, nil
}

// parseComponentData reads JSON or YAML (YAML is a superset; JSON files get
// JSON's error positions).
func parseComponentData(path string, data []byte) (any, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var root any
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".json" {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&root); err != nil {
			return nil, fmt.Errorf("component file %s: %w", path, jsonError(data, err))
		}
		return root, nil
	}
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("component file %s is not valid YAML or JSON (%s): %w", path, yamlReason(err), sources.ErrInvalid)
	}
	return normalizeYAML(root), nil
}

// yamlReason is a YAML error without any quoted piece of the input.
func yamlReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		line := msg[i:]
		if j := strings.IndexByte(line, ':'); j >= 0 {
			return line[:j]
		}
	}
	return "a syntax error"
}

// normalizeYAML turns YAML's maps with any keys into JSON's string keys.
func normalizeYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = normalizeYAML(val)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[fmt.Sprint(k)] = normalizeYAML(val)
		}
		return out
	case []any:
		for i := range x {
			x[i] = normalizeYAML(x[i])
		}
	}
	return v
}

// isComponent reports whether v is a component object: a provider and a
// config object.
func isComponent(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, hasProvider := m["provider"].(string)
	_, hasConfig := m["config"].(map[string]any)
	return hasProvider && hasConfig
}

// findClients walks the tree for model-client components, nested ones too.
func (cf *ComponentFile) findClients(v any, path string) {
	switch x := v.(type) {
	case map[string]any:
		if isComponent(x) && isModelClient(x) {
			cf.Clients = append(cf.Clients, &Component{Index: len(cf.Clients), Provider: x["provider"].(string), Config: x["config"].(map[string]any),
				Path: strings.TrimPrefix(path, "."), leafPath: path, file: cf})
			// A model client's config holds no other client; its token
			// provider is read with it.
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			cf.findClients(x[k], path+"."+k)
		}
	case []any:
		for i, it := range x {
			cf.findClients(it, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

// isModelClient reports whether a component is a chat completion client:
// its component_type says so, or its provider names one.
func isModelClient(m map[string]any) bool {
	if t, _ := m["component_type"].(string); t == "model" {
		return true
	}
	p, _ := m["provider"].(string)
	return strings.Contains(p, "ChatCompletionClient") || strings.HasSuffix(p, "_chat_completion_client")
}

// relabelClients names each client by its file, place and model.
func (cf *ComponentFile) relabelClients() {
	for _, c := range cf.Clients {
		where := cf.Path
		if c.Path != "" {
			where += " " + c.Path
		}
		c.label = fmt.Sprintf("component %s (%s)", where, modelName(c.Config["model"]))
	}
}

// HasRefs reports whether any string of the file was a reference.
func (cf *ComponentFile) HasRefs() bool { return len(cf.Refs) > 0 }

// sanitizeFile repairs what was resolved, and the credential fields of
// every client, as the variables they stand for.
func (cf *ComponentFile) sanitizeFile() error {
	var errs []error
	for _, lf := range leaves(cf.Fields) {
		_, fromRef := cf.Refs[lf.path]
		last := lf.path[strings.LastIndexAny(lf.path, ".[")+1:]
		credField := last == "api_key" || last == "azure_ad_token"
		if !fromRef && !credField {
			continue
		}
		v, fixes, err := Sanitize(lf.val, credField || isKeyName(last))
		for _, f := range fixes {
			cf.Fixes = append(cf.Fixes, strings.TrimPrefix(lf.path, ".")+": "+f)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", cf.label, strings.TrimPrefix(lf.path, "."), err))
			continue
		}
		if v != lf.val {
			lf.set(v)
		}
	}
	return errors.Join(errs...)
}

// JSON is the resolved file as the child gets it in Env: the same shape,
// compact JSON.
func (cf *ComponentFile) JSON() (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cf.Fields[""]); err != nil {
		return "", fmt.Errorf("encode %s: %v: %w", cf.Path, err, sources.ErrInvalid)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// docs are the documents Resolve fetches for the file.
func (cf *ComponentFile) docs() []*Doc { return []*Doc{&cf.Doc} }

// Environ is env with the resolved file in cf.Env. A file without
// references goes nowhere (the app reads it as written); one with
// references and no Env is an error, since resolved secrets are never
// written to disk.
func (cf *ComponentFile) Environ(env []string) ([]string, error) {
	if !cf.HasRefs() {
		return env, nil
	}
	if cf.Env == "" {
		return nil, fmt.Errorf("%s holds references (%s), which the app cannot read from the file as written, and keyexec never writes resolved secrets to disk: set env: NAME beside it (components: [{file: %s, env: AUTOGEN_MODEL_CONFIG}]) and load it with ChatCompletionClient.load_component(json.loads(os.environ[\"AUTOGEN_MODEL_CONFIG\"])): %w",
			cf.Path, strings.Join(sortedRefs(cf.Refs), ", "), cf.Path, sources.ErrInvalid)
	}
	s, err := cf.JSON()
	if err != nil {
		return nil, err
	}
	if len(cf.Env)+len(s)+1 >= MaxEnvString {
		return nil, fmt.Errorf("the resolved %s is %d KiB, over Linux's %d KiB limit for one environment variable (%s): %w", cf.Path, len(s)>>10, MaxEnvString>>10, cf.Env, sources.ErrInvalid)
	}
	return replaceVar(env, cf.Env, s), nil
}

func sortedRefs(refs map[string]string) []string {
	out := make([]string, 0, len(refs))
	for k, v := range refs {
		out = append(out, strings.TrimPrefix(k, ".")+" ← "+v)
	}
	sort.Strings(out)
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("and %d more", len(out)-3))
	}
	return out
}
