'use strict';
// Tokens given by an async function, renewed once when the server refuses
// one, and auth_failed (never a loop) when the renewed one is refused too;
// upgrade_required from a server that no longer speaks this version.
const { test } = require('node:test');
const { WebSocketServer } = require('ws');
const { assert, Caiquan, player, next, quietFor } = require('./helpers.js');

const LOGIN = () => {
  const v = process.env.CAIQUAN_LOGIN_URL;
  if (!v) throw new Error('CAIQUAN_LOGIN_URL is not set: run these tests through "go test ./sdk/"');
  return v;
};
const WS = () => LOGIN().replace(/^http/, 'ws') + '/ws';

async function login(openid) {
  const r = await fetch(LOGIN() + '/login', { method: 'POST', body: JSON.stringify({ code: 'ok-' + openid }) });
  assert.equal(r.status, 200);
  return r.json();
}

test('an async token function, and a session in place of a uid', async () => {
  const s = await login('oAsyncToken');
  const calls = [];
  const c = new Caiquan({
    url: WS(), wx: require('./wx.js').createWx(), user: { uname: '异步' },
    token: async (info) => { calls.push(info); await new Promise((r) => setTimeout(r, 20)); return { uid: s.uid, token: s.token }; },
  });
  try {
    await c.connect();
    assert.equal(c.user.uid, s.uid, 'the uid comes from the session');
    assert.deepEqual(calls, [{ renew: false, code: '' }]);
    const start = await c.join();
    assert.ok(start.roomUsers.some((u) => u.uid === s.uid));
  } finally {
    c.close();
  }
});

test('a refused token is renewed once, on the same socket', async () => {
  const s = await login('oRenewOnce');
  const calls = [];
  const c = player(WS(), 'renew', { uavatar: '', uid: s.uid, token: (info) => { calls.push(info); return info.renew ? s.token : 'v2.00000000.e30.AAAA'; } });
  try {
    await c.connect();
    assert.deepEqual(calls, [{ renew: false, code: '' }, { renew: true, code: 'bad_token' }]);
    assert.equal(c.wx.tasks.length, 1, 'one socket');
    assert.deepEqual(c.wx.last().sent.map((f) => f.hello && f.hello.token), ['v2.00000000.e30.AAAA', s.token]);
    assert.ok(!c.log.some((e) => e.ev === 'error'), 'no error event for a renewed token');
  } finally {
    c.close();
  }
});

test('refused again: the SDK stops and emits auth_failed; never a loop', async () => {
  let asked = 0;
  const c = player(WS(), 'expired', { uavatar: '', minDelay: 20, maxDelay: 40, token: () => { asked++; return 'v2.00000000.e30.AAAA'; } });
  const failed = new Promise((resolve) => c.on('auth_failed', resolve));
  const connecting = c.connect();
  const e = await failed;
  assert.equal(e.code, 'bad_token');
  assert.match(e.message, /token/);
  await assert.rejects(connecting, (err) => err.code === 'bad_token');
  assert.equal(c.state, 'closed');
  await quietFor(1000, () => `${c.wx.tasks.length}/${asked}`);
  assert.equal(c.wx.tasks.length, 1, 'no redial');
  assert.equal(asked, 2, 'asked once, renewed once');
  assert.equal(c.wx.last().sent.filter((f) => f.hello).length, 2);
});

test('a hello refused for its content stops the SDK: no redial loop', async () => {
  // In WeChat mode the server shows only avatars it serves; a foreign one
  // gets content_refused, which another try would get again.
  const s = await login('oForeignAvatar');
  const c = player(WS(), 'foreign', { uid: s.uid, token: s.token, minDelay: 20, maxDelay: 40 });
  const errors = [];
  c.on('error', (e) => errors.push(e.code));
  await assert.rejects(c.connect(), (err) => err.code === 'content_refused');
  assert.equal(c.state, 'closed');
  await quietFor(1000, () => `${c.wx.tasks.length}`);
  assert.equal(c.wx.tasks.length, 1, 'no redial');
  assert.deepEqual(errors, ['content_refused']);
});

test('a token function that fails stops the SDK with its code', async () => {
  const c = player(WS(), 'nologin', { uavatar: '', token: () => Promise.reject(Object.assign(new Error('nope'), { code: 'wechat_busy' })) });
  const e = await new Promise((resolve) => { c.on('auth_failed', resolve); c.connect(); });
  assert.deepEqual(e, { code: 'wechat_busy', message: 'nope' });
  assert.equal(c.state, 'closed');
});

test('upgrade_required: the SDK stops and says so', async () => {
  // A server of a later release that no longer speaks this SDK's version.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const hellos = [];
  wss.on('connection', (ws) => ws.on('message', (d) => {
    const m = JSON.parse(d);
    hellos.push(m.hello);
    ws.send(JSON.stringify({ error: { code: 'upgrade_required', message: 'this server speaks client protocol versions 2 to 2, not 1; update the client' } }));
  }));
  await new Promise((r) => wss.once('listening', r));
  const c = player(`ws://127.0.0.1:${wss.address().port}/ws`, 'old', { minDelay: 20, maxDelay: 40 });
  try {
    const up = c.once('upgrade_required');
    c.connect().catch(() => {});
    const e = await up;
    assert.equal(e.code, 'upgrade_required');
    assert.equal(c.state, 'closed');
    assert.equal(hellos[0].protocol, Caiquan.PROTOCOL);
    await quietFor(500, () => c.wx.tasks.length);
    assert.equal(hellos.length, 1, 'no retry');
  } finally {
    c.close();
    wss.close();
  }
});
