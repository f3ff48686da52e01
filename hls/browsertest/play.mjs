// play.mjs plays an HLS URL with hls.js in Debian's headless Chromium and
// prints one JSON report on stdout. It is driven by hls/browser_test.go.
//
//   node play.mjs URL [--seconds N] [--switch] [--reload-ended]
//
// --reload-ended does what a player page does when a live stream ends
// (the video fires 'ended' after EXT-X-ENDLIST): it starts a new hls.js on
// the same URL a second later, and counts it in the report's reloads.
//
// The page is opened on the URL's origin, hls.js comes from
// web/vendor/hls.min.js. The report has the playback position over time,
// hls.js levels and errors, and latency samples: wall clock minus the
// PROGRAM-DATE-TIME of the playing position (glass to glass, since the
// server dates segments with the publisher's arrival time) and hls.js's own
// latency estimate.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const url = args.find((a) => !a.startsWith('--'));
const seconds = Number(args[args.indexOf('--seconds') + 1]) || 6;
const doSwitch = args.includes('--switch');
const reloadEnded = args.includes('--reload-ended');
if (!url) {
  console.error('usage: node play.mjs URL [--seconds N] [--switch]');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const hlsPath = path.join(here, '..', '..', 'web', 'vendor', 'hls.min.js');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mps-hls-chromium-'));
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
  // Any page on the server's origin will do: playlists are then same-origin.
  await page.goto(new URL('/', url).href, { waitUntil: 'domcontentloaded' }).catch(() => {});
  await page.setContent('<!doctype html><html><body><video id="v" muted playsinline></video></body></html>');
  await page.addScriptTag({ path: hlsPath });
  await page.evaluate(([src, reloadEnded]) => {
    const st = { fatal: [], errors: [], levels: 0, switched: [], frags: 0, parts: 0, reloads: 0 };
    window.__st = st;
    const video = document.getElementById('v');
    if (!window.Hls || !Hls.isSupported()) { st.fatal.push('hls.js not supported'); return; }
    if (reloadEnded) {
      video.addEventListener('ended', () => setTimeout(() => {
        st.reloads++;
        window.__hls.destroy();
        start();
      }, 1000));
    }
    function start() {
    // maxLiveSyncPlaybackRate lets hls.js play slightly faster to reach
    // the target latency (PART-HOLD-BACK) after start-up or a stall.
    const hls = new Hls({ lowLatencyMode: true, enableWorker: true, maxLiveSyncPlaybackRate: 1.5 });
    window.__hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => { st.levels = d.levels.length; st.codecs = d.levels.map((l) => l.codecSet || l.attrs.CODECS); video.play().catch((e) => st.errors.push('play: ' + e.message)); });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => st.switched.push(d.level));
    hls.on(Hls.Events.FRAG_LOADED, (_, d) => { if (d.part) st.parts++; else st.frags++; });
    hls.on(Hls.Events.ERROR, (_, d) => {
      const e = `${d.type}/${d.details}${d.response ? ' ' + d.response.code : ''}`;
      if (d.fatal) st.fatal.push(e); else st.errors.push(e);
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    }
    start();
  }, [url, reloadEnded]);

  const t0 = Date.now();
  let switchedAt = 0;
  while (Date.now() - t0 < seconds * 1000) {
    await page.waitForTimeout(250);
    const s = await page.evaluate(() => {
      const v = document.getElementById('v');
      const h = window.__hls;
      const pd = h && h.playingDate;
      return {
        t: v.currentTime, paused: v.paused, ready: v.readyState,
        level: h ? h.currentLevel : -1,
        g2g: pd ? (Date.now() - pd.getTime()) / 1000 : null,
        latency: h && Number.isFinite(h.latency) ? h.latency : null,
        decoded: v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : null,
      };
    });
    s.at = (Date.now() - t0) / 1000;
    report.samples.push(s);
    if (doSwitch && !switchedAt && s.t > 1) {
      switchedAt = Date.now();
      report.switchFrom = s.level;
      await page.evaluate(() => {
        const h = window.__hls;
        h.currentLevel = h.currentLevel === 0 ? 1 : 0;
      });
    }
  }
  // Cues of the subtitle text tracks hls.js made (live subtitles).
  report.textCues = await page.evaluate(() => Array.from(document.getElementById('v').textTracks)
    .flatMap((t) => Array.from(t.cues || []).map((c) => c.text)));
  const st = await page.evaluate(() => window.__st);
  Object.assign(report, { levels: st.levels, codecs: st.codecs, switched: st.switched, frags: st.frags, parts: st.parts, reloads: st.reloads });
  report.fatal.push(...st.fatal);
  report.errors.push(...st.errors);
} catch (e) {
  report.fatal.push('harness: ' + (e && e.message ? e.message : String(e)));
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report) + '\n');
