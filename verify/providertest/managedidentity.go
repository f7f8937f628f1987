package providertest

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"
)

// appServiceAPIVersion is the only api-version MSAL Go (apps/managedidentity
// createAppServiceAuthRequest) and azure-identity send to App Service.
const appServiceAPIVersion = "2019-08-01"

// miFail writes App Service's error shape (obs: Azure/azure-sdk-for-net#43691:
// {"statusCode":400,"message":"Unable to load the proper Managed
// Identity.","correlationId":…}); MSAL Python reads statusCode and message.
func miFail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "message": msg, "correlationId": "00000000-0000-4000-8000-0000000000c0"})
}

func miNoIdentity(w http.ResponseWriter, _ string) {
	miFail(w, http.StatusBadRequest, "Unable to load the proper Managed Identity.")
}

// managedIdentity serves the App Service managed identity endpoint the way
// both libraries call it: GET $IDENTITY_ENDPOINT?api-version=2019-08-01&
// resource=R[&client_id=…|object_id=…|mi_res_id=…] with header
// X-IDENTITY-HEADER: $IDENTITY_HEADER (src: microsoft-authentication-
// library-for-go v1.10.1 apps/managedidentity/managedidentity.go; azidentity
// v1.15.0 managed_identity_client.go delegates to it; azure-identity
// _credentials/app_service.py). Plain http, as App Service's own endpoint
// (http://127.0.0.1:41564/msi/token in MSAL's tests): neither library
// checks the scheme. The answer carries expires_on as a string of Unix
// seconds, which MSAL Go parses (ops/accesstokens/tokens.go UnmarshalJSON)
// and azure-identity int()s; "resource" is read by azure-identity's cache.
func (s *Server) managedIdentity(w http.ResponseWriter, r *http.Request, _ string) {
	cfg := s.config()
	q := r.URL.Query()
	id := cfg.Identity
	switch {
	case r.Method != http.MethodGet || r.URL.Path != "/msi/token":
		miFail(w, http.StatusNotFound, "Not Found") // UNCONFIRMED
		return
	case r.Header.Get("X-IDENTITY-HEADER") != cfg.IdentityHeader:
		miFail(w, http.StatusUnauthorized, "Unauthorized") // UNCONFIRMED: App Service's answer to a wrong header
		return
	case q.Get("api-version") != appServiceAPIVersion:
		miFail(w, http.StatusBadRequest, "Invalid api-version") // UNCONFIRMED wording
		return
	case q.Get("resource") == "":
		miFail(w, http.StatusBadRequest, "Resource is required") // UNCONFIRMED wording
		return
	case !miSameIdentity(q.Get("client_id"), id.ClientID) || !miSameIdentity(q.Get("object_id"), id.ObjectID) || q.Get("mi_res_id") != "":
		// A user-assigned identity the app does not have (obs: the same
		// 400 in Azure/azure-sdk-for-net#43691).
		miNoIdentity(w, "")
		return
	}
	if s.mode(w, r, "managed-identity:"+id.ClientID, id.Key, miFaults, true) {
		return
	}
	resource := q.Get("resource")
	spec := id.Token
	spec.ObjectID = cmp.Or(spec.ObjectID, id.ObjectID)
	spec.AppID = cmp.Or(spec.AppID, id.ClientID)
	token, exp := s.issue(spec, resource, cfg, id.TokenMode)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "expires_on": strconv.FormatInt(exp, 10),
		"resource": resource, "token_type": "Bearer", "client_id": id.ClientID})
}

// miSameIdentity: no selector means the system-assigned identity, which is
// the configured one; a selector must name it (GUIDs compare case-blind).
func miSameIdentity(asked, have string) bool {
	return asked == "" || strings.EqualFold(asked, have)
}

// IdentityEnv is the environment that points azidentity and azure-identity
// at this ManagedIdentity fake (App Service flavour), so neither ever tries
// the instance metadata address.
func (s *Server) IdentityEnv() []string {
	return []string{"IDENTITY_ENDPOINT=" + s.BaseURL(), "IDENTITY_HEADER=" + s.config().IdentityHeader}
}

// miFaults: NoIdentity and InvalidKey are the 400 above; the others use
// App Service's shape with UNCONFIRMED wording. MSAL retries 429 and 5xx
// (retryStatusCodes) unless azidentity disabled the retry policy, which it
// does (it retries itself).
var miFaults = faults{
	reject:    miNoIdentity,
	noQuota:   func(w http.ResponseWriter) { miNoIdentity(w, "") },
	rateLimit: func(w http.ResponseWriter, _ string) { miFail(w, http.StatusTooManyRequests, "Too Many Requests") },
	forbidden: func(w http.ResponseWriter) { miFail(w, http.StatusForbidden, "Forbidden") },
	server: func(w http.ResponseWriter, status int) {
		miFail(w, status, "An unexpected error occured while fetching the AAD Token.")
	},
}
