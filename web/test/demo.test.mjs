// The browser demo in headless Chromium (Debian's, driven by playwright-core)
// against real servers, on a phone of 375×667: one page plays a round against
// a bot; two tabs of one browser play each other; in Chinese and in English
// the hands are on screen during a round; the countdown runs from gameTimeMs.
// Each result screen and each round on the phone is saved as a screenshot.
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
const PHONE = { viewport: { width: 375, height: 667 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

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

// browser starts a Chromium with a fresh profile, in locale (which sets
// navigator.language): its tabs share localStorage, as a person's tabs do.
async function browser(locale = 'en-US') {
  const dir = fs.mkdtempSync(path.join(profiles, 'profile-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...PHONE,
    locale,
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
// phase waits for the page's phase p; a timeout names where the page is
// instead (its phase, connection state and notice).
const phase = (page, p) => page.waitForSelector(`body[data-phase="${p}"]`, { timeout: WAIT }).catch(async (e) => {
  const at = await page.evaluate(() => ({ phase: document.body.dataset.phase, state: document.body.dataset.state,
    notice: document.getElementById('notice').textContent, uid: document.getElementById('uid').textContent }));
  throw new Error(`waiting for phase ${p}, the page is at ${JSON.stringify(at)}: ${e.message}`);
});
const text = (page, sel) => page.textContent(sel).then((s) => s.trim());

async function shot(page, name, fullPage = true) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file, fullPage });
  assert.ok(fs.statSync(file).size > 1000, `${file} is a picture`);
  return file;
}

// watchRound records, in the page, when the round starts and ends and every
// value the countdown shows: a round of 1.5 s is over before the test could
// read them one by one.
const watchRound = (page) => page.evaluate(() => {
  const r = window.round = { countdown: [], startedAt: 0, resultAt: 0 };
  const cd = document.getElementById('countdown');
  new MutationObserver(() => {
    const v = cd.textContent;
    if (v && v !== r.countdown[r.countdown.length - 1]) r.countdown.push(v);
  }).observe(cd, { childList: true, characterData: true, subtree: true });
  new MutationObserver(() => {
    const p = document.body.dataset.phase;
    if (p === 'playing' && !r.startedAt) r.startedAt = Date.now();
    if (p === 'result' && !r.resultAt) r.resultAt = Date.now();
  }).observe(document.body, { attributes: true, attributeFilter: ['data-phase'] });
});

// The server plays rounds of 1.5 s (-round-time 1500ms): gameTime in the
// start message says 2 (whole seconds, rounded up), gameTimeMs 1500.
test('one page plays a full round of 1.5 s against a bot and shows the result', async () => {
  const ctx = await browser();
  const page = await open(ctx, env('CAIQUAN_BOT_URL'));
  const uid = await text(page, '#uid');
  assert.match(uid, /^g_[0-9a-f]{24}$/, 'a guest of the server (guest mode, as make run)');
  assert.equal(await text(page, '#total'), '0');
  await watchRound(page);

  await page.tap('#play');
  await phase(page, 'playing');
  await page.tap('#hand-2');
  assert.equal(await text(page, '#my-hand'), '✊');
  assert.match(await text(page, '#opp-uid'), /^bot-/);

  await phase(page, 'result');
  const round = await page.evaluate(() => window.round);
  const deadline = Number(await page.getAttribute('#countdown', 'data-deadline'));
  assert.equal(round.countdown[0], '1.5', `the countdown starts at 1.5 s: ${round.countdown}`);
  assert.equal(await page.getAttribute('#countdown', 'data-ms'), '1500');
  const length = deadline - round.startedAt;
  assert.ok(length > 1400 && length <= 1500, `the page's deadline is 1.5 s after the start, not ${length} ms`);
  // The server settles the round at its own deadline, so the result comes
  // about when the page's countdown ends (a deadline of 2 s would be 500 ms late).
  const early = deadline - round.resultAt;
  assert.ok(early < 300, `the result came ${early} ms before the page's deadline`);
  assert.deepEqual([...round.countdown].sort((a, b) => b - a), round.countdown, 'the countdown only goes down');
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

// uiText is what the page says in words of its own: every text and
// aria-label, shown or hidden, and the title, without the players' uids and
// names (user data, in whatever language the players chose).
const uiText = (page) => page.evaluate(() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('script, #uid, #opp-uid, #board .who').forEach((e) => e.remove());
  const opp = body.querySelector('#opp-name');
  if (document.body.dataset.phase !== 'idle') opp.remove(); // the opponent's name
  const labels = [...body.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label'));
  return [document.title, body.textContent, ...labels].join('\n');
});

// Chinese on a zh page, English on any other; 猜拳 Caiquan is the game's
// name in both.
function assertLanguage(ui, locale) {
  if (locale.startsWith('zh')) {
    const latin = ui.replace(/Caiquan/g, '').match(/[A-Za-z]{2,}/g);
    assert.equal(latin, null, `English words on a ${locale} page:\n${ui}`);
  } else {
    const cjk = ui.replace(/猜拳/g, '').match(/[\u3000-\u9fff\uff00-\uffef]+/g);
    assert.equal(cjk, null, `Chinese on a ${locale} page:\n${ui}`);
  }
}

const inside = (b, o) => b.x >= o.x && b.y >= o.y && b.x + b.width <= o.x + o.width && b.y + b.height <= o.y + o.height;
const apart = (a, b) => a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;

const LOCALES = {
  'zh-CN': { lang: 'zh-CN', play: '开始', hands: ['剪刀', '石头', '布'], total: '总分', state: '对局中', noOpponent: '等待对手' },
  'en-US': { lang: 'en', play: 'Play', hands: ['Scissors', 'Rock', 'Paper'], total: 'total', state: 'playing', noOpponent: 'no opponent yet' },
};

// On the phone server a round lasts long enough to measure, look and choose.
for (const [locale, want] of Object.entries(LOCALES)) {
  test(`at 375×667 in ${locale} the hands are on screen during a round`, async () => {
    const ctx = await browser(locale);
    const page = await open(ctx, env('CAIQUAN_PHONE_URL'));
    assert.equal(await page.getAttribute('html', 'lang'), want.lang);
    assert.equal(await text(page, '#play'), want.play);
    assert.equal(await text(page, '.stat small'), want.total);
    assert.equal(await text(page, '#opp-name'), want.noOpponent);
    assertLanguage(await uiText(page), locale);

    await page.tap('#play');
    await phase(page, 'playing');
    assert.equal(await text(page, '#state'), want.state);
    const view = { x: 0, y: 0, ...page.viewportSize() };
    assert.deepEqual(view, { x: 0, y: 0, width: 375, height: 667 });
    assert.deepEqual(await page.evaluate(() => [window.scrollX, window.scrollY]), [0, 0], 'nothing scrolled');
    const buttons = [];
    for (const n of [1, 2, 3]) {
      const button = await page.locator(`#hand-${n}`).boundingBox();
      const label = await page.locator(`#hand-${n} small`).boundingBox();
      assert.equal(await text(page, `#hand-${n} small`), want.hands[n - 1]);
      assert.equal(await page.getAttribute(`#hand-${n}`, 'aria-label'), want.hands[n - 1]);
      assert.ok(button && button.height >= 44 && button.width >= 44, `hand ${n} is a button a thumb can hit: ${JSON.stringify(button)}`);
      assert.ok(inside(button, view), `hand ${n} ${JSON.stringify(button)} is inside the viewport`);
      assert.ok(label && label.height > 0 && inside(label, button), `hand ${n}'s label ${JSON.stringify(label)} is inside its button ${JSON.stringify(button)}`);
      // Nothing covers the button where a thumb would press it.
      const hit = await page.evaluate(([id, x, y]) => document.getElementById(id).contains(document.elementFromPoint(x, y)),
        [`hand-${n}`, button.x + button.width / 2, button.y + button.height / 2]);
      assert.ok(hit, `hand ${n} is not covered at its centre`);
      buttons.push(button);
    }
    assert.ok(apart(buttons[0], buttons[1]) && apart(buttons[1], buttons[2]) && apart(buttons[0], buttons[2]),
      `the hands do not overlap: ${JSON.stringify(buttons)}`);
    assertLanguage(await uiText(page), locale);
    console.log('screenshot:', await shot(page, `web-phone-${locale}-round.png`, false));

    await page.tap('#hand-3');
    assert.equal(await text(page, '#my-hand'), '✋');
    assert.equal(await page.getAttribute('#hand-3', 'class'), 'on');
    assert.equal(await text(page, '#countdown').then(Number) > 0, true, 'still in the round');
    assert.deepEqual(page.errors, []);
  });
}

// A refused guest login (here POST /guest answered 503 guest_unavailable)
// is told in the page's language, from the code, not the server's English.
for (const [locale, want] of [
  ['zh-CN', '游客登录失败：游客登录暂时不可用，请稍后再试。'],
  ['en-US', 'Could not get a guest login: Guest login is not available right now. Try again in a moment.'],
]) {
  test(`a refused guest login is explained in ${locale}`, async () => {
    const ctx = await browser(locale);
    const page = await ctx.newPage();
    await page.route('**/guest', (r) => r.fulfill({ status: 503, contentType: 'application/json',
      body: JSON.stringify({ code: 'guest_unavailable', message: 'the system random source failed' }) }));
    await page.goto(env('CAIQUAN_PHONE_URL'));
    await page.waitForFunction((w) => document.getElementById('notice').textContent === w, want, { timeout: WAIT })
      .catch(async (e) => { throw new Error(`notice ${JSON.stringify(await text(page, '#notice'))}, want ${JSON.stringify(want)}: ${e}`); });
    await page.close();
  });
}

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
