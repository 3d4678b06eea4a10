// Where the game server is, and how players log in. In a mini-program the
// server must be https:// and wss:// on a domain listed in the
// mini-program console (request, socket and uploadFile 合法域名); see
// README.md. http://127.0.0.1:8080 and ws://127.0.0.1:8080/ws work in the
// developer tools with "不校验合法域名" ticked.
module.exports = {
  server: 'https://game.example.com', // POST /login, /guest, /avatar
  url: 'wss://game.example.com/ws',
  // false: WeChat login (wx.login and POST /login; the server runs
  // auth_mode wechat). true: guest play (POST /guest; auth_mode guest), or
  // a uid the sample makes itself when the server runs anonymous.
  guest: false,
};
