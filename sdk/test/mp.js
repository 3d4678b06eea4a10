'use strict';
// The sample mini-program (../../miniprogram) in a stand-in for the WeChat
// runtime: its app.js and page scripts run in a Node vm context whose
// globals are what a mini-program has (wx, App, Page, getApp, timers), and
// whose require resolves as the mini-program's does: paths inside the
// mini-program's folder, and package names in miniprogram_npm/ (laid out
// by build.js as "Build npm" does). wx is the socket stand-in of wx.js plus
// login, request, uploadFile, storage and the UI calls, all recorded.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createWx } = require('./wx.js');

const MP = path.join(__dirname, '..', '..', 'miniprogram');
const ROUTES = ['index', 'game'];

// miniWx: wx for one app run. code() gives the code wx.login answers with;
// upload(opts) answers wx.uploadFile (by default it fails: no server
// takes uploads in these tests).
function miniWx({ code = () => 'no-code', upload } = {}) {
  const wx = createWx();
  const store = {};
  const copy = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
  wx.store = store;
  wx.getStorageSync = (k) => (k in store ? copy(store[k]) : '');
  wx.setStorageSync = (k, v) => { store[k] = copy(v); };
  wx.removeStorageSync = (k) => { delete store[k]; };
  wx.logins = 0;
  wx.login = (o) => {
    wx.logins++;
    setImmediate(() => o.success({ code: code(), errMsg: 'login:ok' }));
  };
  wx.requests = []; // [{url, status, code}]
  wx.request = (o) => {
    const headers = Object.assign({}, o.header);
    let body;
    if (o.data !== undefined) {
      body = typeof o.data === 'string' ? o.data : JSON.stringify(o.data);
      headers['Content-Type'] = headers['Content-Type'] || 'application/json';
    }
    fetch(o.url, { method: o.method || 'GET', headers, body }).then(async (r) => {
      const text = await r.text();
      let data = text;
      try { data = JSON.parse(text); } catch (e) { /* not JSON: the text */ }
      wx.requests.push({ url: o.url, status: r.status, code: data && data.code });
      if (o.success) o.success({ statusCode: r.status, data, header: {} });
    }, (e) => o.fail && o.fail({ errMsg: 'request:fail ' + e.message }));
  };
  wx.uploads = [];
  wx.uploadFile = (o) => {
    wx.uploads.push({ url: o.url, filePath: o.filePath, name: o.name, header: Object.assign({}, o.header) });
    if (!upload) return setImmediate(() => o.fail({ errMsg: 'uploadFile:fail no stand-in' }));
    Promise.resolve(upload(o)).then((r) => o.success(r), (e) => o.fail({ errMsg: String(e) }));
  };
  wx.toasts = [];
  wx.showToast = (o) => wx.toasts.push(o.title);
  wx.modals = [];
  wx.showModal = (o) => wx.modals.push({ title: o.title, content: o.content });
  wx.navigateTo = (o) => { wx.navigated = o.url; };
  return wx;
}

// load runs the sample with wx and config (instead of config.js) and
// returns {app, pages}: the App() object and each route's Page() object.
function load(wx, config) {
  // go test lays the package out in a directory of its own.
  const npm = process.env.CAIQUAN_MINIPROGRAM_NPM || path.join(MP, 'miniprogram_npm');
  if (!fs.existsSync(path.join(npm, 'caiquan-sdk', 'index.js'))) {
    throw new Error('miniprogram/miniprogram_npm/caiquan-sdk is missing: run make build (or node sdk/build.js --miniprogram miniprogram)');
  }
  const pages = {};
  let app = null;
  let route = null;
  const ctx = vm.createContext({
    wx, console, setTimeout, clearTimeout, setInterval, clearInterval,
    App: (def) => { app = def; },
    Page: (def) => { pages[route] = def; },
    getApp: () => app,
  });
  const cache = {};
  const configFile = path.join(MP, 'config.js');

  function requireFrom(dir) {
    return (spec) => {
      let file = spec.startsWith('.') || spec.startsWith('/')
        ? path.resolve(spec.startsWith('/') ? MP : dir, spec.replace(/^\//, ''))
        : path.join(npm, spec, spec.includes('/') ? '' : 'index.js');
      if (!file.endsWith('.js')) file += '.js';
      if (!file.startsWith(MP + path.sep) && !file.startsWith(npm + path.sep)) throw new Error(`a mini-program cannot require ${spec} from outside its folder`);
      if (file === configFile) return config;
      if (!fs.existsSync(file)) throw new Error(`module "${spec}" is not defined (from ${path.relative(MP, dir) || '.'})`);
      return run(file);
    };
  }

  function run(file) {
    if (cache[file]) return cache[file].exports;
    const module = { exports: {} };
    cache[file] = module;
    const code = fs.readFileSync(file, 'utf8');
    const fn = vm.runInContext(`(function (require, module, exports) {${code}\n})`, ctx, { filename: file });
    fn(requireFrom(path.dirname(file)), module, module.exports);
    return module.exports;
  }

  for (route of ROUTES) run(path.join(MP, 'pages', route, route + '.js'));
  run(path.join(MP, 'app.js'));
  if (!app) throw new Error('app.js did not call App()');
  return { app, pages };
}

// open makes a page instance as the framework would and records every
// setData so transient states (a wiggle) can be checked afterwards.
function open(pages, route) {
  const def = pages[route];
  const p = Object.assign({}, def, { data: JSON.parse(JSON.stringify(def.data)), history: [] });
  p.setData = function (d) { this.history.push(JSON.parse(JSON.stringify(d))); Object.assign(this.data, JSON.parse(JSON.stringify(d))); };
  if (p.onLoad) p.onLoad({});
  if (p.onShow) p.onShow();
  return p;
}

function waitData(p, pred, what, ms = 8000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      if (pred(p.data)) { clearInterval(iv); resolve(p.data); }
      else if (Date.now() - t0 > ms) { clearInterval(iv); reject(new Error(`page never showed ${what} in ${ms} ms; data: ${JSON.stringify(p.data)}`)); }
    }, 10);
  });
}

const tap = (p, handler, dataset = {}) => p[handler]({ currentTarget: { dataset } });

module.exports = { MP, miniWx, load, open, waitData, tap };
