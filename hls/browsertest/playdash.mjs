// playdash.mjs plays an MPEG-DASH MPD URL with dash.js in Debian's headless
// Chromium and prints one JSON report on stdout. It is driven by the DASH
// browser tests in hls/ and internal/vod/.
//
//   node playdash.mjs URL [--seconds N] [--switch]
//
// --switch turns ABR off once playback has started and asks dash.js for
// the other video representation; the report's switchTo names it and
// rendered lists the representations dash.js reported as rendered.
//
// The page is made on the URL's origin; dash.js comes from this folder's
// node_modules (dashjs, pinned in package.json). The report has the
// playback position and decoded frames over time, the representations
// dash.js found per media type, and its errors.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const url = args.find((a) => !a.startsWith('--'));
const seconds = Number(args[args.indexOf('--seconds') + 1]) || 6;
const doSwitch = args.includes('--switch');
if (!url) {
  console.error('usage: node playdash.mjs URL [--seconds N]');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const dashPath = path.join(here, 'node_modules', 'dashjs', 'dist', 'legacy', 'umd', 'dash.all.min.js');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mps-dash-chromium-'));
let ctx;
const report = { url, fatal: [], errors: [], samples: [] };
try {
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => report.errors.push('pageerror: ' + e.message));
  // dash.js logs its warnings and errors on the console; failed requests
  // are reported with their URL instead of the console's line.
  page.on('console', (m) => {
    const text = m.text();
    if (text.startsWith('Failed to load resource')) return;
    if ((m.type() === 'error' || m.type() === 'warning') && report.errors.length < 50) report.errors.push(text.slice(0, 300));
  });
  page.on('response', (r) => {
    const kind = r.request().resourceType(); // dash.js loads with XHR or fetch
    if (r.status() >= 400 && (kind === 'xhr' || kind === 'fetch') && report.errors.length < 50) {
      report.errors.push(`HTTP ${r.status()} ${r.url()}`);
    }
  });
  // The player page is served on the MPD's origin (so requests are
  // same-origin) by the browser itself: nothing of the server's own pages
  // runs beside it.
  const pageURL = new URL('/__playdash__.html', url).href;
  await page.route(pageURL, (route) => route.fulfill({
    contentType: 'text/html',
    body: '<!doctype html><html><body><video id="v" muted playsinline></video></body></html>',
  }));
  await page.goto(pageURL, { waitUntil: 'domcontentloaded' });
  await page.addScriptTag({ path: dashPath });
  await page.evaluate((src) => {
    const st = { fatal: [], errors: [], reps: {}, frags: 0, dynamic: null, rendered: [] };
    window.__st = st;
    if (!window.dashjs) { st.fatal.push('dash.js not loaded'); return; }
    const player = dashjs.MediaPlayer().create();
    window.__player = player;
    player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
    const E = dashjs.MediaPlayer.events;
    player.on(E.ERROR, (e) => st.fatal.push('error: ' + JSON.stringify(e.error && (e.error.message || e.error.code) || e.error)));
    player.on(E.PLAYBACK_ERROR, (e) => st.fatal.push('playback: ' + (e.error && e.error.message)));
    player.on(E.FRAGMENT_LOADING_COMPLETED, () => { st.frags++; });
    player.on(E.QUALITY_CHANGE_RENDERED, (e) => {
      if (e.mediaType === 'video' && e.newRepresentation) st.rendered.push(e.newRepresentation.id);
    });
    player.on(E.STREAM_INITIALIZED, () => {
      st.dynamic = player.isDynamic();
      for (const t of ['video', 'audio']) {
        const reps = player.getRepresentationsByType ? player.getRepresentationsByType(t) : [];
        st.reps[t] = (reps || []).map((r) => ({ id: r.id, bandwidth: r.bandwidth, width: r.width, height: r.height, codecs: r.codecs }));
      }
    });
    player.initialize(document.getElementById('v'), src, true);
  }, url);

  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    await page.waitForTimeout(250);
    const s = await page.evaluate(() => {
      const v = document.getElementById('v');
      const p = window.__player;
      let latency = null;
      try { if (p && p.isDynamic()) latency = p.getCurrentLiveLatency(); } catch (e) { /* not ready */ }
      return {
        t: v.currentTime, paused: v.paused, ready: v.readyState, latency,
        decoded: v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : null,
        audio: v.webkitAudioDecodedByteCount ?? null,
      };
    });
    s.at = (Date.now() - t0) / 1000;
    report.samples.push(s);
    if (doSwitch && report.switchTo === undefined && s.t > 1) {
      const sw = await page.evaluate(() => {
        const p = window.__player;
        p.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: false } } } });
        const reps = p.getRepresentationsByType('video');
        const cur = p.getCurrentRepresentationForType('video');
        const i = reps.findIndex((r) => cur && r.id === cur.id);
        const to = i === 0 ? 1 : 0;
        p.setRepresentationForTypeByIndex('video', to, true);
        return { from: cur ? cur.id : null, to: reps[to] ? reps[to].id : null };
      });
      report.switchFrom = sw.from;
      report.switchTo = sw.to;
      report.switchAt = s.t;
    }
  }
  const st = await page.evaluate(() => window.__st);
  Object.assign(report, { reps: st.reps, frags: st.frags, dynamic: st.dynamic, rendered: st.rendered });
  report.fatal.push(...st.fatal);
  report.errors.push(...st.errors);
} catch (e) {
  report.fatal.push('harness: ' + (e && e.message ? e.message : String(e)));
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report) + '\n');
