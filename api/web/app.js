// ecs-emulator's live page: plain JavaScript over the daemon's own API (same origin).
// Views are hash routes: #/services, #/service/<dns-name>, #/dns, #/events. The event stream
// (GET /v1/events/stream) drives every refresh; actions make the same calls a test suite makes.
"use strict";

const PAGE = 50;          // rows per page in every list (1,000 services, 10,000 tasks stay usable)
const MAX_EVENTS = 5000;  // events kept in the page
const state = { events: [], lastIndex: 0, overview: null, types: new Set() };
const view = document.getElementById("view");

// ---- helpers ----------------------------------------------------------------------------------
function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
    '"': "&quot;", "'": "&#39;" }[c]));
}
function shortTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? esc(iso) : d.toLocaleTimeString([], { hour12: false }) + "." +
    String(d.getMilliseconds()).padStart(3, "0");
}
function dateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? esc(iso) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
function badge(h) { return `<span class="badge ${esc(h)}">${esc(h)}</span>`; }
function toast(text, error) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.className = "show" + (error ? " error" : "");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ""; }, 2500);
}
async function api(method, path, body) {
  const res = await fetch(path, { method, headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) throw new Error(data.message || data.error || res.status);
  return data;
}
// AWS JSON 1.1, as the SDKs send it.
async function aws(op, body) {
  const res = await fetch("/", { method: "POST", body: JSON.stringify(body || {}), headers: {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AmazonEC2ContainerServiceV20141113." + op } });
  const data = await res.json();
  if (!res.ok) throw new Error(data.message || data.__type || res.status);
  return data;
}
function confirmAction(text) {
  const dlg = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  return new Promise(resolve => {
    dlg.onclose = () => resolve(dlg.returnValue === "ok");
    dlg.returnValue = "";
    dlg.showModal();
  });
}
// `text` asks ("Stop task 1f2e?"); `done` says what happened once the call succeeded.
async function act(text, done, fn) {
  if (!(await confirmAction(text))) return;
  try { await fn(); toast(done); refresh(); } catch (e) { toast(e.message, true); }
}
function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const [path, query] = h.split("?");
  const parts = path.split("/").map(decodeURIComponent);
  return { view: parts[0] || "services", arg: parts.slice(1).join("/"),
    params: new URLSearchParams(query || "") };
}
function setParams(params) {
  const r = route();
  const base = "#/" + r.view + (r.arg ? "/" + encodeURIComponent(r.arg) : "");
  const q = params.toString();
  history.replaceState(null, "", base + (q ? "?" + q : ""));
}
function pager(total, page, onPage) {
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const from = total ? page * PAGE + 1 : 0, to = Math.min(total, (page + 1) * PAGE);
  const div = document.createElement("div");
  div.className = "pager";
  div.innerHTML = `<button class="small" data-p="prev" ${page <= 0 ? "disabled" : ""}>&lsaquo; Prev</button>
    <span>${from}&ndash;${to} of ${total}</span>
    <button class="small" data-p="next" ${page >= pages - 1 ? "disabled" : ""}>Next &rsaquo;</button>`;
  div.querySelector('[data-p="prev"]').onclick = () => onPage(page - 1);
  div.querySelector('[data-p="next"]').onclick = () => onPage(page + 1);
  return div;
}
function pageParam(params, total) {
  const p = Math.max(0, parseInt(params.get("page") || "0", 10) || 0);
  return Math.min(p, Math.max(0, Math.ceil(total / PAGE) - 1));
}
// A filter box's text: what is typed in it now when the view shows it (a render that started
// before the last keystrokes must not put back older text), else the URL's.
function filterText(id, r) {
  const el = document.getElementById(id);
  return el ? el.value : (r.params.get("q") || "");
}
// Keeps the focus and caret of an input across re-renders (the filter boxes).
function keepFocus(render) {
  const a = document.activeElement;
  const id = a && a.id, pos = a && a.selectionStart;
  render();
  if (id) {
    const el = document.getElementById(id);
    if (el && el !== a) { el.focus(); if (pos != null && el.setSelectionRange) el.setSelectionRange(pos, pos); }
  }
}

// ---- views ------------------------------------------------------------------------------------
async function servicesView(r) {
  const data = await api("GET", "/v1/overview");
  state.overview = data;
  const q = filterText("svc-filter", r).toLowerCase();
  const list = data.services.filter(s => !q || s.name.toLowerCase().includes(q));
  const page = pageParam(r.params, list.length);
  keepFocus(() => {
    view.innerHTML = `<h1>Services</h1>
      <div class="toolbar"><input id="svc-filter" placeholder="Filter by name" value="${esc(filterText("svc-filter", r))}">
      <span class="muted">${data.services.length} services, ${data.tasks.running} running tasks</span></div>
      <table id="services"><thead><tr><th>Name</th><th>Namespace</th><th>Routing</th><th>Records</th>
      <th class="num">TTL</th><th class="num">Running</th><th class="num">Healthy</th>
      <th class="num">Unhealthy</th><th class="num">Unknown</th></tr></thead><tbody>${
      list.slice(page * PAGE, (page + 1) * PAGE).map(s => `<tr data-service="${esc(s.name)}">
        <td><a href="#/service/${encodeURIComponent(s.name)}">${esc(s.name)}</a></td>
        <td>${esc(s.namespace)}</td><td>${esc(s.routing)}</td><td>${esc(s.records.join(", "))}</td>
        <td class="num">${esc(s.ttl)}</td><td class="num">${s.counts.running}</td>
        <td class="num">${s.counts.healthy}</td><td class="num">${s.counts.unhealthy}</td>
        <td class="num">${s.counts.unknown}</td></tr>`).join("") ||
        `<tr><td colspan="9" class="empty">No services${q ? " match" : " yet"}.</td></tr>`}</tbody></table>`;
    view.appendChild(pager(list.length, page, p => { r.params.set("page", p); setParams(r.params); refresh(); }));
    const f = document.getElementById("svc-filter");
    f.oninput = () => { r.params.set("q", f.value); r.params.delete("page"); setParams(r.params); refresh(); };
  });
}

async function ecsSide(tasks) {
  const t = tasks.find(x => x.ecsService);
  if (!t) return "";
  const clusters = (await aws("ListClusters", {})).clusterArns || [];
  for (const cluster of clusters) {
    const d = await aws("DescribeServices", { cluster, services: [t.ecsService] });
    const svc = (d.services || [])[0];
    if (!svc) continue;
    const deps = (svc.deployments || []).map(x => `<tr><td>${esc(x.status)}</td>
      <td class="mono">${esc((x.taskDefinition || "").split("/").pop())}</td>
      <td class="num">${x.desiredCount}</td><td class="num">${x.runningCount}</td>
      <td class="num">${x.pendingCount}</td><td>${esc(x.rolloutState || "")}</td></tr>`).join("");
    const evs = (svc.events || []).slice(0, 10).map(e => `<tr><td class="mono">${dateTime(
      typeof e.createdAt === "number" ? new Date(e.createdAt * 1000).toISOString() : e.createdAt)}</td>
      <td>${esc(e.message)}</td></tr>`).join("");
    return `<h2>ECS service</h2><div class="card" id="ecs"><dl class="kv">
      <dt>Cluster</dt><dd>${esc(svc.clusterArn.split("/").pop())}</dd>
      <dt>Service</dt><dd>${esc(svc.serviceName)} <span class="muted">${esc(svc.status)}</span></dd>
      <dt>Desired / running / pending</dt><dd>${svc.desiredCount} / ${svc.runningCount} / ${svc.pendingCount}</dd>
      </dl><div class="toolbar gap"><label>Desired count
      <input id="scale-count" type="number" min="0" value="${svc.desiredCount}" class="count"></label>
      <button id="scale" data-cluster="${esc(svc.clusterArn)}" data-service="${esc(svc.serviceName)}">Scale</button></div>
      <table><thead><tr><th>Deployment</th><th>Task definition</th><th class="num">Desired</th>
      <th class="num">Running</th><th class="num">Pending</th><th>Rollout</th></tr></thead><tbody>${deps}</tbody></table>
      <h2>ECS events</h2><table><tbody>${evs || '<tr><td class="empty">No events.</td></tr>'}</tbody></table></div>`;
  }
  return "";
}

function ticksHtml(results) {
  return results.map(x => `<span class="tick ${esc(x.outcome)}" title="${esc(shortTime(x.time) + " " +
    x.outcome + " " + (x.detail || ""))}"></span>`).join("") || '<span class="muted">no probes</span>';
}
function resultRowsHtml(results) {
  return results.slice().reverse().map(x => `<tr><td class="mono">${shortTime(x.time)}</td><td>${esc(x.outcome)}</td>
    <td>${x.exitCode != null ? "exit " + esc(x.exitCode) : esc(x.detail)}</td>
    <td><pre>${esc(x.output || "")}</pre></td></tr>`).join("") ||
    '<tr><td colspan="4" class="empty">No probe results.</td></tr>';
}

// The service view's probe results arrive on their own stream (probes=only, that service) and
// update the timelines in place: a probe that changes no health is no event, and no refetch.
const shown = new Map();  // task id -> its last results, for the tasks on screen
let probes = null, probesSeen = 0;
function followProbes(service) {
  if (probes && probes.service === service) return;
  if (probes) probes.source.close();
  probes = null;
  if (!service) return;
  const source = new EventSource("/v1/events/stream?probes=only&service=" + encodeURIComponent(service));
  source.addEventListener("probe", m => {
    const p = JSON.parse(m.data), results = shown.get(p.taskId);
    if (!results) return;
    results.push(p);
    if (results.length > 10) results.splice(0, results.length - 10);
    const tl = view.querySelector(`[data-timeline="${CSS.escape(p.taskId)}"]`);
    if (tl) tl.innerHTML = ticksHtml(results);
    const rows = view.querySelector(`[data-results="${CSS.escape(p.taskId)}"]`);
    if (rows) rows.innerHTML = resultRowsHtml(results);
    document.body.dataset.probes = String(++probesSeen);
  });
  probes = { service, source };
}

const openResults = new Set();
async function serviceView(r) {
  const name = r.arg;
  followProbes(name);
  const [svc, tl] = await Promise.all([api("GET", "/v1/services/" + encodeURIComponent(name)),
    api("GET", "/v1/tasks?service=" + encodeURIComponent(name))]);
  const tasks = tl.tasks.sort((a, b) => (a.lastStatus === "STOPPED") - (b.lastStatus === "STOPPED") ||
    String(a.createdAt).localeCompare(String(b.createdAt)));
  const page = pageParam(r.params, tasks.length);
  let ecs = "";
  try { ecs = await ecsSide(tasks); } catch (e) { ecs = `<p class="muted">ECS: ${esc(e.message)}</p>`; }
  const hc = svc.healthCheck ? `${esc(svc.healthCheck.type)} every ${esc(svc.healthCheck.interval)}` : "none";
  shown.clear();
  const rows = tasks.slice(page * PAGE, (page + 1) * PAGE).map(t => {
    const results = t.lastResults || [];
    shown.set(t.taskId, results);
    const ticks = ticksHtml(results);
    const live = t.lastStatus !== "STOPPED";
    const open = openResults.has(t.taskId);
    return `<tr data-task="${esc(t.taskId)}" data-ip="${esc(t.ip)}">
      <td class="mono"><button class="link" data-toggle="${esc(t.taskId)}" title="${esc(t.taskId)}">${esc(t.taskId.slice(0, 12))}</button></td>
      <td class="mono">${esc(t.ip)}:${esc(t.port)}</td><td class="${esc(t.lastStatus)}">${esc(t.lastStatus)}</td>
      <td>${badge(t.healthStatus)}</td><td>${t.forcedHealth ? "forced " + esc(t.forcedHealth) : "observed"}</td>
      <td class="mono">${dateTime(t.startedAt || t.createdAt)}</td>
      <td><div class="timeline" data-timeline="${esc(t.taskId)}">${ticks}</div></td>
      <td class="actions">${live ? `<button class="small" data-act="UNHEALTHY">Unhealthy</button>
        <button class="small" data-act="HEALTHY">Healthy</button><button class="small" data-act="AUTO">Auto</button>
        <button class="small danger" data-act="stop">Stop</button>` : esc(t.stoppedReason || "")}</td></tr>
      ${open ? `<tr class="results"><td></td><td colspan="7"><table><thead><tr><th>Time</th><th>Outcome</th>
        <th>Exit code / status</th><th>Output</th></tr></thead><tbody data-results="${esc(t.taskId)}">${
        resultRowsHtml(results)}</tbody></table></td></tr>` : ""}`;
  }).join("");
  view.innerHTML = `<h1>${esc(svc.name)}</h1><div class="card"><dl class="kv">
    <dt>Namespace</dt><dd>${esc(svc.namespace)}</dd><dt>Routing</dt><dd>${esc(svc.routing)}</dd>
    <dt>Records</dt><dd>${esc(svc.records.join(", "))}, TTL ${esc(svc.ttl)} s</dd>
    <dt>Health check</dt><dd>${hc}; on unhealthy: ${esc(svc.onUnhealthy)}</dd></dl></div>
    <h2>Tasks</h2><table id="tasks"><thead><tr><th>Task</th><th>Address</th><th>Last status</th><th>Health</th>
    <th>Source</th><th>Started</th><th>Probes</th><th></th></tr></thead><tbody>${rows ||
    '<tr><td colspan="8" class="empty">No tasks.</td></tr>'}</tbody></table>${ecs}`;
  view.querySelector("#tasks").after(pager(tasks.length, page, p => {
    r.params.set("page", p); setParams(r.params); refresh(); }));
  view.querySelectorAll("[data-toggle]").forEach(a => a.onclick = () => {
    const id = a.dataset.toggle;
    openResults.has(id) ? openResults.delete(id) : openResults.add(id);
    refresh();
  });
  view.querySelectorAll("[data-act]").forEach(b => b.onclick = () => {
    const id = b.closest("tr").dataset.task, what = b.dataset.act;
    if (what === "stop") return act(`Stop task ${id.slice(0, 12)}?`, `Task ${id.slice(0, 12)} stopping`, () => api("DELETE", "/v1/tasks/" + id));
    act(`Mark task ${id.slice(0, 12)} ${what}?`, `Task ${id.slice(0, 12)} marked ${what}`, () => api("PUT", `/v1/tasks/${id}/health`, { status: what }));
  });
  const scale = view.querySelector("#scale");
  if (scale) scale.onclick = () => {
    const n = parseInt(view.querySelector("#scale-count").value, 10);
    act(`Scale ${scale.dataset.service} to ${n}?`, `${scale.dataset.service} scaled to ${n}`, () => aws("UpdateService",
      { cluster: scale.dataset.cluster, service: scale.dataset.service, desiredCount: n }));
  };
}

function dnsRows(lookup) {
  const rows = (lookup.answers || []).map(a => `<tr data-name="${esc(lookup.name)}" data-value="${esc(a.value)}">
    <td class="mono">${esc(lookup.name)}</td><td>${esc(lookup.type)}</td><td class="num">${esc(a.ttl)}</td>
    <td class="mono">${esc(a.value)}</td></tr>`);
  if (!rows.length) rows.push(`<tr data-name="${esc(lookup.name)}" class="muted"><td class="mono">${esc(lookup.name)}</td>
    <td>${esc(lookup.type)}</td><td></td><td><span class="rcode ${esc(lookup.rcode)}">${esc(lookup.rcode)}</span>
    ${lookup.rcode === "NOERROR" ? "(no data)" : ""}</td></tr>`);
  return rows.join("");
}
let lastAsk = null;
async function dnsView(r) {
  const data = await api("GET", "/v1/overview");
  const q = filterText("dns-filter", r).toLowerCase();
  const list = data.services.filter(s => !q || s.name.toLowerCase().includes(q));
  const page = pageParam(r.params, list.length);
  const asks = [];
  for (const s of list.slice(page * PAGE, (page + 1) * PAGE)) {
    const types = s.records.filter(t => t !== "SRV");
    for (const t of types.length ? types : ["A"]) asks.push([s.name, t]);
    if (s.records.includes("SRV")) asks.push([s.name, "SRV"]);
  }
  const lookups = await Promise.all(asks.map(([n, t]) =>
    api("GET", `/v1/dns/${encodeURIComponent(n)}?type=${t}`).catch(e => ({ name: n, type: t, rcode: e.message }))));
  if (lastAsk) lastAsk = await api("GET", `/v1/dns/${encodeURIComponent(lastAsk.name)}?type=${lastAsk.type}`)
    .catch(e => ({ ...lastAsk, rcode: e.message, answers: [], authority: [] }));
  keepFocus(() => {
    const askName = document.getElementById("ask-name")?.value ?? (lastAsk?.name || "");
    const askType = document.getElementById("ask-type")?.value ?? (lastAsk?.type || "A");
    view.innerHTML = `<h1>DNS</h1>
      <form class="card toolbar" id="ask"><strong>Ask</strong>
        <input id="ask-name" placeholder="game-server.local" value="${esc(askName)}" size="34">
        <select id="ask-type">${["A", "AAAA", "SRV", "SOA", "NS", "TXT", "CNAME", "ANY"].map(t =>
          `<option ${t === askType ? "selected" : ""}>${t}</option>`).join("")}</select>
        <button class="primary">Query</button></form>
      <div id="ask-result">${lastAsk ? askResult(lastAsk) : ""}</div>
      <h2>What each name answers now</h2>
      <div class="toolbar"><input id="dns-filter" placeholder="Filter by name" value="${esc(filterText("dns-filter", r))}"></div>
      <table id="dns"><thead><tr><th>Name</th><th>Type</th><th class="num">TTL</th><th>Value</th></tr></thead>
      <tbody>${lookups.map(dnsRows).join("") || '<tr><td colspan="4" class="empty">No names.</td></tr>'}</tbody></table>`;
    view.querySelector("#dns").after(pager(list.length, page, p => { r.params.set("page", p); setParams(r.params); refresh(); }));
    const f = document.getElementById("dns-filter");
    f.oninput = () => { r.params.set("q", f.value); r.params.delete("page"); setParams(r.params); refresh(); };
    document.getElementById("ask").onsubmit = ev => {
      ev.preventDefault();
      lastAsk = { name: document.getElementById("ask-name").value.trim(), type: document.getElementById("ask-type").value };
      if (lastAsk.name) refresh();
    };
  });
}
function askResult(l) {
  const rr = list => (list || []).map(a => `<tr><td class="mono">${esc(a.name || l.name)}</td><td>${esc(a.type || l.type)}</td>
    <td class="num">${esc(a.ttl)}</td><td class="mono">${esc(a.value ?? a.data ?? JSON.stringify(a))}</td></tr>`).join("");
  return `<div class="card" id="ask-answer"><p>rcode <span class="rcode ${esc(l.rcode)}">${esc(l.rcode)}</span>
    for <code>${esc(l.name)}</code> ${esc(l.type)}</p>
    <h2>Answer</h2><table><thead><tr><th>Name</th><th>Type</th><th class="num">TTL</th><th>Value</th></tr></thead>
    <tbody>${rr(l.answers) || '<tr><td colspan="4" class="empty">Empty.</td></tr>'}</tbody></table>
    <h2>Authority</h2><table><tbody>${rr(l.authority) || '<tr><td class="empty">Empty.</td></tr>'}</tbody></table></div>`;
}

function eventsView(r) {
  const svc = (r.params.get("service") || "").toLowerCase(), type = r.params.get("type") || "";
  const list = state.events.filter(e => (!svc || String(e.service || "").toLowerCase().includes(svc)) &&
    (!type || e.type === type));
  const shown = list.slice(-500).reverse();
  keepFocus(() => {
    view.innerHTML = `<h1>Events</h1><div class="toolbar">
      <input id="ev-service" placeholder="Service" value="${esc(svc)}">
      <select id="ev-type"><option value="">All types</option>${[...state.types].sort().map(t =>
        `<option ${t === type ? "selected" : ""}>${esc(t)}</option>`).join("")}</select>
      <span class="muted">${list.length} events${list.length > shown.length ? ", newest 500 shown" : ""}</span></div>
      <table id="events"><thead><tr><th class="num">#</th><th>Time</th><th>Type</th><th>Service</th><th>Message</th></tr></thead>
      <tbody>${shown.map(e => `<tr data-index="${e.index}" data-type="${esc(e.type)}">
        <td class="num">${e.index}</td><td class="mono">${shortTime(e.time)}</td><td>${esc(e.type)}</td>
        <td>${esc(e.service || "")}</td><td>${esc(e.message)}</td></tr>`).join("") ||
        '<tr><td colspan="5" class="empty">No events.</td></tr>'}</tbody></table>`;
    const s = document.getElementById("ev-service"), t = document.getElementById("ev-type");
    s.oninput = () => { r.params.set("service", s.value); setParams(r.params); refresh(); };
    t.onchange = () => { r.params.set("type", t.value); setParams(r.params); refresh(); };
  });
}

// ---- rendering and the live stream -------------------------------------------------------------
let rendering = false, again = false;
async function render() {
  if (rendering) { again = true; return; }
  rendering = true;
  const r = route();
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active",
    a.dataset.view === r.view || (r.view === "service" && a.dataset.view === "services")));
  const began = performance.now();
  if (r.view !== "service") followProbes(null);
  try {
    if (r.view === "service") await serviceView(r);
    else if (r.view === "dns") await dnsView(r);
    else if (r.view === "events") eventsView(r);
    else await servicesView(r);
    document.body.dataset.rendered = String(state.lastIndex);
  } catch (e) {
    view.innerHTML = `<div class="card">Could not load: ${esc(e.message)}</div>`;
  }
  lastRender = performance.now() - began;
  rendering = false;
  if (again) { again = false; refresh(); }
}
// Coalesces bursts of events into one render: 100 ms after the first, or twice as long as the
// last render took when that is longer (a view of 1,000 services under churn then re-reads at
// most every few hundred ms instead of back to back), so that wait plus render stays under 900 ms.
let timer = null, lastRender = 0;
function refresh() {
  if (timer) return;
  const wait = Math.max(100, Math.min(2 * lastRender, 900 - lastRender));
  timer = setTimeout(() => { timer = null; render(); }, wait);
}

function connect() {
  const live = document.getElementById("live");
  const es = new EventSource("/v1/events/stream");
  es.onopen = () => { live.className = "live on"; live.textContent = "live"; };
  es.onerror = () => { live.className = "live off"; live.textContent = "reconnecting"; };
  es.onmessage = m => {
    const e = JSON.parse(m.data);
    state.events.push(e);
    if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
    state.types.add(e.type);
    state.lastIndex = e.index;
    live.textContent = "live #" + e.index;
    refresh();
  };
}

document.getElementById("reset").onclick = () =>
  act("Reset the emulator? Every namespace, service and task is removed.", "Emulator reset", () => api("POST", "/v1/reset"));
window.addEventListener("hashchange", () => render());
render();
connect();
