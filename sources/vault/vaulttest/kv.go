package vaulttest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// namespace holds what Vault keeps per namespace: secret engine mounts and
// auth mounts. Policies and tokens are global in the fake.
type namespace struct {
	mounts map[string]*mount     // "secret/" → engine
	auths  map[string]*authMount // "approle/" → auth method
}

func newNamespace() *namespace {
	return &namespace{
		mounts: map[string]*mount{"cubbyhole/": {typ: "cubbyhole", accessor: "cubbyhole_" + randomHex(4)}},
		auths:  map[string]*authMount{"token/": {typ: "token"}},
	}
}

// mount is a secrets engine. KV v1 keeps one map per path; KV v2 keeps
// versions.
type mount struct {
	typ      string
	version  int // 1 or 2 for kv
	options  map[string]any
	accessor string
	kv1      map[string]map[string]any
	kv2      map[string]*kv2Secret
}

type kv2Secret struct {
	versions []kv2Version // versions[i] is version i+1
	created  time.Time
	updated  time.Time
}

type kv2Version struct {
	data      map[string]any
	created   time.Time
	deleted   time.Time
	destroyed bool
}

// newKV2Mount is the "secret/" mount of a dev server.
func newKV2Mount() *mount {
	return &mount{typ: "kv", version: 2, options: map[string]any{"version": "2"}, accessor: "kv_" + randomHex(4),
		kv1: map[string]map[string]any{}, kv2: map[string]*kv2Secret{}}
}

// findMount returns the longest mount that prefixes p, and p relative to it.
func (ns *namespace) findMount(p string) (string, *mount, string) {
	best := ""
	for m := range ns.mounts {
		if (strings.HasPrefix(p+"/", m) || strings.HasPrefix(p, m)) && len(m) > len(best) {
			best = m
		}
	}
	if best == "" {
		return "", nil, ""
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(p, strings.TrimSuffix(best, "/")), "/")
	return best, ns.mounts[best], rest
}

