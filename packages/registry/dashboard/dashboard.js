// The registry dashboard: plain ES module, no build step, served by the registry
// under a strict Content-Security-Policy. It reads the public API only. Every
// value from an agent record reaches the page through textContent or a DOM
// property, never as markup. The operator token lives in `operatorToken`
// below and nowhere else: not in the URL, not in storage, not in a log.
import uPlot from '/dashboard/assets/uPlot.esm.js';

const EVENT_TYPES = ['peer_joined', 'peer_left', 'peer_updated', 'stake_changed', 'reputation_changed', 'new_request'];
const MAX_EVENTS = 500;
const MAX_FEED_ITEMS = 200;
const REFRESH_MS = 15_000;
const STATS_MS = 5_000;

/** The operator token, in memory only; undefined while read-only. */
let operatorToken;

const state = {
  /** The search as submitted: URLSearchParams without cursor. */
  query: new URLSearchParams({ limit: '50' }),
  nextCursor: null,
  /** Agents shown, in search order. */
  agents: [],
  stakes: new Map(),
  names: new Map(),
  /** Recent events, oldest first. */
  events: [],
  selected: undefined,
  lastEventId: undefined,
  connects: 0,
};

const $ = (id) => document.getElementById(id);

/** Creates an element; strings among the children become text nodes, so nothing is parsed as HTML. */
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    if (k === 'class') e.className = v;
    else if (k === 'data') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
  toString() {
    return `${this.code}: ${this.message}`;
  }
}

/** One call to the registry; resolves to the success body or throws an ApiError with the wire code. */
async function api(path, init = {}) {
  let res;
  try {
    res = await fetch(path, { cache: 'no-store', referrerPolicy: 'no-referrer', ...init });
  } catch (e) {
    throw new ApiError('NETWORK_ERROR', `The registry did not answer: ${e.message}`);
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError('REMOTE_ERROR', `HTTP ${res.status}: the answer is not JSON`);
  }
  if (!res.ok || !body || body.success !== true) {
    throw new ApiError(body?.error?.code ?? 'REMOTE_ERROR', body?.error?.message ?? `HTTP ${res.status}`);
  }
  return body;
}

const shortId = (id) => (id.length > 24 ? `${id.slice(0, 14)}…${id.slice(-6)}` : id);
const nameOf = (id) => state.names.get(id) ?? shortId(id);
const percent = (x) => `${(x * 100).toFixed(0)}%`;
const timeOf = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString();
};

