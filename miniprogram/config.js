// Where the game server is. In a mini-program this must be a wss:// URL on
// a domain listed under "socket 合法域名" in the mini-program console; see
// README.md. ws://127.0.0.1:8080/ws works in the developer tools with
// "不校验合法域名" ticked.
module.exports = {
  url: 'wss://game.example.com/ws',
};
