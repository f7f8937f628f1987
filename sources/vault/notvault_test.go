package vault

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

// TestNotVaultAtTheAddress: a web server that answers 404 without Vault's
// JSON (a transparent proxy, another service) is a wrong address (78), not
// an old Vault with KV v1 nor a missing secret.
func TestNotVaultAtTheAddress(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html>nothing here</html>"))
	}))
	defer srv.Close()
	s, err := New(context.Background(), Config{Address: srv.URL, Env: map[string]string{"VAULT_TOKEN": "t"}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = fetchOne(t, s, "vault://secret/llm#key")
	if !errors.Is(err, sources.ErrInvalid) || !strings.Contains(err.Error(), "it is not Vault") || strings.Contains(err.Error(), "kv1") {
		t.Fatalf("err = %v", err)
	}
}
