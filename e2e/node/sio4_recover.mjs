// Socket.IO connection state recovery with the npm socket.io-client v4
// against a caiquan server in guest mode (round time 3 s, bots fill the
// room). Exits 0 only if:
//   1. a guest connects (recovered false, a pid given), says hello, joins,
//      gets a start and chooses rock; its engine is then closed mid-round
//      (socket.io.engine.close(), as a phone losing its network) and the
//      client reconnects after the round's deadline: socket.recovered is
//      true, no hello is needed, and the result of that same round arrives
//      once, counting the choice made before the drop; every event carries
//      its offset, and offsets only grow; the recovered connection outlives
//      the hello deadline;
//   2. with that session's connection gone again, a CONNECT with its pid
//      from another guest (another uid), and one with the pid's secret
//      changed, are refused: recovered false and another pid;
//   3. the session's own client then recovers it, and the same pid from a
//      second connection while it is connected (a pid reused) is refused;
//   4. after socket.disconnect() (a DISCONNECT, then the close) the
//      session ends: its pid recovers nothing.
//
// usage: node sio4_recover.mjs http://127.0.0.1:PORT [websocket|polling|default]
import { io } from 'socket.io-client';

const base = process.argv[2];
const mode = process.argv[3] || 'websocket';
if (!base || !['websocket', 'polling', 'default'].includes(mode)) {
  console.error('usage: node sio4_recover.mjs http://HOST:PORT [websocket|polling|default]');
  process.exit(2);
}

const t0 = Date.now();
const log = (...args) => console.log(`+${Date.now() - t0}ms`, ...args);
const fail = (msg) => {
  console.error(`FAIL +${Date.now() - t0}ms: ${msg}`);
  process.exit(1);
};
const check = (cond, msg) => {
  if (!cond) fail(msg);
};
setTimeout(() => fail('timed out'), 40000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor resolves with the first value of poll() that is not undefined.
async function waitFor(what, poll, ms = 10000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = poll();
    if (v !== undefined) return v;
    if (Date.now() > until) fail(`waited ${ms}ms for ${what}`);
    await sleep(20);
  }
}

async function guest() {
  const res = await fetch(`${base}/guest`, { method: 'POST' });
  check(res.status === 200, `POST /guest: ${res.status}`);
  const body = await res.json();
  check(typeof body.uid === 'string' && typeof body.token === 'string', `POST /guest: ${JSON.stringify(body)}`);
  return body;
}

const options = (token, extra = {}) => {
  const o = {
    path: '/applet/websocket/socket.io/',
    auth: { token },
    reconnectionDelay: 100,
    reconnectionDelayMax: 100,
    randomizationFactor: 0,
    ...extra,
  };
  if (mode === 'websocket') o.transports = ['websocket'];
  if (mode === 'polling') o.transports = ['polling'];
  return o;
};

// connected resolves at socket's next connect.
const connected = (socket) => new Promise((resolve) => socket.once('connect', resolve));

// tryPID connects a new client that claims pid (with lastOffset), as
// socket.io-client does after a drop, and resolves with what the server
// answered: recovered, the pid, and the error event a refusal comes with.
// The client is closed.
async function tryPID(token, pid, lastOffset) {
  const s = io(base, options(token, { autoConnect: false, reconnection: false, forceNew: true }));
  s._pid = pid;
  s._lastOffset = lastOffset;
  s.on('connect_error', (err) => fail(`connect_error on a pid try: ${err.message}`));
  let error;
  s.on('error', (e) => { error = e; });
  const up = connected(s);
  s.connect();
  await up;
  const out = { recovered: s.recovered, pid: s._pid };
  if (!out.recovered) out.error = await waitFor('the refusal', () => error, 5000);
  s.disconnect();
  return out;
}

// refused checks a tryPID's outcome: not recovered, another pid, and the
// error resume_failed with the reason.
function refused(what, got, pid, reason) {
  check(got.recovered === false && got.pid !== pid, `${what}: ${JSON.stringify(got)}`);
  check(got.error.code === 'resume_failed' && got.error.message.includes(reason),
    `${what}: the error ${JSON.stringify(got.error)}, want resume_failed: …${reason}…`);
}

const me = await guest();
const other = await guest();
log('guests', me.uid, other.uid);

// 1. A round with a drop in the middle.
const events = []; // [name, payload, offset]
const socket = io(base, options(me.token));
socket.on('connect_error', (err) => fail(`connect_error: ${err.message}`));
socket.on('error', (e) => fail(`error event: ${JSON.stringify(e)}`));
for (const name of ['hi', 'queued', 'start', 'result', 'void', 'leave']) {
  socket.on(name, (payload, offset) => {
    log(name, JSON.stringify(payload), 'offset', offset);
    events.push([name, payload, offset]);
  });
}
let connects = 0;
let disconnects = 0;
socket.on('connect', () => {
  connects++;
  log('connect', connects, 'recovered', socket.recovered, 'transport', socket.io.engine.transport.name);
});
socket.on('disconnect', (reason) => {
  disconnects++;
  log('disconnect', reason);
});

