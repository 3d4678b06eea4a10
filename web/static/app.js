// The browser demo on the Caiquan SDK. Phases: idle → waiting → playing →
// result → idle; every way out of a round (result, void, a dropped
// connection, cancel, a refused join) ends in idle, and the result goes to
// idle on a timer of its own. The last result stays on screen until the
// next round starts. It speaks Chinese when navigator.language is zh*, else
// English (words and error sentences in text.js).
(function () {
  'use strict';
  var TEXT = window.CAIQUAN_TEXT;
  var T = /^zh/i.test(navigator.language || '') ? TEXT.zh : TEXT.en;
  var HANDS = ['❔', '✌️', '✊', '✋'];
  var HAND_NAMES = [T.noHand, T.scissors, T.rock, T.paper];
  var FACES = ['', '😀', '😮', '😡', '😭'];
  var OUTCOME = { win: T.win, tie: T.tie, loss: T.loss };
  var RESULT_MS = 1500;
  var WIGGLE_MS = 400;
  var PLAYERS_KEY = 'caiquan.players';

  var $ = function (id) { return document.getElementById(id); };
  var client = null;
  var current = null; // the player of this tab: {uid (its own id; its uid when anonymous), uname}
  var relogged = false; // one new login after a refused token, not a loop
  var phase = 'idle';
  var round = null;
  var timers = {};
  var startGameTimeMs = 0; // gameTimeMs of the last start frame (see PeekingWebSocket)

  // say fills {name} in a sentence of T.
  function say(key, vars) {
    return String(T[key]).replace(/\{(\w+)\}/g, function (all, k) { return vars && k in vars ? vars[k] : all; });
  }

  // errorText is the sentence for a server's (or the SDK's) error code in
  // the page's language. An English page falls back to the server's own
  // message for a code it does not know; a Chinese one names the code.
  function errorText(code, message) {
    var known = T.errors[code] || (/^http_\d+$/.test(code || '') && T.errors.http_error);
    if (known) return known;
    if (T === TEXT.en && message) return message;
    return say('unknownError', { code: code || '?' });
  }

  function translatePage() {
    document.documentElement.lang = T.lang;
    document.title = T.title;
    document.querySelectorAll('[data-t]').forEach(function (el) { el.textContent = T[el.dataset.t]; });
    document.querySelectorAll('[data-t-label]').forEach(function (el) { el.setAttribute('aria-label', T[el.dataset.tLabel]); });
    $('state').textContent = T.state[document.body.dataset.state] || document.body.dataset.state;
  }

  // PeekingWebSocket is the browser's WebSocket, given to the SDK, that also
  // reads gameTimeMs off each start frame: the SDK's start event has only
  // gameTime, whole seconds rounded up, and a 1.5 s round must count down
  // from 1.5 s. An SDK whose round carries gameTimeMs makes this moot.
  function PeekingWebSocket(url, protocols) {
    var ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
    ws.addEventListener('message', function (e) {
      if (typeof e.data !== 'string' || e.data.indexOf('"start"') < 0) return;
      try {
        var m = JSON.parse(e.data);
        if (m && m.start) startGameTimeMs = Number(m.start.gameTimeMs) || 0;
      } catch (err) { /* the SDK reports frames it cannot read */ }
    });
    return ws;
  }

  function newUid() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b % 36).toString(36); }).join('');
  }

  function loadPlayers() {
    try { return JSON.parse(localStorage.getItem(PLAYERS_KEY)) || []; } catch (e) { return []; }
  }

  function savePlayer(p) {
    var all = loadPlayers();
    var i = all.findIndex(function (x) { return x.uid === p.uid; });
    if (i < 0) all.push(p); else all[i] = p;
    localStorage.setItem(PLAYERS_KEY, JSON.stringify(all));
  }

  // pickPlayer: each open tab is its own player, kept in localStorage across
  // reloads. A tab holds a Web Lock named after its uid while it lives, and
  // takes the first saved player whose lock is free (or a new one), so two
  // tabs can play each other instead of replacing each other (close 4001).
  function pickPlayer() {
    var all = loadPlayers();
    function fresh() {
      var uid = newUid();
      var p = { uid: uid, uname: say('playerName', { id: uid.slice(0, 4) }) };
      savePlayer(p);
      return p;
    }
    if (!navigator.locks) return Promise.resolve(all[0] || fresh());
    var i = 0;
    function next() {
      var p = i < all.length ? all[i++] : fresh();
      return new Promise(function (resolve) {
        navigator.locks.request('caiquan-player-' + p.uid, { ifAvailable: true }, function (lock) {
          resolve(lock ? p : null);
          return lock ? new Promise(function () {}) : null; // held until the tab closes
        });
      }).then(function (got) { return got || next(); });
    }
    return next();
  }

  function avatar(el, user) {
    var bot = /^bot-/.test(user.uid || '');
    var words = (user.uname || user.uid || '?').trim().split(/\s+/);
    el.textContent = bot ? '🤖' : words[words.length - 1].charAt(0).toUpperCase();
    var h = 0;
    for (var i = 0; i < (user.uid || '').length; i++) h = (h * 31 + user.uid.charCodeAt(i)) % 360;
    el.style.background = user.uid ? 'hsl(' + h + ' 60% 45%)' : '';
  }

  // connect plays as the player user: a guest of the server's POST /guest
  // (kept per player, so each tab's player keeps its uid and scores), or,
  // on a server without guest mode (anonymous), under user.uid itself.
  function connect(user) {
    if (client) client.close();
    current = user;
    Caiquan.loginAsGuest({ server: location.origin, key: 'caiquan.guest.' + user.uid }).then(function (s) {
      if (current === user) open(user, s);
    }, function (e) {
      notice(say('guestFailed', { message: errorText(e.code, e.message) }));
    });
  }

  function open(user, guest) {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
    var uid = guest ? guest.uid : user.uid;
    client = new Caiquan({ url: url, user: { uid: uid, uname: user.uname, uavatar: '' }, token: guest ? guest.token : undefined,
      WebSocket: PeekingWebSocket });
    client.on('state', onState).on('hi', function () { relogged = false; stats(); }).on('queued', function () { setPhase('waiting'); })
      .on('start', onStart).on('movement', onMovement).on('result', onResult)
      .on('void', onVoid).on('leave', onLeave).on('error', onError);
    $('uid').textContent = uid;
    $('name').value = user.uname;
    avatar($('me-avatar'), { uid: uid, uname: user.uname });
    client.connect();
  }

  function setPhase(p) {
    phase = p;
    document.body.dataset.phase = p;
    var playing = p === 'playing';
    $('play').hidden = p !== 'idle' && p !== 'result';
    $('play').disabled = p === 'result';
    $('play').textContent = $('outcome').textContent ? T.playAgain : T.play;
    $('cancel').hidden = p !== 'waiting';
    document.querySelectorAll('.hands button, .faces button').forEach(function (b) { b.disabled = !playing; });
    if (p === 'waiting') notice(T.looking);
  }

  function notice(text) { $('notice').textContent = text || ''; }

  function stats() {
    if (!client) return;
    $('total').textContent = client.totalScore;
    $('streak').textContent = client.winStreak;
  }

  function onState(e) {
    document.body.dataset.state = e.state;
    $('state').textContent = T.state[e.state] || e.state;
    if (e.state === 'connecting' && e.prev !== 'closed') notice(T.reconnecting);
    if (e.state === 'ready' && $('notice').textContent === T.reconnecting) notice('');
    if (e.state === 'closed') toIdle(T.disconnected);
  }

  // onStart counts down from the round's exact length, gameTimeMs, when the
  // SDK or the start frame gives it.
  function onStart(r) {
    var ms = r.gameTimeMs || startGameTimeMs || r.gameTime * 1000;
    round = { opponents: r.opponents, ms: ms, deadline: r.gameTimeMs ? r.deadline : Date.now() + ms };
    startGameTimeMs = 0;
    $('countdown').dataset.deadline = round.deadline;
    $('countdown').dataset.ms = ms;
    var opp = r.opponents[0] || { uid: '', uname: '' };
    stop('result');
    setPhase('playing');
    notice('');
    avatar($('opp-avatar'), opp);
    $('opp-name').textContent = opp.uname || (/^bot-/.test(opp.uid) ? T.bot : opp.uid);
    $('opp-uid').textContent = opp.uid;
    $('opp-hand').textContent = '';
    $('opp-face').textContent = '';
    $('my-hand').textContent = HANDS[0];
    $('outcome').textContent = '';
    $('outcome').className = 'outcome';
    $('round-score').textContent = '';
    select(0);
    tick();
    timers.countdown = setInterval(tick, 100);
  }

  // tick shows the time left in tenths of a second, rounded up: a round
  // of 1.5 s starts at 1.5, one of 3 s at 3.0.
  function tick() {
    var left = Math.max(0, round.deadline - Date.now());
    $('countdown').textContent = (Math.ceil(left / 100) / 10).toFixed(1);
    $('timebar').firstElementChild.style.width = (100 * left / (round.ms || 1)) + '%';
  }

  function onMovement(m) {
    if (!round || !round.opponents.some(function (o) { return o.uid === m.uid; })) return;
    var a = $('opp-avatar');
    a.classList.remove('wiggle');
    void a.offsetWidth; // restart the animation
    a.classList.add('wiggle');
    stop('wiggle');
    timers.wiggle = setTimeout(function () { a.classList.remove('wiggle'); }, WIGGLE_MS);
    if (m.movement === 'face') $('opp-face').textContent = FACES[m.face] || '';
  }

  function onResult(r) {
    stop('countdown');
    var me = r.me || { choice: 0, roundScore: 0 };
    var opp = r.others.find(function (o) { return round && round.opponents[0] && o.uid === round.opponents[0].uid; }) || r.others[0] || { choice: 0 };
    round = null;
    $('countdown').textContent = '';
    $('my-hand').textContent = HANDS[me.choice];
    $('my-hand').title = HAND_NAMES[me.choice];
    $('opp-hand').textContent = HANDS[opp.choice];
    $('opp-hand').title = HAND_NAMES[opp.choice];
    $('outcome').textContent = OUTCOME[r.outcome];
    $('outcome').className = 'outcome ' + r.outcome;
    $('round-score').textContent = say('roundScore', { score: me.roundScore, streak: client.winStreak });
    stats();
    select(me.choice);
    setPhase('result');
    board();
    timers.result = setTimeout(function () { if (phase === 'result') setPhase('idle'); }, RESULT_MS);
  }

  // board shows the top 10 from GET /leaderboard, with the own line marked.
  function board() {
    fetch('/leaderboard?top=10').then(function (r) { return r.ok ? r.json() : { players: [] }; }).then(function (b) {
      var ol = $('board');
      ol.textContent = '';
      b.players.forEach(function (p) {
        var li = document.createElement('li');
        li.dataset.uid = p.uid;
        li.classList.toggle('me', p.uid === $('uid').textContent);
        var rank = document.createElement('span');
        rank.className = 'rank';
        rank.textContent = p.rank;
        var name = document.createElement('span');
        name.className = 'who';
        name.textContent = p.uname || p.uid;
        var total = document.createElement('b');
        total.textContent = p.total;
        li.append(rank, name, total);
        ol.appendChild(li);
      });
      if (!b.players.length) {
        var empty = document.createElement('li');
        empty.className = 'empty';
        empty.textContent = T.noRounds;
        ol.appendChild(empty);
      }
    }).catch(function () {});
  }

  function onVoid(v) {
    toIdle(v.local ? T.voidLocal : T.voidServer);
  }

  function onLeave(l) {
    if (round && round.opponents.some(function (o) { return o.uid === l.uid; })) notice(T.opponentLeft);
  }

  function onError(e) {
    if (e.code === 'token_expired' && !relogged) {
      relogged = true;
      return connect(current); // renews the guest: same uid, same scores
    }
    if (e.code === 'replaced') return toIdle(errorText(e.code));
    if (phase === 'waiting' && client.state === 'ready') return toIdle(errorText(e.code, e.message));
    notice(errorText(e.code, e.message));
  }

  function toIdle(text) {
    stop('countdown');
    stop('result');
    round = null;
    $('countdown').textContent = '';
    setPhase('idle');
    notice(text);
    stats();
  }

  function stop(name) {
    clearTimeout(timers[name]);
    clearInterval(timers[name]);
    delete timers[name];
  }

  function select(n) {
    document.querySelectorAll('.hands button').forEach(function (b) {
      b.classList.toggle('on', Number(b.dataset.choice) === n);
    });
  }

  function choose(n) {
    if (phase === 'playing' && client.choose(n)) {
      select(n);
      $('my-hand').textContent = HANDS[n];
    }
  }

  $('play').addEventListener('click', function () {
    if (phase !== 'idle' || !client) return;
    $('outcome').textContent = '';
    setPhase('waiting');
    client.join();
  });
  $('cancel').addEventListener('click', function () {
    client.leave();
    toIdle('');
  });
  document.querySelectorAll('.hands button').forEach(function (b) {
    b.addEventListener('click', function () { choose(Number(b.dataset.choice)); });
  });
  document.querySelectorAll('.faces button').forEach(function (b) {
    b.addEventListener('click', function () { if (phase === 'playing') client.face(Number(b.dataset.face)); });
  });
  document.addEventListener('keydown', function (e) {
    if (e.target.tagName === 'INPUT') return;
    if (e.key >= '1' && e.key <= '3') choose(Number(e.key));
    if ((e.key === 'Enter' || e.key === ' ') && phase === 'idle') $('play').click();
  });
  $('name').addEventListener('change', function () {
    var uname = $('name').value.trim().slice(0, 24);
    if (!uname) return;
    var p = { uid: current.uid, uname: uname };
    savePlayer(p);
    toIdle('');
    connect(p); // the server learns a name at hello: same uid, same totals
  });

  translatePage();
  setPhase('idle');
  pickPlayer().then(function (p) { connect(p); board(); });
})();
