package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/payflow/payflow/config"
)

// openapiMethods are the operation keys of an OpenAPI path item that the
// fiber app can serve.
var openapiMethods = []string{"get", "put", "post", "patch", "delete"}

type openapiDocument struct {
	OpenAPI    string                                `json:"openapi"`
	Info       struct{ Title, Version string }       `json:"info"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components"`
}

func loadOpenAPI(t *testing.T) openapiDocument {
	t.Helper()
	var doc openapiDocument
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	return doc
}

// documentedRoutes returns "METHOD /path" for every operation of the document.
func documentedRoutes(doc openapiDocument) map[string]bool {
	out := map[string]bool{}
	for path, item := range doc.Paths {
		for _, m := range openapiMethods {
			if _, ok := item[m]; ok {
				out[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	return out
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)[?+*]?`)

// servedRoutes returns "METHOD /path" for every route of the fiber app, in
// OpenAPI's path syntax.
func servedRoutes(t *testing.T) map[string]bool {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	app := New(Deps{Config: cfg}) // handlers are not called: Store and Temporal may be nil
	out := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue // HEAD (added for every GET), middleware
		}
		if !strings.HasPrefix(r.Path, "/") || r.Path == "/" || strings.Contains(r.Path, "*") {
			continue // catch-all middleware
		}
		out[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	return out
}

func TestOpenAPIVersion(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("info.title and info.version are required, got %+v", doc.Info)
	}
	if len(doc.Paths) == 0 {
		t.Fatal("no paths documented")
	}
}

// TestOpenAPIRefs checks that every $ref points at an existing component.
func TestOpenAPIRefs(t *testing.T) {
	doc := loadOpenAPI(t)
	var raw any
	if err := json.Unmarshal(openapiDoc, &raw); err != nil {
		t.Fatal(err)
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(raw)
	if len(refs) == 0 {
		t.Fatal("no $ref found; the walk is broken")
	}
	for _, ref := range refs {
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		if !strings.HasPrefix(ref, "#/components/") || len(parts) != 2 {
			t.Errorf("$ref %q is not of the form #/components/<kind>/<name>", ref)
			continue
		}
		if _, ok := doc.Components[parts[0]][parts[1]]; !ok {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
}

// TestOpenAPIRoutes compares the fiber app's routes with the document, both
// ways.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := documentedRoutes(doc)
	served := servedRoutes(t)
	if len(served) == 0 {
		t.Fatal("the app registers no routes; the filter is broken")
	}
	var undocumented, missing []string
	for r := range served {
		if !documented[r] {
			undocumented = append(undocumented, r)
		}
	}
	for r := range documented {
		if !served[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(missing)
	for _, r := range undocumented {
		t.Errorf("route %s is served but not documented in openapi.json", r)
	}
	for _, r := range missing {
		t.Errorf("openapi.json documents %s, which the app does not serve", r)
	}
}

// TestOpenAPIOperations checks the conventions every operation must follow:
// /v1 is bearer-authenticated and documents 401; the others declare their
// own security; every operation has a 2xx answer and an operationId, unique.
func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	type operation struct {
		OperationID string                     `json:"operationId"`
		Security    *[]map[string][]string     `json:"security"`
		Responses   map[string]json.RawMessage `json:"responses"`
		Parameters  []struct {
			Ref string `json:"$ref"`
		} `json:"parameters"`
	}
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for _, m := range openapiMethods {
			rawOp, ok := item[m]
			if !ok {
				continue
			}
			name := strings.ToUpper(m) + " " + path
			var op operation
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", name)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s is used by %s and %s", op.OperationID, prev, name)
			}
			ids[op.OperationID] = name
			ok2xx := false
			for code := range op.Responses {
				ok2xx = ok2xx || strings.HasPrefix(code, "2")
			}
			if !ok2xx {
				t.Errorf("%s documents no 2xx response", name)
			}
			switch {
			case strings.HasPrefix(path, "/v1/"):
				if op.Security != nil {
					t.Errorf("%s overrides the document's bearerAuth security", name)
				}
				if _, ok := op.Responses["401"]; !ok {
					t.Errorf("%s does not document 401", name)
				}
			case strings.HasPrefix(path, "/webhooks/"):
				if op.Security == nil || len(*op.Security) == 0 {
					t.Errorf("%s must declare the provider's own security", name)
				}
				for _, code := range []string{"200", "400", "401", "413"} {
					if _, ok := op.Responses[code]; !ok {
						t.Errorf("%s does not document %s", name, code)
					}
				}
			case strings.HasPrefix(path, "/codec/") && op.Security != nil && len(*op.Security) > 0:
				if _, ok := op.Responses["401"]; !ok {
					t.Errorf("%s does not document 401", name)
				}
			default:
				if op.Security == nil || len(*op.Security) != 0 {
					t.Errorf("%s is public and must declare security: []", name)
				}
			}
		}
	}
	// The creating POSTs that honour Idempotency-Key.
	for _, name := range []string{"POST /v1/checkouts", "POST /v1/checkouts/{order_id}/rehive/pay", "POST /v1/checkouts/{order_id}/refunds"} {
		method, path, _ := strings.Cut(name, " ")
		var op operation
		if err := json.Unmarshal(doc.Paths[path][strings.ToLower(method)], &op); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		found := false
		for _, p := range op.Parameters {
			found = found || p.Ref == "#/components/parameters/IdempotencyKey"
		}
		if !found {
			t.Errorf("%s does not document the Idempotency-Key header", name)
		}
	}
}
