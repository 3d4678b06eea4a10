'use strict';
// The sample mini-program as shipped (WeChat login) in the stand-in for the
// WeChat runtime (mp.js), against a real server in WeChat mode whose
// code2Session is a stand-in (go test starts both: tokens live 25 s,
// rounds 3 s). One player's afternoon: log in, upload an avatar, play a
// round; go to the background for 10 s mid-round and come back (the round's
// result arrives, the choice counted); the token expires, and play goes on.
const { test } = require('node:test');
const { assert } = require('./helpers.js');
const mp = require('./mp.js');

const BASE = () => {
  const v = process.env.CAIQUAN_WECHAT_URL;
  if (!v) throw new Error('CAIQUAN_WECHAT_URL is not set: run these tests through "go test ./sdk/"');
  return v;
};
// What POST /avatar answers (the stand-in below): a path on the server.
const AVATAR = '/avatars/0123456789abcdef0123456789abcdef.png';
const TOKEN_TTL = 25000; // -token-ttl of that server
const ROUND = 8000; // a round of 3 s, the result's 1.5 s and slack

test('WeChat login, a round, 10 s in the background mid-round, an expired token', async () => {
  const server = BASE();
  const wx = mp.miniWx({
    code: () => 'ok-oSamplePlayer',
    // POST /avatar is another change's; this stands in for its answer.
    upload: () => ({ statusCode: 200, data: JSON.stringify({ url: AVATAR }) }),
  });
  const { app, pages } = mp.load(wx, { server, url: server.replace(/^http/, 'ws') + '/ws', guest: false });
  app.onLaunch();
  try {
    // Logged in with wx.login and POST /login; the page shows the login's uid.
    const index = mp.open(pages, 'index');
    await mp.waitData(index, (d) => d.conn === 'ready', 'connected');
    assert.equal(wx.logins, 1);
    const session = wx.store['caiquan.wechat'];
    assert.match(session.uid, /^wx_[0-9a-f]{24}$/);
    assert.equal(index.data.user.uid, session.uid);
    assert.equal(wx.last().sent[0].hello.token, session.token);
    assert.deepEqual(wx.requests.map((r) => [new URL(r.url).pathname, r.status]), [['/login', 200]]);

    // The chosen avatar is uploaded with the token; hello then names its URL.
    await index.onChooseAvatar({ detail: { avatarUrl: 'wxfile://tmp/avatar.png' } });
    assert.deepEqual(wx.uploads, [{ url: server + '/avatar', filePath: 'wxfile://tmp/avatar.png', name: 'avatar', header: { Authorization: 'Bearer ' + session.token } }]);
    await mp.waitData(index, (d) => d.conn === 'ready', 'connected again under the new avatar');
    assert.equal(wx.last().sent[0].hello.user.uavatar, AVATAR);
    assert.equal(index.data.userAvatar, server + AVATAR, 'the page loads it from the server');
    index.onUnload();

    // A round.
    const game = mp.open(pages, 'game');
    mp.tap(game, 'tapStart');
    await mp.waitData(game, (d) => d.phase === 'playing', 'playing');
    const me = app.client().round.roomUsers.find((u) => u.uid === session.uid);
    assert.equal(me.uavatar, AVATAR, 'the others see the uploaded avatar');
    assert.equal(game.data.countdown, 3);
    mp.tap(game, 'tapHand', { choice: 2 });
    await mp.waitData(game, (d) => d.phase === 'result', 'the first result', ROUND);
    assert.equal(game.data.myChoice, 2);
    await mp.waitData(game, (d) => d.phase === 'idle', 'idle');

    // Mid-round to the background: WeChat closes the socket; 10 s later
    // the app is shown again, resumes, and the round's result arrives.
    mp.tap(game, 'tapStart');
    await mp.waitData(game, (d) => d.phase === 'playing', 'playing the second round');
    const roundId = app.client().round.roundId;
    mp.tap(game, 'tapHand', { choice: 3 });
    await mp.waitData(game, () => wx.last().sent.some((f) => f.choice && f.choice.choice === 3), 'the choice sent');
    wx.appHide();
    wx.last().drop();
    const tasks = wx.tasks.length;
    const hiddenAt = Date.now();
    await mp.waitData(game, () => Date.now() - hiddenAt >= 10000, '10 s in the background', 12000);
    assert.equal(wx.tasks.length, tasks, 'no dialling in the background');
    assert.equal(game.data.phase, 'playing', 'the round is still on screen');
    const mark = game.history.length;
    wx.appShow();
    await mp.waitData(game, (d) => d.phase === 'result', 'the second round\'s result after the background', ROUND);
    assert.ok(wx.last().sent[0].hello.resume, 'the new socket asked for the session back');
    assert.equal(game.data.myChoice, 3, 'the choice made before the background counted');
    assert.equal(game.history.slice(mark).filter((h) => h.phase === 'result').length, 1, 'the result once');
    assert.ok(!game.history.slice(mark).some((h) => /作废/.test(h.notice || '')), 'no void');
    assert.equal(app.client().round, null);
    assert.ok(roundId);
    await mp.waitData(game, (d) => d.phase === 'idle', 'idle');

    // The token expires. The phone's clock is behind, so the kept session
    // still looks valid to the SDK: the server refuses it, the SDK logs in
    // anew once (wx.login, POST /login) and play goes on as the same uid.
    wx.store['caiquan.wechat'].expiresAt = new Date(Date.now() + 86400000).toISOString();
    await mp.waitData(game, () => Date.now() > JSON.parse(Buffer.from(session.token.split('.')[2], 'base64url')).exp * 1000 + 1000, 'the token expired', TOKEN_TTL + 2000);
    wx.last().drop();
    await mp.waitData(game, (d) => d.conn === 'ready', 'connected after the token expired');
    const hellos = wx.last().sent.filter((f) => f.hello).map((f) => f.hello.token);
    assert.equal(hellos.length, 2, 'the expired token, then a renewed one, on one socket');
    assert.equal(hellos[0], session.token);
    assert.notEqual(hellos[1], session.token);
    assert.equal(wx.logins, 2);
    assert.equal(wx.store['caiquan.wechat'].uid, session.uid, 'the same player');
    mp.tap(game, 'tapStart');
    await mp.waitData(game, (d) => d.phase === 'playing', 'playing after the renewal');
    mp.tap(game, 'tapHand', { choice: 1 });
    await mp.waitData(game, (d) => d.phase === 'result', 'a result after the renewal', ROUND);
    assert.equal(game.data.myChoice, 1);
    assert.deepEqual(wx.toasts, [], 'no error shown');
    assert.deepEqual(wx.modals, []);
    game.onUnload();
  } finally {
    if (app._client) app._client.close();
  }
});

