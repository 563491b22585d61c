package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/payflow/payflow/codec"
)

// The Temporal Web UI's remote codec (Temporal's codec server protocol):
// POST /codec/decode and /codec/encode take and answer {"payloads": [...]}
// in protobuf JSON, so operators who hold a codec token read payloads that
// Temporal only stores encrypted. The UI calls it from the browser, with
// credentials, from PAYFLOW_UI_URL's origin only (CORS).
//
// Authentication: `Authorization: Bearer <token>` with a PAYFLOW_CODEC_AUTH
// token (the API keys when unset) — the Temporal CLI's --codec-auth, or a
// UI that forwards an access token equal to one — or the codec session
// cookie that /codec/login sets after an operator types a token. The cookie
// holds an expiring HMAC of the token, not the token, and is HttpOnly and
// limited to /codec. With an http UI (dev) it is SameSite=Strict, so the UI
// and the API must be same-site (127.0.0.1 on two ports); with an https UI it
// is Secure and SameSite=None, so a UI on another site (Temporal Cloud's,
// with "include cross-origin credentials") can send it. Other sites gain
// nothing from that: a POST without application/json is refused before
// decoding, one with it needs a preflight, which only the UI's origin
// passes, and nothing here changes state.

const (
	codecCookie     = "payflow_codec"
	codecSessionTTL = 8 * time.Hour
)

type codecServer struct {
	codec     *codec.Codec
	tokens    []string
	namespace string
	uiURL     string
	uiOrigin  string
	secure    bool
	now       func() time.Time
}

// codecRoutes mounts /codec. Without PAYFLOW_CODEC_KEYS every route answers
// 404 codec_disabled, so a UI pointed at it says why nothing decodes.
func (s *server) codecRoutes(r fiber.Router) {
	cdc, err := codec.Parse(s.Config.CodecKeys)
	if err != nil { // config.Load refuses this; a hand-made Config may not
		s.log.Error("codec endpoint disabled", "error", err)
		cdc = nil
	}
	cs := &codecServer{codec: cdc, tokens: s.Config.CodecAuth, namespace: s.Config.Namespace, uiURL: s.Config.UIURL, now: time.Now}
	if u, err := url.Parse(s.Config.UIURL); err == nil && u.Host != "" {
		cs.uiOrigin = u.Scheme + "://" + u.Host
		cs.secure = u.Scheme == "https"
	}
	r.Use(cs.enabled)
	r.Options("/encode", cs.preflight)
	r.Options("/decode", cs.preflight)
	r.Post("/encode", cs.cors, cs.auth, cs.transcode(cs.codec.Encode))
	r.Post("/decode", cs.cors, cs.auth, cs.transcode(cs.codec.Decode))
	r.Get("/login", cs.loginPage)
	r.Post("/login", cs.login)
}

func (cs *codecServer) enabled(c *fiber.Ctx) error {
	if cs.codec == nil {
		return errorf(http.StatusNotFound, "codec_disabled", "payload encryption is off (PAYFLOW_CODEC_KEYS is unset): there is nothing to decode")
	}
	return c.Next()
}

// cors lets the UI's origin read the answer; another origin is refused
// before anything is decoded. Requests without Origin (the CLI) pass.
func (cs *codecServer) cors(c *fiber.Ctx) error {
	if err := cs.allowOrigin(c); err != nil {
		return err
	}
	return c.Next()
}

