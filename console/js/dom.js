// A tiny element builder: text always goes in as text nodes (never HTML), so nothing an API
// returns can become markup or script.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * h("tag.class#id", {attr: value, onclick: fn}, ...children). Children may be strings, numbers,
 * nodes, arrays, or null/false (skipped).
 */
export function h(spec, attrs, ...children) {
  return build(document.createElement(tagOf(spec)), spec, attrs, children);
}

/** The same for SVG elements. */
export function s(spec, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tagOf(spec)), spec, attrs, children);
}

function tagOf(spec) {
  return spec.split(/[.#]/)[0] || "div";
}

function build(el, spec, attrs, children) {
  for (const m of spec.matchAll(/([.#])([^.#]+)/g)) {
    if (m[1] === ".") el.classList.add(m[2]);
    else el.id = m[2];
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
  } else if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key === "class") el.classList.add(...String(value).split(/\s+/).filter(Boolean));
      else if (key === "value" && "value" in el) el.value = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces everything inside `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field: the label names the control for assistive technology (and tests). */
export function field(label, control) {
  const id = control.id || `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${++fieldCount}`;
  control.id = id;
  return h("div.field", h("label", { for: id }, label), control);
}
let fieldCount = 0;

export function table(headers, rows, options = {}) {
  return h(
    "table",
    options.label ? { "aria-label": options.label } : null,
    h(
      "thead",
      h(
        "tr",
        headers.map((t) => h("th", { scope: "col" }, t)),
      ),
    ),
    h("tbody", rows),
  );
}

/** A message for an empty listing, a refusal or a failure; role=status so it is announced. */
export function notice(text, kind = "info") {
  return h(`p.notice.${kind}`, { role: kind === "error" ? "alert" : "status" }, text);
}

export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return h("time", { datetime: iso, title: iso }, d.toISOString().replace("T", " ").slice(0, 19));
}

export function code(text) {
  return h("code", text ?? "—");
}

export function badge(text, kind) {
  return h(`span.badge.${kind}`, text);
}
