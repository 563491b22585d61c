package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/payflow/payflow/codec"
	"github.com/payflow/payflow/config"
)

const testUI = "http://127.0.0.1:8233"

func codecApp(t *testing.T, env map[string]string) (*fiber.App, *codec.Codec) {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cdc, err := codec.Parse(cfg.CodecKeys)
	if err != nil {
		t.Fatal(err)
	}
	return New(Deps{Config: cfg}), cdc
}

type codecReq struct {
	method, path, body string
	header             map[string]string
}

func do(t *testing.T, app *fiber.App, r codecReq) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func payloadsJSON(t *testing.T, ps ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCodecEndpointDecodesForTheUIOnly(t *testing.T) {
	app, cdc := codecApp(t, map[string]string{"PAYFLOW_CODEC_KEYS": config.DevCodecKeys, "PAYFLOW_CODEC_AUTH": "codec-token-0123456789"})
	enc, err := cdc.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"customer_email":"ada@example.com"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	body := payloadsJSON(t, enc...)
	authed := map[string]string{"Authorization": "Bearer codec-token-0123456789", "Content-Type": "application/json", "X-Namespace": "default", "Origin": testUI}

	resp, got := do(t, app, codecReq{"POST", "/codec/decode", body, authed})
	if resp.StatusCode != 200 || !strings.Contains(got, "eyJjdXN0b21lcl9lbWFpbCI6ImFkYUBleGFtcGxlLmNvbSJ9") { // base64 of the JSON
		t.Fatalf("decode: %d %s", resp.StatusCode, got)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != testUI || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("CORS headers: %v", resp.Header)
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal([]byte(got), &out); err != nil || string(out.Payloads[0].Metadata["encoding"]) != "json/plain" {
		t.Fatalf("decoded payloads: %v %v", &out, err)
	}

	// Encode answers payloads that decode again.
	resp, got = do(t, app, codecReq{"POST", "/codec/encode", payloadsJSON(t, out.Payloads...), authed})
	if resp.StatusCode != 200 || strings.Contains(got, "ada@example.com") || !strings.Contains(got, "YmluYXJ5L2VuY3J5cHRlZA==") { // binary/encrypted
		t.Fatalf("encode: %d %s", resp.StatusCode, got)
	}

	for name, c := range map[string]struct {
		req    codecReq
		status int
	}{
		"no token":        {codecReq{"POST", "/codec/decode", body, map[string]string{"Content-Type": "application/json", "Origin": testUI}}, 401},
		"an API key only": {codecReq{"POST", "/codec/decode", body, map[string]string{"Authorization": "Bearer dev-key", "Content-Type": "application/json"}}, 401},
		"another origin":  {codecReq{"POST", "/codec/decode", body, map[string]string{"Authorization": "Bearer codec-token-0123456789", "Content-Type": "application/json", "Origin": "http://evil.example"}}, 403},
		"another ns":      {codecReq{"POST", "/codec/decode", body, map[string]string{"Authorization": "Bearer codec-token-0123456789", "Content-Type": "application/json", "X-Namespace": "other"}}, 400},
		"not JSON":        {codecReq{"POST", "/codec/decode", body, map[string]string{"Authorization": "Bearer codec-token-0123456789", "Content-Type": "text/plain"}}, 415},
		"tampered": {codecReq{"POST", "/codec/decode", strings.Replace(body, `"data":"`, `"data":"AAAA`, 1),
			map[string]string{"Authorization": "Bearer codec-token-0123456789", "Content-Type": "application/json"}}, 400},
	} {
		resp, got := do(t, app, c.req)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, got, c.status)
		}
		if resp.StatusCode >= 400 && strings.Contains(got, "ada@example.com") {
			t.Errorf("%s: the refusal shows the plaintext", name)
		}
	}
}

