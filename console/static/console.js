// cloudbox's web console: renders one account's and region's world from
// the console's JSON endpoints and keeps it current by polling. Every
// value from the world is put in the page as text, never as markup.
"use strict";

const API = "api/";
const WORLD_EVERY = 5000;    // ms between diagram refreshes
const COUNTERS_EVERY = 3000; // ms between counter refreshes

const $ = (id) => document.getElementById(id);
let scope = { account: "", region: "" };
let selected = "";

// el builds an element: el("div", {class: "x", onclick: f}, child, "text", ...).
// Among several children a text is a span of its own, so that the flex
// layouts space it from its neighbours.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  const kids = children.flat().filter((c) => c !== undefined && c !== null && c !== "" && c !== false);
  for (const c of kids) {
    if (c instanceof Node) e.append(c);
    else if (kids.length === 1) e.append(String(c));
    else e.append(el("span", {}, String(c)));
  }
  return e;
}

function badge(state) {
  return el("span", { class: "badge state-" + (state || "unknown") }, state || "unknown");
}

async function getJSON(path, params) {
  const q = new URLSearchParams(params);
  const r = await fetch(API + path + "?" + q.toString());
  const body = await r.json();
  if (!r.ok) throw new Error((body.error || r.status) + ": " + (body.message || ""));
  return body;
}

function setStatus(text, isError) {
  const s = $("status");
  s.textContent = text;
  s.className = "status" + (isError ? " error" : "");
}

// --- selectors ---

async function loadScopes() {
  const scopes = await getJSON("scopes", {});
  const url = new URLSearchParams(location.search);
  const accounts = [...new Set(scopes.map((s) => s.account))];
  scope.account = url.get("account") || scope.account || accounts[0] || "";
  if (scope.account && !accounts.includes(scope.account)) accounts.push(scope.account);
  fill($("account"), accounts, scope.account);
  const regions = scopes.filter((s) => s.account === scope.account).map((s) => s.region);
  scope.region = url.get("region") || (regions.includes(scope.region) ? scope.region : regions[0]) || "";
  if (scope.region && !regions.includes(scope.region)) regions.push(scope.region);
  fill($("region"), regions, scope.region);
}

function fill(select, values, current) {
  select.replaceChildren(...values.map((v) => el("option", { value: v, selected: v === current }, v)));
}

function choose() {
  scope.account = $("account").value;
  const url = new URLSearchParams({ account: scope.account });
  history.replaceState(null, "", "?" + url.toString());
  loadScopes().then(refreshWorld).catch((e) => setStatus(e.message, true));
}

// --- the diagram ---

let lastWorld = null;

async function refreshWorld() {
  if (!scope.account || !scope.region) {
    $("diagram").replaceChildren(el("p", { class: "empty" }, "No resources yet: create a VPC with the aws CLI and it appears here."));
    setStatus("no resources");
    return;
  }
  try {
    const w = await getJSON("world", scope);
    lastWorld = w;
    render(w);
    await refreshCounters();
    setStatus("updated " + new Date().toLocaleTimeString());
  } catch (e) {
    setStatus(e.message, true);
  }
}

function clickable(id) {
  return (ev) => { ev.stopPropagation(); showResource(id); };
}

function render(w) {
  const parts = [];
  if (w.vpcs.length === 0) parts.push(el("p", { class: "empty" }, "No VPC in " + w.account + " " + w.region + "."));
  for (const v of w.vpcs) parts.push(renderVPC(v));
  parts.push(renderLoadBalancers(w.loadBalancers));
  if (w.peerings.length) parts.push(renderPeerings(w.peerings));
  if (w.zones.length) parts.push(renderZones(w.zones));
  $("diagram").replaceChildren(...parts);
}

function renderVPC(v) {
  const title = el("div", { class: "title" },
    el("span", { class: "kind" }, "VPC"),
    el("span", { class: "clickable", onclick: clickable(v.id), "data-id": v.id }, v.id),
    v.name, v.cidr, badge(v.state), v.default && "default VPC",
    v.internetGateway && el("span", { class: "gw clickable", onclick: clickable(v.internetGateway), "data-id": v.internetGateway }, "IGW " + v.internetGateway));
  const azs = el("div", { class: "azs" }, v.azs.map(renderAZ));
  return el("div", { class: "box vpc", "data-id": v.id }, title, azs);
}

