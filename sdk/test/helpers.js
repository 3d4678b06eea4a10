'use strict';
// Helpers shared by the SDK tests: server URLs, fresh players, and waiting
// for events with a deadline (never sleeping and hoping).
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const Caiquan = require('../caiquan.js');
const { createWx } = require('./wx.js');

const WAIT = 8000; // the longest any single event may take

function serverURL(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through "go test ./sdk/" or set it to a server's http://host:port`);
  return v.replace(/^http/, 'ws') + '/ws';
}

function newUid() {
  return crypto.randomBytes(8).readBigUInt64BE().toString(36).slice(0, 12).padStart(12, '0');
}

// player makes an SDK client with its own wx stand-in (or the given options)
// and records every event it emits.
function player(url, name, extra = {}) {
  const wx = extra.WebSocket ? null : createWx();
  // A server in WeChat mode shows only avatars it serves (POST /avatar):
  // extra.uavatar '' leaves the picture out.
  const uavatar = 'uavatar' in extra ? extra.uavatar : `https://example.invalid/${name}.png`;
  const user = { uid: extra.uid || newUid(), uname: name, uavatar };
  const opts = Object.assign({ url, user, minDelay: 100, maxDelay: 400, connectTimeout: 5000 }, extra);
  if (wx) opts.wx = wx;
  delete opts.uid;
  delete opts.uavatar;
  const c = new Caiquan(opts);
  c.wx = wx;
  c.log = [];
  for (const ev of ['state', 'hi', 'queued', 'start', 'movement', 'result', 'leave', 'void', 'error', 'disconnect', 'auth_failed', 'upgrade_required']) {
    c.on(ev, (data) => c.log.push({ ev, data }));
  }
  return c;
}

// next resolves with the first event `ev` (after `from` entries of the log)
// that satisfies pred, or rejects after ms.
function next(c, ev, pred = () => true, { from = c.log.length, ms = WAIT } = {}) {
  return new Promise((resolve, reject) => {
    const seen = c.log.slice(from).find((e) => e.ev === ev && pred(e.data));
    if (seen) return resolve(seen.data);
    const timer = setTimeout(() => {
      c.off(ev, fn);
      reject(new Error(`${c.user.uname}: no "${ev}" event within ${ms} ms; events so far: ${summary(c)}`));
    }, ms);
    function fn(data) {
      if (!pred(data)) return;
      clearTimeout(timer);
      c.off(ev, fn);
      resolve(data);
    }
    c.on(ev, fn);
  });
}

// until waits for state s.
function until(c, s, opts) {
  if (c.state === s) return Promise.resolve();
  return next(c, 'state', (d) => d.state === s, opts);
}

function summary(c) {
  return c.log.map((e) => (e.ev === 'state' ? e.data.state : e.ev === 'error' ? `error:${e.data.code}` : e.ev)).join(' ');
}

function states(c, from = 0) {
  return c.log.slice(from).filter((e) => e.ev === 'state').map((e) => e.data.state);
}

// beats is the game's rule: a beats b when (a - b + 3) % 3 == 1; a player
// who never chose (0) loses to one who did.
function outcome(mine, theirs) {
  if (mine === theirs) return 'tie';
  if (!mine) return 'loss';
  if (!theirs) return 'win';
  return (mine - theirs + 3) % 3 === 1 ? 'win' : 'loss';
}

// quietFor resolves after ms if nothing in check() changed, to show an
// absence (no reconnect attempt) over several backoff periods.
function quietFor(ms, check) {
  const before = check();
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      const now = check();
      if (now !== before) {
        clearInterval(iv);
        reject(new Error(`changed from ${before} to ${now} after ${Date.now() - t0} ms`));
      } else if (Date.now() - t0 >= ms) {
        clearInterval(iv);
        resolve();
      }
    }, 20);
  });
}

module.exports = { assert, Caiquan, serverURL, newUid, player, next, until, states, outcome, quietFor, summary };