// The avatar upload, with stand-in answers for POST /avatar: a refused
// token is renewed once and the upload tried again; an answer that is not
// a path under /avatars/ on this server is not taken as the avatar.
test('avatar upload: a refused token is renewed once; a foreign URL is refused', async () => {
  const server = BASE();
  const answers = [
    { statusCode: 401, data: JSON.stringify({ code: 'token_expired', message: 'the token has expired' }) },
    { statusCode: 200, data: JSON.stringify({ url: 'https://elsewhere.example/x.png' }) },
  ];
  const wx = mp.miniWx({ code: () => 'ok-oAvatarPlayer', upload: () => answers.shift() });
  const { app, pages } = mp.load(wx, { server, url: server.replace(/^http/, 'ws') + '/ws', guest: false });
  app.onLaunch();
  try {
    const index = mp.open(pages, 'index');
    await mp.waitData(index, (d) => d.conn === 'ready', 'connected');
    const before = wx.store['caiquan.wechat'].token;
    await index.onChooseAvatar({ detail: { avatarUrl: 'wxfile://tmp/a.png' } });
    assert.equal(wx.uploads.length, 2, 'tried again once');
    assert.equal(wx.uploads[0].header.Authorization, 'Bearer ' + before);
    // (Logins within one second get the same token: the claims are equal.)
    assert.equal(wx.logins, 2, 'after a fresh wx.login');
    assert.equal(wx.requests.filter((r) => r.url.endsWith('/login') && r.status === 200).length, 2);
    assert.equal(wx.uploads[1].header.Authorization, 'Bearer ' + wx.store['caiquan.wechat'].token, 'with the renewed token');
    assert.deepEqual(wx.toasts, ['出错了，请稍后再试']);
    assert.equal(app.globalData.user.uavatar, '', 'the foreign URL is not the avatar');
    assert.equal(wx.tasks.length, 1, 'no reconnect for a refused avatar');
    index.onUnload();
  } finally {
    if (app._client) app._client.close();
  }
});
