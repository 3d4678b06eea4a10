'use strict';
// Guest login: Caiquan.loginAsGuest against a server in guest mode (its
// POST /guest), then rounds with the token; renewal keeps the uid; a kept
// token the server refuses gives a new guest; an anonymous server answers
// null.
const { test } = require('node:test');
const { assert, player, next } = require('./helpers.js');
const Caiquan = require('../caiquan.js');

function base(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through "go test ./sdk/"`);
  return v;
}

function memory() {
  const m = {};
  return { m, get: (k) => m[k] || null, set: (k, v) => { m[k] = v; }, remove: (k) => { delete m[k]; } };
}

test('a guest plays under its uid and keeps it on renewal', async () => {
  const server = base('CAIQUAN_GUEST_URL');
  const storage = memory();
  const s = await Caiquan.loginAsGuest({ server, storage });
  assert.match(s.uid, /^g_[0-9a-f]{24}$/);
  assert.deepEqual(storage.m['caiquan.guest'], s);

  const c = player(server.replace(/^http/, 'ws') + '/ws', '客人', { uid: s.uid, token: () => storage.m['caiquan.guest'].token });
  c.connect();
  const hi = await next(c, 'hi');
  c.join();
  await next(c, 'start');
  c.choose(Caiquan.ROCK);
  const res = await next(c, 'result');
  assert.equal(res.me.uid, s.uid);
  c.close();

  const again = await Caiquan.loginAsGuest({ server, storage });
  assert.equal(again.uid, s.uid, 'renewal keeps the uid');
  assert.notEqual(again.token, '');
  const c2 = player(server.replace(/^http/, 'ws') + '/ws', '客人', { uid: s.uid, token: again.token });
  c2.connect();
  const hi2 = await next(c2, 'hi');
  assert.equal(hi2.totalScore, res.me.totalScore, 'the renewed guest keeps its total');
  assert.ok(hi.totalScore <= hi2.totalScore);
  c2.close();
});

test('a kept token the server refuses gives a new guest, once', async () => {
  const server = base('CAIQUAN_GUEST_URL');
  const storage = memory();
  storage.set('k', { uid: 'g_000000000000000000000000', token: 'v2.00000000.e30.AAAA' });
  const calls = [];
  const real = (url, token) => {
    calls.push(token);
    return fetch(url, { method: 'POST', headers: token ? { Authorization: 'Bearer ' + token } : {} })
      .then((r) => r.json().then((data) => ({ status: r.status, data })));
  };
  const s = await Caiquan.loginAsGuest({ server, storage, key: 'k', request: real });
  assert.match(s.uid, /^g_/);
  assert.notEqual(s.uid, 'g_000000000000000000000000');
  assert.deepEqual(calls, ['v2.00000000.e30.AAAA', '']);
});

test('an anonymous server answers null; other refusals reject with their code', async () => {
  assert.equal(await Caiquan.loginAsGuest({ server: base('CAIQUAN_BOT_URL'), storage: memory() }), null);
  await assert.rejects(
    Caiquan.loginAsGuest({ server: base('CAIQUAN_GUEST_URL'), storage: memory(), request: async () => ({ status: 429, data: { code: 'rate_limited', message: 'slow down' } }) }),
    (e) => e.code === 'rate_limited' && e.message === 'slow down');
});

test('in a mini-program it uses wx.request and wx storage', async () => {
  const server = base('CAIQUAN_GUEST_URL');
  const kept = {};
  const seen = [];
  const wx = {
    getStorageSync: (k) => kept[k] || '',
    setStorageSync: (k, v) => { kept[k] = v; },
    removeStorageSync: (k) => { delete kept[k]; },
    request: (o) => {
      seen.push(o.header.Authorization || '');
      fetch(o.url, { method: o.method, headers: o.header })
        .then((r) => r.json().then((data) => o.success({ statusCode: r.status, data })), (e) => o.fail({ errMsg: String(e) }));
    },
  };
  const s = await Caiquan.loginAsGuest({ server, wx });
  assert.equal(kept['caiquan.guest'].uid, s.uid);
  const again = await Caiquan.loginAsGuest({ server, wx });
  assert.equal(again.uid, s.uid);
  assert.deepEqual(seen, ['', 'Bearer ' + s.token]);
});