function leaseLeft(expiresAt) {
  const ms = Date.parse(expiresAt) - Date.now();
  if (!(ms > 0)) return 'expired';
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

function meter(value) {
  return el('span', {}, el('meter', { min: 0, max: 1, value, title: percent(value) }), value.toFixed(2));
}

// ---------------------------------------------------------------- agents list

function agentRow(a) {
  const services = a.services.map((s) => el('span', { class: 'tag' }, s.price === undefined ? s.name : `${s.name} (${s.price})`));
  const stake = state.stakes.get(a.id);
  return el(
    'tr',
    { data: { agentId: a.id }, onclick: () => void showDetail(a.id) },
    el('td', { class: 'name' }, a.name),
    el('td', { class: 'id', title: a.id }, a.id),
    el('td', { class: 'endpoint' }, a.endpoint),
    el('td', { class: 'capabilities' }, ...a.capabilities.map((c) => el('span', { class: 'tag' }, c))),
    el('td', { class: 'services' }, ...services),
    el('td', { class: 'reputation' }, meter(a.reputation)),
    el('td', { class: 'availability' }, meter(a.availability)),
    el('td', { class: 'stake', data: { agentId: a.id } }, stake === undefined ? '…' : String(stake)),
    el('td', { class: 'lease', data: { expires: a.expiresAt } }, leaseLeft(a.expiresAt)),
  );
}

function renderAgents(total) {
  $('agents').tBodies[0].replaceChildren(...state.agents.map(agentRow));
  $('agents-summary').textContent = `${total} agent${total === 1 ? '' : 's'} match; ${state.agents.length} shown`;
  $('agents-more').hidden = !state.nextCursor;
  renderStandingChart();
}

async function loadStakes(agents) {
  await Promise.all(
    agents.map(async (a) => {
      try {
        const { stake } = await api(`/v1/stakes/${encodeURIComponent(a.id)}`);
        setStake(a.id, stake.stake);
      } catch {
        // the list still shows; the cell keeps its placeholder
      }
    }),
  );
}

function setStake(id, stake) {
  state.stakes.set(id, stake);
  for (const td of document.querySelectorAll('#agents td.stake')) if (td.dataset.agentId === id) td.textContent = String(stake);
  if (state.selected === id) $('stake-value').textContent = String(stake);
}

/** Runs the current search (first page, or the next one with `more`). `poll` marks the dashboard's own refreshes, which the statistics leave out. */
async function search({ more = false, poll = false } = {}) {
  const params = new URLSearchParams(state.query);
  if (more && state.nextCursor) params.set('cursor', state.nextCursor);
  const error = $('search-error');
  try {
    const page = await api(`/v1/agents?${params}`, poll ? { headers: { 'x-dashboard-poll': '1' } } : {});
    error.hidden = true;
    state.agents = more ? [...state.agents, ...page.agents] : page.agents;
    state.nextCursor = page.nextCursor ?? null;
    for (const a of page.agents) state.names.set(a.id, a.name);
    renderAgents(page.total);
    await loadStakes(page.agents);
  } catch (e) {
    error.textContent = String(e);
    error.hidden = false;
  }
}

function readSearchForm() {
  const params = new URLSearchParams();
  for (const c of $('search-capability').value.split(/[\s,]+/).filter(Boolean)) params.append('capability', c);
  for (const [key, id] of [
    ['minReputation', 'search-min-reputation'],
    ['maxPrice', 'search-max-price'],
    ['limit', 'search-limit'],
  ]) {
    const v = $(id).value.trim();
    if (v !== '') params.set(key, v);
  }
  return params;
}

let refreshTimer;
/** Refreshes the list soon, once for a burst of events. */
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void search({ poll: true }), 250);
}

// ---------------------------------------------------------------- detail

async function showDetail(id) {
  state.selected = id;
  const section = $('detail');
  section.hidden = false;
  $('stake-result').textContent = '';
  try {
    const { agent } = await api(`/v1/agents/${encodeURIComponent(id)}`);
    if (state.selected !== id) return;
    state.names.set(agent.id, agent.name);
    $('detail-name').textContent = agent.name;
    const fields = [
      ['id', agent.id],
      ['endpoint', agent.endpoint],
      ['capabilities', agent.capabilities.join(', ') || '—'],
      ['reputation', agent.reputation.toFixed(3)],
      ['availability', percent(agent.availability)],
      ['registered', new Date(agent.registeredAt).toLocaleString()],
      ['last heartbeat', new Date(agent.lastHeartbeat).toLocaleString()],
      ['lease', `${agent.ttl} s, ${leaseLeft(agent.expiresAt)} left`],
    ];
    $('detail-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    $('detail-catalog').tBodies[0].replaceChildren(
      ...agent.services.map((s) =>
        el('tr', {}, el('td', {}, s.name), el('td', {}, s.description ?? ''), el('td', {}, s.price ?? '—'), el('td', {}, s.requiresStake ? String(s.minStake ?? 0) : '—')),
      ),
    );
    $('detail-metadata').textContent = JSON.stringify(agent.metadata, null, 2);
  } catch (e) {
    $('detail-name').textContent = shortId(id);
    $('detail-fields').replaceChildren(el('dt', {}, 'error'), el('dd', { class: 'error' }, String(e)));
    $('detail-catalog').tBodies[0].replaceChildren();
    $('detail-metadata').textContent = '';
  }
  try {
    const { stake } = await api(`/v1/stakes/${encodeURIComponent(id)}`);
    if (state.selected === id) setStake(id, stake.stake);
  } catch (e) {
    $('stake-value').textContent = String(e);
  }
  renderDetailEvents();
}

