'use strict';
// The sample mini-program (../../miniprogram) run in Node: its app.js and
// page scripts are loaded with stand-ins for App, Page, getApp and wx (the
// same real-socket wx as the SDK tests), and driven through their tap
// handlers against a real server, reading the page data a view would show.
const { test, before, beforeEach, after } = require('node:test');
const path = require('node:path');
const { assert, serverURL } = require('./helpers.js');
const { createWx } = require('./wx.js');

const MP = path.join(__dirname, '..', '..', 'miniprogram');
const WAIT = 8000;

let app;
const pages = {};

before(() => {
  // config.js points at the test server.
  const cfg = path.join(MP, 'config.js');
  require.cache[cfg] = { id: cfg, filename: cfg, loaded: true, exports: { url: serverURL('CAIQUAN_BOT_URL') } };
  global.App = (def) => { app = def; };
  global.getApp = () => app;
  for (const route of ['index', 'game']) {
    global.Page = (def) => { pages[route] = def; };
    require(path.join(MP, 'pages', route, route + '.js'));
  }
  require(path.join(MP, 'app.js'));
});

after(() => app._client && app._client.close());

beforeEach(() => {
  if (app._client) app._client.close();
  global.wx = miniWx();
  app._client = null;
  app.onLaunch();
});

// miniWx adds storage and UI calls to the socket stand-in.
function miniWx() {
  const wx = createWx();
  const store = {};
  wx.getStorageSync = (k) => store[k];
  wx.setStorageSync = (k, v) => { store[k] = JSON.parse(JSON.stringify(v)); };
  wx.toasts = [];
  wx.showToast = (o) => wx.toasts.push(o.title);
  wx.navigateTo = (o) => { wx.navigated = o.url; };
  return wx;
}

// open makes a page instance as the framework would and records every
// setData so transient states (a wiggle) can be checked afterwards.
function open(route) {
  const def = pages[route];
  const p = Object.assign({}, def, { data: JSON.parse(JSON.stringify(def.data)), history: [] });
  p.setData = function (d) { this.history.push(d); Object.assign(this.data, d); };
  if (p.onLoad) p.onLoad({});
  if (p.onShow) p.onShow();
  return p;
}

function waitData(p, pred, what) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      if (pred(p.data)) { clearInterval(iv); resolve(p.data); }
      else if (Date.now() - t0 > WAIT) { clearInterval(iv); reject(new Error(`page never showed ${what}; data: ${JSON.stringify(p.data)}`)); }
    }, 10);
  });
}

const tap = (p, handler, dataset = {}) => p[handler]({ currentTarget: { dataset } });

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

test('a dropped connection mid-round ends the round on screen, and play goes on', async () => {
  const game = open('game');
  tap(game, 'tapStart');
  await waitData(game, (d) => d.phase === 'playing', 'playing');
  wx.last().drop();
  await waitData(game, (d) => d.phase === 'idle' && /本局作废/.test(d.notice), 'idle with a notice');
  await waitData(game, (d) => d.conn === 'ready', 'reconnected');
  assert.equal(wx.tasks.length, 2);
  tap(game, 'tapStart');
  await waitData(game, (d) => d.phase === 'result', 'a result after the reconnect');
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
