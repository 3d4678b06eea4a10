// Plays one round against a caiquan server with the npm socket.io-client v4
// (Engine.IO 4) and exits 0 only if every answer is consistent: hello → hi,
// refused events' acks carry the error, join's ack resolves, join → start,
// choice → one result at the deadline that follows the rules. Then it stays
// connected a few seconds, answering the server's pings, and must not be
// dropped.
//
// The transport mode:
//   websocket  transports: ['websocket'] (the default mode)
//   default    socket.io-client's defaults: long-polling, then the upgrade
//              to WebSocket, which must have happened by the result
//   polling    transports: ['polling'] only
//
// usage: node sio4_round.mjs http://127.0.0.1:PORT [websocket|default|polling]
import { io } from 'socket.io-client';

const base = process.argv[2];
const mode = process.argv[3] || 'websocket';
if (!base || !['websocket', 'default', 'polling'].includes(mode)) {
  console.error('usage: node sio4_round.mjs http://HOST:PORT [websocket|default|polling]');
  process.exit(2);
}

const t0 = Date.now();
const log = (...args) => console.log(`+${Date.now() - t0}ms`, ...args);
let finished = false;
const fail = (msg) => {
  console.error(`FAIL +${Date.now() - t0}ms: ${msg}`);
  process.exit(1);
};
const check = (cond, msg) => {
  if (!cond) fail(msg);
};
const isInt = (v) => typeof v === 'number' && Number.isInteger(v);
const ensureShape = (what, obj, shape) => {
  check(obj !== null && typeof obj === 'object', `${what}: ${JSON.stringify(obj)} is not an object`);
  for (const [k, kind] of Object.entries(shape)) {
    const v = obj[k];
    const ok = kind === 'int' ? isInt(v) : kind === 'array' ? Array.isArray(v) : typeof v === kind;
    check(ok, `${what}: field ${k} is ${JSON.stringify(v)}, want ${kind} in ${JSON.stringify(obj)}`);
  }
};

setTimeout(() => fail('timed out'), 20000);