await connected(socket);
check(socket.recovered === false, 'recovered on the first connect');
const pid = socket._pid;
check(typeof pid === 'string' && pid.length > 0, `no pid in the CONNECT answer: ${pid}`);
socket.emit('hello', {});
await waitFor('hi', () => events.find((e) => e[0] === 'hi'));
const joined = await socket.timeout(5000).emitWithAck('join');
check(joined === undefined, `ack of join: ${JSON.stringify(joined)}`);
const start = (await waitFor('start', () => events.find((e) => e[0] === 'start')))[1];
const chose = await socket.timeout(5000).emitWithAck('choice', { choice: 2 });
check(chose === undefined, `ack of the choice: ${JSON.stringify(chose)}`);
const startedAt = Date.now();

// The drop: reconnect only after the deadline, so the result is sent
// while the client is away.
socket.io.reconnectionDelay(3500);
socket.io.reconnectionDelayMax(3500);
socket.io.engine.close();
await waitFor('the disconnect', () => (disconnects === 1 ? true : undefined));
check(!events.some((e) => e[0] === 'result'), 'the result came before the drop');
await waitFor('the reconnect', () => (connects === 2 ? true : undefined), 15000);
log('reconnected', Date.now() - startedAt, 'ms after the choice');
check(socket.recovered === true, 'socket.recovered is not true after the reconnect');
check(socket._pid === pid, `the pid changed on recovery: ${socket._pid}`);
const result = (await waitFor('the result', () => events.find((e) => e[0] === 'result')))[1];
check(result.roundId === start.roundId, `result of round ${result.roundId}, started ${start.roundId}`);
const mine = result.result.find((r) => r.uid === me.uid);
check(mine && mine.choice === 2, `my line ${JSON.stringify(mine)}: the choice before the drop must count`);
// One more round trip on the recovered session proves it plays on, and
// gives a duplicate time to show.
const again = await socket.timeout(5000).emitWithAck('choice', { choice: 1 });
check(again && again.code === 'not_playing', `a choice after the round: ${JSON.stringify(again)}`);
// A recovered connection says no hello: the server's hello deadline
// (handshake_timeout, 1 s in the test) must not close it.
await sleep(1500);
check(socket.connected && disconnects === 1, 'the recovered connection was closed');
const count = (name) => events.filter((e) => e[0] === name).length;
check(count('hi') === 1 && count('start') === 1 && count('result') === 1,
  `events ${JSON.stringify(events.map((e) => e[0]))}: want one hi, one start, one result`);
let last = 0;
for (const [name, , offset] of events) {
  check(typeof offset === 'string' && /^[0-9]+$/.test(offset), `${name} without an offset: ${offset}`);
  check(Number(offset) > last, `offset ${offset} of ${name} after ${last}: repeated or out of order`);
  last = Number(offset);
}
log('recovered the round');

// 2. The session's connection goes again; others try its pid.
socket.io.reconnection(false);
socket.io.engine.close();
await waitFor('the second disconnect', () => (disconnects === 2 ? true : undefined));
const lastOffset = socket._lastOffset;
refused("another player's CONNECT with my pid", await tryPID(other.token, pid, lastOffset), pid, 'another player');
const dot = pid.lastIndexOf('.');
const forged = pid.slice(0, dot + 1) + (pid[dot + 1] === 'A' ? 'B' : 'A') + pid.slice(dot + 2);
refused('a forged pid', await tryPID(me.token, forged, lastOffset), forged, 'not valid');
refused('a malformed offset', await tryPID(me.token, pid, 'x1'), pid, 'malformed');
log('stolen and forged pids refused');
// The server learns of the drop at once on a WebSocket, and on polling
// at the latest when the close grace (1 s) ends: the recovery below
// needs its session to know its connection is gone.
await sleep(1200);

// 3. The session is still there for its own client, once.
socket.io.reconnection(true);
socket.io.reconnectionDelay(100);
const back = connected(socket);
socket.connect();
await back;
check(socket.recovered === true, 'not recovered after the refused tries');
refused('a reused pid', await tryPID(me.token, pid, lastOffset), pid, 'is connected');
const still = await socket.timeout(5000).emitWithAck('choice', { choice: 1 });
check(still && still.code === 'not_playing', `the session after a reused pid: ${JSON.stringify(still)}`);
check(socket.connected, 'the recovered client was dropped');

log('a reused pid refused');

// 4. Leaving is no drop.
socket.disconnect();
const until = Date.now() + 10000;
for (;;) {
  const got = await tryPID(me.token, pid, socket._lastOffset);
  log('after leaving, the pid gets', JSON.stringify(got));
  if (got.recovered === false && got.error.message.includes('gone')) break;
  check(got.recovered === false && got.error.message.includes('is connected'),
    `the pid after socket.disconnect(): ${JSON.stringify(got)}`);
  check(Date.now() < until, 'the session outlived socket.disconnect()');
  await sleep(100);
}
log('ok');
process.exit(0);
