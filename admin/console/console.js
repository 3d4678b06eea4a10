// The admin console: the live actor tree with kill buttons, and a chaos
// panel, over the admin API of the listener that served this page.
//
// The page holds no data of its own. The operator pastes the admin token;
// it stays in this tab's sessionStorage (gone when the tab closes) and goes
// out only as the Authorization header of same-origin API calls. Every name
// the server sends (player uids are chosen by players) is shown with
// textContent, never parsed as markup.

// KINDS are actors.Kinds; admin's tests check the two agree.
const KINDS = ['node', 'session', 'lobby', 'roomhost', 'room', 'bot', 'directory', 'player'];
const MODES = ['stop', 'poison', 'panic'];
const TOKEN_KEY = 'caiquan-admin-token';
const REFRESH_MS = 2000;
const CHAOS_POLL_MS = 500;
// MAX_ROWS bounds the tree a refresh draws: a node with thousands of
// sessions would otherwise freeze the tab every two seconds.
const MAX_ROWS = 1000;

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

// ---- token and API ----

const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// parseJSON keeps the chaos seed exact: a uint64 may not fit a JavaScript
// number, so where the browser offers the source text, the seed stays text.
function parseJSON(text) {
  return JSON.parse(text, (key, value, ctx) =>
    key === 'seed' && ctx && typeof ctx.source === 'string' ? ctx.source : value);
}

async function api(method, path, body) {
  const tok = token.get();
  if (!tok) throw new APIError(401, 'no_token', 'paste the admin token first');
  const headers = { Authorization: `Bearer ${tok}` };
  const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    init.body = body === undefined ? '{}' : (typeof body === 'string' ? body : JSON.stringify(body));
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? parseJSON(text) : null; } catch { /* reported below */ }
  if (!res.ok) {
    const code = data && data.code ? data.code : `http_${res.status}`;
    const message = data && data.message ? data.message : `${method} ${path}: ${res.status}`;
    if (res.status === 401) lock('The server refused the token: paste the right one.');
    throw new APIError(res.status, code, message);
  }
  if (data === null) throw new APIError(res.status, 'bad_answer', `${method} ${path}: not JSON`);
  return data;
}

function notice(text, kind = 'info') {
  const n = $('notice');
  n.textContent = text;
  n.dataset.kind = kind;
}

function fail(err) {
  if (err instanceof APIError && err.status === 401) return; // lock said why
  notice(err instanceof APIError ? `${err.code}: ${err.message}` : String(err), 'error');
}

// ---- connecting ----

function lock(why) {
  token.forget();
  stopTimers();
  document.body.dataset.state = 'locked';
  clearTree();
  showChaos(null);
  if (why) notice(why, 'error');
  $('token').focus();
}

async function connect() {
  document.body.dataset.state = 'connecting';
  try {
    await refresh();
    await pollChaos();
  } catch (err) {
    fail(err);
    if (!token.get()) return; // refused: locked again
  }
  // Connected, or the server did not answer this time: the timers retry.
  document.body.dataset.state = 'connected';
  $('who').textContent = `connected to ${location.host}`;
  startTimers();
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('token').value.trim();
  $('token').value = '';
  if (!/^[!-~]{32,}$/.test(t)) { // as admin.ValidToken
    notice('An admin token is at least 32 printable ASCII characters without spaces (see admin_token_file).', 'error');
    return;
  }
  token.set(t);
  notice('');
  connect();
});

$('token-forget').addEventListener('click', () => {
  lock('');
  notice('The token is forgotten in this tab.');
});

// ---- timers ----

let refreshTimer = 0;
let chaosTimer = 0;

function startTimers() {
  stopTimers();
  if (!$('auto').checked) return;
  refreshTimer = setInterval(() => {
    refresh().catch(fail);
    // A run started elsewhere (the CLI, another tab) shows up too.
    if (!chaosTimer) pollChaos().catch(fail);
  }, REFRESH_MS);
}

