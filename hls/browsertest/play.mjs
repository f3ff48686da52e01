// play.mjs plays an HLS URL with hls.js in Debian's headless Chromium and
// prints one JSON report on stdout. It is driven by hls/browser_test.go.
//
//   node play.mjs URL [--seconds N] [--switch] [--reload-ended] [--stock] [--stamps]
//
// --stock plays with hls.js as it ships for low latency, the config
// {lowLatencyMode: true} and nothing else (the default is the tuned config
// of the console's player).
//
// --stamps reads the wall-clock time the publisher drew into every frame
// (24 bits of epoch milliseconds as white blocks, see stampFilter in
// hls/latency_browser_test.go) at requestVideoFrameCallback, and reports
// glass to glass per presented frame: the frame's expected display time
// minus its stamp, in ms, in the report's stamps as [epoch ms, ms].
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
const stock = args.includes('--stock');
const stamps = args.includes('--stamps');
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
  await page.evaluate(([src, reloadEnded, stock, stamps]) => {
    const st = { fatal: [], errors: [], levels: 0, switched: [], frags: 0, parts: 0, reloads: 0, stamps: [], unreadable: 0, waiting: 0 };
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
    video.addEventListener('waiting', () => { if (video.currentTime > 0) st.waiting++; });
    if (stamps) readStamps(video, st);
    // Where hls.js started: position, buffer start and its live sync
    // position when the video first plays.
    video.addEventListener('playing', () => {
      const h = window.__hls;
      if (st.start || !h) return;
      const b = video.buffered;
      st.start = { t: video.currentTime, buffered: b.length ? b.start(0) : null, sync: h.liveSyncPosition, latency: h.latency, target: h.targetLatency };
    });
    function start() {
    // maxLiveSyncPlaybackRate lets hls.js play slightly faster to reach
    // the target latency (PART-HOLD-BACK) after start-up or a stall.
    const hls = new Hls(stock ? { lowLatencyMode: true } : { lowLatencyMode: true, enableWorker: true, maxLiveSyncPlaybackRate: 1.5 });
    window.__hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => { st.levels = d.levels.length; st.codecs = d.levels.map((l) => l.codecSet || l.attrs.CODECS); video.play().catch((e) => st.errors.push('play: ' + e.message)); });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => st.switched.push(d.level));
    hls.on(Hls.Events.FRAG_LOADED, (_, d) => { if (d.part) st.parts++; else st.frags++; });
    // Live subtitles: what hls.js did with the WebVTT rendition.
    st.subs = { tracks: 0, loaded: 0, frags: 0, failed: 0, last: null };
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_, d) => { st.subs.tracks = d.subtitleTracks.length; });
    hls.on(Hls.Events.SUBTITLE_TRACK_LOADED, (_, d) => { st.subs.loaded++; st.subs.last = d.details && { start: d.details.fragments.length ? d.details.fragments[0].start : null, sn: d.details.startSN, end: d.details.endSN }; });
    hls.on(Hls.Events.SUBTITLE_FRAG_PROCESSED, (_, d) => { if (d.success) st.subs.frags++; else st.subs.failed++; });
    if (stamps) {
      // The start-up, event by event (ms since the page set up hls.js).
      const t0 = performance.now();
      st.events = [];
      const ev = (name, x) => { if (st.events.length < 60) st.events.push([Math.round(performance.now() - t0), name, x]); };
      hls.on(Hls.Events.LEVEL_LOADED, (_, d) => ev('level', d.details.edge.toFixed(3) + ' sync ' + (hls.liveSyncPosition || 0).toFixed(3)));
      hls.on(Hls.Events.FRAG_LOADING, (_, d) => ev('loading', d.frag.sn + '/' + (d.part ? d.part.index : '-') + ' @' + (d.part || d.frag).start.toFixed(3)));
      hls.on(Hls.Events.FRAG_BUFFERED, (_, d) => ev('buffered', d.frag.sn + '/' + (d.part ? d.part.index : '-')));
      for (const e of ['seeking', 'seeked', 'playing', 'waiting', 'canplay']) video.addEventListener(e, () => ev(e, video.currentTime.toFixed(3)));
    }
    hls.on(Hls.Events.ERROR, (_, d) => {
      const e = `${d.type}/${d.details}${d.response ? ' ' + d.response.code : ''}`;
      if (d.fatal) st.fatal.push(e); else st.errors.push(e);
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    }
    start();
    // readStamps decodes the time stamp of every presented frame: bit k of
    // the epoch milliseconds is a white 20x20 block at blockAt(k); block 24
    // is always white and 25 always black, so a frame without them (not
    // yet a stamped picture) is not read.
    function readStamps(video, st) {
      const c = document.createElement('canvas');
      c.width = 320; c.height = 240;
      const g = c.getContext('2d', { willReadFrequently: true });
      const blockAt = (k) => [10 + (k % 12) * 25 + 10, 10 + Math.floor(k / 12) * 30 + 10];
      const onFrame = (now, md) => {
        video.requestVideoFrameCallback(onFrame);
        const shown = performance.timeOrigin + md.expectedDisplayTime;
        g.drawImage(video, 0, 0, c.width, c.height);
        const px = g.getImageData(0, 0, c.width, 80).data;
        const lum = (k) => { const [x, y] = blockAt(k); return px[(y * c.width + x) * 4 + 1]; };
        if (lum(24) < 192 || lum(25) > 64) { st.unreadable++; return; }
        let v = 0;
        for (let k = 0; k < 24; k++) if (lum(k) > 128) v += 2 ** k;
        const wrap = 2 ** 24;
        st.stamps.push([Math.round(shown), ((Math.floor(shown) % wrap) - v + wrap) % wrap]);
      };
      video.requestVideoFrameCallback(onFrame);
    }
  }, [url, reloadEnded, stock, stamps]);

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
        target: h && Number.isFinite(h.targetLatency) ? h.targetLatency : null,
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
  report.textTracks = await page.evaluate(() => Array.from(document.getElementById('v').textTracks)
    .map((t) => ({ kind: t.kind, mode: t.mode, cues: t.cues ? t.cues.length : null })));
  const st = await page.evaluate(() => window.__st);
  Object.assign(report, { levels: st.levels, codecs: st.codecs, switched: st.switched, frags: st.frags, parts: st.parts, reloads: st.reloads,
    stamps: st.stamps, unreadable: st.unreadable, waiting: st.waiting, start: st.start, events: st.events, subs: st.subs });
  report.fatal.push(...st.fatal);
  report.errors.push(...st.errors);
} catch (e) {
  report.fatal.push('harness: ' + (e && e.message ? e.message : String(e)));
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report) + '\n');
