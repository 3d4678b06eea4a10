'use strict';
// A stand-in for the parts of the WeChat mini-program API that the SDK uses
// (wx.connectSocket and its SocketTask, wx.onAppShow/onAppHide and their
// off- twins), backed by real sockets from the npm `ws` package. Like a
// mini-program it sends no Origin header. The test side can cut the network
// under a socket (drop) and move the app to the background and back.
const WebSocket = require('ws');

function createWx() {
  const show = [];
  const hide = [];
  const wx = {
    tasks: [], // every SocketTask ever made, in order
    connectSocket(opts) {
      const task = new SocketTask(opts.url);
      wx.tasks.push(task);
      return task;
    },
    onAppShow(fn) { show.push(fn); },
    onAppHide(fn) { hide.push(fn); },
    offAppShow(fn) { remove(show, fn); },
    offAppHide(fn) { remove(hide, fn); },
    // test side
    appShow() { show.slice().forEach((fn) => fn({ scene: 1001 })); },
    appHide() { hide.slice().forEach((fn) => fn()); },
    listeners() { return { show: show.length, hide: hide.length }; },
    last() { return wx.tasks[wx.tasks.length - 1]; },
    openTasks() { return wx.tasks.filter((t) => t.readyState === WebSocket.OPEN); },
  };
  return wx;
}

function remove(list, fn) {
  const i = list.indexOf(fn);
  if (i >= 0) list.splice(i, 1);
}

// SocketTask follows the mini-program's: handlers registered with onX, one
// handler per kind (a later one replaces the earlier), send({data}) and
// close({code, reason}).
class SocketTask {
  constructor(url) {
    this.url = url;
    this.sent = []; // parsed frames the client sent
    this.closeInfo = null; // {code, reason} once closed
    this._h = {};
    this._ws = new WebSocket(url);
    this._ws.on('open', () => this._call('open', { header: {} }));
    this._ws.on('message', (data, isBinary) => this._call('message', { data: isBinary ? data : data.toString('utf8') }));
    this._ws.on('error', (err) => this._call('error', { errMsg: String(err && err.message) }));
    this._ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
      this._call('close', this.closeInfo);
    });
  }

  get readyState() { return this._ws.readyState; }

  onOpen(fn) { this._h.open = fn; }
  onMessage(fn) { this._h.message = fn; }
  onClose(fn) { this._h.close = fn; }
  onError(fn) { this._h.error = fn; }

  send({ data, success, fail }) {
    if (this._ws.readyState !== WebSocket.OPEN) {
      if (fail) fail({ errMsg: 'sendSocketMessage:fail socket is not connected' });
      return;
    }
    try { this.sent.push(JSON.parse(data)); } catch (e) { this.sent.push(data); }
    this._ws.send(data, (err) => (err ? fail && fail({ errMsg: err.message }) : success && success({})));
  }

  close({ code, reason } = {}) {
    this._ws.close(code || 1000, reason || '');
  }

  // drop cuts the connection the way a lost network does: no close frame,
  // the socket is destroyed, the client sees 1006.
  drop() { this._ws.terminate(); }

  _call(kind, arg) {
    const fn = this._h[kind];
    if (fn) fn(arg);
  }
}

module.exports = { createWx, SocketTask };