function stopTimers() {
  clearInterval(refreshTimer);
  clearTimeout(chaosTimer);
  refreshTimer = chaosTimer = 0;
}

$('auto').addEventListener('change', () => { if (token.get()) startTimers(); });
$('refresh').addEventListener('click', () => refresh().catch(fail));
$('id-filter').addEventListener('input', () => draw());

// ---- the actor tree ----

let actors = [];
let refreshing = null;

function selectedKinds(fieldset) {
  return [...fieldset.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value);
}

// refresh lists the actors again; calls made while one is on its way share it.
function refresh() {
  if (refreshing) return refreshing;
  const kinds = selectedKinds($('kind-filter'));
  const query = kinds.length === KINDS.length ? '' : `?kind=${encodeURIComponent(kinds.join(','))}`;
  refreshing = (kinds.length === 0 ? Promise.resolve({ actors: [] }) : api('GET', `/actors${query}`))
    .then((list) => {
      actors = list.actors || [];
      $('refreshed').textContent = `at ${clock(new Date())}`;
      draw();
    })
    .finally(() => { refreshing = null; });
  return refreshing;
}

const rows = new Map(); // node + '\n' + pid -> row
const nodes = new Map(); // node -> section

function clearTree() {
  actors = [];
  rows.clear();
  nodes.clear();
  $('tree').replaceChildren();
  $('summary').textContent = '';
  $('refreshed').textContent = '';
}

function makeRow(a) {
  const r = {};
  r.kind = el('span', { class: 'kind' });
  r.id = el('span', { class: 'id' });
  r.pid = el('span', { class: 'pid' });
  r.mailbox = el('span', { class: 'mailbox' });
  r.restarts = el('span', { class: 'restarts' });
  const buttons = el('span', { class: 'kills' });
  for (const mode of MODES) {
    const b = el('button', { type: 'button', class: `kill ${mode}`, text: mode, 'data-mode': mode });
    b.addEventListener('click', () => kill(r.actor, mode));
    buttons.append(b);
  }
  r.line = el('div', { class: 'line' }, r.kind, r.id, r.pid,
    el('span', { class: 'stat' }, 'mailbox ', r.mailbox),
    el('span', { class: 'stat' }, 'restarts ', r.restarts), buttons);
  r.children = el('ul', { class: 'children' });
  r.li = el('li', { class: 'actor' }, r.line, r.children);
  return r;
}

function updateRow(r, a) {
  r.actor = a;
  const li = r.li;
  li.dataset.kind = a.kind;
  li.dataset.id = a.id;
  li.dataset.node = a.node;
  li.dataset.pid = a.pid;
  li.dataset.restarts = String(a.restarts);
  r.kind.textContent = a.kind;
  r.id.textContent = a.id;
  r.pid.textContent = a.pid;
  r.pid.title = `started ${a.started}`;
  r.mailbox.textContent = String(a.mailbox);
  r.mailbox.classList.toggle('busy', a.mailbox > 0);
  r.restarts.textContent = String(a.restarts);
  r.restarts.classList.toggle('hot', a.restarts > 0);
}

function nodeSection(node) {
  let s = nodes.get(node);
  if (!s) {
    s = { head: el('h3'), counts: el('span', { class: 'counts' }), list: el('ul', { class: 'roots' }) };
    s.section = el('section', { class: 'node', 'data-node': node },
      el('div', { class: 'node-head' }, s.head, s.counts), s.list);
    s.head.textContent = `node ${node}`;
    nodes.set(node, s);
  }
  return s;
}

// place makes want the children of parent, in order, moving only what is
// out of place: a button under the pointer stays put across refreshes.
function place(parent, want) {
  want.forEach((child, i) => {
    if (parent.children[i] !== child) parent.insertBefore(child, parent.children[i] || null);
  });
  while (parent.children.length > want.length) parent.lastElementChild.remove();
}

