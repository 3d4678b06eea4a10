// The first page: who I am, my standing, and the way into a game. The
// avatar chosen with chooseAvatar is a temporary local path; it is uploaded
// to the server (POST /avatar) and the URL it is served at is what the
// other players see.
const Caiquan = require('caiquan-sdk');
const STATE_TEXT = {
  connecting: '连接中…',
  ready: '已连接',
  queued: '已连接',
  playing: '已连接',
  closed: '未连接',
};

Page({
  data: {
    user: {},
    totalScore: 0,
    winStreak: 0,
    nearby: 0,
    conn: 'connecting',
    connText: STATE_TEXT.connecting,
  },

  onShow() {
    this.attach(getApp().client());
  },

  onHide() { this.detach(); },
  onUnload() { this.detach(); },

  attach(client) {
    this.detach();
    this.client = client;
    this.onState = () => this.refresh();
    this.onHi = () => this.refresh();
    client.on('state', this.onState).on('hi', this.onHi).on('result', this.onHi);
    this.refresh();
  },

  detach() {
    if (!this.client) return;
    this.client.off('state', this.onState).off('hi', this.onHi).off('result', this.onHi);
    this.client = null;
  },

  refresh() {
    const c = this.client;
    this.setData({
      user: Object.assign({}, getApp().globalData.user, { uid: c.user.uid }), // the login's uid
      userAvatar: getApp().avatarSrc(getApp().globalData.user.uavatar),
      totalScore: c.totalScore,
      winStreak: c.winStreak,
      nearby: c.nearby,
      conn: c.state,
      connText: STATE_TEXT[c.state] || c.state,
    });
  },

  onNickname(e) {
    const uname = (e.detail.value || '').trim();
    if (uname && uname !== this.data.user.uname) this.attach(getApp().setUser({ uname }));
  },

  onChooseAvatar(e) {
    const app = getApp();
    return app.uploadAvatar(e.detail.avatarUrl).then(
      (url) => this.attach(app.setUser({ uavatar: url })),
      (err) => wx.showToast({ title: Caiquan.message(err.code, 'zh-CN'), icon: 'none' }),
    );
  },

  tapPlay() {
    if (this.client && this.client.state === 'closed') this.client.connect();
    wx.navigateTo({ url: '/pages/game/game' });
  },
});
