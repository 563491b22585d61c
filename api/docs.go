package api

import (
	"embed"
	"net/http"
	"path"

	"github.com/gofiber/fiber/v2"
)

// /docs renders /openapi.json for people: a page and a small script of our
// own (api/docs/), embedded in the binary, so nothing is loaded from a CDN
// and the page works where the API has no internet access.
//
//go:embed docs/index.html docs/docs.js docs/docs.css
var docsFiles embed.FS

// docsCSP keeps the page to its own origin: its script, its style sheet
// and /openapi.json.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var docsTypes = map[string]string{
	".html": fiber.MIMETextHTMLCharsetUTF8,
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

func serveDocs(c *fiber.Ctx) error { return sendDocsFile(c, "index.html") }

func serveDocsAsset(c *fiber.Ctx) error {
	name := c.Params("name")
	if name != "docs.js" && name != "docs.css" {
		return errorf(http.StatusNotFound, "not_found", "no such asset")
	}
	return sendDocsFile(c, name)
}

func sendDocsFile(c *fiber.Ctx, name string) error {
	b, err := docsFiles.ReadFile("docs/" + name)
	if err != nil {
		return errorf(http.StatusNotFound, "not_found", "no such asset")
	}
	c.Set(fiber.HeaderContentType, docsTypes[path.Ext(name)])
	c.Set(fiber.HeaderContentSecurityPolicy, docsCSP)
	return c.Send(b)
}
