// The admin console in headless Chromium (Debian's, driven by playwright-core)
// against a real server: the operator pastes the token, sees the actor tree,
// kills a player's room with the page's button and the player gets its void,
// then runs a short chaos from the panel. Screenshots go to CAIQUAN_TEST_OUTPUT.
//
// Run through "go test ./admin/ -run TestConsoleBrowser"; node needs
// --experimental-websocket (Node 20) for the player's socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Player } from './player.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through "go test ./admin/ -run TestConsoleBrowser"`);
  return v;
};
const ADMIN = env('CAIQUAN_ADMIN_URL');
const TOKEN = env('CAIQUAN_ADMIN_TOKEN');
const GAME = env('CAIQUAN_GAME_URL');
const OUT = env('CAIQUAN_TEST_OUTPUT');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 10000;

let browser;
const players = [];
before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  for (const p of players) p.close();
  await browser?.close();
});

async function shot(page, name) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `${file} is a picture`);
  console.log('screenshot:', file);
}

// watch records what went wrong in a page: script errors, console errors,
// and answers of 400 or more.
function watch(page) {
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror ${e}`));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) page.problems.push(`${r.status()} ${r.request().method()} ${r.url()}`); });
  return page;
}

const row = (page, kind, id) => page.locator(`li.actor[data-kind="${kind}"][data-id="${id}"]`);
const killButton = (page, kind, id, mode) => row(page, kind, id).locator(`:scope > .line button.kill[data-mode="${mode}"]`);

test('the operator connects with the token, kills a room and runs chaos', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = watch(await ctx.newPage());
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });

  // Without a token the page shows no data and asks for one.
  await page.goto(`${ADMIN}/console`);
  await page.waitForSelector('body[data-state="locked"]', { timeout: WAIT });
  assert.equal(await page.locator('li.actor').count(), 0);
  assert.equal(await page.isVisible('#tree'), false);
  await shot(page, 'console-locked.png');

  // A wrong token is refused by the server, and the page forgets it.
  await page.fill('#token', 'x'.repeat(43));
  await page.click('#token-use');
  await page.waitForFunction(() => document.getElementById('notice').dataset.kind === 'error', null, { timeout: WAIT });
  assert.match(await page.textContent('#notice'), /refused the token/);
  assert.equal(await page.getAttribute('body', 'data-state'), 'locked');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');
  assert.deepEqual(page.problems.map((p) => p.replace(/ .*/, '')).filter((p) => p === '401'), ['401']);
  page.problems = [];

  // The right token: the tree shows this node's actors.
  await page.fill('#token', TOKEN);
  await page.click('#token-use');
  await page.waitForSelector('body[data-state="connected"]', { timeout: WAIT });
  await row(page, 'lobby', 'lobby').waitFor({ timeout: WAIT });
  assert.equal(await page.inputValue('#token'), '', 'the token does not stay in the form');
  assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), 'caiquan-admin-token'), TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  assert.ok(!page.url().includes(TOKEN), 'the token is not in the URL');

  // A player in a round: its room, with the bot inside, appears in the tree.
  const player = new Player(GAME, 'console-p1');
  players.push(player);
  await player.open();
  const start = await player.next('start', (m) => m.start);
  const roundId = start.start.roundId;
  const room = row(page, 'room', roundId);
  await room.waitFor({ timeout: WAIT });
  await room.locator('li.actor[data-kind="bot"]').first().waitFor({ timeout: WAIT });
  await row(page, 'session', player.uid).waitFor({ timeout: WAIT });
  assert.equal(await room.locator(':scope > .line .mailbox').textContent(), '0');
  assert.equal(await room.locator(':scope > .line .restarts').textContent(), '0');
  assert.match(await page.textContent('#summary'), /actors on 1 node$/);
  await shot(page, 'console-tree.png');

  // The kill button stops the room; the player's round ends in a void.
  const before = player.got.length;
  await killButton(page, 'room', roundId, 'stop').click();
  const voided = await player.next('void', (m) => m.void, before);
  assert.equal(voided.void.roundId, roundId);
  assert.match(dialogs.at(-1), new RegExp(`Kill room ${roundId} .* with stop\\?`));
  await page.waitForFunction((id) => document.getElementById('notice').textContent === `killed room ${id} with stop`, roundId, { timeout: WAIT });
  await room.waitFor({ state: 'detached', timeout: WAIT });
  await shot(page, 'console-room-killed.png');

  // A panic in the lobby: its supervisor restarts it, and the tree counts it.
  await killButton(page, 'lobby', 'lobby', 'panic').click();
  await page.locator('li.actor[data-kind="lobby"][data-restarts="1"]').waitFor({ timeout: WAIT });
  assert.equal(await row(page, 'lobby', 'lobby').locator(':scope > .line .restarts').textContent(), '1');

  // Chaos from the panel: rooms and bots, stop or panic, every 200 ms for
  // 2 s, seed 42. The player keeps queueing, so there is a room to hit.
  const next = await player.next('start', (m) => m.start && m.start.roundId !== roundId, before);
  await row(page, 'room', next.start.roundId).waitFor({ timeout: WAIT });
  await page.uncheck('#chaos-modes input[value="poison"]');
  await page.fill('#chaos-every', '200ms');
  await page.fill('#chaos-for', '2s');
  await page.fill('#chaos-seed', '42');
  await page.click('#chaos-start');
  await page.waitForSelector('#chaos-panel[data-chaos="running"]', { timeout: WAIT });
  await page.waitForSelector('li.chaos-kill', { timeout: WAIT });
  await shot(page, 'console-chaos-running.png');
  await page.waitForSelector('#chaos-panel[data-chaos="ended"]', { timeout: WAIT });
  const line = await page.textContent('#chaos-line');
  assert.match(line, /^ended: 2\.0 s of 2\.0 s, one kill every 200ms; kinds room, bot; modes stop, panic; seed 42; /);
  assert.equal(await page.evaluate(() => document.getElementById('chaos-progress').value), 1);
  const total = Number(await page.getAttribute('#chaos-line', 'data-total'));
  assert.ok(total >= 1, `chaos killed ${total}`);
  const kills = page.locator('li.chaos-kill');
  assert.equal(await kills.count(), total, 'each kill is listed');
  for (const k of await kills.all()) {
    assert.ok(['room', 'bot'].includes(await k.getAttribute('data-kind')));
    assert.ok(['stop', 'panic'].includes(await k.getAttribute('data-mode')));
  }
  let counted = 0;
  for (const cell of await page.locator('#chaos-counts tbody tr td:last-child').all()) counted += Number(await cell.textContent());
  assert.equal(counted, total, 'the counts by kind/mode add up');
  // A room chaos killed ended its round in a void at the player.
  const roomKills = await page.locator('li.chaos-kill[data-kind="room"]').evaluateAll((els) => els.map((e) => e.dataset.id));
  for (const id of roomKills) await player.next(`void of ${id}`, (m) => m.void && m.void.roundId === id, before);
  await shot(page, 'console-chaos-ended.png');
  player.close();

  // Forgetting the token empties the page.
  await page.click('#token-forget');
  await page.waitForSelector('body[data-state="locked"]', { timeout: WAIT });
  assert.equal(await page.locator('li.actor').count(), 0);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.deepEqual(page.problems, []);
  await ctx.close();
});

test('a page of another origin can neither read nor drive the API, nor frame the console', async () => {
  const ctx = await browser.newContext();
  const page = watch(await ctx.newPage());
  await page.goto(`${GAME}/healthz`); // a document of the game's origin
  const results = await page.evaluate(async ({ admin, token }) => {
    const out = {};
    try {
      const r = await fetch(`${admin}/actors`, { headers: { Authorization: `Bearer ${token}` } });
      out.read = `answered ${r.status}`;
    } catch (e) { out.read = `refused: ${e.name}`; }
    try {
      const r = await fetch(`${admin}/kill`, {
        method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ kind: 'lobby', id: 'lobby', mode: 'panic' }),
      });
      out.kill = `answered ${r.status}`;
    } catch (e) { out.kill = `refused: ${e.name}`; }
    // What a page can send without asking: a simple POST, answer unread.
    const r = await fetch(`${admin}/chaos`, {
      method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ kinds: ['lobby'], every: '10ms', for: '10s' }),
    });
    out.simple = r.type;
    return out;
  }, { admin: ADMIN, token: TOKEN });
  assert.deepEqual(results, { read: 'refused: TypeError', kill: 'refused: TypeError', simple: 'opaque' });

  // frame-ancestors 'none': the console does not load in a frame.
  await page.evaluate((src) => new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.src = src;
    f.onload = resolve;
    document.body.append(f);
  }), `${ADMIN}/console`);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(frame, 'the iframe exists');
  assert.ok(!frame.url().startsWith(ADMIN), `the framed console did not load: ${frame.url()}`);
  await ctx.close();

  // Nothing reached the API: the lobby (which the first test panicked
  // once) has one restart, and no chaos runs.
  const api = (p) => fetch(`${ADMIN}${p}`, { headers: { Authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
  const lobby = (await api('/actors?kind=lobby')).actors;
  assert.equal(lobby.length, 1);
  assert.equal(lobby[0].restarts, 1, 'the lobby was not panicked again');
  const chaos = await api('/chaos');
  assert.equal(chaos.running, false);
  assert.deepEqual(chaos.kinds, ['room', 'bot'], 'the last chaos run is still the console\'s');
});