function renderAZ(az) {
  return el("div", { class: "az" }, el("div", { class: "title" }, az.name), az.subnets.map(renderSubnet));
}

function renderSubnet(s) {
  const kind = s.public ? "public" : "private";
  return el("div", { class: "subnet " + kind, "data-id": s.id },
    el("div", { class: "title" },
      el("span", { class: "kind" }, kind + " subnet"),
      el("span", { class: "clickable", onclick: clickable(s.id) }, s.id), s.name, s.cidr,
      s.routeTable && el("span", { class: "clickable badge", onclick: clickable(s.routeTable) }, s.routeTable)),
    s.instances.map(renderInstance),
    s.nodes.map(renderNode));
}

function renderInstance(i) {
  return el("div", { class: "card instance", "data-id": i.id, onclick: clickable(i.id) },
    el("span", { class: "kind" }, "EC2"), el("b", {}, i.id), i.name, badge(i.state), i.type,
    i.privateIp, i.publicIp && "public " + i.publicIp,
    el("span", { class: "counter", "data-cpu": i.id }, "CPU –"));
}

const NODE_KINDS = { "nat-gateway": "NAT", "load-balancer": "ALB node", rds: "RDS", elasticache: "ElastiCache" };

function renderNode(n) {
  return el("div", { class: "card node " + n.kind, "data-id": n.resource, onclick: n.resource ? clickable(n.resource) : null },
    el("span", { class: "kind" }, NODE_KINDS[n.kind] || n.kind), el("b", {}, n.label), n.role, badge(n.state), n.ip);
}

function renderLoadBalancers(lbs) {
  const box = el("div", { class: "panel" }, el("h2", {}, "Load balancers"));
  if (lbs.length === 0) box.append(el("p", { class: "empty" }, "None."));
  for (const lb of lbs) {
    const nodes = lb.nodes.map((n) => el("div", {}, "node in " + n.subnet + " (" + n.az + ") " + n.privateIp + (n.publicIp ? " public " + n.publicIp : "")));
    const tgs = lb.targetGroups.map((tg) => el("div", { class: "targets" },
      el("div", { class: "clickable tg", onclick: clickable(tg.arn) }, "target group", el("b", {}, tg.name), tg.protocol, tg.port),
      el("table", {}, tg.targets.map((t) => el("tr", { class: "target", "data-target": t.id },
        el("td", { class: "clickable", onclick: clickable(t.id) }, t.id), el("td", {}, t.port),
        el("td", {}, el("span", { class: "badge health state-" + t.state }, t.state)),
        el("td", {}, t.reason, t.description && " " + t.description))))));
    box.append(el("div", { class: "card lb", "data-id": lb.arn, onclick: clickable(lb.arn) },
      el("span", { class: "kind" }, lb.type), el("b", {}, lb.name), badge(lb.state), lb.scheme, lb.dnsName,
      el("span", { class: "counter", "data-rps": lb.arn }, "– req/s")));
    box.append(el("div", { class: "targets" }, nodes, tgs));
  }
  return box;
}

function renderPeerings(ps) {
  return el("div", { class: "panel" }, el("h2", {}, "Peering connections"),
    el("table", {}, ps.map((p) => el("tr", { class: "clickable", onclick: clickable(p.id), "data-id": p.id },
      el("td", {}, p.id), el("td", {}, p.requesterVpc + " (" + p.requesterRegion + ")"), el("td", {}, "↔"),
      el("td", {}, p.accepterVpc + " (" + p.accepterRegion + ")"), el("td", {}, badge(p.status))))));
}

function renderZones(zones) {
  return el("div", { class: "panel" }, el("h2", {}, "Route 53"),
    zones.map((z) => el("div", {},
      el("div", { class: "zone" }, el("b", {}, z.name), z.id, z.private ? "private to " + z.vpcs.join(", ") : "public"),
      el("table", {}, z.records.map((r) => el("tr", {}, el("td", {}, r.name), el("td", {}, r.type), el("td", {}, r.values.join(", "))))))));
}

