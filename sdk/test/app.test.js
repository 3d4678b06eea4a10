'use strict';
// The mini-program's life cycle (background and foreground) and the two
// ends after which the SDK must never dial again: close(), and 4001 (the
// same player connected elsewhere).
const { test } = require('node:test');
const { assert, serverURL, player, next, until, quietFor } = require('./helpers.js');

const URL = () => serverURL('CAIQUAN_BOT_URL');
// Absence is shown over this long: ten times the tests' largest retry delay.
const QUIET = 1000;

test('in the background a dropped socket is not redialled; onAppShow redials at once', async () => {
  const c = player(URL(), 'bg', { minDelay: 50, maxDelay: 100 });
  try {
    c.connect();
    await next(c, 'hi');
    c.wx.appHide();
    assert.equal(c.state, 'ready', 'hiding alone keeps an open socket');
    const mark = c.log.length;
    c.wx.last().drop();
    const gone = await next(c, 'disconnect', () => true, { from: mark });
    assert.equal(gone.reconnect, true);
    assert.equal(gone.delay, null, 'no retry is scheduled while hidden');
    assert.equal(c.state, 'connecting');
    await quietFor(QUIET, () => c.wx.tasks.length);

    c.wx.appShow();
    assert.equal(c.wx.tasks.length, 2, 'onAppShow dials at once');
    const hi = await next(c, 'hi', () => true, { from: mark });
    assert.equal(c.state, 'ready');
    assert.equal(hi.totalScore, c.totalScore);
    const hello = c.wx.last().sent[0].hello;
    assert.deepEqual(hello.user, c.user);
    assert.equal(typeof hello.resume.token, 'string', 'the new socket asks for the session back');
  } finally {
    c.close();
  }
  assert.deepEqual(c.wx.listeners(), { show: 0, hide: 0 }, 'close() stops following the app');
});

test('going to the background cancels a retry already scheduled', async () => {
  const c = player(URL(), 'bg-pending', { minDelay: 400, maxDelay: 400 });
  try {
    c.connect();
    await next(c, 'hi');
    const mark = c.log.length;
    c.wx.last().drop();
    const gone = await next(c, 'disconnect', () => true, { from: mark });
    assert.ok(gone.delay >= 200, 'a retry is scheduled');
    c.wx.appHide();
    await quietFor(QUIET, () => c.wx.tasks.length);
    assert.equal(c.state, 'connecting');
    c.wx.appShow();
    await next(c, 'hi', () => true, { from: mark });
    assert.equal(c.wx.tasks.length, 2);
  } finally {
    c.close();
  }
});

test('onAppShow with a healthy socket changes nothing', async () => {
  const c = player(URL(), 'fg', { minDelay: 50, maxDelay: 100 });
  try {
    c.connect();
    await next(c, 'hi');
    c.wx.appHide();
    c.wx.appShow();
    assert.equal(c.wx.tasks.length, 1);
    assert.equal(c.state, 'ready');
  } finally {
    c.close();
  }
});

test('replaced by the same player elsewhere (4001): closed, and never redialled', async () => {
  const first = player(URL(), 'twin', { minDelay: 50, maxDelay: 100 });
  const second = player(URL(), 'twin', { uid: first.user.uid, minDelay: 50, maxDelay: 100 });
  try {
    first.connect();
    await next(first, 'hi');
    const replaced = next(first, 'error', (e) => e.code === 'replaced');
    // Waited for from now: the kick may reach first before hi reaches second.
    const disconnected = next(first, 'disconnect');
    second.connect();
    await next(second, 'hi');
    const gone = await disconnected;
    assert.equal(gone.code, 4001);
    assert.equal(gone.reconnect, false);
    await replaced;
    assert.equal(first.state, 'closed');
    first.wx.appShow(); // not even the foreground brings it back
    await quietFor(QUIET, () => first.wx.tasks.length + second.wx.tasks.length);
    assert.equal(second.state, 'ready', 'the newer connection stays');
    assert.equal(first.wx.tasks.length, 1);
  } finally {
    first.close();
    second.close();
  }
});

test('close() ends for good: no retry, also mid-queue', async () => {
  const c = player(URL(), 'closer', { minDelay: 50, maxDelay: 100 });
  c.connect();
  await next(c, 'hi');
  c.join();
  await until(c, 'queued');
  c.close();
  assert.equal(c.state, 'closed');
  await quietFor(QUIET, () => c.wx.tasks.length);
  assert.equal(c.wx.last().closeInfo && c.wx.last().closeInfo.code, 1000, 'closed with 1000');

  // connect() after close() starts over.
  const mark = c.log.length;
  c.connect();
  await next(c, 'hi', () => true, { from: mark });
  assert.equal(c.wx.tasks.length, 2);
  c.close();
});

test('leave() leaves the queue: no round starts for the player', async () => {
  const c = player(URL(), 'leaver', { minDelay: 50, maxDelay: 100 });
  try {
    c.connect();
    await next(c, 'hi');
    c.join();
    await until(c, 'queued');
    assert.equal(c.leave(), true);
    assert.equal(c.state, 'ready');
    // The bot would have filled the seat 300 ms after join; twice that and more is quiet.
    await quietFor(QUIET, () => c.log.filter((e) => e.ev === 'start').length);
    // And the player can join again and play.
    c.join();
    await next(c, 'start');
    await next(c, 'result');
    assert.equal(c.state, 'ready');
  } finally {
    c.close();
  }
});
