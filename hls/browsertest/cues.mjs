// cues.mjs plays an HLS URL with hls.js in Debian's headless Chromium to
// its end (or --seconds N) and prints one JSON report on stdout: the
// subtitle tracks hls.js found and the text tracks of the <video> with
// every cue's start, end and text, as a player's captions would show them.
// It is driven by the VOD subtitle rendition test (cmd/mps).
//
//   node cues.mjs URL [--seconds N] [--rate R]
//
// --rate plays R times faster than real time (default 1) to keep tests
// short; hls.js loads subtitle segments as playback reaches them either way.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const url = args.find((a) => !a.startsWith('--'));
const seconds = Number(args[args.indexOf('--seconds') + 1]) || 30;
const rate = Number(args[args.indexOf('--rate') + 1]) || 1;
if (!url) {
  console.error('usage: node cues.mjs URL [--seconds N] [--rate R]');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const hlsPath = path.join(here, '..', '..', 'web', 'vendor', 'hls.min.js');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mps-cues-chromium-'));
let ctx;
const report = { url, fatal: [], errors: [], subtitleTracks: [], textTracks: [], ended: false, currentTime: 0 };
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
  await page.goto(new URL('/', url).href, { waitUntil: 'domcontentloaded' }).catch(() => {});
  await page.setContent('<!doctype html><html><body><video id="v" muted playsinline></video></body></html>');
  await page.addScriptTag({ path: hlsPath });
  await page.evaluate(([src, rate]) => {
    const st = { fatal: [], errors: [], subtitleTracks: [], ended: false };
    window.__st = st;
    const video = document.getElementById('v');
    if (!window.Hls || !Hls.isSupported()) { st.fatal.push('hls.js not supported'); return; }
    const hls = new Hls({ enableWorker: true });
    window.__hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      video.playbackRate = rate;
      video.play().catch((e) => st.errors.push('play: ' + e.message));
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_, d) => {
      st.subtitleTracks = d.subtitleTracks.map((t) => ({ name: t.name, lang: t.lang, default: t.default }));
    });
    hls.on(Hls.Events.ERROR, (_, d) => {
      const e = `${d.type}/${d.details}${d.response ? ' ' + d.response.code : ''}`;
      if (d.fatal) st.fatal.push(e); else st.errors.push(e);
    });
    video.addEventListener('ended', () => { st.ended = true; });
    hls.loadSource(src);
    hls.attachMedia(video);
  }, [url, rate]);
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    await page.waitForTimeout(250);
    const done = await page.evaluate(() => window.__st.ended || window.__st.fatal.length > 0);
    if (done) break;
  }
  const st = await page.evaluate(() => window.__st);
  report.fatal.push(...st.fatal);
  report.errors.push(...st.errors);
  report.subtitleTracks = st.subtitleTracks;
  report.ended = st.ended;
  Object.assign(report, await page.evaluate(() => {
    const v = document.getElementById('v');
    return {
      currentTime: v.currentTime,
      textTracks: Array.from(v.textTracks).map((t) => ({
        kind: t.kind, label: t.label, language: t.language, mode: t.mode,
        cues: Array.from(t.cues || []).map((c) => ({ start: c.startTime, end: c.endTime, text: c.text })),
      })),
    };
  }));
} catch (e) {
  report.fatal.push('harness: ' + (e && e.message ? e.message : String(e)));
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report) + '\n');