// parentPID is the nearest listed ancestor of pid ("node/rooms/r1/$9" is
// under "node/rooms/r1"), or '' for a root.
function parentPID(pid, listed) {
  for (let i = pid.lastIndexOf('/'); i > 0; i = pid.lastIndexOf('/', i - 1)) {
    const up = pid.slice(0, i);
    if (listed.has(up)) return up;
  }
  return '';
}

function draw() {
  const filter = $('id-filter').value.trim().toLowerCase();
  const shown = filter ? actors.filter((a) => a.id.toLowerCase().includes(filter)) : actors;
  const drawn = shown.slice(0, MAX_ROWS);

  const byNode = new Map();
  for (const a of drawn) {
    if (!byNode.has(a.node)) byNode.set(a.node, []);
    byNode.get(a.node).push(a);
  }
  const seen = new Set();
  const sections = [];
  for (const [node, list] of [...byNode].sort((x, y) => x[0].localeCompare(y[0]))) {
    const s = nodeSection(node);
    const listed = new Set(list.map((a) => a.pid));
    const kids = new Map([['', []]]);
    const counts = {};
    for (const a of list) {
      const key = `${a.node}\n${a.pid}`;
      seen.add(key);
      let r = rows.get(key);
      if (!r) { r = makeRow(a); rows.set(key, r); }
      updateRow(r, a);
      const up = parentPID(a.pid, listed);
      if (!kids.has(up)) kids.set(up, []);
      kids.get(up).push(r.li);
      counts[a.kind] = (counts[a.kind] || 0) + 1;
    }
    for (const a of list) {
      const r = rows.get(`${a.node}\n${a.pid}`);
      place(r.children, kids.get(a.pid) || []);
    }
    place(s.list, kids.get(''));
    s.counts.textContent = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ');
    sections.push(s.section);
  }
  for (const key of [...rows.keys()]) if (!seen.has(key)) rows.delete(key);
  for (const node of [...nodes.keys()]) if (!byNode.has(node)) nodes.delete(node);
  place($('tree'), sections);
  if (sections.length === 0) $('tree').replaceChildren(el('p', { class: 'empty', text: 'no live actors of these kinds' }));

  const more = shown.length > drawn.length ? ` (showing ${drawn.length}: filter by kind or id)` : '';
  $('summary').textContent = `${shown.length} actors on ${byNode.size} node${byNode.size === 1 ? '' : 's'}${more}`;
}

async function kill(a, mode) {
  const what = `${a.kind} ${a.id} (${a.pid} on ${a.node})`;
  if (!confirm(`Kill ${what} with ${mode}?`)) return;
  try {
    const res = await api('POST', '/kill', { node: a.node, pid: a.pid, mode });
    notice(`killed ${res.killed.kind} ${res.killed.id} with ${res.mode}`);
  } catch (err) {
    if (err.status === 404) notice(`${what} is no longer live`, 'error');
    else fail(err);
  }
  refresh().catch(fail);
}

// ---- chaos ----

function checkboxes(fieldset, name, checked) {
  for (const k of KINDS) {
    fieldset.append(el('label', {}, el('input', { type: 'checkbox', name, value: k, checked: checked.includes(k) }), ` ${k}`));
  }
}

checkboxes($('kind-filter'), 'kind', KINDS);
checkboxes($('chaos-kinds'), 'chaos-kind', ['room', 'bot']);
$('kind-filter').addEventListener('change', () => { if (token.get()) refresh().catch(fail); });

const MAX_SEED = (1n << 64n) - 1n;

// chaosBody writes the request by hand so that a seed above 2^53 reaches
// the server digit for digit.
function chaosBody() {
  const req = {
    kinds: selectedKinds($('chaos-kinds')),
    modes: [...document.querySelectorAll('#chaos-modes input:checked')].map((c) => c.value),
    every: $('chaos-every').value.trim(),
    for: $('chaos-for').value.trim(),
  };
  if (req.kinds.length === 0) throw new Error('pick at least one kind to kill');
  if (req.modes.length === 0) throw new Error('pick at least one kill mode');
  const seed = $('chaos-seed').value.trim();
  if (seed === '') return JSON.stringify(req);
  if (!/^[0-9]{1,20}$/.test(seed) || BigInt(seed) > MAX_SEED) throw new Error('the seed is a whole number from 0 to 2^64-1');
  return `{"seed":${BigInt(seed)},${JSON.stringify(req).slice(1)}`;
}

