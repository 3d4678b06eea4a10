// The app holds the player (a uid made once and kept in storage, so the
// server keeps this player's totals and streak) and one SDK client that both
// pages share. The SDK reconnects by itself, and follows wx.onAppShow /
// wx.onAppHide.
const Caiquan = require('./utils/caiquan.js');
const config = require('./config.js');

const USER_KEY = 'caiquan_user';

function newUid() {
  let s = '';
  while (s.length < 12) s += Math.random().toString(36).slice(2);
  return s.slice(0, 12);
}

App({
  globalData: { user: null },

  onLaunch() {
    let user = null;
    try { user = wx.getStorageSync(USER_KEY) || null; } catch (e) { user = null; }
    if (!user || !user.uid) {
      user = { uid: newUid(), uname: '玩家' + Math.floor(Math.random() * 1000), uavatar: '' };
      wx.setStorageSync(USER_KEY, user);
    }
    this.globalData.user = user;
  },

  // client is the one connection to the server, made on first use.
  client() {
    if (!this._client) {
      this._client = new Caiquan({ url: config.url, user: this.globalData.user });
      this._client.connect();
    }
    return this._client;
  },

  // setUser renames the player; the server learns a name at hello, so the
  // connection starts over (same uid, same totals).
  setUser(fields) {
    const user = Object.assign({}, this.globalData.user, fields);
    this.globalData.user = user;
    wx.setStorageSync(USER_KEY, user);
    if (this._client) {
      this._client.close();
      this._client = null;
    }
    return this.client();
  },
});
