// The dashboard page: plain HTML + inline script drawing canvas charts from a server-sent-events feed.
// Everything is inline (no CDN: the page must work offline).

export function dashboardHtml(title = "Meridian convergence dashboard"): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#0f172a;color:#e2e8f0}
header{padding:12px 20px;background:#1e293b;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0} .stat b{font-size:18px;color:#fff}
#status.live{color:#4ade80} #status.down{color:#f87171}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:14px;padding:14px}
.panel{background:#1e293b;border-radius:8px;padding:10px 12px}
.panel h2{font-size:14px;margin:0 0 6px;color:#cbd5e1}
canvas{width:100%;height:240px;display:block}
#alerts li{margin:3px 0} .crit{color:#f87171} .warn{color:#fbbf24} .ok{color:#4ade80} .none{color:#94a3b8}
table{font-size:12px;border-collapse:collapse;width:100%} td{padding:2px 6px;border-bottom:1px solid #334155}
</style></head><body>
<header><h1>${title}</h1>
<span class="stat">feed: <b id="status">connecting</b></span>
<span class="stat">ops/s: <b id="ops">0</b></span>
<span class="stat">violations: <b id="violations">0</b></span>
<span class="stat">rate: <b id="rate">0</b> (target &lt; <span id="target">0.001 %</span>)</span>
<span class="stat">divergent keys: <b id="divergent">0</b></span>
<span class="stat">alerts firing: <b id="firing">0</b></span>
<span class="stat">consumers stalled: <b id="stalled" class="ok">none</b></span>
</header>
<main>
<div class="panel"><h2>Convergence lag per region (ms behind the other regions)</h2><canvas id="lag-chart" data-points="0"></canvas></div>
<div class="panel"><h2>Convergence time p99 per region (ms, recent window)</h2><canvas id="convergence-chart" data-points="0"></canvas></div>
<div class="panel"><h2>Operations per second per region</h2><canvas id="ops-chart" data-points="0"></canvas></div>
<div class="panel"><h2>Consistency violations (total) and alerts firing</h2><canvas id="violations-chart" data-points="0"></canvas></div>
<div class="panel"><h2>Alerts firing</h2><ul id="alerts"><li class="none">none</li></ul>
<h2>Alert history</h2><table id="alert-history"><tbody><tr><td class="none">none</td></tr></tbody></table></div>
<div class="panel"><h2>Convergence under load per region pair (write → merged, p50 / p99 ms)</h2><div id="load-line" class="none">no load figures</div><table id="pair-table"><tbody></tbody></table></div>
<div class="panel"><h2>Latest violations</h2><table id="violation-list"><tbody><tr><td class="none">none</td></tr></tbody></table></div>
</main>
<script>
"use strict";
const COLORS = ["#60a5fa","#4ade80","#fbbf24","#c084fc","#f87171","#22d3ee","#a3a3a3"];
const MAX_POINTS = 300;
const charts = {};
function chart(id, opts) {
  charts[id] = { id, series: new Map(), opts: opts || {}, points: 0 };
  return charts[id];
}
const lag = chart("lag-chart", { target: 5000, targetLabel: "5 s target" });
const conv = chart("convergence-chart", { target: 5000, targetLabel: "5 s target" });
const ops = chart("ops-chart", {});
const viol = chart("violations-chart", {});

function push(c, name, t, v) {
  let s = c.series.get(name);
  if (!s) { s = []; c.series.set(name, s); }
  s.push([t, v]);
  if (s.length > MAX_POINTS) s.shift();
}

function draw(c) {
  const canvas = document.getElementById(c.id);
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  const L = 52, R = 120, T = 10, B = 22;
  let xMin = Infinity, xMax = -Infinity, yMax = c.opts.target ? c.opts.target * 0.2 : 1;
  for (const s of c.series.values()) for (const [x, y] of s) {
    if (x < xMin) xMin = x; if (x > xMax) xMax = x; if (y > yMax) yMax = y;
  }
  if (!isFinite(xMin)) return;
  if (xMax === xMin) xMax = xMin + 1;
  yMax *= 1.1;
  const sx = (x) => L + (x - xMin) / (xMax - xMin) * (w - L - R);
  const sy = (y) => T + (1 - y / yMax) * (h - T - B);
  g.strokeStyle = "#334155"; g.fillStyle = "#94a3b8"; g.font = "11px sans-serif"; g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = yMax * i / 4, py = sy(y);
    g.beginPath(); g.moveTo(L, py); g.lineTo(w - R, py); g.stroke();
    g.fillText(y >= 1000 ? (y / 1000).toFixed(1) + "k" : y.toFixed(y < 10 ? 1 : 0), 4, py + 4);
  }
  g.fillText(new Date(xMin).toLocaleTimeString(), L, h - 6);
  g.fillText(new Date(xMax).toLocaleTimeString(), w - R - 60, h - 6);
  if (c.opts.target && c.opts.target <= yMax) {
    g.strokeStyle = "#f87171"; g.setLineDash([6, 4]);
    g.beginPath(); g.moveTo(L, sy(c.opts.target)); g.lineTo(w - R, sy(c.opts.target)); g.stroke();
    g.setLineDash([]); g.fillStyle = "#f87171"; g.fillText(c.opts.targetLabel, w - R + 6, sy(c.opts.target) + 4);
  }
  let i = 0;
  for (const [name, s] of c.series) {
    const color = COLORS[i % COLORS.length];
    g.strokeStyle = color; g.lineWidth = 1.8; g.beginPath();
    s.forEach(([x, y], j) => j ? g.lineTo(sx(x), sy(y)) : g.moveTo(sx(x), sy(y)));
    g.stroke();
    g.fillStyle = color; g.fillRect(w - R + 6, T + 14 * i, 9, 9);
    g.fillStyle = "#e2e8f0"; g.fillText(name, w - R + 20, T + 14 * i + 9);
    i++;
  }
  canvas.dataset.points = String(c.points);
}

function fmtPct(x) { return (x * 100).toPrecision(2) + " %"; }
function esc(s) { return String(s).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]); }

function apply(s, redraw) {
  const t = s.at;
  for (const r of s.regions) {
    push(lag, r, t, s.regionLagMs[r] || 0);
    push(conv, r, t, (s.regionConvergence[r] && s.regionConvergence[r].p99) || 0);
    push(ops, r, t, s.opsPerSec[r] || 0);
  }
  push(viol, "violations", t, s.violations.total);
  push(viol, "alerts firing", t, s.alertsFiring.length);
  for (const c of [lag, conv, ops, viol]) c.points++;
  const totalOps = Object.values(s.opsPerSec).reduce((a, b) => a + b, 0);
  document.getElementById("ops").textContent = totalOps.toFixed(0);
  document.getElementById("violations").textContent = String(s.violations.total);
  document.getElementById("rate").textContent = fmtPct(s.violations.rate);
  document.getElementById("target").textContent = fmtPct(s.violations.target);
  document.getElementById("divergent").textContent = String(s.divergentKeys);
  document.getElementById("firing").textContent = String(s.alertsFiring.length);
  const stalled = document.getElementById("stalled");
  const stuck = s.consumersStalled || [];
  stalled.textContent = stuck.length ? stuck.join(", ") : "none";
  stalled.className = stuck.length ? "crit" : "ok";
  const alerts = document.getElementById("alerts");
  alerts.innerHTML = s.alertsFiring.length
    ? s.alertsFiring.map((a) => '<li class="' + (a.severity === "critical" ? "crit" : "warn") + '">' + esc(a.rule) + " " +
        esc(Object.entries(a.labels).map(([k, v]) => k + "=" + v).join(" ")) + " — " + esc(a.description) + "</li>").join("")
    : '<li class="none">none</li>';
  const history = (s.recentAlerts || []).slice(-8).reverse();
  document.querySelector("#alert-history tbody").innerHTML = history.length
    ? history.map((a) => "<tr><td>" + new Date(a.status === "resolved" ? a.endsAt : a.startsAt).toLocaleTimeString() +
        '</td><td class="' + (a.status === "firing" ? "crit" : "ok") + '">' + esc(a.status) + "</td><td>" + esc(a.rule) +
        "</td><td>" + esc(Object.entries(a.labels).map(([k, v]) => k + "=" + v).join(" ")) + "</td></tr>").join("")
    : '<tr><td class="none">none</td></tr>';
  const rows = s.violations.latest.slice(-10).reverse();
  document.querySelector("#violation-list tbody").innerHTML = rows.length
    ? rows.map((v) => "<tr><td>" + new Date(v.at).toLocaleTimeString() + "</td><td>" + esc(v.kind) + "</td><td>" + esc(v.key || "") +
        "</td><td>" + esc(v.region || "") + "</td></tr>").join("")
    : '<tr><td class="none">none</td></tr>';
  if (redraw) for (const c of [lag, conv, ops, viol]) draw(c);
}

function connect() {
  const status = document.getElementById("status");
  const es = new EventSource("/events");
  es.addEventListener("history", (e) => {
    const list = JSON.parse(e.data);
    list.forEach((s, i) => apply(s, i === list.length - 1));
  });
  es.addEventListener("snapshot", (e) => apply(JSON.parse(e.data), true));
  es.onopen = () => { status.textContent = "live"; status.className = "live"; };
  es.onerror = () => { status.textContent = "reconnecting"; status.className = "down"; };
}
// Convergence under load: polled (the figures come from the load run, not the monitor's snapshots).
function fmtMs(v) { return Number.isFinite(v) ? Math.round(v) : "-"; }
async function pollLoad() {
  try {
    const res = await fetch("api/load");
    if (res.status !== 200) return;
    const f = await res.json();
    const l = f.load;
    document.getElementById("load-line").textContent = l
      ? "load: offered " + l.offered + "/s, achieved " + l.achieved + "/s, errors " + l.errors + ", p99 " + fmtMs(l.p99Ms) + " ms"
      : "";
    const rows = ["<tr><td>from / to</td>" + f.regions.map((r) => "<td>" + r + "</td>").join("") + "</tr>"];
    for (const o of f.regions) {
      const cells = f.regions.map((d) => {
        if (o === d) return "<td>·</td>";
        const p = f.pairs.find((x) => x.origin === o && x.region === d);
        return "<td>" + (p && p.count ? fmtMs(p.p50Ms) + " / " + fmtMs(p.p99Ms) : "-") + "</td>";
      });
      rows.push("<tr><td>" + o + "</td>" + cells.join("") + "</tr>");
    }
    document.querySelector("#pair-table tbody").innerHTML = rows.join("");
  } catch {}
}
setInterval(pollLoad, 2000);
pollLoad();
window.addEventListener("resize", () => { for (const c of Object.values(charts)) draw(c); });
connect();
</script>
</body></html>
`;
}
