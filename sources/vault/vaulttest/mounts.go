package vaulttest

import (
	"net/http"
	"sort"
	"strings"
)

// namespace holds what Vault keeps per namespace: secret engine mounts and
// auth mounts. Policies and tokens are global in the fake.
type namespace struct {
	id     string
	mounts map[string]*mount     // "secret/" → engine
	auths  map[string]*authMount // "approle/" → auth method
}

func newNamespace() *namespace {
	return &namespace{
		id:     randomHex(3),
		mounts: map[string]*mount{"cubbyhole/": {typ: "cubbyhole", accessor: "cubbyhole_" + randomHex(4), options: map[string]any{}}},
		auths:  map[string]*authMount{"token/": {typ: "token"}},
	}
}

// mount is a secrets engine. KV v1 keeps one map per path; KV v2 keeps
// versions.
type mount struct {
	typ         string
	version     int // 1 or 2 for kv
	options     map[string]any
	accessor    string
	description string
	kv1         map[string]map[string]any
	kv2         map[string]*kv2Secret
}

// newKV2Mount is the "secret/" mount of a dev server.
func newKV2Mount() *mount {
	return &mount{typ: "kv", version: 2, options: map[string]any{"version": "2"}, accessor: "kv_" + randomHex(4),
		description: "key/value secret storage", kv1: map[string]map[string]any{}, kv2: map[string]*kv2Secret{}}
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

// uiMount answers GET sys/internal/ui/mounts/PATH. Vault answers only for a
// mount the token can reach; otherwise, and when no mount matches, it
// returns the same 403 so the endpoint cannot be used to discover mounts.
// PATH may start with child namespaces; the mount's path is then given from
// the root namespace ("team-a/child/secret/"), as OpenBao does.
func (s *Server) uiMount(rq *request, p string) {
	p = strings.TrimPrefix(p, "/")
	if rq.tok == nil {
		writeErrors(rq.w, http.StatusForbidden, "permission denied")
		return
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	nsName, ns, inner := s.descend(rq.nsPath, rq.ns, p)
	name, m, _ := ns.findMount(inner)
	if m == nil || s.denied(rq.tok, rq.path) || !s.mountAccess(rq.tok, name) {
		writeErrors(rq.w, http.StatusForbidden, "preflight capability check returned 403, please ensure client's policies grant access to path \""+p+"\"")
		return
	}
	shown := name
	if nsName != rq.nsPath {
		shown = nsName + "/" + name
	}
	writeSecret(rq.w, http.StatusOK, map[string]any{
		"accessor":                m.accessor,
		"config":                  map[string]any{"default_lease_ttl": 0, "force_no_cache": false, "max_lease_ttl": 0},
		"deprecation_status":      "supported",
		"description":             m.description,
		"external_entropy_access": false,
		"local":                   false,
		"options":                 m.options,
		"path":                    shown,
		"plugin_version":          "",
		"running_plugin_version":  "v2.7.2+builtin.bao",
		"running_sha256":          "",
		"seal_wrap":               false,
		"type":                    m.typ,
		"uuid":                    uuid(),
	})
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
	m := &mount{typ: typ, accessor: typ + "_" + randomHex(4), options: map[string]any{}}
	if opts, ok := rq.body["options"].(map[string]any); ok {
		for k, v := range opts {
			m.options[k] = v
		}
	}
	switch typ {
	case "kv-v2":
		m.options["version"] = "2"
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

// createNamespace answers POST sys/namespaces/NAME (a child of the request's
// namespace), and LIST sys/namespaces.
func (s *Server) createNamespace(rq *request, name string) {
	if rq.isList || name == "" {
		prefix := ""
		if rq.nsPath != "" {
			prefix = rq.nsPath + "/"
		}
		var keys []string
		for full := range s.namespaces {
			if rest, ok := strings.CutPrefix(full, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
				keys = append(keys, rest+"/")
			}
		}
		sort.Strings(keys)
		writeKeys(rq.w, keys)
		return
	}
	full := strings.Trim(rq.nsPath+"/"+name, "/")
	ns, ok := s.namespaces[full]
	if !ok {
		ns = newNamespace()
		s.namespaces[full] = ns
	}
	writeSecret(rq.w, http.StatusOK, map[string]any{"custom_metadata": map[string]any{}, "id": ns.id, "locked": false, "path": full + "/", "tainted": false, "uuid": uuid()})
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
		writeJSON(rq.w, http.StatusOK, body)
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

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