func TestCodecPreflightAllowsOnlyTheUIOrigin(t *testing.T) {
	app, _ := codecApp(t, map[string]string{"PAYFLOW_CODEC_KEYS": config.DevCodecKeys, "PAYFLOW_UI_URL": "https://temporal-ui.example.com/"})
	pre := map[string]string{"Origin": "https://temporal-ui.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace"}
	resp, body := do(t, app, codecReq{"OPTIONS", "/codec/decode", "", pre})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://temporal-ui.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace") || resp.Header.Get("Access-Control-Allow-Methods") != "POST" {
		t.Fatalf("preflight: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	pre["Origin"] = "http://127.0.0.1:8233" // the default UI, not the configured one
	if resp, _ := do(t, app, codecReq{"OPTIONS", "/codec/encode", "", pre}); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestCodecLoginSetsASessionCookieTheUICanUse(t *testing.T) {
	app, cdc := codecApp(t, map[string]string{"PAYFLOW_CODEC_KEYS": config.DevCodecKeys})
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if resp, page := do(t, app, codecReq{"GET", "/codec/login", "", nil}); resp.StatusCode != 200 || !strings.Contains(page, `name="token"`) {
		t.Fatalf("login page: %d %s", resp.StatusCode, page)
	}
	if resp, _ := do(t, app, codecReq{"POST", "/codec/login", "token=wrong", form}); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("a wrong token: %d %v", resp.StatusCode, resp.Header)
	}
	resp, page := do(t, app, codecReq{"POST", "/codec/login", "token=" + url.QueryEscape("dev-key"), form})
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != 200 || !strings.Contains(page, testUI+"/") {
		t.Fatalf("login: %d %s", resp.StatusCode, page)
	}
	for _, want := range []string{"payflow_codec=", "HttpOnly", "path=/codec", "SameSite=Strict"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "dev-key") {
		t.Fatalf("the cookie holds the token: %s", cookie)
	}
	value := strings.SplitN(strings.SplitN(cookie, ";", 2)[0], "=", 2)[1]
	enc, _ := cdc.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	headers := map[string]string{"Content-Type": "application/json", "Origin": testUI, "Cookie": codecCookie + "=" + value}
	if resp, body := do(t, app, codecReq{"POST", "/codec/decode", payloadsJSON(t, enc...), headers}); resp.StatusCode != 200 {
		t.Fatalf("decode with the session: %d %s", resp.StatusCode, body)
	}
	// A forged or altered session is refused.
	headers["Cookie"] = codecCookie + "=" + value[:len(value)-2] + "xx"
	if resp, _ := do(t, app, codecReq{"POST", "/codec/decode", payloadsJSON(t, enc...), headers}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("altered session: %d", resp.StatusCode)
	}
	headers["Cookie"] = codecCookie + "=99999999999." + strings.SplitN(value, ".", 2)[1]
	if resp, _ := do(t, app, codecReq{"POST", "/codec/decode", payloadsJSON(t, enc...), headers}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session with a moved expiry: %d", resp.StatusCode)
	}
}

// With an https UI (another site, such as Temporal Cloud's) the cookie is
// Secure and SameSite=None, so that UI's credentialed calls carry it.
func TestCodecCookieForAnHTTPSUIIsCrossSite(t *testing.T) {
	app, _ := codecApp(t, map[string]string{"PAYFLOW_CODEC_KEYS": config.DevCodecKeys, "PAYFLOW_UI_URL": "https://cloud.temporal.io"})
	resp, _ := do(t, app, codecReq{"POST", "/codec/login", "token=dev-key", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != 200 || !strings.Contains(cookie, "secure") || !strings.Contains(cookie, "SameSite=None") {
		t.Fatalf("login: %d cookie %q", resp.StatusCode, cookie)
	}
}

func TestCodecSessionExpires(t *testing.T) {
	cs := &codecServer{tokens: []string{"tok-0123456789abcdef"}}
	cs.now = func() time.Time { return time.Unix(1000, 0) }
	exp := int64(1000 + 60)
	v := "1060." + sessionMAC("tok-0123456789abcdef", exp)
	if !cs.validSession(v) {
		t.Fatal("a fresh session is refused")
	}
	cs.now = func() time.Time { return time.Unix(1060, 0) }
	if cs.validSession(v) {
		t.Fatal("an expired session is accepted")
	}
}

func TestCodecIsOffWithoutKeys(t *testing.T) {
	app, _ := codecApp(t, nil)
	resp, body := do(t, app, codecReq{"POST", "/codec/decode", `{"payloads":[]}`, map[string]string{"Authorization": "Bearer dev-key", "Content-Type": "application/json"}})
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "codec_disabled") {
		t.Fatalf("without keys: %d %s", resp.StatusCode, body)
	}
}
