// The admin console of one cluster node shows every node's actors and
// kills an actor on another node (see ../console_cluster_test.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Player } from './player.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this test through "go test ./admin/ -run TestClusterConsole"`);
  return v;
};
const ADMIN = env('CAIQUAN_ADMIN_URL'); // node A's admin listener
const TOKEN = env('CAIQUAN_ADMIN_TOKEN');
const NODES = env('CAIQUAN_NODES').split(','); // cluster addresses: A, B
const GAME_B = env('CAIQUAN_GAME_URL_B');
const OUT = env('CAIQUAN_TEST_OUTPUT');
const WAIT = 10000;

test('node A\'s console shows both nodes and kills a session on node B', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  let player;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror ${e}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
    page.on('dialog', (d) => d.accept());

    player = new Player(GAME_B, 'on-node-b');
    await player.open(false);
    await player.next('hi', (m) => m.hi);

    await page.goto(`${ADMIN}/console`);
    await page.fill('#token', TOKEN);
    await page.click('#token-use');
    for (const node of NODES) {
      await page.locator(`section.node[data-node="${node}"] li.actor[data-kind="lobby"]`).waitFor({ timeout: WAIT });
    }
    assert.equal(await page.locator('section.node').count(), 2, 'a section for each node');
    assert.match(await page.textContent('#summary'), /actors on 2 nodes$/);
    const session = page.locator(`section.node[data-node="${NODES[1]}"] li.actor[data-kind="session"][data-id="${player.uid}"]`);
    await session.waitFor({ timeout: WAIT });
    assert.equal(await page.locator(`section.node[data-node="${NODES[0]}"] li.actor[data-kind="session"][data-id="${player.uid}"]`).count(), 0,
      'the session is listed under its own node only');
    const file = path.join(OUT, 'console-cluster.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log('screenshot:', file);

    await session.locator(':scope > .line button.kill[data-mode="stop"]').click();
    const code = await Promise.race([player.closed, new Promise((_, no) => setTimeout(() => no(new Error('the socket stayed open')), WAIT))]);
    assert.equal(code, 4004, 'a killed session closes its socket with 4004');
    await page.waitForFunction((uid) => document.getElementById('notice').textContent === `killed session ${uid} with stop`, player.uid, { timeout: WAIT });
    await session.waitFor({ state: 'detached', timeout: WAIT });
    assert.deepEqual(problems, []);
  } finally {
    player?.close();
    await browser.close();
  }
});
