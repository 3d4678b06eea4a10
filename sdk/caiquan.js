/*! caiquan-sdk: the Caiquan /ws protocol in JSON text frames, for WeChat
 * mini-programs (wx.connectSocket) and browsers (WebSocket). No dependencies.
 * This one file is the source, the CommonJS build and the browser build
 * (<script> gives the global Caiquan); build.js makes the ES module from it. */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.Caiquan = factory();
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  var VERSION = '0.2.0';
  // PROTOCOL is the client protocol version this SDK speaks, named in hello.
  var PROTOCOL = 1;
  var CLOSE_REPLACED = 4001; // the same player connected elsewhere: never come back
  var AUTH_CODES = { token_required: 1, bad_token: 1, token_expired: 1 };
  // Refusals of a hello that another try would get again: the client stops
  // (closed) and says why; the app changes the name or avatar, or logs in
  // again, and connects anew. (content_check, WeChat not answering, is
  // tried again like a lost connection.)
  var HELLO_FINAL = { content_refused: 1, banned: 1, deleted: 1 };
  // A resume asked for this close to the end of the window would likely
  // reach a session that is gone.
  var RESUME_MARGIN = 500;

  var DEFAULTS = {
    reconnect: true,
    minDelay: 500, // first retry waits 0.5x..1x of this
    maxDelay: 15000,
    connectTimeout: 10000 // socket open to hi
  };

  function noop() {}

  // fail makes the Error every promise of the SDK rejects with: code is
  // the server's error code, or one of the SDK's own (README).
  function fail(code, message) {
    var e = new Error(message || message_(code, 'en'));
    e.code = code;
    return e;
  }

  // later returns a promise whose rejection nobody has to handle: a caller
  // who ignores the result of connect() or choose() gets no unhandled
  // rejection, and one who awaits it still sees the error.
  function later(run) {
    var p = new Promise(run);
    p.catch(noop);
    return p;
  }

  function Caiquan(options) {
    if (!(this instanceof Caiquan)) return new Caiquan(options);
    var o = {};
    var k;
    for (k in DEFAULTS) o[k] = DEFAULTS[k];
    for (k in options || {}) if (options[k] !== undefined) o[k] = options[k];
    var u = o.user || {};
    if (!o.url) throw new Error('caiquan: options.url is required');
    if (!u.uid && !o.token) throw new Error('caiquan: options.user.uid (or a token) is required');
    this.options = o;
    this.url = o.url + (o.url.indexOf('format=') < 0 ? (o.url.indexOf('?') < 0 ? '?' : '&') + 'format=json' : '');
    this.user = { uid: String(u.uid || ''), uname: u.uname || '', uavatar: u.uavatar || '' };
    this.state = 'closed';
    this.totalScore = 0;
    this.winStreak = 0;
    this.nearby = 0;
    this.round = null; // the start of the round being played
    this._wx = o.wx || (typeof wx === 'object' && wx && wx.connectSocket ? wx : null);
    this._WS = o.WebSocket || (typeof WebSocket === 'function' ? WebSocket : null);
    this._handlers = {};
    this._sock = null;
    this._timer = null; // reconnect or connect-timeout timer
    this._attempt = 0;
    this._wantJoin = false; // join (again) once ready
    this._joining = false; // join sent, neither queued nor start yet
    this._rejoined = false; // that join repeats one sent before a resume
    this._stopped = true; // close() was called, or 4001, auth_failed, upgrade_required
    this._hidden = false; // the mini-program is in the background
    this._resume = null; // {token, windowMs} from the last hi
    this._lostAt = 0; // when the connection that may be resumed dropped
    this._lastSeq = 0; // the last numbered message seen
    this._waits = { connect: [], join: [], round: [] };
  }

  var P = Caiquan.prototype;

  P.on = function (name, fn) {
    (this._handlers[name] = this._handlers[name] || []).push(fn);
    return this;
  };

  P.off = function (name, fn) {
    var l = this._handlers[name];
    if (l) this._handlers[name] = fn ? l.filter(function (f) { return f !== fn && f._once !== fn; }) : [];
    return this;
  };

  // once(name, fn) calls fn on the next event only; once(name) resolves
  // with it.
  P.once = function (name, fn) {
    var self = this;
    if (fn) {
      var w = function (d) { self.off(name, w); fn.call(self, d); };
      w._once = fn;
      return this.on(name, w);
    }
    return new Promise(function (ok) { self.once(name, ok); });
  };

  // emit calls every handler; one that throws does not stop the others or
  // the SDK: its error is rethrown on its own.
  P._emit = function (name, data) {
    var l = (this._handlers[name] || []).slice();
    for (var i = 0; i < l.length; i++) {
      try { l[i].call(this, data); } catch (e) { rethrow(e); }
    }
  };

  function rethrow(e) { setTimeout(function () { throw e; }); }

  // _settle resolves (ok) or rejects (err) every promise waiting in list.
  P._settle = function (list, err, value, pick) {
    var all = this._waits[list];
    var keep = [];
    for (var i = 0; i < all.length; i++) {
      if (pick && !pick(all[i])) keep.push(all[i]);
      else if (err) all[i].fail(err);
      else all[i].ok(value);
    }
    this._waits[list] = keep;
  };

  P._setState = function (s) {
    if (this.state === s) return;
    var prev = this.state;
    this.state = s;
    this._emit('state', { state: s, prev: prev });
  };

  // connect opens the connection (again, after close()); the SDK keeps it
  // open. It resolves with the first hi, and rejects when the SDK stops
  // before one (close(), auth_failed, upgrade_required, replaced).
  P.connect = function () {
    var self = this;
    var p = later(function (ok, no) {
      if (self.state === 'ready' || self.state === 'queued' || self.state === 'playing') return ok(self._hiData());
      self._waits.connect.push({ ok: ok, fail: no });
    });
    if (this._stopped) {
      this._stopped = false;
      this._attempt = 0;
      this._watchApp(true);
      this._open();
    }
    return p;
  };

  // close ends the connection for good, until connect() is called again.
  P.close = function () {
    this._stop('closed', 'the client closed the connection');
    return this;
  };

  // _stop ends for good: no socket, no retry, every promise rejected.
  P._stop = function (code, message) {
    this._stopped = true;
    this._wantJoin = false;
    this._resume = null;
    this._watchApp(false);
    var e = fail(code, message);
    this._settle('round', e); // before _drop voids the round
    this._drop(code);
    this._setState('closed');
    this._settle('connect', e);
    this._settle('join', e);
  };

  // join asks for a seat in the next round; before the connection is ready
  // it is remembered and sent once it is. It resolves with the round's
  // start (at once when a round is on), and rejects with the server's code
  // when the join is refused.
  P.join = function () {
    var self = this;
    if (this.state === 'playing' && this.round) return Promise.resolve(this.round);
    var p = later(function (ok, no) { self._waits.join.push({ ok: ok, fail: no }); });
    if (this.state !== 'queued') {
      this._wantJoin = true;
      this._sendJoin();
    }
    return p;
  };

  P._sendJoin = function () {
    if (this.state === 'ready' && !this._joining) this._joining = this._send({ join: {} });
  };

  // choose: 1 scissors, 2 rock, 3 paper; the last one before the deadline
  // counts. It resolves with the round's result, and rejects when the round
  // ends without one (code 'void'), or outside a round ('not_playing').
  P.choose = function (n) {
    var self = this;
    if (this.state !== 'playing' || !this.round) return later(function (ok, no) { no(fail('not_playing')); });
    var id = this.round.roundId;
    var p = later(function (ok, no) { self._waits.round.push({ roundId: id, ok: ok, fail: no }); });
    this._send({ choice: { choice: n } });
    return p;
  };

  // face sends an emoji reaction 1..4 to the other players.
  P.face = function (n) {
    return this.state === 'playing' && this._send({ face: { face: n } });
  };

  // leave leaves the queue, or the round (which then counts as not choosing).
  P.leave = function () {
    this._wantJoin = false;
    this._settle('join', fail('left'));
    if (this.state !== 'queued' && this.state !== 'playing' && !this._joining) return false;
    this._joining = false;
    var sent = this._send({ leave: {} });
    if (this.round) this._settle('round', fail('left'));
    this.round = null;
    this._setState('ready');
    return sent;
  };

  P._send = function (msg) {
    var s = this._sock;
    if (!s || !s.isOpen) return false;
    s.send(JSON.stringify(msg));
    return true;
  };

  // _open dials once; whatever ends the attempt goes through _lost.
  P._open = function () {
    var self = this;
    this._clearTimer();
    this._setState('connecting');
    this._renewed = false;
    var sock = (this._sock = this._dial({
      open: function () {
        if (self._sock !== sock) return;
        sock.isOpen = true;
        self._hello(sock, null);
      },
      message: function (data) {
        if (self._sock === sock) self._receive(data);
      },
      close: function (code, reason) {
        if (self._sock === sock) self._lost(code, reason);
      }
    }));
    this._timer = setTimeout(function () {
      if (self._sock !== sock) return;
      sock.close(1000, 'no hi in time');
      self._lost(0, 'no answer from the server in time');
    }, this.options.connectTimeout);
  };

  // _hello asks the token option for a token (renew: the last one was
  // refused with code), then says hello, asking for the dropped session
  // back when it may still be held.
  P._hello = function (sock, code) {
    var self = this;
    var t = this.options.token;
    Promise.resolve(typeof t === 'function' ? t({ renew: !!code, code: code || '' }) : t).then(function (v) {
      if (self._sock !== sock) return;
      var tok = v && typeof v === 'object' ? v.token : v;
      if (v && typeof v === 'object' && v.uid) self.user.uid = String(v.uid);
      var h = { user: self.user, protocol: PROTOCOL };
      if (tok) h.token = String(tok);
      if (self._resumable()) {
        h.resume = { token: self._resume.token, lastSeq: self._lastSeq };
        self._resuming = true;
      } else {
        self._resume = null;
        if (self.round) self._roundLost('disconnected');
      }
      self._send({ hello: h });
    }, function (e) {
      if (self._sock === sock) self._authFailed((e && e.code) || 'login_failed', e && e.message);
    });
  };

  P._resumable = function () {
    var r = this._resume;
    return !!r && this._lostAt > 0 && Date.now() - this._lostAt < r.windowMs - RESUME_MARGIN;
  };

  P._authFailed = function (code, message) {
    var m = message || message_(code, 'en');
    this._stop(code, m);
    this._emit('auth_failed', { code: code, message: m });
  };

  // _dial hides the difference between a SocketTask and a WebSocket.
  P._dial = function (on) {
    var closed = false;
    function close(code, reason) {
      if (!closed) { closed = true; on.close(code, reason); }
    }
    if (this._wx) {
      var task = this._wx.connectSocket({ url: this.url, fail: function (e) { close(0, (e && e.errMsg) || 'connectSocket failed'); } });
      task.onOpen(function () { on.open(); });
      task.onMessage(function (r) { on.message(r.data); });
      task.onClose(function (r) { close(r && r.code, r && r.reason); });
      task.onError(function (e) { close(0, (e && e.errMsg) || 'socket error'); });
      return {
        send: function (data) { task.send({ data: data }); },
        close: function (code, reason) { closed = true; task.close({ code: code, reason: reason }); }
      };
    }
    if (!this._WS) throw new Error('caiquan: neither wx.connectSocket nor WebSocket is available');
    var ws = new this._WS(this.url);
    ws.onopen = function () { on.open(); };
    ws.onmessage = function (e) { on.message(e.data); };
    ws.onclose = function (e) { close(e.code, e.reason); };
    ws.onerror = function () { close(0, 'socket error'); };
    return {
      send: function (data) { ws.send(data); },
      close: function (code, reason) { closed = true; try { ws.close(code, reason); } catch (e) { /* not open yet */ } }
    };
  };

  // _drop forgets the current socket without treating it as lost. Closing
  // with 1000 tells the server not to keep the session for a resume.
  P._drop = function (reason) {
    this._clearTimer();
    this._joining = false;
    var s = this._sock;
    this._sock = null;
    if (s) s.close(1000, reason);
    if (this.round) this._roundLost(reason);
  };

  // _lost: the socket closed (or never opened, or never said hi). Decide
  // whether and when to come back, and whether the round may be resumed.
  P._lost = function (code, reason) {
    var self = this;
    if (this.state === 'queued' || this._joining) this._wantJoin = true;
    var wasUp = this._sock && this._sock.greeted;
    this._sock = null;
    this._joining = false;
    this._clearTimer();
    if (wasUp && this._resume) this._lostAt = Date.now();
    var again = this.options.reconnect && !this._stopped && code !== CLOSE_REPLACED;
    var delay = again && !this._hidden ? this._backoff() : null;
    var resuming = again && this._resumable();
    if (!again) {
      this._stopped = true;
      this._wantJoin = false;
      this._resume = null;
      this._watchApp(false);
    }
    this._setState(again ? 'connecting' : 'closed');
    this._emit('disconnect', { code: code || 0, reason: reason || '', reconnect: again, delay: delay, resume: resuming });
    if (this.round && !resuming) this._roundLost('disconnected');
    if (code === CLOSE_REPLACED) {
      this._emit('error', { code: 'replaced', message: message_('replaced', 'en') });
      this._stop('replaced');
    } else if (!again) {
      this._stop('closed', reason);
    }
    // In the background delay is null: onAppShow dials again.
    if (delay !== null) this._timer = setTimeout(function () { self._timer = null; self._open(); }, delay);
  };

  // _backoff: exponential, with jitter so that clients cut off together do
  // not all come back in the same instant.
  P._backoff = function () {
    var o = this.options;
    var d = Math.min(o.maxDelay, o.minDelay * Math.pow(2, this._attempt++));
    return Math.round(d / 2 + Math.random() * d / 2);
  };

  P._clearTimer = function () {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
  };

  // _roundLost ends, for this client, a round it can no longer see: the
  // server counts it as not choosing and sends the result to the others only.
  P._roundLost = function (reason) {
    var id = this.round.roundId;
    this.round = null;
    this._settle('round', fail('void', 'the round ended without a result: ' + reason));
    this._emit('void', { roundId: id, reason: reason, local: true });
  };

  // _watchApp follows the mini-program to the background and back: no
  // retries while hidden, an immediate one (a resume, within the window)
  // when shown again.
  P._watchApp = function (on) {
    var w = this._wx;
    if (!w || !w.onAppShow || !!this._appWatch === on) return;
    var self = this;
    if (on) {
      this._appWatch = {
        show: function () {
          self._hidden = false;
          if (!self._stopped && !self._sock) {
            self._attempt = 0;
            self._open();
          }
        },
        hide: function () {
          self._hidden = true;
          if (!self._sock) self._clearTimer();
        }
      };
      w.onAppShow(this._appWatch.show);
      w.onAppHide(this._appWatch.hide);
    } else {
      if (w.offAppShow) w.offAppShow(this._appWatch.show);
      if (w.offAppHide) w.offAppHide(this._appWatch.hide);
      this._appWatch = null;
    }
  };

  P._receive = function (data) {
    var msg;
    try { msg = JSON.parse(data); } catch (e) { return this._emit('error', { code: 'bad_frame', message: 'the server sent a frame that is not JSON' }); }
    // A new session numbers afresh (its hi may carry no seq).
    if (msg.hi && !msg.hi.resumed) this._lastSeq = msg.seq || 0;
    else if (msg.seq) this._lastSeq = msg.seq;
    for (var name in msg) {
      var fn = this['_on_' + name];
      if (fn) fn.call(this, msg[name] || {});
    }
  };

  P._hiData = function () {
    return { message: '', nearby: this.nearby, totalScore: this.totalScore, winStreak: this.winStreak, resumed: false };
  };

  P._on_hi = function (m) {
    var resumed = !!m.resumed && this._resuming;
    this._clearTimer();
    this._attempt = 0;
    this._resuming = false;
    this._lostAt = 0;
    if (this._sock) this._sock.greeted = true;
    this._resume = m.resumeToken ? { token: m.resumeToken, windowMs: m.resumeWindowMs || 0 } : null;
    if (!resumed) {
      this.nearby = m.nearby || 0;
      if (this.round) this._roundLost('disconnected');
    }
    this.totalScore = m.totalScore || 0;
    this.winStreak = m.winStreak || 0;
    this._setState(resumed && this.round ? 'playing' : 'ready');
    var hi = { message: m.message || '', nearby: this.nearby, totalScore: this.totalScore, winStreak: this.winStreak, resumed: resumed };
    this._emit('hi', hi);
    this._settle('connect', null, hi);
    // A join wanted is sent again after a resume too: the server may never
    // have read it (asked for while the socket was down, or lost in
    // flight). One it did read comes back replayed (a start, or
    // join_dropped); the repeat is then answered already_queued, which
    // _on_error takes as queued.
    this._rejoined = false;
    if (this._wantJoin) {
      this._rejoined = resumed;
      this._sendJoin();
    }
  };

  P._on_queued = function (m) {
    this._joining = this._rejoined = false;
    this._setState('queued');
    this._emit('queued', { waiting: m.waiting || 0 });
  };

  P._on_start = function (m) {
    var me = this.user.uid;
    var users = (m.roomUsers || []).map(function (u) {
      return { uid: u.uid, uname: u.uname || '', uavatar: u.uavatar || '', totalScore: u.totalScore || 0, winStreak: u.winStreak || 0 };
    });
    // _rejoined stays: the repeat's already_queued may follow a replayed start.
    this._wantJoin = this._joining = false;
    // gameTimeMs is exact; gameTime is rounded up to whole seconds.
    var ms = m.gameTimeMs || (m.gameTime || 0) * 1000;
    this.round = {
      roundId: m.roundId || '',
      gameTime: m.gameTime || 0,
      gameTimeMs: ms,
      deadline: Date.now() + ms,
      roomUsers: users,
      opponents: users.filter(function (u) { return u.uid !== me; })
    };
    this._setState('playing');
    this._emit('start', this.round);
    this._settle('join', null, this.round);
  };

  P._on_movement = function (m) {
    this._emit('movement', { uid: m.uid, movement: m.movement, face: m.face || 0 });
  };

  // result adds to the server's list the outcome for this player: win (it
  // scored), loss (another player scored) or tie.
  P._on_result = function (m) {
    var me = this.user.uid;
    var mine = null;
    var others = [];
    var someoneScored = false;
    (m.result || []).forEach(function (r) {
      var p = { uid: r.uid, roundScore: r.roundScore || 0, totalScore: r.totalScore || 0, winStreak: r.winStreak || 0, choice: r.choice || 0 };
      if (p.roundScore > 0) someoneScored = true;
      if (p.uid === me) mine = p; else others.push(p);
    });
    if (mine) {
      this.totalScore = mine.totalScore;
      this.winStreak = mine.winStreak;
    }
    var outcome = mine && mine.roundScore > 0 ? 'win' : someoneScored ? 'loss' : 'tie';
    var id = m.roundId || '';
    this.round = null;
    this._setState('ready');
    var res = { roundId: id, outcome: outcome, me: mine, others: others, result: m.result || [] };
    this._emit('result', res);
    this._settle('round', null, res, function (w) { return !id || w.roundId === id; });
  };

  P._on_leave = function (m) {
    this._emit('leave', { uid: m.uid || '' });
  };

  P._on_void = function (m) {
    var id = m.roundId || '';
    this.round = null;
    this._setState('ready');
    var e = fail('void', 'the round ended without a result: ' + (m.reason || ''));
    e.reason = m.reason || '';
    this._settle('round', e);
    this._emit('void', { roundId: id, reason: m.reason || '', local: false });
  };

  P._on_error = function (m) {
    var code = m.code || '';
    var sock = this._sock;
    var msg = m.message || message_(code, 'en');
    if (code === 'upgrade_required') {
      this._stop(code, msg);
      this._emit('upgrade_required', { code: code, message: msg });
      return;
    }
    if (HELLO_FINAL[code] && sock && !sock.greeted) {
      this._stop(code, msg);
      this._emit('error', { code: code, message: msg });
      return;
    }
    if (AUTH_CODES[code] && sock && !sock.greeted) {
      // The token was refused: ask for a new one once, on the same socket.
      if (this._renewed) return this._authFailed(code, msg);
      this._renewed = true;
      this._resuming = false;
      return this._hello(sock, code);
    }
    if (code === 'resume_failed') {
      // The hello goes on as a new session; its hi follows.
      this._resuming = false;
      this._resume = null;
      if (this.round) this._roundLost('disconnected');
      return;
    }
    if (code === 'join_dropped') {
      // The join was dropped with the connection: join again, if wanted.
      this._wantJoin = this._wantJoin || this._waits.join.length > 0;
      if (this.state === 'queued') this._setState('ready');
      if (this._wantJoin) this._sendJoin();
      return;
    }
    if (code === 'already_queued' && this._rejoined) {
      // The join repeated after a resume: the session still held the
      // first (queued, or seated and its start replayed).
      this._joining = this._rejoined = false;
      if (this.state === 'ready') {
        this._setState('queued');
        this._emit('queued', { waiting: 0 });
      }
      return;
    }
    this._joining = false; // whatever was refused, a join may be sent again
    if (this.state === 'queued' && code === 'draining') this._setState('ready');
    if (code === 'draining' || code === 'already_queued' || code === 'server_busy') {
      this._wantJoin = false;
      this._settle('join', fail(code, msg));
    }
    if (code === 'invalid_choice' || code === 'not_playing') this._settle('round', fail(code, msg));
    this._emit('error', { code: code, message: msg });
  };

  // ---- Login ----

  // loginWithWeChat resolves with {uid, token, expiresAt}: the session
  // kept in storage until it expires by this device's clock (unless
  // fresh), else a new one from wx.login and POST /login. A token matters
  // only at hello, and one the server finds expired is renewed (fresh) by
  // the client, once. uname and uavatar go to /login. Refusals reject with
  // an Error with the server's code.
  Caiquan.loginWithWeChat = function (o) {
    o = o || {};
    var w = o.wx || (typeof wx === 'object' && wx && wx.login ? wx : null);
    var key = o.key || 'caiquan.wechat';
    var store = o.storage || storageOf(w);
    var post = o.request || requestOf(w);
    var kept = store.get(key);
    if (!o.fresh && kept && kept.token && Date.parse(kept.expiresAt) > Date.now()) return Promise.resolve(kept);
    if (!w || !w.login) return Promise.reject(fail('login_failed', 'wx.login is not available'));
    return new Promise(function (ok, no) {
      w.login({ success: function (r) { ok(r.code); }, fail: function (e) { no(fail('login_failed', 'wx.login: ' + ((e && e.errMsg) || 'failed'))); } });
    }).then(function (code) {
      var body = { code: code };
      if (o.uname) body.uname = o.uname;
      if (o.uavatar) body.uavatar = o.uavatar;
      return post(base(o.server) + '/login', '', body);
    }).then(function (r) {
      var d = r.data || {};
      if (r.status === 200 && d.uid && d.token) {
        var s = { uid: d.uid, token: d.token, expiresAt: d.expires_at };
        store.set(key, s);
        return s;
      }
      if (d.code === 'bad_token' || d.code === 'invalid_code') store.remove(key);
      throw fail(d.code || 'http_' + r.status, d.message || 'POST /login: HTTP ' + r.status);
    });
  };

  // loginAsGuest resolves with {uid, token, expiresAt} from POST /guest:
  // the guest kept in storage, its token renewed for the same uid (and
  // scores), or a new guest if none is kept or the kept one is refused; null
  // when the server does not run guest mode (then name a uid yourself).
  // Other refusals reject with an Error with the server's code. At most two
  // requests; never a loop.
  Caiquan.loginAsGuest = function (o) {
    o = o || {};
    var w = o.wx || (typeof wx === 'object' && wx && wx.request ? wx : null);
    var key = o.key || 'caiquan.guest';
    var store = o.storage || storageOf(w);
    var post = o.request || requestOf(w);
    var url = base(o.server) + '/guest';
    function ask(token) {
      return post(url, token).then(function (r) {
        var d = r.data || {};
        if (r.status === 200 && d.uid && d.token) {
          var s = { uid: d.uid, token: d.token, expiresAt: d.expires_at };
          store.set(key, s);
          return s;
        }
        if (r.status === 404 && d.code === 'guest_disabled') return null;
        if (token && /^(bad_token|refresh_expired|not_a_guest)$/.test(d.code)) {
          store.remove(key);
          return ask('');
        }
        throw fail(d.code || 'http_' + r.status, d.message || 'POST /guest: HTTP ' + r.status);
      });
    }
    var kept = store.get(key);
    return ask((kept && kept.token) || '');
  };

  function base(server) {
    return String(server || '').replace(/\/+$/, '');
  }

  function storageOf(w) {
    if (w) return { get: w.getStorageSync.bind(w), set: w.setStorageSync.bind(w), remove: w.removeStorageSync.bind(w) };
    var ls = localStorage;
    return {
      get: function (k) { try { return JSON.parse(ls.getItem(k)); } catch (e) { return null; } },
      set: function (k, v) { ls.setItem(k, JSON.stringify(v)); },
      remove: function (k) { ls.removeItem(k); }
    };
  }

  // requestOf POSTs (a JSON body, if any) with the token as a bearer, by
  // wx.request or fetch. A network failure rejects with code 'network'.
  function requestOf(w) {
    return function (url, token, body) {
      var h = token ? { Authorization: 'Bearer ' + token } : {};
      if (body) h['Content-Type'] = 'application/json';
      if (!w) {
        return fetch(url, { method: 'POST', headers: h, body: body ? JSON.stringify(body) : undefined }).then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (d) { return { status: r.status, data: d }; });
        }, function (e) { throw fail('network', String(e && e.message)); });
      }
      return new Promise(function (ok, no) {
        w.request({
          url: url, method: 'POST', header: h, data: body,
          success: function (r) { ok({ status: r.statusCode, data: r.data }); },
          fail: function (e) { no(fail('network', e && e.errMsg)); }
        });
      });
    };
  }

  // ---- Messages for people, keyed by code ----

  var MESSAGES = {
    'zh-CN': {
      bad_frame: '收到无法解析的数据，请重试',
      bad_payload: '消息格式不正确',
      unknown_event: '服务器不认识这条消息',
      hello_first: '连接尚未就绪，请稍候',
      already_hello: '连接已经登录过了',
      bad_user: '玩家信息不可用，请重新登录',
      invalid_choice: '请出剪刀、石头或布',
      invalid_face: '没有这个表情',
      not_playing: '现在不在对局中',
      already_queued: '你已经在等待或对局中了',
      rate_limited: '操作太频繁，请稍后再试',
      draining: '服务器正在维护，暂时不能开始新对局',
      server_busy: '服务器繁忙，请稍后再试',
      not_client_event: '客户端不能发送这条消息',
      token_required: '请先登录',
      bad_token: '登录信息无效，请重新登录',
      token_expired: '登录已过期，请重新登录',
      resume_failed: '无法恢复上一局，已重新连接',
      join_dropped: '连接中断，已退出匹配，请重新开始',
      upgrade_required: '版本过旧，请更新小程序后再玩',
      content_refused: '昵称或头像未通过审核，请更换',
      content_check: '暂时无法审核昵称或头像，请稍后再试',
      banned: '该玩家已被封禁',
      deleted: '该玩家的数据已删除，请重新登录',
      store_unavailable: '暂时无法读取或保存分数，请稍后再试',
      guest_disabled: '服务器不支持游客模式',
      not_a_guest: '这不是游客账号，请用微信登录',
      refresh_expired: '游客身份已过期，将以新游客身份进入',
      bad_authorization: '登录信息格式不正确',
      guest_unavailable: '暂时无法创建游客，请稍后再试',
      bad_request: '请求格式不正确',
      missing_code: '缺少微信登录凭证',
      method_not_allowed: '请求方式不正确',
      invalid_code: '微信登录凭证无效或已过期，请重试',
      user_blocked: '该微信账号已被限制登录',
      wechat_rate_limited: '微信登录太频繁，请一分钟后再试',
      wechat_busy: '微信登录繁忙，请稍后再试',
      wechat_config: '服务器的微信配置有误，请联系开发者',
      wechat_error: '微信登录出错，请稍后再试',
      wechat_timeout: '微信登录超时，请重试',
      wechat_unreachable: '暂时连不上微信，请稍后再试',
      login_disabled: '服务器未开启微信登录',
      server_full: '服务器已满，请稍后再试',
      too_many_connections: '当前网络的连接太多，请稍后再试',
      replaced: '你在别处登录了',
      closed: '连接已关闭',
      left: '你已离开',
      void: '本局作废',
      login_failed: '微信登录失败，请重试',
      network: '网络不可用，请检查网络后重试',
      unknown: '出错了，请稍后再试'
    },
    en: {
      bad_frame: 'The server could not read a message; try again',
      bad_payload: 'A message had the wrong shape',
      unknown_event: 'The server does not know this message',
      hello_first: 'The connection is not ready yet',
      already_hello: 'This connection has already said hello',
      bad_user: 'The player details are not usable; log in again',
      invalid_choice: 'Choose scissors, rock or paper',
      invalid_face: 'There is no such face',
      not_playing: 'You are not in a round',
      already_queued: 'You are already waiting or playing',
      rate_limited: 'Too fast; try again in a moment',
      draining: 'The server is restarting and starts no new rounds',
      server_busy: 'The server is busy; try again',
      not_client_event: 'Clients may not send this message',
      token_required: 'Log in first',
      bad_token: 'The login is not valid; log in again',
      token_expired: 'The login has expired; log in again',
      resume_failed: 'The last round could not be resumed; connected afresh',
      join_dropped: 'The connection dropped while waiting for a seat; join again',
      upgrade_required: 'This version is too old; update the app',
      content_refused: 'The name or avatar was refused; choose another',
      content_check: 'Names and pictures cannot be checked now; try again',
      banned: 'This player has been banned',
      deleted: 'This player\'s data was deleted; log in again to start afresh',
      store_unavailable: 'Scores cannot be read or saved now; try again',
      guest_disabled: 'The server does not offer guest play',
      not_a_guest: 'This is not a guest; log in with WeChat',
      refresh_expired: 'The guest has expired; you play as a new guest',
      bad_authorization: 'The login header is malformed',
      guest_unavailable: 'No guest can be made now; try again',
      bad_request: 'The request is malformed',
      missing_code: 'The WeChat login code is missing',
      method_not_allowed: 'Wrong request method',
      invalid_code: 'The WeChat login code is wrong or used; try again',
      user_blocked: 'This WeChat account may not log in',
      wechat_rate_limited: 'Too many WeChat logins; try again in a minute',
      wechat_busy: 'WeChat login is busy; try again',
      wechat_config: 'The server\'s WeChat settings are wrong; tell the developer',
      wechat_error: 'WeChat login failed; try again',
      wechat_timeout: 'WeChat login timed out; try again',
      wechat_unreachable: 'WeChat cannot be reached; try again',
      login_disabled: 'The server does not offer WeChat login',
      server_full: 'The server is full; try again later',
      too_many_connections: 'Too many connections from this network; try again later',
      replaced: 'You connected again elsewhere',
      closed: 'The connection is closed',
      left: 'You left',
      void: 'The round was void',
      login_failed: 'WeChat login failed; try again',
      network: 'No network; check it and try again',
      unknown: 'Something went wrong; try again'
    }
  };

  // message_ is the sentence for people for code, in lang ('zh-CN' or
  // 'en'; others fall back to en); an unknown code gets the 'unknown' one.
  function message_(code, lang) {
    var t = MESSAGES[lang] || MESSAGES[String(lang).slice(0, 2) === 'zh' ? 'zh-CN' : 'en'];
    return t[code] || t.unknown;
  }

  Caiquan.messages = MESSAGES;
  Caiquan.message = message_;
  Caiquan.SCISSORS = 1;
  Caiquan.ROCK = 2;
  Caiquan.PAPER = 3;
  Caiquan.PROTOCOL = PROTOCOL;
  Caiquan.version = VERSION;
  return Caiquan;
});
