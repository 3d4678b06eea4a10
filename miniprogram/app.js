// The app holds the player and one SDK client that both pages share. The
// player logs in with WeChat (config.guest: as a guest instead); the SDK
// asks the app for a token on every connection, and once more with renew
// when the server refused one. The SDK reconnects by itself, follows
// wx.onAppShow / wx.onAppHide, and resumes the round it was playing.
const Caiquan = require('caiquan-sdk');
const config = require('./config.js');

const USER_KEY = 'caiquan_user';

// A uid of the sample's own, for a server in anonymous mode only (WeChat
// and guest logins get theirs from the server).
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
      this._client = new Caiquan({ url: config.url, user: this.globalData.user, token: (info) => this.login(info) });
      this._client.on('upgrade_required', (e) => wx.showModal({ title: '需要更新', content: Caiquan.message(e.code, 'zh-CN'), showCancel: false }));
      this._client.connect();
    }
    return this._client;
  },

  // login resolves with the session ({uid, token}) for the next connection,
  // or null (anonymous server: the sample's own uid, no token). renew: the
  // server refused the last token, so log in anew.
  login({ renew } = {}) {
    if (config.guest) return Caiquan.loginAsGuest({ server: config.server });
    return Caiquan.loginWithWeChat({ server: config.server, fresh: !!renew, uname: this.globalData.user.uname });
  },

  // uploadAvatar sends the image chooseAvatar gave (a temporary local path
  // other players cannot load) to POST /avatar, and resolves with the path
  // the server serves it at. A refused token is renewed once.
  uploadAvatar(filePath) {
    const send = (renew) => this.login({ renew }).then((s) => {
      if (!s) throw Object.assign(new Error('no login'), { code: 'token_required' });
      return new Promise((resolve, reject) => wx.uploadFile({
        url: config.server + '/avatar',
        filePath,
        name: 'avatar',
        header: { Authorization: 'Bearer ' + s.token },
        success: (r) => {
          let d = {};
          try { d = JSON.parse(r.data); } catch (e) { d = {}; }
          // Only a path on this server: the URL goes to every other player.
          // The path itself is what hello carries: the server shows only
          // pictures it serves and checked (avatarSrc makes it loadable).
          if (r.statusCode === 200 && /^\/avatars\/[^/?#]+$/.test(d.url)) return resolve(d.url);
          reject(Object.assign(new Error(d.message || 'HTTP ' + r.statusCode), { code: d.code || 'unknown' }));
        },
        fail: (e) => reject(Object.assign(new Error(e.errMsg), { code: 'network' })),
      }));
    });
    return send(false).catch((e) => (!/^(token_expired|bad_token)$/.test(e.code) ? Promise.reject(e) : send(true)));
  },

  // avatarSrc is where an <image> loads a player's avatar from: the
  // server's /avatars/ paths are on config.server.
  avatarSrc(uavatar) {
    if (uavatar && uavatar.startsWith('/avatars/')) return config.server.replace(/\/+$/, '') + uavatar;
    return uavatar || '';
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