$('chaos-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  let body;
  try { body = chaosBody(); } catch (err) { notice(err.message, 'error'); return; }
  try {
    showChaos(await api('POST', '/chaos', body));
    notice('chaos started');
    pollChaos().catch(fail);
  } catch (err) { fail(err); }
});

$('chaos-stop').addEventListener('click', async () => {
  try {
    showChaos(await api('DELETE', '/chaos'));
    notice('chaos stopped');
  } catch (err) { fail(err); }
});

// pollChaos shows the chaos status, and again every CHAOS_POLL_MS while a
// run goes on.
async function pollChaos() {
  clearTimeout(chaosTimer);
  chaosTimer = 0;
  const st = await api('GET', '/chaos');
  showChaos(st);
  if (st.running) chaosTimer = setTimeout(() => pollChaos().catch(fail), CHAOS_POLL_MS);
}

const ms = (t) => (t ? Date.parse(t) : NaN);
const two = (n, w = 2) => String(n).padStart(w, '0');
// clock is a time of day to the millisecond, as an operator matches it to logs.
const clock = (d) => `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${two(d.getMilliseconds(), 3)}`;
const secs = (n) => `${(n / 1000).toFixed(1)} s`;

function showChaos(st) {
  const panel = $('chaos-panel');
  if (st && !st.running && panel.dataset.chaos === 'running') {
    notice(`chaos ended: ${st.total} kill${st.total === 1 ? '' : 's'}, ${st.misses} miss${st.misses === 1 ? '' : 'es'}`);
  }
  if (!st || !st.started) {
    panel.dataset.chaos = 'none';
    $('chaos-state').textContent = 'idle';
    $('chaos-progress').value = 0;
    $('chaos-line').textContent = 'no run yet';
    $('chaos-counts').tBodies[0].replaceChildren();
    $('chaos-kills').replaceChildren();
    return;
  }
  panel.dataset.chaos = st.running ? 'running' : 'ended';
  $('chaos-state').textContent = st.running ? 'running' : 'ended';
  const started = ms(st.started);
  const span = ms(st.ends) - started;
  const at = st.running ? ms(st.now) : ms(st.ended || st.ends);
  const done = Math.max(0, Math.min(span, at - started));
  $('chaos-progress').value = span > 0 ? done / span : 1;
  $('chaos-line').textContent =
    `${st.running ? 'running' : 'ended'}: ${secs(done)} of ${secs(span)}, one kill every ${st.every}; ` +
    `kinds ${(st.kinds || []).join(', ')}; modes ${(st.modes || []).join(', ')}; seed ${st.seed}; ` +
    `${st.total} kill${st.total === 1 ? '' : 's'}, ${st.misses} miss${st.misses === 1 ? '' : 'es'}`;
  $('chaos-line').dataset.total = String(st.total);

  const counts = Object.entries(st.kills || {}).sort((x, y) => x[0].localeCompare(y[0]));
  $('chaos-counts').tBodies[0].replaceChildren(...counts.map(([k, n]) =>
    el('tr', { 'data-key': k }, el('td', { text: k }), el('td', { text: String(n) }))));
  const recent = (st.recent || []).slice().reverse();
  $('chaos-kills').replaceChildren(...recent.map((k) =>
    el('li', { class: 'chaos-kill', 'data-kind': k.kind, 'data-id': k.id, 'data-mode': k.mode },
      el('time', { text: clock(new Date(ms(k.at))), dateTime: k.at }),
      ` ${k.kind} `, el('b', { text: k.id }), ` ${k.mode} `, el('span', { class: 'pid', text: `${k.pid} on ${k.node}` }))));
}

// ---- start ----

if (token.get()) connect();
else lock('');
