// Renders /openapi.json for people: every operation grouped by tag, with
// its parameters, request body and responses; schemas are shown with their
// $refs resolved (cycles and depth bounded). No third-party code: the page
// is served with its assets by payflow itself.
"use strict";

(function () {
  const METHODS = ["get", "put", "post", "patch", "delete"];

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function resolve(doc, ref) {
    let v = doc;
    for (const part of ref.replace(/^#\//, "").split("/")) v = v && v[part];
    return v;
  }

  function deref(doc, v) {
    for (let i = 0; v && v.$ref && i < 10; i++) v = resolve(doc, v.$ref);
    return v;
  }

  // expand turns a schema into a plain object with $refs replaced, for
  // display; a ref already being expanded, or past depth 8, stays a name.
  function expand(doc, schema, seen, depth) {
    if (!schema || typeof schema !== "object") return schema;
    if (Array.isArray(schema)) return schema.map((s) => expand(doc, s, seen, depth));
    if (schema.$ref) {
      const name = schema.$ref.split("/").pop();
      if (seen.has(schema.$ref) || depth > 8) return "<" + name + ">";
      const next = new Set(seen);
      next.add(schema.$ref);
      return expand(doc, resolve(doc, schema.$ref), next, depth + 1);
    }
    const out = {};
    for (const [k, v] of Object.entries(schema)) {
      if (k === "description" && depth > 0) continue;
      out[k] = expand(doc, v, seen, depth + 1);
    }
    return out;
  }

  function schemaBlock(doc, schema) {
    if (!schema) return null;
    const name = schema.$ref ? schema.$ref.split("/").pop() : "schema";
    return el("details", {}, el("summary", {}, name),
      el("pre", {}, JSON.stringify(expand(doc, schema, new Set(), 0), null, 2)));
  }

  function paramsTable(doc, params) {
    if (!params.length) return null;
    const rows = params.map((p) => {
      p = deref(doc, p);
      return el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
        el("td", {}, p.required ? "yes" : "no"), el("td", {}, p.description || ""));
    });
    return el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "required"), el("th", {}, "description")), ...rows);
  }

  function responses(doc, rs) {
    const rows = Object.entries(rs || {}).map(([code, r]) => {
      r = deref(doc, r);
      const json = r.content && r.content["application/json"];
      return el("tr", {}, el("td", {}, el("code", {}, code)),
        el("td", {}, r.description || "", json ? schemaBlock(doc, json.schema) : null));
    });
    return el("table", {}, el("tr", {}, el("th", {}, "status"), el("th", {}, "answer")), ...rows);
  }

  function operation(doc, path, method, item, op) {
    const id = op.operationId || method + path;
    const params = [...(item.parameters || []), ...(op.parameters || [])];
    const body = op.requestBody && deref(doc, op.requestBody);
    const json = body && body.content && body.content["application/json"];
    return el("section", { class: "op", id: id },
      el("h2", {}, el("span", { class: "method " + method }, method.toUpperCase()), path),
      el("div", { class: "summary" }, op.summary || ""),
      op.description ? el("p", { class: "desc" }, op.description) : null,
      op.security && op.security.length === 0 ? el("p", { class: "muted" }, "No bearer key.") : null,
      paramsTable(doc, params),
      json ? el("div", {}, el("strong", {}, "Body "), schemaBlock(doc, json.schema),
        json.example ? el("details", {}, el("summary", {}, "example"), el("pre", {}, JSON.stringify(json.example, null, 2))) : null) : null,
      el("strong", {}, "Responses"), responses(doc, op.responses));
  }

  function render(doc) {
    document.title = (doc.info && doc.info.title || "API") + " " + (doc.info && doc.info.version || "");
    document.getElementById("title").textContent = document.title;
    const main = document.getElementById("doc");
    const toc = document.getElementById("toc");
    main.replaceChildren();
    if (doc.info && doc.info.description) main.append(el("p", { class: "desc" }, doc.info.description));
    const groups = new Map();
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        const tag = (op.tags && op.tags[0]) || "other";
        if (!groups.has(tag)) groups.set(tag, []);
        groups.get(tag).push([path, m, item, op]);
      }
    }
    for (const [tag, ops] of groups) {
      main.append(el("h2", { id: "tag-" + tag }, tag));
      toc.append(el("h3", {}, tag));
      for (const [path, m, item, op] of ops) {
        const section = operation(doc, path, m, item, op);
        main.append(section);
        toc.append(el("a", { href: "#" + section.id }, m.toUpperCase() + " " + path));
      }
    }
  }

  fetch("/openapi.json", { headers: { Accept: "application/json" } })
    .then((r) => { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(render)
    .catch((e) => { document.getElementById("doc").textContent = "Could not load /openapi.json: " + e.message; });
})();
