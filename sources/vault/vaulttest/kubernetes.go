package vaulttest

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// ServiceAccount names a Kubernetes service account.
type ServiceAccount struct{ Namespace, Name, UID string }

// KubernetesAPI fakes the one Kubernetes endpoint that Vault's kubernetes
// auth calls, POST /apis/authentication.k8s.io/v1/tokenreviews, over TLS on
// a loopback port: with it a real OpenBao logs a service account in without
// a cluster. It accepts exactly the JWTs it issued.
type KubernetesAPI struct {
	// URL is the API's address, for kubernetes_host.
	URL string
	// CACert is the PEM certificate the API serves, for kubernetes_ca_cert.
	CACert string

	srv      *httptest.Server
	mu       sync.Mutex
	accounts map[string]ServiceAccount // JWT → its account
	reviews  int
}

// NewKubernetesAPI starts the fake API and stops it when the test ends.
func NewKubernetesAPI(t testing.TB) *KubernetesAPI {
	t.Helper()
	k := &KubernetesAPI{accounts: map[string]ServiceAccount{}}
	k.srv = httptest.NewTLSServer(http.HandlerFunc(k.review))
	k.URL = k.srv.URL
	k.CACert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.srv.Certificate().Raw}))
	t.Cleanup(k.srv.Close)
	return k
}

// Issue returns a service account JWT for sa that the API's TokenReview
// accepts. Its claims are the ones a kubelet-projected token carries; its
// signature is random, since Vault leaves checking it to the TokenReview.
func (k *KubernetesAPI) Issue(sa ServiceAccount) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	jwt := enc(map[string]any{"alg": "RS256", "typ": "JWT", "kid": randomHex(4)}) + "." + enc(map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:" + sa.Namespace + ":" + sa.Name,
		"kubernetes.io/serviceaccount/namespace": sa.Namespace,
		"kubernetes.io/serviceaccount/service-account.name": sa.Name,
		"kubernetes.io/serviceaccount/service-account.uid":  sa.UID,
	}) + "." + base64.RawURLEncoding.EncodeToString([]byte(randomHex(32)))
	k.mu.Lock()
	k.accounts[jwt] = sa
	k.mu.Unlock()
	return jwt
}

// Reviews returns how many TokenReviews the API answered.
func (k *KubernetesAPI) Reviews() int { k.mu.Lock(); defer k.mu.Unlock(); return k.reviews }

func (k *KubernetesAPI) review(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Spec struct {
			Token string `json:"token"`
		} `json:"spec"`
	}
	if r.Method != http.MethodPost || r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" || json.NewDecoder(r.Body).Decode(&in) != nil {
		http.Error(w, `{"kind":"Status","status":"Failure","code":404}`, http.StatusNotFound)
		return
	}
	k.mu.Lock()
	k.reviews++
	sa, ok := k.accounts[in.Spec.Token]
	k.mu.Unlock()
	status := map[string]any{"authenticated": false, "error": "invalid bearer token"}
	if ok {
		status = map[string]any{"authenticated": true, "user": map[string]any{
			"username": "system:serviceaccount:" + sa.Namespace + ":" + sa.Name,
			"uid":      sa.UID,
			"groups":   []string{"system:serviceaccounts", "system:serviceaccounts:" + sa.Namespace, "system:authenticated"},
		}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status})
}
