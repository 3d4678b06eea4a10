'use strict';
// Reconnects after the network drops the socket, against a server whose bot
// fill is long, so two test players meet each other and the outcome of each
// round is chosen by the test: rock (2) beats scissors (1).
const { test } = require('node:test');
const { assert, serverURL, player, next, until, states } = require('./helpers.js');

const PVP = () => serverURL('CAIQUAN_PVP_URL');

// round seats a and b together and plays a's rock against b's scissors.
async function round(a, b) {
  a.join();
  await next(a, 'queued');
  b.join();
  const [sa, sb] = await Promise.all([next(a, 'start'), next(b, 'start')]);
  assert.equal(sa.roundId, sb.roundId, 'a and b sit in the same round');
  assert.deepEqual(sa.opponents.map((u) => u.uid), [b.user.uid]);
  a.choose(2);
  b.choose(1);
  const [ra, rb] = await Promise.all([next(a, 'result'), next(b, 'result')]);
  assert.equal(ra.outcome, 'win');
  assert.equal(rb.outcome, 'loss');
  return ra;
}

async function connected(...players) {
  for (const p of players) p.connect();
  await Promise.all(players.map((p) => next(p, 'hi')));
}

test('a drop while queued: back as the same player, queued again, streak intact', async () => {
  const a = player(PVP(), 'queue-a');
  const b = player(PVP(), 'queue-b');
  try {
    await connected(a, b);
    const first = await round(a, b);
    assert.deepEqual([first.me.totalScore, first.me.winStreak], [1, 1]);

    a.join();
    await next(a, 'queued');
    const mark = a.log.length;
    a.wx.last().drop();
    const gone = await next(a, 'disconnect', () => true, { from: mark });
    assert.equal(gone.code, 1006);
    assert.equal(gone.reconnect, true);
    assert.ok(gone.delay >= 50 && gone.delay <= 100, `first retry after ${gone.delay} ms, want 50..100 (minDelay 100 with jitter)`);
    const hi = await next(a, 'hi', () => true, { from: mark });
    assert.equal(a.wx.tasks.length, 2, 'one new socket');
    const hello = a.wx.last().sent[0].hello;
    assert.deepEqual(hello.user, a.user, 'the new socket says hello as the same uid');
    assert.ok(hello.resume && hello.resume.token, 'and asks for its session back');
    assert.equal(hi.resumed, true);
    assert.deepEqual([hi.totalScore, hi.winStreak], [1, 1], 'the server kept this uid\'s totals');
    await next(a, 'queued', () => true, { from: mark }); // re-joined by itself
    assert.deepEqual(states(a, mark), ['connecting', 'ready', 'queued']);

    b.join();
    const [sa] = await Promise.all([next(a, 'start', () => true, { from: mark }), next(b, 'start', () => true, { from: mark })]);
    assert.deepEqual(sa.opponents.map((u) => u.uid), [b.user.uid]);
    a.choose(2);
    b.choose(1);
    const second = await next(a, 'result', () => true, { from: mark });
    assert.deepEqual(
      [second.outcome, second.me.roundScore, second.me.totalScore, second.me.winStreak],
      ['win', 2, 3, 2],
      'the second win in a row scores 2: the streak survived the reconnect',
    );
  } finally {
    a.close();
    b.close();
  }
});

test('a join asked for while the socket is down is sent once the session is resumed', async () => {
  const a = player(PVP(), 'down-a');
  const b = player(PVP(), 'down-b');
  try {
    await connected(a, b);
    const mark = a.log.length;
    a.wx.last().drop();
    await next(a, 'disconnect', () => true, { from: mark });
    assert.equal(a.state, 'connecting');
    const seated = a.join(); // the player presses Play before the SDK is back
    const hi = await next(a, 'hi', () => true, { from: mark });
    assert.equal(hi.resumed, true, 'the session was resumed, so no join of it was dropped');
    await next(a, 'queued', () => true, { from: mark });
    b.join();
    const [sa] = await Promise.all([seated, next(b, 'start')]);
    assert.deepEqual(sa.opponents.map((u) => u.uid), [b.user.uid]);
    assert.ok(!a.log.slice(mark).some((e) => e.ev === 'error'), 'no error on the way');
  } finally {
    a.close();
    b.close();
  }
});

