// The /status dashboard: polls the service's JSON endpoints and draws its own
// SVG charts. No inline script or style and nothing from another origin, so
// the service's Content-Security-Policy holds as it is.
'use strict';

const POLL_MS = 2000;
const SVG = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 200;
const PAD = { left: 48, right: 8, top: 22, bottom: 22 };

const $ = (id) => document.getElementById(id);
let timer;
let inFlight = false;

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function formatNumber(n) {
  if (n >= 100) return Math.round(n).toString();
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function timeLabel(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * A line chart of several series over the same time buckets. Missing values
 * (null) break the line. data-points tells how many values were drawn.
 */
function lineChart(el, times, series) {
  el.replaceChildren();
  const values = series.flatMap((s) => s.values.filter((v) => v !== null && Number.isFinite(v)));
  el.dataset.points = String(values.length);
  const max = Math.max(1e-9, ...values) * 1.1;
  const x = (i) => PAD.left + (i * (W - PAD.left - PAD.right)) / Math.max(1, times.length - 1);
  const y = (v) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);

  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    el.append(svg('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    el.append(
      svg(
        'text',
        { class: 'axis', x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' },
        values.length ? formatNumber(v) : '',
      ),
    );
  }
  if (times.length > 1) {
    el.append(svg('text', { class: 'axis', x: PAD.left, y: H - 6 }, timeLabel(times[0])));
    el.append(
      svg(
        'text',
        { class: 'axis', x: W - PAD.right, y: H - 6, 'text-anchor': 'end' },
        timeLabel(times[times.length - 1]),
      ),
    );
  }
  if (values.length === 0) {
    el.append(
      svg('text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data in this window yet'),
    );
  }

  let legendX = PAD.left;
  series.forEach((s, n) => {
    const cls = `s${n}`;
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
      // A lone value has no neighbour to draw a line to: show it as a dot.
      const prev = s.values[i - 1];
      const next = s.values[i + 1];
      if ((prev === null || prev === undefined) && (next === null || next === undefined)) {
        el.append(svg('circle', { class: `dot ${cls}`, cx: x(i), cy: y(v), r: 2.5 }));
      }
    });
    if (d) el.append(svg('path', { class: `series ${cls}`, d }));
    const last = [...s.values].reverse().find((v) => v !== null && Number.isFinite(v));
    const label = svg(
      'text',
      { class: `legend ${cls}`, x: legendX, y: 12 },
      `${s.name}${last !== undefined ? ` ${formatNumber(last)}` : ''}`,
    );
    el.append(label);
    legendX += 14 + 7 * label.textContent.length;
  });
}

function renderCharts(ts) {
  const times = ts.buckets.map((b) => b.t);
  const perSecond = ts.bucketMs / 1000;
  lineChart($('chart-requests'), times, [
    { name: 'all', values: ts.buckets.map((b) => b.requests / perSecond) },
    { name: '5xx', values: ts.buckets.map((b) => b.serverErrors / perSecond) },
  ]);
  lineChart($('chart-latency'), times, [
    { name: 'p50', values: ts.buckets.map((b) => b.p50Ms) },
    { name: 'p95', values: ts.buckets.map((b) => b.p95Ms) },
    { name: 'p99', values: ts.buckets.map((b) => b.p99Ms) },
  ]);
  lineChart($('chart-jobs'), times, [
    {
      name: 'completed',
      values: ts.buckets.map((b) => (b.queued === null && b.jobsCompleted === 0 ? null : b.jobsCompleted)),
    },
    { name: 'failed', values: ts.buckets.map((b) => (b.queued === null && b.jobsFailed === 0 ? null : b.jobsFailed)) },
    { name: 'queued', values: ts.buckets.map((b) => b.queued) },
  ]);
  const mb = (bytes) => (bytes === null ? null : bytes / 1048576);
  lineChart($('chart-memory'), times, [
    { name: 'rss', values: ts.buckets.map((b) => mb(b.rssBytes)) },
    { name: 'heap', values: ts.buckets.map((b) => mb(b.heapUsedBytes)) },
  ]);
}

function serviceCard(name, status, lines) {
  const card = document.createElement('div');
  card.className = 'service';
  card.dataset.status = status;
  const title = document.createElement('h3');
  title.textContent = `${name} · ${status}`;
  card.append(title);
  for (const line of lines) {
    const p = document.createElement('p');
    p.textContent = line;
    card.append(p);
  }
  return card;
}