function renderDetailEvents() {
  const id = state.selected;
  if (id === undefined) return;
  const mine = state.events.filter((e) => e.data.peer_id === id).slice(-20).reverse();
  $('detail-events').replaceChildren(...(mine.length ? mine.map(eventItem) : [el('li', {}, 'none retained')]));
}

async function creditStake(event) {
  event.preventDefault();
  const id = state.selected;
  if (id === undefined) return;
  const result = $('stake-result');
  const amount = Number($('stake-amount').value);
  const headers = { 'content-type': 'application/json' };
  if (operatorToken !== undefined) headers.authorization = `Bearer ${operatorToken}`;
  try {
    const { stake } = await api(`/v1/stakes/${encodeURIComponent(id)}/credit`, { method: 'POST', headers, body: JSON.stringify({ amount }) });
    setStake(id, stake.stake);
    result.dataset.ok = 'true';
    result.textContent = `credited ${amount}: stake is now ${stake.stake}`;
  } catch (e) {
    result.dataset.ok = 'false';
    result.textContent = `refused: ${e}`;
  }
}

// ---------------------------------------------------------------- events

function describe(e) {
  const d = e.data;
  switch (e.type) {
    case 'peer_joined':
      return Array.isArray(d.capabilities) ? `capabilities ${d.capabilities.join(', ')}` : '';
    case 'peer_left':
      return typeof d.reason === 'string' ? d.reason : '';
    case 'peer_updated':
      return Array.isArray(d.fields) ? `changed ${d.fields.join(', ')}` : 're-registered';
    case 'stake_changed':
      return `${d.change > 0 ? '+' : ''}${d.change} → ${d.stake}`;
    case 'reputation_changed':
      return `reputation ${Number(d.reputation).toFixed(3)} (rated ${d.rating})`;
    case 'new_request':
      return typeof d.service === 'string' ? `service ${d.service}` : '';
    default:
      return '';
  }
}

function eventItem(e) {
  return el(
    'li',
    { data: { type: e.type, eventId: e.id, peerId: e.data.peer_id } },
    el('time', { dateTime: e.at }, timeOf(e.at)),
    el('span', { class: 'type' }, e.type),
    el('span', { class: 'who', title: e.data.peer_id }, typeof e.data.name === 'string' ? e.data.name : nameOf(e.data.peer_id)),
    ' ',
    el('span', { class: 'what' }, describe(e)),
  );
}

function onEvent(msg) {
  if (msg.lastEventId) state.lastEventId = msg.lastEventId;
  if (msg.type === 'stream_position') return;
  let payload;
  try {
    payload = JSON.parse(msg.data);
  } catch {
    return;
  }
  if (!payload || typeof payload !== 'object' || !payload.data || typeof payload.data.peer_id !== 'string') return;
  const event = { id: msg.lastEventId, type: msg.type, at: payload.at, data: payload.data };
  if (typeof event.data.name === 'string' && event.type === 'peer_joined') state.names.set(event.data.peer_id, event.data.name);
  state.events.push(event);
  if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
  const feed = $('feed');
  feed.prepend(eventItem(event));
  while (feed.childElementCount > MAX_FEED_ITEMS) feed.lastElementChild.remove();
  if (event.type === 'stake_changed' && typeof event.data.stake === 'number') setStake(event.data.peer_id, event.data.stake);
  else refreshSoon();
  if (state.selected === event.data.peer_id) renderDetailEvents();
}

let source;
let reconnectTimer;
let reconnectDelay = 1000;

function setStatus(s) {
  const pill = $('stream-status');
  pill.dataset.state = s;
  pill.dataset.connects = String(state.connects);
  pill.textContent = s === 'live' && state.connects > 1 ? `live (reconnected ${state.connects - 1}×)` : s;
}

/**
 * Opens the event stream. The first connection replays what the registry
 * retains (Last-Event-ID 0) so the feed has history; the browser then resumes
 * by itself with the Last-Event-ID header after a dropped connection. When it
 * gives up (an HTTP error, not a network one), we open a new stream from the
 * last id seen, so nothing inside the replay window is lost either way.
 */