test('a drop mid-round is resumed: the choice counts, and the result arrives once', async () => {
  const a = player(PVP(), 'resume-a');
  const b = player(PVP(), 'resume-b');
  try {
    await connected(a, b);
    a.join();
    await next(a, 'queued');
    b.join();
    const [start] = await Promise.all([next(a, 'start'), next(b, 'start')]);
    assert.equal(start.gameTimeMs, 1500, 'the pvp server plays rounds of 1.5 s');
    assert.equal(start.gameTime, 2, 'gameTime rounds up');
    assert.ok(Math.abs(start.deadline - (Date.now() + 1500)) < 300, 'the deadline comes from gameTimeMs');
    const chosen = a.choose(2);
    const bResult = next(b, 'result', () => true, { ms: 15000 });
    await next(b, 'movement', (m) => m.uid === a.user.uid); // the server has a's choice
    b.choose(1);
    const mark = a.log.length;
    a.wx.last().drop();
    const gone = await next(a, 'disconnect', () => true, { from: mark });
    assert.equal(gone.resume, true, 'the next connection resumes');
    assert.ok(a.round, 'the round is kept while resuming');
    const res = await chosen;
    assert.equal(res.roundId, start.roundId);
    assert.deepEqual([res.outcome, res.me.choice], ['win', 2], 'the choice made before the drop counted');
    const rb = await bResult;
    assert.equal(rb.others[0].choice, 2);
    assert.ok(!a.log.slice(mark).some((e) => e.ev === 'void'), 'no void');
    assert.equal(a.log.slice(mark).filter((e) => e.ev === 'result').length, 1, 'the result once');
    assert.equal(a.wx.tasks.length, 2);
    assert.equal(a.wx.last().sent[0].hello.resume.token.length > 0, true);
  } finally {
    a.close();
    b.close();
  }
});

test('a drop mid-round whose resume is refused: the round ends for the client, which is ready again as the same player', async () => {
  const a = player(PVP(), 'round-a');
  const b = player(PVP(), 'round-b');
  try {
    await connected(a, b);
    await round(a, b);
    a.join();
    await next(a, 'queued');
    b.join();
    const [start] = await Promise.all([next(a, 'start', (s) => s.opponents[0].uid === b.user.uid), next(b, 'start', (s) => s.opponents.length === 1)]);
    const bResult = next(b, 'result', (r) => r.roundId === start.roundId);
    const bLeave = next(b, 'leave', (l) => l.uid === a.user.uid);
    a.choose(2);
    await next(b, 'movement', (m) => m.uid === a.user.uid); // the server has a's choice…
    b.choose(1);
    const mark = a.log.length;
    a._resume.token = 'not-a-token'; // as when the window has passed
    a.wx.last().drop(); // …which must not count once a is gone

    const v = await next(a, 'void', () => true, { from: mark });
    assert.deepEqual(v, { roundId: start.roundId, reason: 'disconnected', local: true });
    assert.equal(a.round, null);
    await next(a, 'hi', () => true, { from: mark });
    assert.equal(a.state, 'ready', 'back to ready, not stuck in playing');
    assert.equal(a.wx.tasks.length, 2);

    await bLeave;
    const rb = await bResult;
    const aRow = rb.others.find((r) => r.uid === a.user.uid);
    assert.ok(aRow, 'the result names the player who left');
    assert.equal(aRow.choice, 0, 'a player who left counts as not choosing');
    assert.equal(rb.outcome, 'win');
    assert.equal(aRow.totalScore, 1, 'a keeps the total from its earlier win');
    assert.equal(aRow.winStreak, 0, 'not choosing is a loss: the streak ends');

    // No result of the lost round reaches a, and a plays on normally; its
    // new hi told the standing the server had when it came back.
    assert.ok(!a.log.slice(mark).some((e) => e.ev === 'result'));
    assert.ok(!states(a, mark).includes('queued'), 'a drop mid-round does not re-join by itself');
    const again = await round(a, b);
    assert.equal(again.me.totalScore, 2, 'a new win adds to the total kept by the server');
    assert.equal(again.me.winStreak, 1);
  } finally {
    a.close();
    b.close();
  }
});

test('a server that does not answer is retried with growing, capped delays', async () => {
  // Nothing listens on this port: every attempt fails, and the delays grow.
  const c = player('ws://127.0.0.1:9/ws', 'nobody-home', { minDelay: 40, maxDelay: 200 });
  try {
    c.connect();
    const delays = [];
    while (delays.length < 5) {
      delays.push((await next(c, 'disconnect', () => true, { from: c.log.length })).delay);
    }
    assert.equal(c.wx.tasks.length, 5);
    assert.ok(delays[0] >= 20 && delays[0] <= 40, `first delay ${delays[0]}`);
    assert.ok(delays[2] >= 80 && delays[2] <= 160, `third delay ${delays[2]}`);
    assert.ok(delays[4] >= 100 && delays[4] <= 200, `fifth delay ${delays[4]} is capped by maxDelay`);
    assert.equal(c.state, 'connecting');
  } finally {
    c.close();
  }
  assert.equal(c.state, 'closed');
});
