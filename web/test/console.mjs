// console.mjs walks the MPS console in Debian's headless Chromium as an
// operator would and prints one JSON report on stdout for console_test.go:
//
//   node console.mjs BASE_URL --stream PATH --whip PATH --upload FILE --out DIR
//
// live grid (card, thumbnail) → stream page (WHEP, then LL-HLS, frames
// advancing) → publish from the fake camera over WHIP (seen in the grid) →
// recordings (timeline, play from a click, range download saved in DIR) →
// tasks (upload, run, results) → settings (config, events) → phone layout →
// login when the API answers 401. A screenshot of each page goes to DIR.
// Each step records its findings or its error; later steps still run.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf('--' + name); return i >= 0 ? args[i + 1] : undefined; };
const base = args[0];
const live = opt('stream'), whipPath = opt('whip'), uploadFile = opt('upload'), out = opt('out');
if (!base || !live || !whipPath || !uploadFile || !out) {
  console.error('usage: node console.mjs BASE_URL --stream PATH --whip PATH --upload FILE --out DIR');
  process.exit(2);
}
const report = { errors: [], shots: [] };
let taskPage = ''; // the finished task's results page, seen again after a login
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mps-console-chromium-'));

async function shot(page, name) {
  const file = path.join(out, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  report.shots.push(file);
}

/** step runs fn and keeps going on failure, so one broken page does not hide the others. */
async function step(name, fn) {
  try { report[name] = await fn(); } catch (e) { report.errors.push(`${name}: ${e && e.message || e}`); }
}

/** framesAdvance measures a video: time and decoded frames over `seconds` of playing. */
async function framesAdvance(page, selector, seconds) {
  const v = page.locator(selector);
  await v.waitFor();
  await page.waitForFunction((sel) => { const e = document.querySelector(sel); return e && e.currentTime > 0.2 && e.videoWidth > 0; },
    selector, { timeout: 20000 });
  return page.evaluate(([sel, secs]) => new Promise((resolve) => {
    const e = document.querySelector(sel);
    const t0 = e.currentTime;
    let frames = 0;
    const count = () => { frames++; e.requestVideoFrameCallback(count); };
    e.requestVideoFrameCallback(count);
    setTimeout(() => resolve({ advanced: e.currentTime - t0, frames, width: e.videoWidth, height: e.videoHeight,
      status: (document.querySelector('.player-status') || {}).textContent || '' }), secs * 1000);
  }), [selector, seconds]);
}

/**
 * aiResults shows how results of the AI operations (not on this server)
 * render: the finished task is served again under another id with two more
 * operations, a subtitles file and an audit report with spans; the real
 * output video stays. It checks the subtitles reach the player as a
 * loaded track and the spans are on a timeline that seeks the player.
 */
async function aiResults(page, id) {
  const t = await page.evaluate((i) => fetch('/api/v1/tasks/' + i).then((r) => r.json()), id);
  const vtt = 'WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nhello from the subtitles\n';
  t.id = 'ai-demo';
  t.ops.push({ type: 'subtitles', name: 'subtitles', state: 'SUCCESS', progress: 100, dir: '03-subtitles',
    result: { operation: 'subtitles', files: [{ name: 'subtitles.vtt', size: vtt.length }], report: { language: 'en', words: 4 } } });
  t.ops.push({ type: 'audit', name: 'audit', state: 'SUCCESS', progress: 100, dir: '04-audit',
    result: { operation: 'audit', files: [], report: { verdict: 'review', spans: [
      { start: 1, end: 2.5, kind: 'black' }, { start: 4, end: 4.8, kind: 'silence' }] } } });
  await page.route('**/api/v1/tasks/ai-demo', (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify(t) }));
  await page.route('**/03-subtitles/subtitles.vtt', (r) => r.fulfill({ contentType: 'text/vtt', body: vtt }));
  await page.goto(page.url().replace(/#\/tasks\/.*/, '#/tasks/ai-demo'));
  await page.locator('.seg-timeline .seg').first().waitFor();
  await page.waitForFunction(() => { const tr = document.querySelector('video.result-media track'); return tr && tr.readyState === 2; });
  await page.locator('.seg-timeline .seg').nth(1).click();
  await page.waitForFunction(() => Math.abs(document.querySelector('video.result-media').currentTime - 4) < 0.5);
  const r = await page.evaluate(() => ({
    spans: document.querySelectorAll('.seg-timeline .seg').length,
    cues: document.querySelector('video.result-media').textTracks[0].cues.length,
    seekedTo: document.querySelector('video.result-media').currentTime,
    reports: document.querySelectorAll('.op-result pre.json').length,
  }));
  await shot(page, '8b-task-ai-results');
  await page.unroute('**/api/v1/tasks/ai-demo');
  return r;
}

let ctx;
try {
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    permissions: ['camera', 'microphone'],
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(20000);
  page.on('pageerror', (e) => report.errors.push('pageerror: ' + e.message));

  await step('grid', async () => {
    const t0 = Date.now();
    await page.goto(base, { waitUntil: 'domcontentloaded' });
    await page.locator('#live-title').waitFor();
    const firstPaintMs = Date.now() - t0;
    const paint = await page.evaluate(() => ({
      fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
      now: performance.now(),
    }));
    const card = page.locator(`li.card[data-path="${live}"]`);
    await card.waitFor();
    await card.locator('img.thumb[data-state=image]').waitFor({ timeout: 30000 });
    const thumb = await card.locator('img.thumb').evaluate((i) => new Promise((res) => {
      const done = () => res({ w: i.naturalWidth, h: i.naturalHeight });
      if (i.complete) done(); else i.onload = done;
    }));
    await page.waitForFunction((p) => /kb\/s|Mb\/s/.test(document.querySelector(`li.card[data-path="${p}"] .bitrate`).textContent)
      && !/^0 kb/.test(document.querySelector(`li.card[data-path="${p}"] .bitrate`).textContent), live);
    await card.locator('a.chip', { hasText: 'src' }).waitFor();
    await shot(page, '1-live-grid');
    return { firstPaintMs, paint, thumb, text: (await card.innerText()).split('\n').filter(Boolean) };
  });

  await step('whep', async () => {
    await page.locator(`li.card[data-path="${live}"] h3 a`).click();
    await page.locator('#stream-title').waitFor();
    const r = await framesAdvance(page, 'video.live-video[data-mode=webrtc]', 3);
    await page.waitForFunction(() => document.querySelectorAll('.urls .copy input').length >= 4);
    r.urls = await page.locator('.urls .copy input').evaluateAll((l) => l.map((i) => i.value));
    await shot(page, '2-stream-webrtc');
    return r;
  });

  await step('hls', async () => {
    await page.getByLabel('LL-HLS').check();
    const r = await framesAdvance(page, 'video.live-video[data-mode=hls]', 3);
    await shot(page, '3-stream-llhls');
    return r;
  });

  await step('rung', async () => {
    await page.getByLabel('Rendition').selectOption({ label: 'src' });
    await page.getByLabel('WebRTC').check();
    const r = await framesAdvance(page, 'video.live-video[data-mode=webrtc]', 2);
    r.playing = await page.locator('video.live-video').getAttribute('aria-label');
    await page.getByLabel('Rendition').selectOption({ label: 'source' });
    return r;
  });

  await step('actions', async () => {
    await page.getByRole('button', { name: 'Take snapshot' }).click();
    const shotWidth = await page.locator('img.shot').evaluate((i) => new Promise((res) => {
      if (i.complete && i.naturalWidth) res(i.naturalWidth); else i.onload = () => res(i.naturalWidth);
    }));
    await page.getByRole('button', { name: 'Stop recording' }).click();
    await page.getByRole('button', { name: 'Start recording' }).waitFor();
    const stoppedBadge = await page.locator('#stream-title .badge.rec').count();
    await page.getByRole('button', { name: 'Start recording' }).click();
    await page.getByRole('button', { name: 'Stop recording' }).waitFor();
    await shot(page, '3b-stream-actions');
    return { shotWidth, stoppedBadge };
  });

  await step('whip', async () => {
    const pub = await ctx.newPage();
    pub.on('pageerror', (e) => report.errors.push('publish pageerror: ' + e.message));
    await pub.goto(base + '#/publish', { waitUntil: 'domcontentloaded' });
    await pub.getByLabel('Path').fill(whipPath);
    await pub.getByRole('button', { name: 'Start publishing' }).click();
    await pub.waitForFunction(() => document.querySelector('.publish-state').textContent === 'live', null, { timeout: 20000 });
    const cameras = await pub.locator('select >> nth=0 >> option').count();
    await shot(pub, '4-publish');
    await page.goto(base + '#/live');
    const card = page.locator(`li.card[data-path="${whipPath}"]`);
    await card.waitFor({ timeout: 20000 });
    await page.waitForFunction((p) => /×/.test((document.querySelector(`li.card[data-path="${p}"] .tracks`) || {}).textContent || ''), whipPath);
    const text = (await card.innerText()).split('\n').filter(Boolean);
    await shot(page, '5-live-grid-with-whip');
    // Stop ends the WHIP session at once (DELETE), and the card goes.
    const [del] = await Promise.all([
      pub.waitForResponse((r) => r.request().method() === 'DELETE'),
      pub.getByRole('button', { name: 'Stop publishing' }).click(),
    ]);
    await card.waitFor({ state: 'detached', timeout: 15000 });
    await pub.close();
    return { cameras, text, deleteStatus: del.status() };
  });

  await step('recording', async () => {
    await page.goto(base + '#/recordings/' + live);
    await page.waitForFunction(() => document.querySelectorAll('.path-rec .timeline .seg').length >= 2, null, { timeout: 30000 });
    const segments = await page.locator('.path-rec .timeline .seg').count();
    // A click in the middle of the timeline plays the recording from there.
    const box = await page.locator('.path-rec .timeline').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => { const v = document.querySelector('video.rec-video'); return v && v.currentTime > 0.5 && !v.paused; },
      null, { timeout: 20000 });
    const playedFrom = await page.evaluate(() => document.querySelector('video.rec-video').currentTime);
    await page.getByLabel('From (s)').fill('1');
    await page.getByLabel('From (s)').dispatchEvent('change');
    await page.getByLabel('To (s)').fill('4');
    await page.getByLabel('To (s)').dispatchEvent('change');
    await shot(page, '6-recordings');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download range as MP4' }).click()]);
    const file = path.join(out, 'range.mp4');
    await dl.saveAs(file);
    // Delete the oldest segment from the table, confirming the dialog.
    await page.locator('.path-rec summary', { hasText: 'Segments' }).click();
    const victim = await page.evaluate((p) => fetch(`/api/v1/recordings/${p}/segments`).then((r) => r.json())
      .then((j) => j.items[0].name), live);
    page.once('dialog', (d) => d.accept());
    const [del] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'DELETE'),
      page.locator('.path-rec tbody tr').first().getByRole('button', { name: /Delete/ }).click(),
    ]);
    const left = await page.evaluate((p) => fetch(`/api/v1/recordings/${p}/segments`).then((r) => r.json())
      .then((j) => j.items.map((x) => x.name)), live);
    return { segments, playedFrom, file, suggested: dl.suggestedFilename(), deleted: del.status(), victimGone: !left.includes(victim) };
  });

  await step('task', async () => {
    await page.goto(base + '#/tasks');
    await page.locator('input[type=file]').setInputFiles(uploadFile);
    await page.locator('.uploads li', { hasText: 'ready' }).waitFor();
    await page.getByRole('checkbox', { name: /mp4_720p/ }).check();
    await page.getByRole('button', { name: 'Run' }).click();
    const row = page.locator('table.tasks tbody tr').first();
    await row.waitFor();
    // A file dropped on the zone uploads too (a DataTransfer made in the page).
    const dt = await page.evaluateHandle(() => {
      const d = new DataTransfer();
      d.items.add(new File(['not media, only bytes'], 'dropped.txt', { type: 'text/plain' }));
      return d;
    });
    await page.locator('.drop').dispatchEvent('drop', { dataTransfer: dt });
    await page.locator('.uploads li', { hasText: 'dropped.txt' }).filter({ hasText: 'ready' }).waitFor();
    // Switch the scheme off and on; the API tells its state each time.
    const schemeState = () => page.evaluate(() => fetch('/api/v1/schemes/stills').then((r) => r.json()).then((j) => j.enabled));
    const schemeSwitch = [];
    await page.getByRole('checkbox', { name: 'stills' }).uncheck();
    await page.waitForFunction(() => fetch('/api/v1/schemes/stills').then((r) => r.json()).then((j) => !j.enabled));
    schemeSwitch.push(await schemeState());
    await page.getByRole('checkbox', { name: 'stills' }).check();
    await page.waitForFunction(() => fetch('/api/v1/schemes/stills').then((r) => r.json()).then((j) => j.enabled));
    schemeSwitch.push(await schemeState());
    await shot(page, '7-tasks');
    await row.locator('a').first().click();
    await page.waitForFunction(() => /FINISH|FAIL|CANCELED/.test((document.querySelector('.task-page .badge') || {}).textContent || ''),
      null, { timeout: 60000 });
    const status = await page.locator('.task-page .badge').first().textContent();
    await page.waitForFunction(() => [...document.querySelectorAll('.gallery img')].some((i) => i.complete && i.naturalWidth > 0));
    const images = await page.locator('.gallery img').evaluateAll((l) => l.map((i) => i.naturalWidth));
    await page.waitForFunction(() => { const v = document.querySelector('video.result-media'); return v && v.readyState >= 1; });
    const video = await page.evaluate(() => { const v = document.querySelector('video.result-media'); return { duration: v.duration, width: v.videoWidth, height: v.videoHeight }; });
    await shot(page, '8-task-results');
    taskPage = page.url();
    return { status, images, video, dropped: true, schemeSwitch, aiDemo: await aiResults(page, page.url().split('#/tasks/')[1]) };
  });

  await step('settings', async () => {
    await page.goto(base + '#/settings');
    await page.waitForFunction(() => document.querySelector('#events-title').textContent.includes('live'));
    await page.locator('tr[data-type="stream.published"]').first().waitFor();
    // New events arrive without a reload (snapshots come every second).
    const before = await page.locator('.events tbody tr').count();
    await page.waitForFunction((n) => document.querySelectorAll('.events tbody tr').length > n, before);
    const sections = await page.locator('.config-section summary').allInnerTexts();
    const caps = await page.locator('section[aria-labelledby=caps-title]').innerText();
    const events = await page.locator('.events tbody tr').count();
    await shot(page, '9-settings');
    // This server has no capabilities endpoint yet (caps says so); one that
    // answers is shown key by key, whatever its keys are.
    await page.route('**/api/v1/capabilities', (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify({
      ffmpeg: '5.1.6', encoders: ['libx264', 'libx265', 'libopus'], vmaf: false, ai: { transcription: 'local' } }) }));
    await page.reload();
    await page.locator('.caps dt').first().waitFor();
    const shown = await page.locator('.caps').innerText();
    await page.unroute('**/api/v1/capabilities');
    // Where keys are set: a server loaded from a file says so per section.
    await page.route('**/api/v1/config/origins', (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify({
      file: '/etc/mps/mps.yaml', keys: { 'rtmp.address': '/etc/mps/mps.yaml:12', 'paths[0].record.enabled': '$MPS_X' } }) }));
    await page.reload();
    await page.locator('.config-section summary', { hasText: 'rtmp' }).first().click();
    await page.locator('.origins').first().waitFor();
    const origins = (await page.locator('.config-source').innerText()) + ' ' + (await page.locator('.origins').first().innerText());
    await page.unroute('**/api/v1/config/origins');
    return { sections, caps, events, capsShown: shown, origins };
  });

  await step('phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(base + '#/live');
    await page.locator(`li.card[data-path="${live}"]`).waitFor();
    await shot(page, '10-live-phone');
    await page.goto(base + '#/stream/' + live);
    await page.locator('video.live-video').waitFor();
    await shot(page, '11-stream-phone');
    return { overflow: await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) };
  });

  await step('login', async () => {
    // Stand in for a locked API: 401 unless the request carries these
    // credentials; everything else passes through to the real server.
    const want = 'Basic ' + Buffer.from('ops:s3cret').toString('base64');
    const seen = [];
    const lp = await ctx.newPage();
    await lp.route(/\/(api\/v1|hls|webrtc|outputs)\//, (route) => {
      const a = route.request().headers().authorization;
      seen.push(a || '');
      if (a === want) return route.continue();
      return route.fulfill({ status: 401, contentType: 'application/json', body: '{"error":"unauthorized"}' });
    });
    await lp.goto(base + '#/live', { waitUntil: 'domcontentloaded' });
    await lp.locator('#login-title').waitFor();
    await shot(lp, '12-login');
    await lp.getByLabel('User').fill('ops');
    await lp.getByLabel('Password').fill('wrong');
    await lp.getByRole('button', { name: 'Log in' }).click();
    await lp.getByRole('alert').waitFor();
    await lp.getByLabel('Password').fill('s3cret');
    await lp.getByRole('button', { name: 'Log in' }).click();
    await lp.locator(`li.card[data-path="${live}"]`).waitFor();
    // The players carry the login too: WHEP in its POST, hls.js in xhrSetup.
    await lp.goto(base + '#/stream/' + live);
    const whep = await framesAdvance(lp, 'video.live-video[data-mode=webrtc]', 1);
    await lp.getByLabel('LL-HLS').check();
    const hls = await framesAdvance(lp, 'video.live-video[data-mode=hls]', 1);
    // Task outputs behind the lock still show: images and media are
    // fetched with the login.
    let outputImages = 0, outputVideo = 0;
    if (taskPage) {
      await lp.goto(taskPage);
      await lp.waitForFunction(() => { const im = [...document.querySelectorAll('.gallery img')];
        return im.length > 0 && im.every((i) => i.complete && i.naturalWidth > 0); }, null, { timeout: 20000 });
      outputImages = await lp.evaluate(() => document.querySelectorAll('.gallery img').length);
      await lp.waitForFunction(() => { const v = document.querySelector('video.result-media'); return v && v.readyState >= 1; }, null, { timeout: 20000 });
      outputVideo = await lp.evaluate(() => document.querySelector('video.result-media').videoHeight);
    }
    await lp.close();
    return { authorized: seen.filter((a) => a === want).length, refused: seen.filter((a) => a !== want).length,
      whepFrames: whep.frames, hlsFrames: hls.frames, outputImages, outputVideo };
  });

  await step('kick', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(base + '#/stream/' + live);
    await page.locator('video.live-video').waitFor();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Kick publisher' }).click();
    await page.getByText('The stream is not live').waitFor();
    await page.goto(base + '#/live');
    await page.locator('#live-title').waitFor();
    await page.locator(`li.card[data-path="${live}"]`).waitFor({ state: 'detached' });
    return { gone: true };
  });
} catch (e) {
  report.errors.push(String(e && e.message || e));
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
}
console.log(JSON.stringify(report));