function connect() {
  clearTimeout(reconnectTimer);
  source?.close();
  source = new EventSource(`/v1/events?lastEventId=${encodeURIComponent(state.lastEventId ?? '0')}`);
  source.onopen = () => {
    state.connects++;
    reconnectDelay = 1000;
    setStatus('live');
    // Leases move on heartbeats, which are not events: read the list again after a gap.
    if (state.connects > 1) refreshSoon();
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      setStatus('offline');
      reconnectTimer = setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(10_000, reconnectDelay * 2);
    } else {
      setStatus('reconnecting');
    }
  };
  for (const type of [...EVENT_TYPES, 'stream_position']) source.addEventListener(type, onEvent);
}

// ---------------------------------------------------------------- charts

let activityChart;
let standingChart;

function chartWidth(id) {
  return Math.max(280, $(id).clientWidth || 600);
}

async function loadStats() {
  let stats;
  try {
    ({ stats } = await api('/v1/stats'));
  } catch {
    return;
  }
  const data = [stats.starts.map((t) => t / 1000), stats.registrations, stats.searches, stats.departures];
  if (!activityChart) {
    activityChart = new uPlot(
      {
        width: chartWidth('activity-chart'),
        height: 180,
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        series: [
          {},
          { label: 'registrations', stroke: '#2b6cb0', width: 2 },
          { label: 'searches', stroke: '#38a169', width: 2 },
          { label: 'departures', stroke: '#c53030', width: 2 },
        ],
      },
      data,
      $('activity-chart'),
    );
  } else {
    activityChart.setData(data);
  }
}

function renderStandingChart() {
  const shown = state.agents.slice(0, 30);
  const data = [shown.map((_a, i) => i), shown.map((a) => a.reputation), shown.map((a) => a.availability)];
  const names = shown.map((a) => a.name);
  if (standingChart) standingChart.destroy();
  const bars = uPlot.paths.bars;
  standingChart = new uPlot(
    {
      width: chartWidth('standing-chart'),
      height: 200,
      scales: { x: { time: false, range: [-0.5, Math.max(0.5, shown.length - 0.5)] }, y: { range: [0, 1] } },
      axes: [{ values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? (names[i] ?? '') : '')), splits: () => data[0] }, {}],
      series: [
        { label: 'agent', value: (_u, i) => (i == null ? '' : (names[i] ?? '')) },
        { label: 'reputation', stroke: '#2b6cb0', fill: 'rgba(43,108,176,0.5)', paths: bars({ size: [0.35], align: -1 }), points: { show: false } },
        { label: 'availability', stroke: '#38a169', fill: 'rgba(56,161,105,0.5)', paths: bars({ size: [0.35], align: 1 }), points: { show: false } },
      ],
    },
    data,
    $('standing-chart'),
  );
}

// ---------------------------------------------------------------- wiring

function setToken(token) {
  operatorToken = token || undefined;
  const mode = $('token-state');
  mode.dataset.mode = operatorToken === undefined ? 'read-only' : 'operator';
  mode.textContent = operatorToken === undefined ? 'read-only' : 'operator';
}

function start() {
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('token-input');
    setToken(input.value.trim());
    input.value = '';
  });
  $('token-clear').addEventListener('click', () => setToken(undefined));
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.query = readSearchForm();
    void search();
  });
  $('search-form').addEventListener('reset', () => {
    state.query = new URLSearchParams({ limit: '50' });
    setTimeout(() => void search(), 0);
  });
  $('agents-more').addEventListener('click', () => void search({ more: true }));
  $('detail-close').addEventListener('click', () => {
    state.selected = undefined;
    $('detail').hidden = true;
  });
  $('stake-form').addEventListener('submit', (e) => void creditStake(e));
  setInterval(() => {
    for (const td of document.querySelectorAll('#agents td.lease')) td.textContent = leaseLeft(td.dataset.expires);
  }, 1000);
  setInterval(() => void search({ poll: true }), REFRESH_MS);
  setInterval(() => void loadStats(), STATS_MS);
  connect();
  void search({ poll: true });
  void loadStats();
}

start();
