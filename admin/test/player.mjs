// A game client for the console's tests: one player on /ws with JSON
// frames (Node 20 needs --experimental-websocket for WebSocket).
const WAIT = 10000;

// Player is one game client on /ws (JSON frames) that queues for a round
// again after each round ends, and keeps every message it gets.
export class Player {
  constructor(game, uid) {
    this.game = game;
    this.uid = uid;
    this.got = [];
    this.waiters = [];
    this.again = true;
  }

  // open connects and says hello, then joins the queue unless join is false.
  open(join = true) {
    const url = new URL('/ws?format=json', this.game);
    url.protocol = 'ws:';
    this.ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      this.ws.onerror = () => reject(new Error(`player ${this.uid}: the socket failed`));
      this.ws.onopen = () => {
        this.send({ hello: { user: { uid: this.uid, uname: this.uid } } });
        if (join) this.send({ join: {} });
        else this.again = false;
        resolve();
      };
      this.ws.onmessage = (e) => this.receive(JSON.parse(e.data));
      this.closed = new Promise((done) => { this.ws.onclose = (e) => done(e.code); });
    });
  }

  send(msg) { this.ws.send(JSON.stringify(msg)); }

  receive(msg) {
    this.got.push(msg);
    if ((msg.void || msg.result) && this.again) this.send({ join: {} });
    this.waiters = this.waiters.filter((w) => !w(msg));
  }

  // next resolves with the first message, already here or still to come,
  // for which match is true.
  next(what, match, after = 0) {
    const seen = this.got.slice(after).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`player ${this.uid}: no ${what} within ${WAIT} ms; got ${JSON.stringify(this.got)}`)), WAIT);
      this.waiters.push((m) => {
        if (!match(m)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      });
    });
  }

  close() { this.again = false; this.ws?.close(); }
}
