'use strict';
// The sample mini-program (../../miniprogram) in the stand-in for the WeChat
// runtime (mp.js), driven through its tap handlers against a real
// anonymous server, reading the page data a view would show. Its config
// asks for guest play; an anonymous server has none, so the sample names
// its own uid. miniprogram-wechat.test.js runs it with WeChat login.
const { test, beforeEach, afterEach } = require('node:test');
const { assert, serverURL } = require('./helpers.js');
const mp = require('./mp.js');

let wx;
let app;
let pages;

beforeEach(() => {
  wx = mp.miniWx();
  const url = serverURL('CAIQUAN_BOT_URL');
  ({ app, pages } = mp.load(wx, { url, server: url.replace(/^ws/, 'http').replace(/\/ws$/, ''), guest: true }));
  app.onLaunch();
});

afterEach(() => app._client && app._client.close());

const open = (route) => mp.open(pages, route);
const waitData = mp.waitData;
const tap = mp.tap;

test('index shows the player and its standing once connected', async () => {
  const index = open('index');
  assert.equal(index.data.user.uid.length, 12);
  assert.match(index.data.user.uid, /^[0-9a-z]{12}$/);
  await waitData(index, (d) => d.conn === 'ready', 'ready');
  assert.equal(index.data.connText, '已连接');
  assert.ok(index.data.nearby >= 1);
  tap(index, 'tapPlay');
  assert.equal(wx.navigated, '/pages/game/game');
  index.onUnload();
});

test('a round: countdown, the bot wiggles, the result shows both hands, then idle', async () => {
  const game = open('game');
  tap(game, 'tapStart');
  assert.equal(game.data.phase, 'waiting');
  await waitData(game, (d) => d.phase === 'playing', 'playing');
  assert.equal(game.data.countdown, 1, 'the countdown starts at gameTime');
  assert.ok(game.data.opp && game.data.opp.uid, 'the opponent is shown');
  tap(game, 'tapHand', { choice: 2 });
  assert.equal(game.data.myChoice, 2);
  tap(game, 'tapHand'); // tapping my own hand cycles 2 → 3
  assert.equal(game.data.myChoice, 3);
  tap(game, 'tapFace', { face: 1 });
  await waitData(game, (d) => d.phase === 'result', 'the result');
  const d = game.data;
  assert.equal(d.myChoice, 3, 'my hand as the server counted it');
  assert.ok(d.oppChoice >= 1 && d.oppChoice <= 3, 'the bot\'s hand');
  assert.ok(['win', 'tie', 'loss'].includes(d.outcome));
  assert.equal(d.outcomeText.length > 0, true);
  assert.equal(d.totalScore, app.client().totalScore);
  assert.equal(d.winStreak, app.client().winStreak);
  assert.ok(game.history.some((h) => h.wiggle === true), 'the bot\'s movement wiggled its avatar');
  await waitData(game, (x) => x.phase === 'idle', 'idle after the result');
  assert.equal(game.data.wiggle, false);
  game.onUnload();
});

test('a loss does not freeze the page: back to idle, and the next round starts', async () => {
  const game = open('game');
  tap(game, 'tapStart');
  await waitData(game, (d) => d.phase === 'playing', 'playing');
  // Never choosing loses to the bot, which always chooses.
  await waitData(game, (d) => d.phase === 'result', 'the result');
  assert.equal(game.data.outcome, 'loss');
  assert.equal(game.data.myChoice, 0);
  await waitData(game, (d) => d.phase === 'idle', 'idle after a loss');
  tap(game, 'tapStart');
  await waitData(game, (d) => d.phase === 'playing', 'a second round');
  await waitData(game, (d) => d.phase === 'result', 'its result');
  game.onUnload();
});

test('a dropped connection mid-round is resumed: the round goes on, the choice counts', async () => {
  const game = open('game');
  tap(game, 'tapStart');
  await waitData(game, (d) => d.phase === 'playing', 'playing');
  tap(game, 'tapHand', { choice: 1 });
  await waitData(game, () => wx.last().sent.some((f) => f.choice), 'the choice sent');
  wx.last().drop();
  await waitData(game, (d) => d.phase === 'result', 'the result after the resume');
  assert.equal(wx.tasks.length, 2);
  assert.ok(wx.last().sent[0].hello.resume, 'the new socket asked for the session back');
  assert.equal(game.data.myChoice, 1, 'the choice made before the drop counted');
  assert.ok(!game.history.some((h) => /本局作废/.test(h.notice || '')), 'no void on screen');
  await waitData(game, (d) => d.phase === 'idle', 'idle after the result');
  tap(game, 'tapStart');
  await waitData(game, (d) => d.phase === 'result', 'a result of the next round');
  game.onUnload();
});

test('a drop whose resume is refused ends the round on screen, and play goes on', async () => {
  const game = open('game');
  tap(game, 'tapStart');
  await waitData(game, (d) => d.phase === 'playing', 'playing');
  app.client()._resume.token = 'not-a-token'; // as after the window ended
  wx.last().drop();
  await waitData(game, (d) => d.phase === 'idle' && /本局作废/.test(d.notice), 'idle with a notice');
  await waitData(game, (d) => d.conn === 'ready', 'reconnected');
  tap(game, 'tapStart');
  await waitData(game, (d) => d.phase === 'result', 'a result after the reconnect');
  game.onUnload();
});

test('every error shows the SDK\'s Chinese sentence for its code', async () => {
  const game = open('game');
  await waitData(game, (d) => d.conn === 'ready', 'ready');
  game.on_error({ code: 'rate_limited', message: 'too many messages' });
  game.on_error({ code: 'some_future_code', message: 'x' });
  assert.deepEqual(wx.toasts.slice(-2), ['操作太频繁，请稍后再试', '出错了，请稍后再试']);
  game.onUnload();
});

test('leaving the page mid-queue leaves the queue', async () => {
  const game = open('game');
  tap(game, 'tapStart');
  await waitData(game, () => app.client().state === 'queued', 'queued');
  game.onUnload();
  assert.equal(app.client().state, 'ready');
  assert.deepEqual(Object.keys(wx.last().sent.at(-1)), ['leave']);
});

test('the avatar without a login (anonymous server): nothing is uploaded, a toast says to log in', async () => {
  const index = open('index');
  await waitData(index, (d) => d.conn === 'ready', 'ready');
  await index.onChooseAvatar({ detail: { avatarUrl: 'wxfile://tmp/a.png' } });
  assert.deepEqual(wx.uploads, []);
  assert.deepEqual(wx.toasts, ['请先登录']);
  index.onUnload();
});