// --- live counters ---

async function refreshCounters() {
  if (!scope.account || !scope.region) return;
  const c = await getJSON("counters", scope);
  for (const [id, v] of Object.entries(c.instances)) {
    const e = document.querySelector('[data-cpu="' + CSS.escape(id) + '"]');
    if (e) e.textContent = v.cpu === null ? "CPU –" : "CPU " + v.cpu.toFixed(1) + "%";
  }
  for (const [arn, v] of Object.entries(c.loadBalancers)) {
    const e = document.querySelector('[data-rps="' + CSS.escape(arn) + '"]');
    if (e) e.textContent = v.requestsPerSecond === null ? "0 req/s" : v.requestsPerSecond.toFixed(2) + " req/s";
  }
}

// --- details ---

async function showResource(id) {
  selected = id;
  const d = $("details");
  d.replaceChildren(el("h2", {}, "Details"), el("p", {}, "loading " + id + "…"));
  try {
    const r = await getJSON("resource", { ...scope, id });
    if (selected !== id) return;
    const parts = [el("h2", {}, id), el("div", { class: "hint" }, r.service + " " + r.operation),
      el("pre", { class: "describe" }, JSON.stringify(r.describe, null, 2))];
    if (r.health) parts.push(el("h2", {}, "DescribeTargetHealth"), el("pre", {}, JSON.stringify(r.health, null, 2)));
    if (r.consoleOutput !== undefined) parts.push(el("h2", {}, "Console output"), el("pre", { class: "console-output" }, r.consoleOutput || "(none yet)"));
    parts.push(el("h2", {}, "Events"));
    if (r.events.length === 0) parts.push(el("p", { class: "empty" }, "No events."));
    else parts.push(...r.events.map((e) => el("div", { class: "event" },
      el("div", { class: "what" }, el("b", {}, e["detail-type"]), e.time), el("div", { class: "detail" }, JSON.stringify(e.detail)))));
    d.replaceChildren(...parts);
  } catch (e) {
    d.replaceChildren(el("h2", {}, id), el("p", { class: "error" }, e.message));
  }
}

// --- reachability ---

async function analyze(ev) {
  ev.preventDefault();
  const f = new FormData($("reach"));
  const out = $("reach-result");
  out.replaceChildren(el("p", {}, "analyzing…"));
  try {
    const r = await getJSON("reach", Object.fromEntries(f.entries()));
    // The last step of an unreachable path is what decided it.
    const rows = r.path.map((s, i) => el("div", { class: "step " + (s.allowed ? "allowed" : "denied") + (i === r.path.length - 1 && !r.reachable ? " deciding" : "") },
      el("div", { class: "what" }, el("b", {}, s.component), s.id, s.rule && "rule " + s.rule, s.direction, s.allowed ? "allows" : "denies"),
      el("div", { class: "detail" }, s.detail)));
    out.replaceChildren(el("div", { class: "verdict" }, r.reachable ? "Reachable" : "Not reachable"),
      el("p", { class: "explanation" }, r.explanation), el("div", { class: "path" }, rows));
  } catch (e) {
    out.replaceChildren(el("p", { class: "error" }, e.message));
  }
}

// --- start ---

$("account").addEventListener("change", choose);
$("region").addEventListener("change", () => {
  scope.region = $("region").value;
  history.replaceState(null, "", "?" + new URLSearchParams(scope).toString());
  refreshWorld();
});
$("reach").addEventListener("submit", analyze);
// A link may name a resource to show (?resource=) and a question for the
// analyzer (?from=&to=&port=&protocol=).
const start = new URLSearchParams(location.search);
for (const k of ["from", "to", "port", "protocol"]) {
  if (start.get(k)) $("reach").elements[k].value = start.get(k);
}
loadScopes().then(refreshWorld).then(() => {
  if (start.get("resource")) showResource(start.get("resource"));
  if (start.get("from") && start.get("to")) $("reach").requestSubmit();
}).catch((e) => setStatus(e.message, true));
setInterval(refreshWorld, WORLD_EVERY);
setInterval(() => refreshCounters().catch((e) => setStatus(e.message, true)), COUNTERS_EVERY);