func (cs *codecServer) allowOrigin(c *fiber.Ctx) error {
	origin := c.Get(fiber.HeaderOrigin)
	c.Vary(fiber.HeaderOrigin)
	if origin == "" {
		return nil
	}
	if origin != cs.uiOrigin {
		return errorf(http.StatusForbidden, "origin_refused", "this origin may not call the codec endpoint; PAYFLOW_UI_URL names the one that may")
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	c.Set(fiber.HeaderAccessControlAllowCredentials, "true")
	return nil
}

func (cs *codecServer) preflight(c *fiber.Ctx) error {
	if err := cs.allowOrigin(c); err != nil {
		return err
	}
	if c.Get(fiber.HeaderOrigin) == "" {
		return errorf(http.StatusBadRequest, "not_a_preflight", "OPTIONS here is a CORS preflight and needs an Origin header")
	}
	c.Set(fiber.HeaderAccessControlAllowMethods, "POST")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Authorization, Authorization-Extras, Content-Type, X-Namespace")
	c.Set(fiber.HeaderAccessControlMaxAge, "600")
	return c.SendStatus(http.StatusNoContent)
}

func (cs *codecServer) auth(c *fiber.Ctx) error {
	if token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "); ok && cs.validToken(token) {
		return c.Next()
	}
	if cs.validSession(c.Cookies(codecCookie)) {
		return c.Next()
	}
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="payflow-codec"`)
	return errorf(http.StatusUnauthorized, "unauthorized", "a codec token is required: Authorization: Bearer <token>, or sign in at /codec/login")
}

func (cs *codecServer) validToken(token string) bool {
	ok := false
	for _, k := range cs.tokens {
		ok = subtle.ConstantTimeCompare([]byte(token), []byte(k)) == 1 || ok
	}
	return token != "" && ok
}

// session is "<unix expiry>.<base64url HMAC-SHA256(token, expiry)>".
func sessionMAC(token string, exp int64) string {
	m := hmac.New(sha256.New, []byte(token))
	fmt.Fprintf(m, "payflow-codec-session:%d", exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (cs *codecServer) validSession(v string) bool {
	expText, mac, ok := strings.Cut(v, ".")
	exp, err := strconv.ParseInt(expText, 10, 64)
	if !ok || err != nil || cs.now().Unix() >= exp {
		return false
	}
	valid := false
	for _, k := range cs.tokens {
		valid = hmac.Equal([]byte(mac), []byte(sessionMAC(k, exp))) || valid
	}
	return valid
}

// transcode answers the codec protocol with fn (Encode or Decode).
func (cs *codecServer) transcode(fn func([]*commonpb.Payload) ([]*commonpb.Payload, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if ns := c.Get("X-Namespace"); ns != "" && ns != cs.namespace {
			return errorf(http.StatusBadRequest, "unknown_namespace", "these keys belong to namespace "+cs.namespace)
		}
		if !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
		}
		var in commonpb.Payloads
		if err := protojson.Unmarshal(c.Body(), &in); err != nil {
			return errorf(http.StatusBadRequest, "invalid_payloads", "want {\"payloads\": [...]} in protobuf JSON")
		}
		out, err := fn(in.Payloads)
		if err != nil {
			return errorf(http.StatusBadRequest, "codec_failed", err.Error())
		}
		body, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	}
}

const loginHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>payflow codec sign-in</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}input,button{font:inherit;padding:.4rem}input{width:100%%;box-sizing:border-box}</style></head>
<body><h1>Decode payloads in the Temporal Web UI</h1>
<p>Payflow encrypts what it stores in Temporal. Sign in with a codec token (PAYFLOW_CODEC_AUTH, or an API key) so the Web UI at <a href="%[1]s">%[1]s</a> can decode them for %[2]s.</p>
%[3]s<form method="post" action="/codec/login"><label>Codec token <input name="token" type="password" autocomplete="current-password" required autofocus></label>
<p><button type="submit">Sign in</button></p></form></body></html>`

func (cs *codecServer) renderLogin(c *fiber.Ctx, status int, problem string) error {
	if problem != "" {
		problem = `<p role="alert"><strong>` + html.EscapeString(problem) + `</strong></p>`
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	return c.Status(status).SendString(fmt.Sprintf(loginHTML, html.EscapeString(cs.uiURL), codecSessionTTL, problem))
}

func (cs *codecServer) loginPage(c *fiber.Ctx) error { return cs.renderLogin(c, http.StatusOK, "") }

// login turns a valid token into the session cookie and goes on to the UI.
func (cs *codecServer) login(c *fiber.Ctx) error {
	token := c.FormValue("token")
	if !cs.validToken(token) {
		return cs.renderLogin(c, http.StatusUnauthorized, "That token is not accepted.")
	}
	exp := cs.now().Add(codecSessionTTL).Unix()
	sameSite := fiber.CookieSameSiteStrictMode
	if cs.secure {
		sameSite = fiber.CookieSameSiteNoneMode
	}
	c.Cookie(&fiber.Cookie{
		Name: codecCookie, Value: strconv.FormatInt(exp, 10) + "." + sessionMAC(token, exp),
		Path: "/codec", MaxAge: int(codecSessionTTL.Seconds()), HTTPOnly: true, Secure: cs.secure, SameSite: sameSite,
	})
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; frame-ancestors 'none'")
	ui := html.EscapeString(cs.uiURL + "/")
	return c.SendString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=` + ui +
		`"><title>Signed in</title></head><body><p>Signed in. <a href="` + ui + `">Open the Temporal Web UI</a>.</p></body></html>`)
}
