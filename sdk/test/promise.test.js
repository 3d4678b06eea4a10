'use strict';
// The promise API beside the events: connect, join and choose resolve with
// the hi, the start and the round's result; refusals reject with the
// server's code; once. Two test players meet on the pvp server.
const { test } = require('node:test');
const { assert, serverURL, player, next } = require('./helpers.js');

const PVP = () => serverURL('CAIQUAN_PVP_URL');

test('await connect, join and choose: the hi, the start, and that round\'s result', async () => {
  const a = player(PVP(), 'promise-a');
  const b = player(PVP(), 'promise-b');
  try {
    const [hiA] = await Promise.all([a.connect(), b.connect()]);
    assert.equal(hiA.resumed, false);
    assert.equal(a.state, 'ready');
    assert.deepEqual(await a.connect(), { message: '', nearby: a.nearby, totalScore: a.totalScore, winStreak: a.winStreak, resumed: false }, 'connect() when connected resolves at once');

    const joinA = a.join();
    await a.once('queued');
    const [sa, sb] = await Promise.all([joinA, b.join()]);
    assert.equal(sa.roundId, sb.roundId);
    assert.deepEqual(sa.opponents.map((u) => u.uid), [b.user.uid]);
    assert.equal(await a.join(), a.round, 'join() while playing resolves with the round on');

    const nextResult = a.once('result');
    const [ra, rb] = await Promise.all([a.choose(2), b.choose(1)]);
    assert.equal(ra.roundId, sa.roundId);
    assert.deepEqual([ra.outcome, rb.outcome], ['win', 'loss']);
    assert.equal(await nextResult, ra, 'once(event) resolves with the next event');
  } finally {
    a.close();
    b.close();
  }
});

test('rejections carry the code: the server\'s, or the SDK\'s own', async () => {
  const a = player(PVP(), 'reject-a');
  const b = player(PVP(), 'reject-b');
  try {
    await Promise.all([a.connect(), b.connect()]);
    await assert.rejects(a.choose(2), (e) => e.code === 'not_playing' && e instanceof Error);
    const j = a.join();
    await next(a, 'queued');
    a.leave();
    await assert.rejects(j, (e) => e.code === 'left');

    // Seated together; on a busy machine a 1.5 s round can end before the
    // next line runs, so join again until a is still playing here.
    const seated = async () => {
      for (let i = 0; i < 5; i++) {
        await Promise.all([a.join(), b.join()]);
        if (a.state === 'playing') return;
        await Promise.all([a, b].map((c) => (c.state === 'playing' ? next(c, 'result') : null)));
      }
      assert.fail('never still playing after a join');
    };
    await seated();
    await assert.rejects(a.choose(7), (e) => e.code === 'invalid_choice' && /choice/.test(e.message), 'the server refused it');
    if (a.state !== 'playing') await seated();
    const pending = a.choose(3);
    a.close();
    await assert.rejects(pending, (e) => e.code === 'closed');
  } finally {
    a.close();
    b.close();
  }
});

test('once(event, fn) calls fn for the next event only; off removes it', async () => {
  const c = player(PVP(), 'once');
  try {
    const seen = [];
    c.once('state', (d) => seen.push(d.state));
    const removed = () => seen.push('removed');
    c.once('hi', removed);
    c.off('hi', removed);
    await c.connect();
    assert.deepEqual(seen, ['connecting']);
  } finally {
    c.close();
  }
});
