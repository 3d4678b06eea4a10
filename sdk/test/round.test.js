'use strict';
// A full round against a bot, once through the wx stand-in (as in a
// mini-program) and once through a browser-style WebSocket class.
const { test } = require('node:test');
const WebSocket = require('ws');
const { assert, Caiquan, serverURL, player, next, until, states, outcome } = require('./helpers.js');

const BOT = () => serverURL('CAIQUAN_BOT_URL');

async function playOneRound(c, choice) {
  c.connect();
  assert.equal(c.state, 'connecting');
  const hi = await next(c, 'hi');
  assert.equal(c.state, 'ready');
  assert.ok(hi.nearby >= 1, `nearby ${hi.nearby}, want at least this player`);
  const before = { total: c.totalScore, streak: c.winStreak };

  await assert.rejects(c.choose(choice), (e) => e.code === 'not_playing', 'choose outside a round must not send');
  const mark = c.log.length; // the bot's first movement may come right behind start
  const joined = c.join();
  await next(c, 'queued');
  assert.equal(c.state, 'queued');
  const start = await next(c, 'start');
  assert.equal(c.state, 'playing');
  assert.equal(start.gameTime, 1, 'the test server plays rounds of 1 s');
  assert.equal(start.gameTimeMs, 1000);
  assert.equal(await joined, start, 'join() resolves with the start');
  assert.ok(start.roundId, 'start has a round id');
  assert.equal(start.opponents.length, 1);
  const bot = start.opponents[0];
  assert.notEqual(bot.uid, c.user.uid);
  assert.ok(start.roomUsers.some((u) => u.uid === c.user.uid && u.uname === c.user.uname), 'I am in roomUsers');
  assert.ok(start.deadline > Date.now() - 100, 'the deadline is about gameTime from now');

  const chosen = c.choose(choice);
  assert.equal(c.face(2), true);
  await next(c, 'movement', (m) => m.uid === bot.uid && m.movement === 'choice', { from: mark }); // the bot chooses 10 ms in
  const res = await next(c, 'result');
  assert.equal(c.state, 'ready', 'after a result the client is ready again');
  assert.equal(res.roundId, start.roundId);
  assert.equal(await chosen, res, 'choose() resolves with the round\'s result');
  assert.equal(res.me.uid, c.user.uid);
  assert.equal(res.me.choice, choice, 'the server counted my choice');
  assert.equal(res.others.length, 1);
  assert.equal(res.others[0].uid, bot.uid);
  const want = outcome(choice, res.others[0].choice);
  assert.equal(res.outcome, want, `I chose ${choice}, the bot ${res.others[0].choice}`);
  const streak = want === 'win' ? before.streak + 1 : want === 'loss' ? 0 : before.streak;
  const score = want === 'win' ? streak : 0;
  assert.deepEqual(
    { roundScore: res.me.roundScore, totalScore: res.me.totalScore, winStreak: res.me.winStreak },
    { roundScore: score, totalScore: before.total + score, winStreak: streak },
  );
  assert.equal(c.totalScore, res.me.totalScore);
  assert.equal(c.winStreak, res.me.winStreak);
  return res;
}

test('a full round against a bot through the wx stand-in', async () => {
  const c = player(BOT(), 'wx-player');
  try {
    await playOneRound(c, 2);
    assert.deepEqual(states(c), ['connecting', 'ready', 'queued', 'playing', 'ready']);
    const frames = c.wx.last().sent;
    assert.deepEqual(frames[0], { hello: { user: c.user, protocol: Caiquan.PROTOCOL } }, 'hello comes first, with the user and the protocol version');
    assert.deepEqual(frames.slice(1).map((f) => Object.keys(f)[0]), ['join', 'choice', 'face']);
    // A second round on the same connection: nothing is left over from the first.
    await until(c, 'ready');
    const second = await (async () => {
      c.join();
      await next(c, 'start', () => true, { from: c.log.length });
      c.choose(3);
      return next(c, 'result', () => true, { from: c.log.length });
    })();
    assert.equal(second.me.choice, 3);
    assert.equal(c.state, 'ready');
    assert.equal(c.wx.tasks.length, 1, 'one socket for both rounds');
  } finally {
    c.close();
  }
  assert.equal(c.state, 'closed');
});

test('a full round against a bot through a browser-style WebSocket', async () => {
  const c = player(BOT(), 'web-player', { WebSocket });
  try {
    await playOneRound(c, 1);
  } finally {
    c.close();
  }
});

test('a player who never chooses loses and is ready again', async () => {
  const c = player(BOT(), 'idle-player');
  try {
    c.connect();
    c.join(); // before ready: remembered and sent after hi
    await next(c, 'start');
    const res = await next(c, 'result');
    assert.equal(res.me.choice, 0);
    assert.equal(res.outcome, 'loss');
    assert.equal(res.me.winStreak, 0);
    assert.equal(c.state, 'ready');
    assert.deepEqual(states(c), ['connecting', 'ready', 'queued', 'playing', 'ready']);
  } finally {
    c.close();
  }
});
