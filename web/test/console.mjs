// console.mjs opens the MPS console in Debian's headless Chromium, waits for
// a stream's row, reads it, plays the stream over WebRTC (or HLS with
// --hls) from the row's button and prints one JSON report on stdout.
//
//   node console.mjs http://HOST:PORT/ PATH [--hls] [--seconds N]
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [base, streamPath] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const useHLS = process.argv.includes('--hls');
const sIdx = process.argv.indexOf('--seconds');
const seconds = sIdx > 0 ? Number(process.argv[sIdx + 1]) : 4;
if (!base || !streamPath) {
  console.error('usage: node console.mjs BASE_URL PATH [--hls] [--seconds N]');
  process.exit(2);
}
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mps-console-chromium-'));
const report = { errors: [], row: null, playing: null };
let ctx;
try {
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => report.errors.push('pageerror: ' + e.message));
  await page.goto(base, { waitUntil: 'domcontentloaded' });
  const row = page.locator(`tr[data-path="${streamPath}"]`);
  await row.waitFor({ timeout: 10000 });
  report.row = await row.locator('td').allInnerTexts();
  await row.getByRole('button', { name: useHLS ? 'HLS' : 'WebRTC' }).click();
  const deadline = Date.now() + seconds * 1000 + 10000;
  let last = null;
  while (Date.now() < deadline) {
    last = await page.evaluate(() => {
      const v = document.getElementById('video');
      return { time: v.currentTime, width: v.videoWidth, height: v.videoHeight,
        status: document.getElementById('status').textContent };
    });
    if (last.time >= seconds) break;
    await page.waitForTimeout(250);
  }
  report.playing = last;
  if (process.argv.includes('--screenshot')) {
    await page.screenshot({ path: process.argv[process.argv.indexOf('--screenshot') + 1] });
  }
} catch (e) {
  report.errors.push(String(e && e.message || e));
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
}
console.log(JSON.stringify(report));