function renderHealth(health) {
  const overall = $('overall');
  overall.dataset.status = health.status;
  overall.textContent = health.status;
  const reasons = $('reasons');
  reasons.hidden = health.reasons.length === 0;
  reasons.textContent = health.reasons.join(' · ');

  const { database, gemini, websocket, jobs, redis } = health.services;
  const { memory, eventLoopDelay, loadAverage } = health.system;
  const cards = [
    serviceCard('database', database.status, [
      database.latencyMs === null ? (database.error ?? 'no answer') : `SELECT 1 in ${database.latencyMs} ms`,
      database.migrationsApplied ? 'migrations applied' : 'migrations missing',
    ]),
    serviceCard('gemini cli', gemini.status, [
      `${gemini.cli}${gemini.version ? ` · v${gemini.version}` : ''}`,
      `generator ${gemini.active ? 'in use' : 'not in use'} · circuit ${gemini.circuit}`,
    ]),
    serviceCard('jobs', jobs.status, [
      `${jobs.running} running · ${jobs.queued} queued (limit ${jobs.queueLimit})`,
      `last hour: ${jobs.completedLastHour} completed · ${jobs.failedLastHour} failed`,
    ]),
    serviceCard('websocket', websocket.status, [
      `${websocket.connections} connections`,
      `${websocket.subscriptions} subscriptions`,
    ]),
    serviceCard('process', eventLoopDelay.p99Ms > 1000 ? 'DEGRADED' : 'OK', [
      `rss ${Math.round(memory.rssBytes / 1048576)} MB · heap ${Math.round(memory.heapUsedBytes / 1048576)} MB`,
      `event loop p99 ${eventLoopDelay.p99Ms} ms · load ${loadAverage[0]}`,
    ]),
  ];
  if (redis)
    cards.push(
      serviceCard('redis', redis.status, [
        redis.latencyMs === null ? (redis.error ?? 'no answer') : `PING in ${redis.latencyMs} ms`,
      ]),
    );
  $('services').replaceChildren(...cards);
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderJobs(recent) {
  const rows = recent.jobs.map((job) => {
    const tr = document.createElement('tr');
    tr.dataset.jobId = job.jobId;
    tr.append(
      cell(job.jobId.slice(0, 8), 'mono'),
      cell(job.errorCode ? `${job.status} (${job.errorCode})` : job.status, `status-${job.status}`),
      cell(job.generator),
      cell(String(job.attempts), 'num'),
      cell(job.processingTimeMs === null ? '–' : `${(job.processingTimeMs / 1000).toFixed(1)} s`, 'num'),
      cell(new Date(job.createdAt).toLocaleTimeString()),
    );
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('no jobs yet', 'muted');
    td.colSpan = 6;
    tr.append(td);
    rows.push(tr);
  }
  $('jobs').tBodies[0].replaceChildren(...rows);
}

function renderRoutes(summary) {
  $('routes-window').textContent = `last ${summary.window}`;
  const rows = summary.routes.slice(0, 15).map((r) => {
    const tr = document.createElement('tr');
    tr.append(
      cell(`${r.method} ${r.route}`, 'mono'),
      cell(String(r.count), 'num'),
      cell(`${(r.errorRate * 100).toFixed(1)}%`, 'num'),
      cell(`${r.p50Ms} ms`, 'num'),
      cell(`${r.p95Ms} ms`, 'num'),
      cell(`${r.p99Ms} ms`, 'num'),
    );
    return tr;
  });
  $('routes').tBodies[0].replaceChildren(...rows);
}

// Cluster mode only: the instances alive (from /api/health) and the jobs each is running.
function renderInstances(instances) {
  $('instances-card').hidden = instances === undefined;
  if (instances === undefined) return;
  $('instances-count').textContent = `${instances.length} alive`;
  const rows = instances.map((instance) => {
    const tr = document.createElement('tr');
    tr.dataset.instanceId = instance.id;
    tr.append(
      cell(`${instance.id}${instance.self ? ' (this one)' : ''}`, 'mono'),
      cell(instance.role),
      cell(new Date(instance.startedAt).toLocaleTimeString()),
      cell(new Date(instance.lastSeen).toLocaleTimeString()),
      cell(
        instance.runningJobs.length === 0 ? 'idle' : instance.runningJobs.map((id) => id.slice(0, 8)).join(' '),
        'mono',
      ),
    );
    return tr;
  });
  $('instances').tBodies[0].replaceChildren(...rows);
}

// With API_KEY set, the page is open but its data calls are not: the key is asked
// for on the first 401 and kept for this tab only, never in a URL.
const KEY_STORAGE = 'idea2spec.apiKey';

class NeedsKey extends Error {
  constructor(message, keySent) {
    super(message);
    this.keySent = keySent;
  }
}

async function getJson(url) {
  const headers = { accept: 'application/json' };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(url, { headers, cache: 'no-store' });
  if (res.status === 401) throw new NeedsKey(key ? 'the API key was refused' : 'the API key is needed', key);
  // /api/health answers 503 with a full report when DOWN: still worth showing.
  if (!res.ok && !(url.startsWith('/api/health') && res.status === 503)) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

function askForKey({ message: reason, keySent }) {
  // A poll that left before a new key was entered is no verdict on that key.
  if (sessionStorage.getItem(KEY_STORAGE) !== keySent) return;
  sessionStorage.removeItem(KEY_STORAGE);
  $('key-note').textContent = `${reason[0].toUpperCase()}${reason.slice(1)}. Kept in this tab only (sessionStorage).`;
  $('key-form').hidden = false;
}

async function refresh() {
  if (inFlight) return;
  inFlight = true;
  const window = $('window').value;
  try {
    const [health, ts, summary, recent] = await Promise.all([
      getJson('/api/health'),
      getJson(`/api/metrics/timeseries?window=${encodeURIComponent(window)}`),
      getJson(`/api/metrics/summary?window=${encodeURIComponent(window)}`),
      getJson('/api/jobs/recent?limit=15'),
    ]);
    renderHealth(health);
    renderInstances(health.instances);
    renderCharts(ts);
    renderRoutes(summary);
    renderJobs(recent);
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = 'true';
  } catch (err) {
    $('overall').dataset.status = 'offline';
    $('overall').textContent = 'unreachable';
    if (err instanceof NeedsKey) {
      askForKey(err);
      $('overall').dataset.status = 'unknown';
      $('overall').textContent = 'API key needed';
    }
    $('updated').textContent = `update failed: ${err.message}`;
  } finally {
    inFlight = false;
  }
}

function schedule() {
  clearInterval(timer);
  // A hidden tab polls nothing; it catches up as soon as it is shown again.
  if (document.hidden) return;
  void refresh();
  timer = setInterval(refresh, POLL_MS);
}

document.addEventListener('visibilitychange', schedule);
document.addEventListener('DOMContentLoaded', () => {
  $('window').addEventListener('change', () => void refresh());
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $('api-key').value.trim());
    $('api-key').value = '';
    $('key-form').hidden = true;
    void refresh();
  });
  schedule();
});