// uiMount answers GET sys/internal/ui/mounts/PATH. Vault treats the path as
// unauthenticated but answers only for a mount the token can reach;
// otherwise, and when no mount matches, it returns the same 403 so the
// endpoint cannot be used to discover mounts.
func (s *Server) uiMount(rq *request, p string) {
	p = strings.TrimPrefix(p, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	denied := func() {
		writeErrors(rq.w, http.StatusForbidden, "preflight capability check returned 403, please ensure client's policies grant access to path \""+p+"\"")
	}
	name, m, _ := rq.ns.findMount(p)
	if m == nil || rq.tok == nil || s.denied(rq.tok, rq.path) || !s.mountAccess(rq.tok, name) {
		denied()
		return
	}
	var options any
	if m.options != nil {
		options = m.options
	}
	writeJSON(rq.w, http.StatusOK, withMountType(envelope(map[string]any{
		"accessor":                m.accessor,
		"config":                  map[string]any{"default_lease_ttl": 0, "force_no_cache": false, "max_lease_ttl": 0},
		"description":             "",
		"external_entropy_access": false,
		"local":                   false,
		"options":                 options,
		"path":                    name,
		"plugin_version":          "",
		"running_plugin_version":  "v0.0.0+builtin",
		"running_sha256":          "",
		"seal_wrap":               false,
		"type":                    m.typ,
		"uuid":                    uuid(),
	}, nil, nil), "system"))
}

func withMountType(body map[string]any, typ string) map[string]any {
	body["mount_type"] = typ
	return body
}

// sysMount answers POST and DELETE sys/mounts/MOUNT.
func (s *Server) sysMount(rq *request, name string) {
	name = strings.Trim(name, "/") + "/"
	switch rq.r.Method {
	case http.MethodDelete:
		delete(rq.ns.mounts, name)
		rq.w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost, http.MethodPut:
	default:
		writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	if _, ok := rq.ns.mounts[name]; ok {
		writeErrors(rq.w, http.StatusBadRequest, "path is already in use at "+name)
		return
	}
	typ, _ := rq.body["type"].(string)
	m := &mount{typ: typ, accessor: typ + "_" + randomHex(4)}
	if opts, ok := rq.body["options"].(map[string]any); ok && len(opts) > 0 {
		m.options = map[string]any{}
		for k, v := range opts {
			m.options[k] = v
		}
	}
	switch typ {
	case "kv-v2":
		m.typ, m.options = "kv", map[string]any{"version": "2"}
	case "kv", "generic":
	default:
		writeErrors(rq.w, http.StatusBadRequest, "plugin not found in the catalog: "+typ)
		return
	}
	m.typ, m.version = "kv", 1
	if v, _ := m.options["version"].(string); v == "2" {
		m.version = 2
	}
	m.kv1, m.kv2 = map[string]map[string]any{}, map[string]*kv2Secret{}
	rq.ns.mounts[name] = m
	rq.w.WriteHeader(http.StatusNoContent)
}

// logical serves paths inside secret engine mounts.
func (s *Server) logical(rq *request) {
	_, m, rest := rq.ns.findMount(rq.path)
	if m == nil {
		writeErrors(rq.w, http.StatusNotFound, "no handler for route \""+rq.path+"\". route entry not found.")
		return
	}
	if m.typ != "kv" {
		writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	if m.version == 2 {
		s.kv2(rq, m, rest)
		return
	}
	if m.kv1 == nil {
		m.kv1 = map[string]map[string]any{}
	}
	key := strings.Trim(rest, "/")
	switch {
	case rq.isList:
		writeKeys(rq.w, listKeys(mapKeys(m.kv1), key))
	case rq.r.Method == http.MethodGet:
		s.reads++
		data, ok := m.kv1[key]
		if !ok {
			writeErrors(rq.w, http.StatusNotFound)
			return
		}
		body := envelope(data, nil, nil)
		body["lease_duration"] = 2764800
		writeJSON(rq.w, http.StatusOK, withMountType(body, "kv"))
	case rq.r.Method == http.MethodPost || rq.r.Method == http.MethodPut:
		if key == "" {
			writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
			return
		}
		m.kv1[key] = rq.body
		rq.w.WriteHeader(http.StatusNoContent)
	case rq.r.Method == http.MethodDelete:
		delete(m.kv1, key)
		rq.w.WriteHeader(http.StatusNoContent)
	default:
		writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

// kv2 serves data/, metadata/ and delete/ under a KV v2 mount.
func (s *Server) kv2(rq *request, m *mount, rest string) {
	if m.kv2 == nil {
		m.kv2 = map[string]*kv2Secret{}
	}
	op, key, _ := strings.Cut(rest, "/")
	key = strings.Trim(key, "/")
	switch {
	case op == "data" && rq.r.Method == http.MethodGet && !rq.isList:
		s.reads++
		s.kv2Read(rq, m.kv2[key])
	case op == "data" && (rq.r.Method == http.MethodPost || rq.r.Method == http.MethodPut):
		s.kv2Write(rq, m, key)
	case op == "metadata" && rq.isList:
		writeKeys(rq.w, listKeys(kv2Keys(m.kv2), key))
	case op == "metadata" && rq.r.Method == http.MethodGet:
		s.kv2Metadata(rq, m.kv2[key])
	case op == "metadata" && rq.r.Method == http.MethodDelete:
		delete(m.kv2, key)
		rq.w.WriteHeader(http.StatusNoContent)
	case op == "delete" && (rq.r.Method == http.MethodPost || rq.r.Method == http.MethodPut):
		if sec := m.kv2[key]; sec != nil {
			vs, _ := rq.body["versions"].([]any)
			for _, v := range vs {
				if n, err := strconv.Atoi(jsonString(v)); err == nil && n >= 1 && n <= len(sec.versions) {
					sec.versions[n-1].deleted = time.Now().UTC()
				}
			}
		}
		rq.w.WriteHeader(http.StatusNoContent)
	case op == "data" || op == "metadata" || op == "delete":
		writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
	default:
		// Vault answers a KV v1 style path on a v2 mount with a 404 and a warning.
		writeJSON(rq.w, http.StatusNotFound, envelope(nil, nil, []string{"Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation."}))
	}
}

func (s *Server) kv2Read(rq *request, sec *kv2Secret) {
	if sec == nil || len(sec.versions) == 0 {
		writeErrors(rq.w, http.StatusNotFound)
		return
	}
	n := len(sec.versions)
	if v := rq.r.URL.Query().Get("version"); v != "" && v != "0" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			writeErrors(rq.w, http.StatusBadRequest, "error converting input "+v+" for field \"version\"")
			return
		}
	}
	if n < 1 || n > len(sec.versions) {
		writeErrors(rq.w, http.StatusNotFound)
		return
	}
	ver := sec.versions[n-1]
	meta := versionMeta(ver, n)
	if !ver.deleted.IsZero() || ver.destroyed {
		// Deleted and destroyed versions: 404 with the metadata and null data.
		writeJSON(rq.w, http.StatusNotFound, withMountType(envelope(map[string]any{"data": nil, "metadata": meta}, nil, nil), "kv"))
		return
	}
	writeJSON(rq.w, http.StatusOK, withMountType(envelope(map[string]any{"data": ver.data, "metadata": meta}, nil, nil), "kv"))
}

func (s *Server) kv2Write(rq *request, m *mount, key string) {
	data, ok := rq.body["data"].(map[string]any)
	if !ok {
		writeErrors(rq.w, http.StatusBadRequest, "no data provided")
		return
	}
	if key == "" {
		writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	now := time.Now().UTC()
	sec := m.kv2[key]
	if sec == nil {
		sec = &kv2Secret{created: now}
		m.kv2[key] = sec
	}
	sec.updated = now
	sec.versions = append(sec.versions, kv2Version{data: data, created: now})
	n := len(sec.versions)
	writeJSON(rq.w, http.StatusOK, withMountType(envelope(versionMeta(sec.versions[n-1], n), nil, nil), "kv"))
}

func (s *Server) kv2Metadata(rq *request, sec *kv2Secret) {
	if sec == nil {
		writeErrors(rq.w, http.StatusNotFound)
		return
	}
	versions := map[string]any{}
	for i, v := range sec.versions {
		versions[strconv.Itoa(i+1)] = map[string]any{"created_time": v.created.Format(time.RFC3339Nano), "deletion_time": timeOrEmpty(v.deleted), "destroyed": v.destroyed}
	}
	writeSecret(rq.w, http.StatusOK, map[string]any{
		"cas_required":         false,
		"created_time":         sec.created.Format(time.RFC3339Nano),
		"current_version":      len(sec.versions),
		"custom_metadata":      nil,
		"delete_version_after": "0s",
		"max_versions":         0,
		"oldest_version":       0,
		"updated_time":         sec.updated.Format(time.RFC3339Nano),
		"versions":             versions,
	})
}

func versionMeta(v kv2Version, n int) map[string]any {
	return map[string]any{
		"created_time":    v.created.Format(time.RFC3339Nano),
		"custom_metadata": nil,
		"deletion_time":   timeOrEmpty(v.deleted),
		"destroyed":       v.destroyed,
		"version":         n,
	}
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// listKeys returns the direct children of dir among keys, folders with a
// trailing slash, as a Vault LIST does.
func listKeys(keys []string, dir string) []string {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || rest == "" {
			continue
		}
		if i := strings.Index(rest, "/"); i >= 0 {
			rest = rest[:i+1]
		}
		if !seen[rest] {
			seen[rest] = true
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out
}

func writeKeys(w http.ResponseWriter, keys []string) {
	if len(keys) == 0 {
		writeErrors(w, http.StatusNotFound)
		return
	}
	writeSecret(w, http.StatusOK, map[string]any{"keys": keys})
}

func mapKeys(m map[string]map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func kv2Keys(m map[string]*kv2Secret) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func jsonString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return ""
}