const uid = Array.from({ length: 12 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
const user = { uid, uname: 'NodeV4', uavatar: 'avatar-v4.png' };

const options = { path: '/applet/websocket/socket.io/', reconnection: false };
if (mode === 'websocket') options.transports = ['websocket'];
if (mode === 'polling') options.transports = ['polling'];
const socket = io(base, options);
const firstTransport = mode === 'websocket' ? 'websocket' : 'polling';
let upgraded = false;
let openedOn = null;
socket.io.on('open', () => {
  openedOn = socket.io.engine.transport.name;
  socket.io.engine.on('upgrade', (t) => {
    log('upgraded to', t.name);
    upgraded = true;
  });
});

let hi = null;
let start = null;
let startAt = 0;
let finalChoice = 0;
let results = 0;

socket.on('connect_error', (err) => fail(`connect_error: ${err.message}`));
socket.on('disconnect', (reason) => {
  if (!finished) fail(`disconnected: ${reason}`);
});
socket.on('error', (e) => fail(`error event: ${JSON.stringify(e)}`));

// Engine.IO 4: the server pings (every second in the test), we answer.
let pings = 0;
socket.io.on('ping', () => { pings++; });

socket.on('connect', () => {
  log('connected', socket.id, 'transport', socket.io.engine.transport.name);
  // With the defaults the upgrade may be done already; the first transport counts.
  check(openedOn === firstTransport, `opened on ${openedOn}, want ${firstTransport}`);
  socket.emit('hello', { user });
});

socket.on('hi', (msg) => {
  log('hi', JSON.stringify(msg));
  ensureShape('hi', msg, { message: 'string', nearby: 'int', totalScore: 'int', winStreak: 'int' });
  check(msg.message === 'welcome', `hi.message ${msg.message}`);
  check(msg.nearby >= 1, `hi.nearby ${msg.nearby}`);
  check(hi === null, 'a second hi');
  hi = msg;
  (async () => {
    // Acks: a refused event's ack carries the error event's code, whether
    // the gateway refused it (bad_payload) or the game (not_playing);
    // join's ack is empty.
    const refused = await socket.timeout(5000).emitWithAck('choice', { choice: 'rock' });
    check(refused && refused.code === 'bad_payload' && typeof refused.message === 'string',
      `ack of a bad choice: ${JSON.stringify(refused)}`);
    const early = await socket.timeout(5000).emitWithAck('choice', { choice: 1 });
    check(early && early.code === 'not_playing', `ack of a choice outside a round: ${JSON.stringify(early)}`);
    const joined = await socket.timeout(5000).emitWithAck('join');
    check(joined === undefined, `ack of join: ${JSON.stringify(joined)}`);
    log('acks ok');
  })().catch((e) => fail(`emitWithAck: ${e.message}`));
});

socket.on('queued', (msg) => log('queued', JSON.stringify(msg)));

socket.on('start', (msg) => {
  log('start', JSON.stringify(msg));
  check(start === null, 'a second start');
  ensureShape('start', msg, { gameTime: 'int', roomUsers: 'array', roundId: 'string' });
  check(msg.gameTime === 3, `gameTime ${msg.gameTime}`);
  check(msg.roomUsers.length === 2, `${msg.roomUsers.length} roomUsers`);
  for (const u of msg.roomUsers) {
    ensureShape('start.roomUsers[]', u, {
      uid: 'string', uname: 'string', uavatar: 'string',
      choice: 'int', roundScore: 'int', totalScore: 'int', winStreak: 'int',
    });
    check(u.choice === 0, `a round starts with no choice: ${JSON.stringify(u)}`);
  }
  const me = msg.roomUsers.find((u) => u.uid === uid);
  check(me && me.uname === user.uname && me.uavatar === user.uavatar, `start has no entry for me: ${JSON.stringify(msg)}`);
  check(me.totalScore === hi.totalScore && me.winStreak === hi.winStreak, 'my standing at start differs from hi');
  start = msg;
  startAt = Date.now();
  socket.emit('choice', { choice: 1 });
  setTimeout(() => {
    finalChoice = 2;
    socket.emit('choice', { choice: finalChoice });
  }, 500);
  finalChoice = 1;
});

socket.on('movement', (msg) => {
  ensureShape('movement', msg, { uid: 'string', movement: 'string' });
  check(msg.uid !== uid, `got my own movement ${JSON.stringify(msg)}`);
});

const beats = (a, b) => (a - b + 3) % 3 === 1;
const pair = (a, b) => (a === b ? 0 : a === 0 ? -1 : b === 0 ? 1 : beats(a, b) ? 1 : -1);

socket.on('result', (msg) => {
  log('result', JSON.stringify(msg));
  results++;
  check(results === 1, 'a second result');
  check(start !== null, 'result before start');
  const took = Date.now() - startAt;
  // The deadline runs from when the room started, which is before the
  // start reached us by however long its delivery took on a busy machine:
  // a result 3 s after the room started can come under 3 s after our
  // start. (The deadline itself is tested on a fake clock in actors.)
  check(took >= 2500 && took <= 3600, `result ${took}ms after start, want the 3s deadline`);
  ensureShape('result', msg, { result: 'array', roundId: 'string' });
  check(msg.roundId === start.roundId, `result for round ${msg.roundId}, started ${start.roundId}`);
  check(msg.result.length === 2, `${msg.result.length} result entries`);
  for (const e of msg.result) {
    ensureShape('result.result[]', e, { uid: 'string', roundScore: 'int', totalScore: 'int', winStreak: 'int', choice: 'int' });
    const before = start.roomUsers.find((u) => u.uid === e.uid);
    check(before, `result entry for ${e.uid}, who was not in the room`);
    let x = 0;
    for (const o of msg.result) if (o.uid !== e.uid) x += pair(e.choice, o.choice);
    let streak = before.winStreak;
    let score = 0;
    if (x > 0) { streak += 1; score = x * streak; } else if (x < 0) { streak = 0; }
    check(e.roundScore === score && e.winStreak === streak && e.totalScore === before.totalScore + score,
      `entry ${JSON.stringify(e)} breaks the rules (x=${x}, before ${JSON.stringify(before)})`);
  }
  const mine = msg.result.find((e) => e.uid === uid);
  check(mine && mine.choice === finalChoice, `my choice in the result is ${mine && mine.choice}, I chose ${finalChoice} last`);
  const other = msg.result.find((e) => e.uid !== uid);
  check(other.choice >= 1 && other.choice <= 3, `the bot never chose: ${JSON.stringify(other)}`);
  // Stay a while: the server pings every second and must keep us.
  setTimeout(() => {
    check(socket.connected, 'no longer connected');
    const now = socket.io.engine.transport.name;
    if (mode === 'default') check(upgraded && now === 'websocket', `not upgraded: on ${now}`);
    if (mode === 'polling') check(now === 'polling' && !upgraded, `left polling for ${now}`);
    const secs = (Date.now() - t0) / 1000;
    check(pings >= Math.floor(secs) - 2, `${pings} server pings in ${secs}s with -ping-interval 1s`);
    log('pings', pings);
    finished = true;
    log('ok');
    socket.disconnect();
    process.exit(0);
  }, 3500);
});
