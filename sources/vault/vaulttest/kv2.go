package vaulttest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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

// kv2 serves data/, metadata/, delete/, undelete/ and destroy/ under a KV
// v2 mount.
func (s *Server) kv2(rq *request, m *mount, rest string) {
	op, key, _ := strings.Cut(rest, "/")
	key = strings.Trim(key, "/")
	write := rq.r.Method == http.MethodPost || rq.r.Method == http.MethodPut
	switch {
	case op == "data" && rq.r.Method == http.MethodGet && !rq.isList:
		s.reads++
		s.kv2Read(rq, m.kv2[key])
	case op == "data" && write:
		s.kv2Write(rq, m, key)
	case op == "data" && rq.r.Method == http.MethodDelete:
		if sec := m.kv2[key]; sec != nil && len(sec.versions) > 0 {
			sec.versions[len(sec.versions)-1].deleted = time.Now().UTC()
		}
		rq.w.WriteHeader(http.StatusNoContent)
	case op == "metadata" && rq.isList:
		writeKeys(rq.w, listKeys(mapKeys(m.kv2), key))
	case op == "metadata" && rq.r.Method == http.MethodGet:
		s.kv2Metadata(rq, m.kv2[key])
	case op == "metadata" && rq.r.Method == http.MethodDelete:
		delete(m.kv2, key)
		rq.w.WriteHeader(http.StatusNoContent)
	case (op == "delete" || op == "undelete" || op == "destroy") && write:
		s.kv2Versions(rq, op, m.kv2[key])
	case op == "data" || op == "metadata" || op == "delete" || op == "undelete" || op == "destroy":
		writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
	default:
		// Vault answers a KV v1 style path on a v2 mount with a 404 and a warning.
		writeJSON(rq.w, http.StatusNotFound, envelope(nil, nil, []string{"Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the OpenBao CLI, use 'bao kv get' for this operation."}))
	}
}

// kv2Versions soft-deletes, undeletes or destroys the versions listed in
// the body.
func (s *Server) kv2Versions(rq *request, op string, sec *kv2Secret) {
	vs, _ := rq.body["versions"].([]any)
	if len(vs) == 0 {
		writeErrors(rq.w, http.StatusBadRequest, "no version number provided")
		return
	}
	for _, v := range vs {
		n, err := strconv.Atoi(jsonString(v))
		if sec == nil || err != nil || n < 1 || n > len(sec.versions) {
			continue
		}
		ver := &sec.versions[n-1]
		switch op {
		case "delete":
			ver.deleted = time.Now().UTC()
		case "undelete":
			if !ver.destroyed {
				ver.deleted = time.Time{}
			}
		case "destroy":
			ver.destroyed, ver.data = true, nil
		}
	}
	rq.w.WriteHeader(http.StatusNoContent)
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
		writeSecret(rq.w, http.StatusNotFound, map[string]any{"data": nil, "metadata": meta})
		return
	}
	writeSecret(rq.w, http.StatusOK, map[string]any{"data": ver.data, "metadata": meta})
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
	writeSecret(rq.w, http.StatusOK, versionMeta(sec.versions[n-1], n))
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
		"cas_required":             false,
		"created_time":             sec.created.Format(time.RFC3339Nano),
		"current_metadata_version": 0,
		"current_version":          len(sec.versions),
		"custom_metadata":          nil,
		"delete_version_after":     "0s",
		"max_versions":             0,
		"metadata_cas_required":    false,
		"oldest_version":           0,
		"updated_time":             sec.updated.Format(time.RFC3339Nano),
		"versions":                 versions,
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
