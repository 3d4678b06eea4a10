// The game page. Its phase follows the SDK: idle → waiting (queued) →
// playing → result → idle. Every way out of a round (result, void, a
// dropped connection, leaving) ends in idle, and the result screen goes back
// to idle on a timer of its own, so no path can stay stuck (the 2016 client
// froze on a loss). A dropped connection mid-round is resumed by the SDK:
// the page keeps the round, and its result (or void) comes when the
// connection is back. Every message shown for an error is the SDK's
// Chinese sentence for its code.
const Caiquan = require('caiquan-sdk');

const HANDS = ['❔', '✌️', '✊', '✋']; // none, scissors, rock, paper
const FACES = ['', '😀', '😮', '😡', '😭'];
const OUTCOME_TEXT = { win: '你赢了！', tie: '平局', loss: '你输了' };
const RESULT_MS = 1500; // how long the result stays before idle
const WIGGLE_MS = 400;
const EVENTS = ['state', 'queued', 'start', 'movement', 'result', 'void', 'leave', 'error', 'auth_failed', 'upgrade_required'];
const say = (code) => Caiquan.message(code, 'zh-CN');

Page({
  data: {
    hands: HANDS,
    faces: FACES,
    phase: 'idle', // idle, waiting, playing, result
    conn: 'connecting',
    me: {},
    totalScore: 0,
    winStreak: 0,
    opp: null, // {uid, uname, uavatar}
    oppAvatar: '', // where the opponent's avatar loads from (app.avatarSrc)
    myChoice: 0,
    oppChoice: 0,
    oppFace: '',
    wiggle: false,
    countdown: 0,
    outcome: '',
    outcomeText: '',
    roundScore: 0,
    oppTotal: 0,
    notice: '',
  },

  onLoad() {
    this.timers = {};
    this.client = getApp().client();
    this.handlers = {};
    EVENTS.forEach((ev) => {
      this.handlers[ev] = (d) => this['on_' + ev](d);
      this.client.on(ev, this.handlers[ev]);
    });
    this.setData({ me: this.client.user, conn: this.client.state, totalScore: this.client.totalScore, winStreak: this.client.winStreak });
  },

  onUnload() {
    EVENTS.forEach((ev) => this.client.off(ev, this.handlers[ev]));
    Object.keys(this.timers).forEach((k) => this.stopTimer(k));
    this.client.leave(); // leaving the page leaves the queue or the round
  },

  // UI

  tapStart() {
    if (this.data.phase !== 'idle') return;
    this.stopTimer('result');
    if (this.client.state === 'closed') this.client.connect(); // after auth_failed, or 4001: try again
    this.setData({ phase: 'waiting', notice: this.client.state === 'ready' ? '' : '连接中…', outcome: '', opp: null, myChoice: 0, oppChoice: 0 });
    this.client.join();
  },

  tapCancel() {
    this.client.leave();
    this.toIdle('');
  },

  // tapHand picks a hand; tapping my own hand cycles 1→2→3 as in the demo.
  tapHand(e) {
    if (this.data.phase !== 'playing' || this.client.state !== 'playing') return;
    const n = Number(e.currentTarget.dataset.choice) || (this.data.myChoice % 3) + 1;
    this.client.choose(n); // its promise is the result event, which the page follows
    this.setData({ myChoice: n });
  },

  tapFace(e) {
    if (this.data.phase === 'playing') this.client.face(Number(e.currentTarget.dataset.face));
  },

  // SDK events

  on_state({ state }) {
    this.setData({ conn: state });
    if (state === 'connecting') this.setData({ notice: '连接中断，正在重连…' });
    if (state === 'closed') this.toIdle('连接已关闭');
    if ((state === 'ready' || state === 'playing') && this.data.notice.indexOf('重连') >= 0) this.setData({ notice: '' });
    if (state === 'queued') this.setData({ phase: 'waiting', notice: '' });
  },

  on_queued() {
    this.setData({ phase: 'waiting' });
  },

  on_start(round) {
    const opp = round.opponents[0] || null;
    this.setData({
      phase: 'playing',
      notice: '',
      opp,
      oppAvatar: opp ? getApp().avatarSrc(opp.uavatar) : '',
      oppTotal: opp ? opp.totalScore : 0,
      myChoice: 0, // every round starts with no choice
      oppChoice: 0,
      oppFace: '',
      outcome: '',
      countdown: Math.ceil(round.gameTimeMs / 1000),
    });
    this.startTimer('countdown', 200, () => {
      const left = Math.max(0, Math.ceil((round.deadline - Date.now()) / 1000));
      if (left !== this.data.countdown) this.setData({ countdown: left });
    }, true);
  },

  on_movement(m) {
    if (!this.data.opp || m.uid !== this.data.opp.uid) return;
    this.setData({ wiggle: true, oppFace: m.movement === 'face' ? FACES[m.face] || '' : this.data.oppFace });
    this.startTimer('wiggle', WIGGLE_MS, () => this.setData({ wiggle: false }));
  },

  on_result(r) {
    this.stopTimer('countdown');
    const opp = this.data.opp && r.others.find((o) => o.uid === this.data.opp.uid) || r.others[0] || {};
    const me = r.me || {};
    this.setData({
      phase: 'result',
      countdown: 0,
      outcome: r.outcome,
      outcomeText: OUTCOME_TEXT[r.outcome],
      myChoice: me.choice || 0,
      oppChoice: opp.choice || 0,
      roundScore: me.roundScore || 0,
      totalScore: this.client.totalScore,
      winStreak: this.client.winStreak,
      oppTotal: opp.totalScore || 0,
    });
    this.startTimer('result', RESULT_MS, () => {
      if (this.data.phase === 'result') this.setData({ phase: 'idle' });
    });
  },

  on_void(v) {
    this.toIdle(v.local ? '连接中断，本局作废（按未出拳计）' : say('void'));
  },

  on_leave(l) {
    if (this.data.opp && l.uid === this.data.opp.uid) this.setData({ notice: '对手离开了' });
  },

  on_error(e) {
    if (e.code === 'replaced') return this.toIdle(say('replaced'));
    // A refused join (the server is draining, or busy) must not leave the
    // page waiting for a round that will not come.
    if (this.data.phase === 'waiting' && this.client.state === 'ready') return this.toIdle(say(e.code));
    wx.showToast({ title: say(e.code), icon: 'none' });
  },

  // The SDK stopped: the login was refused twice. Tapping start tries again.
  on_auth_failed(e) {
    this.toIdle(say(e.code));
  },

  // The app shows the update dialog; the page only stops.
  on_upgrade_required(e) {
    this.toIdle(say(e.code));
  },

  toIdle(notice) {
    this.stopTimer('countdown');
    this.stopTimer('result');
    this.setData({ phase: 'idle', countdown: 0, notice, totalScore: this.client.totalScore, winStreak: this.client.winStreak });
  },

  startTimer(name, ms, fn, repeat) {
    this.stopTimer(name);
    this.timers[name] = repeat ? { i: setInterval(fn, ms) } : { t: setTimeout(() => { delete this.timers[name]; fn(); }, ms) };
  },

  stopTimer(name) {
    const t = this.timers[name];
    if (!t) return;
    if (t.i) clearInterval(t.i);
    if (t.t) clearTimeout(t.t);
    delete this.timers[name];
  },
});
