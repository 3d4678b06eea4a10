// The browser demo in headless Chromium (Debian's, driven by playwright-core)
// against real servers: one page plays a round against a bot; two tabs of one
// browser play each other. Each result screen is saved as a screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through "go test ./web/"`);
  return v;
};
const OUT = process.env.CAIQUAN_TEST_OUTPUT || path.resolve('..', '..', 'test-output');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 10000;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

const contexts = [];
let profiles;

before(() => {
  fs.mkdirSync(OUT, { recursive: true });
  profiles = fs.mkdtempSync(path.join(os.tmpdir(), 'caiquan-chromium-'));
});

after(async () => {
  for (const c of contexts) await c.close();
  fs.rmSync(profiles, { recursive: true, force: true });
});

// browser starts a Chromium with a fresh profile: its tabs share
// localStorage, as a person's tabs do.
async function browser() {
  const dir = fs.mkdtempSync(path.join(profiles, 'profile-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...PHONE,
  });
  contexts.push(ctx);
  return ctx;
}

// open loads the demo in a new tab and fails the test on any page error.
async function open(ctx, url) {
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  // An anonymous server answers POST /guest with 404 guest_disabled, and the
  // demo then names its own uid: expected, not an error.
  const noGuest = (status, url) => status === 404 && new URL(url).pathname === '/guest';
  page.on('console', (m) => {
    if (m.type() === 'error' && !(m.location().url && noGuest(404, m.location().url))) page.errors.push(m.text());
  });
  page.on('response', (r) => { if (r.status() >= 400 && !noGuest(r.status(), r.url())) page.errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(url);
  await ready(page);
  // Record every wiggle of the opponent's avatar, however short.
  await page.evaluate(() => {
    window.wiggles = 0;
    new MutationObserver(() => {
      if (document.getElementById('opp-avatar').classList.contains('wiggle')) window.wiggles++;
    }).observe(document.getElementById('opp-avatar'), { attributes: true, attributeFilter: ['class'] });
  });
  return page;
}

const ready = (page) => page.waitForSelector('body[data-state="ready"]', { timeout: WAIT });
const phase = (page, p) => page.waitForSelector(`body[data-phase="${p}"]`, { timeout: WAIT });
const text = (page, sel) => page.textContent(sel).then((s) => s.trim());

async function shot(page, name) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `${file} is a picture`);
  return file;
}

test('one page plays a full round against a bot and shows the result', async () => {
  const ctx = await browser();
  const page = await open(ctx, env('CAIQUAN_BOT_URL'));
  const uid = await text(page, '#uid');
  assert.match(uid, /^g_[0-9a-f]{24}$/, 'a guest of the server (guest mode, as make run)');
  assert.equal(await text(page, '#total'), '0');

  await page.tap('#play');
  await phase(page, 'playing');
  assert.equal(await text(page, '#countdown'), '1', 'the countdown starts at gameTime');
  assert.match(await text(page, '#opp-uid'), /^bot-/);
  assert.equal(await page.isDisabled('#hand-2'), false);
  await page.tap('#hand-2');
  assert.equal(await text(page, '#my-hand'), '✊');

  await phase(page, 'result');
  const outcome = await text(page, '#outcome');
  assert.ok(['You win!', 'Tie', 'You lose'].includes(outcome), `outcome ${outcome}`);
  assert.equal(await text(page, '#my-hand'), '✊');
  assert.ok(['✌️', '✊', '✋'].includes(await text(page, '#opp-hand')), 'the bot\'s hand is shown');
  const total = Number(await text(page, '#total'));
  assert.equal(total, outcome === 'You win!' ? 1 : 0, 'the total after one round');
  assert.equal(await text(page, '#streak'), outcome === 'You win!' ? '1' : '0');
  assert.ok(await page.evaluate(() => window.wiggles) >= 1, 'the bot\'s avatar wiggled on its movement');
  // The top 10 shows this player, marked, with the total of the result.
  const line = await page.waitForSelector(`#board li.me[data-uid="${uid}"]`, { timeout: WAIT });
  assert.equal(await line.evaluate((li) => li.querySelector('b').textContent), String(total));
  console.log('screenshot:', await shot(page, 'web-bot-result.png'));

  // Back to idle by itself; the player is kept across a reload.
  await phase(page, 'idle');
  assert.equal(await text(page, '#play'), 'Play again');
  assert.equal(await page.isEnabled('#play'), true);
  await page.reload();
  await ready(page);
  assert.equal(await text(page, '#uid'), uid, 'the same player (the guest renewed) after a reload');
  assert.equal(await text(page, '#total'), String(total), 'with the total the server kept');
  assert.deepEqual(page.errors, []);
});

test('two tabs play each other and see each other\'s uid', async () => {
  const ctx = await browser();
  const url = env('CAIQUAN_PVP_URL');
  const a = await open(ctx, url);
  const b = await open(ctx, url);
  const [ua, ub] = [await text(a, '#uid'), await text(b, '#uid')];
  assert.notEqual(ua, ub, 'two tabs are two players');
  assert.match(ua, /^[0-9a-z]{12}$/, 'on an anonymous server the demo names its uid');

  await a.tap('#play');
  await phase(a, 'waiting');
  await b.tap('#play');
  await Promise.all([phase(a, 'playing'), phase(b, 'playing')]);
  assert.equal(await text(a, '#opp-uid'), ub);
  assert.equal(await text(b, '#opp-uid'), ua);

  await a.tap('#hand-2'); // rock
  await b.tap('#hand-1'); // scissors
  await Promise.all([phase(a, 'result'), phase(b, 'result')]);
  assert.equal(await text(a, '#outcome'), 'You win!');
  assert.equal(await text(b, '#outcome'), 'You lose');
  assert.equal(await text(a, '#opp-hand'), '✌️');
  assert.equal(await text(b, '#opp-hand'), '✊');
  assert.equal(await text(a, '#total'), '1');
  assert.equal(await text(a, '#streak'), '1');
  assert.equal(await text(b, '#total'), '0');
  assert.ok(await b.evaluate(() => window.wiggles) >= 1, 'a\'s choice wiggled a\'s avatar on b\'s screen');
  console.log('screenshot:', await shot(a, 'web-pvp-winner.png'));
  console.log('screenshot:', await shot(b, 'web-pvp-loser.png'));
  await Promise.all([phase(a, 'idle'), phase(b, 'idle')]);
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
});
