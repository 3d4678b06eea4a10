/*! Caiquan JavaScript SDK: the /ws protocol in JSON text frames, for WeChat
 * mini-programs (wx.connectSocket) and browsers (WebSocket). No dependencies,
 * no build step: require() it, or load it with <script> (global Caiquan). */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.Caiquan = factory();
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  var CLOSE_REPLACED = 4001; // the same player connected elsewhere: never come back

  var DEFAULTS = {
    reconnect: true,
    minDelay: 500, // first retry waits 0.5x..1x of this
    maxDelay: 15000,
    connectTimeout: 10000 // socket open to hi
  };

  function Caiquan(options) {
    if (!(this instanceof Caiquan)) return new Caiquan(options);
    var o = {};
    var k;
    for (k in DEFAULTS) o[k] = DEFAULTS[k];
    for (k in options || {}) if (options[k] !== undefined) o[k] = options[k];
    var u = o.user || {};
    if (!o.url) throw new Error('caiquan: options.url is required');
    if (!u.uid) throw new Error('caiquan: options.user.uid is required');
    this.options = o;
    this.url = o.url + (o.url.indexOf('format=') < 0 ? (o.url.indexOf('?') < 0 ? '?' : '&') + 'format=json' : '');
    this.user = { uid: String(u.uid), uname: u.uname || '', uavatar: u.uavatar || '' };
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
    this._stopped = true; // close() was called, or 4001
    this._hidden = false; // the mini-program is in the background
  }

  var P = Caiquan.prototype;

  P.on = function (name, fn) {
    (this._handlers[name] = this._handlers[name] || []).push(fn);
    return this;
  };

  P.off = function (name, fn) {
    var l = this._handlers[name];
    if (l) this._handlers[name] = fn ? l.filter(function (f) { return f !== fn; }) : [];
    return this;
  };

  // emit calls every handler; one that throws does not stop the others or
  // the SDK: its error is rethrown on its own.
  P._emit = function (name, data) {
    var l = (this._handlers[name] || []).slice();
    for (var i = 0; i < l.length; i++) {
      try { l[i].call(this, data); } catch (e) { setTimeout(function () { throw e; }); }
    }
  };

  P._setState = function (s) {
    if (this.state === s) return;
    var prev = this.state;
    this.state = s;
    this._emit('state', { state: s, prev: prev });
  };

  // connect opens the connection (again, after close()); the SDK keeps it open.
  P.connect = function () {
    if (!this._stopped) return this;
    this._stopped = false;
    this._attempt = 0;
    this._watchApp(true);
    this._open();
    return this;
  };

  // close ends the connection for good, until connect() is called again.
  P.close = function () {
    this._stopped = true;
    this._wantJoin = false;
    this._watchApp(false);
    this._drop('closed');
    this._setState('closed');
    return this;
  };

  // join asks for a seat in the next round; before the connection is ready
  // it is remembered and sent once it is.
  P.join = function () {
    if (this.state === 'queued' || this.state === 'playing') return false;
    this._wantJoin = true;
    if (this.state !== 'ready') return false;
    return this._joining || (this._joining = this._send({ join: {} }));
  };

  // choose: 1 scissors, 2 rock, 3 paper; the last one before the deadline counts.
  P.choose = function (n) {
    return this.state === 'playing' && this._send({ choice: { choice: n } });
  };

  // face sends an emoji reaction 1..4 to the other players.
  P.face = function (n) {
    return this.state === 'playing' && this._send({ face: { face: n } });
  };

  // leave leaves the queue, or the round (which then counts as not choosing).
  P.leave = function () {
    this._wantJoin = false;
    if (this.state !== 'queued' && this.state !== 'playing' && !this._joining) return false;
    this._joining = false;
    var sent = this._send({ leave: {} });
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
    var sock = (this._sock = this._dial({
      open: function () {
        if (self._sock !== sock) return;
        sock.isOpen = true;
        var token = self.options.token;
        if (typeof token === 'function') token = token(); // asked anew for every connection
        self._send({ hello: token ? { user: self.user, token: String(token) } : { user: self.user } });
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

  // _drop forgets the current socket without treating it as lost.
  P._drop = function (reason) {
    this._clearTimer();
    this._joining = false;
    var s = this._sock;
    this._sock = null;
    if (s) s.close(1000, reason);
    if (this.round) this._roundLost(reason);
  };

  // _lost: the socket closed (or never opened, or never said hi). Decide
  // whether and when to come back.
  P._lost = function (code, reason) {
    var self = this;
    if (this.state === 'queued' || this._joining) this._wantJoin = true;
    this._sock = null;
    this._joining = false;
    this._clearTimer();
    var again = this.options.reconnect && !this._stopped && code !== CLOSE_REPLACED;
    var delay = again && !this._hidden ? this._backoff() : null;
    if (!again) {
      this._stopped = true;
      this._wantJoin = false;
      this._watchApp(false);
    }
    this._setState(again ? 'connecting' : 'closed');
    this._emit('disconnect', { code: code || 0, reason: reason || '', reconnect: again, delay: delay });
    if (this.round) this._roundLost('disconnected');
    if (code === CLOSE_REPLACED) this._emit('error', { code: 'replaced', message: 'this player connected again elsewhere' });
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
    this._emit('void', { roundId: id, reason: reason, local: true });
  };

  // _watchApp follows the mini-program to the background and back: no
  // retries while hidden, an immediate one when shown again.
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
    for (var name in msg) {
      var fn = this['_on_' + name];
      if (fn) fn.call(this, msg[name] || {});
    }
  };

  P._on_hi = function (m) {
    this._clearTimer();
    this._attempt = 0;
    this.nearby = m.nearby || 0;
    this.totalScore = m.totalScore || 0;
    this.winStreak = m.winStreak || 0;
    this._setState('ready');
    this._emit('hi', { message: m.message || '', nearby: this.nearby, totalScore: this.totalScore, winStreak: this.winStreak });
    if (this._wantJoin) this.join();
  };

  P._on_queued = function (m) {
    this._joining = false;
    this._setState('queued');
    this._emit('queued', { waiting: m.waiting || 0 });
  };

  P._on_start = function (m) {
    var me = this.user.uid;
    var users = (m.roomUsers || []).map(function (u) {
      return { uid: u.uid, uname: u.uname || '', uavatar: u.uavatar || '', totalScore: u.totalScore || 0, winStreak: u.winStreak || 0 };
    });
    this._wantJoin = this._joining = false;
    this.round = {
      roundId: m.roundId || '',
      gameTime: m.gameTime || 0,
      deadline: Date.now() + (m.gameTime || 0) * 1000,
      roomUsers: users,
      opponents: users.filter(function (u) { return u.uid !== me; })
    };
    this._setState('playing');
    this._emit('start', this.round);
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
    this.round = null;
    this._setState('ready');
    this._emit('result', { roundId: m.roundId || '', outcome: outcome, me: mine, others: others, result: m.result || [] });
  };

  P._on_leave = function (m) {
    this._emit('leave', { uid: m.uid || '' });
  };

  P._on_void = function (m) {
    this.round = null;
    this._setState('ready');
    this._emit('void', { roundId: m.roundId || '', reason: m.reason || '', local: false });
  };

  P._on_error = function (m) {
    var code = m.code || '';
    this._joining = false; // whatever was refused, a join may be sent again
    if (this.state === 'queued' && code === 'draining') this._setState('ready');
    if (code === 'draining' || code === 'already_queued' || code === 'server_busy') this._wantJoin = false;
    this._emit('error', { code: code, message: m.message || '' });
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
    var url = String(o.server || '').replace(/\/+$/, '') + '/guest';
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
        var e = new Error(d.message || 'POST /guest: HTTP ' + r.status);
        e.code = d.code || 'http_' + r.status;
        throw e;
      });
    }
    var kept = store.get(key);
    return ask((kept && kept.token) || '');
  };

  function storageOf(w) {
    if (w) return { get: w.getStorageSync.bind(w), set: w.setStorageSync.bind(w), remove: w.removeStorageSync.bind(w) };
    var ls = localStorage;
    return {
      get: function (k) { try { return JSON.parse(ls.getItem(k)); } catch (e) { return null; } },
      set: function (k, v) { ls.setItem(k, JSON.stringify(v)); },
      remove: function (k) { ls.removeItem(k); }
    };
  }

  // requestOf POSTs with the token as a bearer, by wx.request or fetch.
  function requestOf(w) {
    return function (url, token) {
      var h = token ? { Authorization: 'Bearer ' + token } : {};
      if (!w) {
        return fetch(url, { method: 'POST', headers: h }).then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (d) { return { status: r.status, data: d }; });
        });
      }
      return new Promise(function (ok, fail) {
        w.request({ url: url, method: 'POST', header: h, success: function (r) { ok({ status: r.statusCode, data: r.data }); }, fail: function (e) { fail(new Error(e.errMsg)); } });
      });
    };
  }

  Caiquan.SCISSORS = 1;
  Caiquan.ROCK = 2;
  Caiquan.PAPER = 3;
  Caiquan.version = '0.1.0';
  return Caiquan;
});
