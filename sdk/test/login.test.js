'use strict';
// WeChat login: POST /login on a server with auth_mode wechat (its
// code2Session is a fake that go test starts), then a round with the token,
// given as a string and as a function.
const { test } = require('node:test');
const { assert, player, next } = require('./helpers.js');

const LOGIN = () => {
  const v = process.env.CAIQUAN_LOGIN_URL;
  if (!v) throw new Error('CAIQUAN_LOGIN_URL is not set: run these tests through "go test ./sdk/"');
  return v;
};

async function login(code) {
  const r = await fetch(LOGIN() + '/login', { method: 'POST', body: JSON.stringify({ code, uname: '小明' }) });
  assert.equal(r.status, 200);
  return r.json();
}

test('a logged-in player plays under the uid of its token', async () => {
  const { token, uid } = await login('ok-oSDKPlayer');
  assert.match(uid, /^wx_[0-9a-f]{24}$/);
  const url = LOGIN().replace(/^http/, 'ws') + '/ws';
  for (const tok of [token, () => token]) {
    const c = player(url, '小明', { uid, token: tok, uavatar: '' });
    c.connect();
    await next(c, 'hi');
    c.join();
    const start = await next(c, 'start');
    assert.ok(start.roomUsers.some((u) => u.uid === uid), 'seated under the token\'s uid');
    const res = await next(c, 'result');
    assert.equal(res.me.uid, uid);
    c.close();
  }
});

test('a bad token is refused with bad_token: tried twice, then auth_failed', async () => {
  const url = LOGIN().replace(/^http/, 'ws') + '/ws';
  const c = player(url, 'mallory', { token: 'v1.e30.AAAA', connectTimeout: 60000 });
  c.connect();
  const err = await next(c, 'auth_failed');
  assert.equal(err.code, 'bad_token');
  assert.equal(c.state, 'closed');
  assert.deepEqual(c.wx.last().sent.map((f) => f.hello.token), ['v1.e30.AAAA', 'v1.e30.AAAA']);
  c.close();
});
