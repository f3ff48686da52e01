// live.js: the live pages — the grid of streams with thumbnails, and one
// stream's page with its player, graphs, actions and URLs.
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  html, api, apiOr, blobURL, usePoll, request, fmtBitrate, fmtDuration, fmtTrack, streamHref,
  Copyable, Chart, ErrorNote,
} from './lib.js';
import { LivePlayer } from './player.js';

/** loadLive gathers what the grid shows: streams, recording state and ladders. */
async function loadLive() {
  const [s, rec, tc] = await Promise.all([
    api('/api/v1/streams'),
    apiOr('/api/v1/recordings', { items: [] }),
    apiOr('/api/v1/transcoders', { transcoders: [] }),
  ]);
  const recording = new Set((rec.items || []).filter((r) => r.recording).map((r) => r.path));
  const ladders = new Map((tc.transcoders || []).map((t) => [t.path, t]));
  const rungOf = new Map();
  for (const t of tc.transcoders || []) for (const r of t.rungs || []) rungOf.set(r, t.path);
  const streams = (s.streams || []).sort((a, b) => a.path.localeCompare(b.path));
  return { streams, recording, ladders, rungOf };
}

/** Thumb shows a stream's latest snapshot, refreshed every few seconds, or a placeholder. */
export function Thumb({ path, every = 5000 }) {
  const [src, setSrc] = useState(null);
  const [state, setState] = useState('loading');
  useEffect(() => {
    let cur = null;
    let gone = false;
    const load = async () => {
      if (document.hidden) return;
      try {
        const u = await blobURL('/snapshots/' + path + '/latest.jpg');
        if (gone) { if (u) URL.revokeObjectURL(u); return; }
        if (u) {
          if (cur) URL.revokeObjectURL(cur);
          cur = u;
          setSrc(u);
          setState('image');
        } else if (!cur) setState('none');
      } catch { if (!cur) setState('none'); }
    };
    load();
    const id = setInterval(load, every);
    return () => { gone = true; clearInterval(id); if (cur) URL.revokeObjectURL(cur); };
  }, [path]);
  if (state === 'image') return html`<img class="thumb" data-state="image" src=${src} alt=${'Latest picture of ' + path} />`;
  return html`<div class="thumb placeholder" data-state=${state} role="img"
    aria-label=${'No picture of ' + path}>${state === 'loading' ? '…' : 'no snapshot yet (snapshots may be off for this path)'}</div>`;
}

// Readers inside the server (recording, snapshots, ladders, forwards) are
// shown apart from players, so an operator sees the audience at a glance.
const internalReaders = new Set(['recorder', 'snapshot', 'transcode', 'transcode-audio', 'forward', 'test']);

function Readers({ readers }) {
  const list = Object.entries(readers || {}).filter(([, n]) => n > 0)
    .sort(([a], [b]) => internalReaders.has(a) - internalReaders.has(b) || a.localeCompare(b));
  if (!list.length) return html`<span class="muted">no readers</span>`;
  return html`<ul class="chips" aria-label="Readers by protocol">
    ${list.map(([p, n]) => html`<li class=${'chip' + (internalReaders.has(p) ? ' internal' : '')}
      title=${internalReaders.has(p) ? 'inside the server' : 'players'}>${p} ${n}</li>`)}</ul>`;
}

function StreamCard({ s, recording, ladder, rungOf }) {
  const video = s.tracks.find((t) => t.width);
  return html`<li class="card" data-path=${s.path}>
    <a href=${streamHref(s.path)} class="card-link" aria-label=${'Open ' + s.path}>
      <${Thumb} path=${s.path} />
    </a>
    <div class="card-body">
      <h3><a href=${streamHref(s.path)}>${s.path}</a>
        ${recording && html` <span class="badge rec" title="recording">● REC</span>`}</h3>
      <p class="facts">
        <span class="proto">${s.publisher.protocol || 'pull'}</span>
        <span class="tracks">${s.tracks.map(fmtTrack).join(' · ')}</span>
      </p>
      <p class="facts">
        <span class="bitrate">${fmtBitrate(s.bitrate_in)}</span>
        <span class="uptime">up ${fmtDuration(s.uptime_seconds)}</span>
        ${video ? '' : html`<span class="muted">audio only</span>`}
      </p>
      <${Readers} readers=${s.readers} />
      ${ladder && html`<p class="facts">Ladder ${ladder.ladder} (${ladder.state}):
        ${(ladder.rungs || []).map((r) => html` <a class="chip" href=${streamHref(r)}>${r.slice(s.path.length + 1)}</a>`)}</p>`}
      ${rungOf && html`<p class="facts muted">rung of <a href=${streamHref(rungOf)}>${rungOf}</a></p>`}
    </div>
  </li>`;
}

/** LiveGrid is the home page: every live stream as a card, refreshed every 2 s. */
export function LiveGrid() {
  const { data, error } = usePoll(loadLive, 2000);
  return html`<section aria-labelledby="live-title">
    <h1 id="live-title">Live streams ${data && html`<span class="muted">(${data.streams.length})</span>`}</h1>
    <${ErrorNote} error=${error} />
    ${data && !data.streams.length && html`<div class="empty">
      <p>No live streams. Publish one from an encoder, e.g.</p>
      <p><code>ffmpeg -re -i file.mp4 -c copy -f flv rtmp://${location.hostname}:1935/live/cam1</code></p>
      <p>or <a href="#/publish">from this browser's camera</a>.</p></div>`}
    ${data && html`<ul class="grid" aria-label="Live streams">
      ${data.streams.map((s) => html`<${StreamCard} key=${s.path} s=${s} recording=${data.recording.has(s.path)}
        ladder=${data.ladders.get(s.path)} rungOf=${data.rungOf.get(s.path)} />`)}
    </ul>`}
  </section>`;
}

/** urlsFor lists the URLs to publish and play path in every protocol the server runs. */
function urlsFor(path, L) {
  const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname;
  const port = (a) => a.slice(a.lastIndexOf(':') + 1);
  const web = location.origin;
  const pub = [], play = [];
  if (L.rtmp) { const u = `rtmp://${host}:${port(L.rtmp)}/${path}`; pub.push(['RTMP', u]); play.push(['RTMP', u]); }
  if (L.rtsp) { const u = `rtsp://${host}:${port(L.rtsp)}/${path}`; pub.push(['RTSP', u]); play.push(['RTSP', u]); }
  if (L.srt) {
    pub.push(['SRT', `srt://${host}:${port(L.srt)}?streamid=publish:${path}`]);
    play.push(['SRT', `srt://${host}:${port(L.srt)}?streamid=read:${path}`]);
  }
  if (L.webrtc) { pub.push(['WHIP', `${web}/webrtc/${path}/whip`]); play.push(['WHEP', `${web}/webrtc/${path}/whep`]); }
  play.push(['HLS', `${web}/hls/${path}/index.m3u8`]);
  play.push(['Snapshot', `${web}/snapshots/${path}/latest.jpg`]);
  return { pub, play };
}

const historyLen = 120;

/** StreamPage is one stream: player, live graphs, actions and URLs. */
export function StreamPage({ path }) {
  const [mode, setMode] = useState('webrtc');
  const [rung, setRung] = useState(path);
  const [msg, setMsg] = useState('');
  const [shot, setShot] = useState(null);
  const hist = useRef({ bitrate: [], readers: [] });
  const { data: s, error } = usePoll(async () => {
    const st = await api('/api/v1/streams/' + path);
    const h = hist.current;
    h.bitrate = [...h.bitrate, st.bitrate_in].slice(-historyLen);
    h.readers = [...h.readers, Object.values(st.readers || {}).reduce((a, b) => a + b, 0)].slice(-historyLen);
    return st;
  }, 1000, [path]);
  const { data: extra, reload } = usePoll(async () => {
    const [rec, tc, L] = await Promise.all([
      apiOr('/api/v1/recordings/' + path, null),
      apiOr('/api/v1/transcoders', { transcoders: [] }),
      apiOr('/api/v1/listeners', {}),
    ]);
    return { rec, ladder: (tc.transcoders || []).find((t) => t.path === path), L };
  }, 5000, [path]);
  useEffect(() => () => { if (shot) URL.revokeObjectURL(shot); }, [shot]);

  const act = async (what, fn) => {
    setMsg(what + '…');
    try { await fn(); setMsg(what + ': done'); } catch (e) { setMsg(what + ': ' + e.message); }
    reload();
  };
  const kick = () => {
    if (confirm(`Disconnect the publisher of ${path}?`)) act('Kick', () => api('/api/v1/streams/' + path, { method: 'DELETE' }));
  };
  const record = (on) => act(on ? 'Start recording' : 'Stop recording',
    () => api(`/api/v1/recordings/${path}/${on ? 'start' : 'stop'}`, { method: 'POST' }));
  const snapshot = () => act('Snapshot', async () => {
    const res = await request('/api/v1/snapshots/' + path, { method: 'POST' });
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || res.statusText);
    setShot(URL.createObjectURL(await res.blob()));
  });

  const rungs = extra && extra.ladder ? extra.ladder.rungs || [] : [];
  const urls = extra ? urlsFor(path, extra.L || {}) : null;
  const recording = extra && extra.rec && extra.rec.recording;
  return html`<section aria-labelledby="stream-title" class="stream-page">
    <p><a href="#/live">← Live streams</a></p>
    <h1 id="stream-title">${path} ${recording && html`<span class="badge rec">● REC</span>`}</h1>
    <${ErrorNote} error=${error} />
    ${error && error.status === 404 && html`<p>The stream is not live (any more).
      <a href=${'#/recordings/' + path}>Its recordings</a>.</p>`}
    <div class="stream-layout">
      <div>
        <div class="toolbar" role="group" aria-label="Player">
          <fieldset class="seg">
            <legend class="sr-only">Protocol</legend>
            <label><input type="radio" name="mode" value="webrtc" checked=${mode === 'webrtc'}
              onChange=${() => setMode('webrtc')} /> WebRTC</label>
            <label><input type="radio" name="mode" value="hls" checked=${mode === 'hls'}
              onChange=${() => setMode('hls')} /> LL-HLS</label>
          </fieldset>
          ${rungs.length > 0 && html`<label>Rendition
            <select value=${rung} onChange=${(e) => setRung(e.target.value)}>
              <option value=${path}>source</option>
              ${rungs.map((r) => html`<option value=${r}>${r.slice(path.length + 1)}</option>`)}
            </select></label>`}
        </div>
        ${s && html`<${LivePlayer} path=${rung} mode=${mode} key=${rung + mode} />`}
      </div>
      <div class="side">
        ${s && html`<dl class="facts-list">
          <dt>Publisher</dt><dd>${s.publisher.protocol || 'pull'} ${s.publisher.remote_addr || ''}</dd>
          <dt>Tracks</dt><dd>${s.tracks.map(fmtTrack).join(', ')}</dd>
          <dt>Uptime</dt><dd>${fmtDuration(s.uptime_seconds)}</dd>
          <dt>Readers</dt><dd><${Readers} readers=${s.readers} /></dd>
          <dt>Overruns</dt><dd>${s.overruns}</dd>
          ${extra && extra.ladder && html`<dt>Ladder</dt><dd>${`${extra.ladder.ladder}: ${extra.ladder.state}, ${
            extra.ladder.speed.toFixed(2)}× speed, ${extra.ladder.restarts} restarts`}</dd>`}
        </dl>`}
        <${Chart} label="Bitrate in" values=${hist.current.bitrate} format=${fmtBitrate} />
        <${Chart} label="Readers" values=${hist.current.readers} format=${(v) => String(Math.round(v))} max=${1} />
        <div class="actions" role="group" aria-label="Actions">
          <button type="button" class="danger" onClick=${kick}>Kick publisher</button>
          ${recording
            ? html`<button type="button" onClick=${() => record(false)}>Stop recording</button>`
            : html`<button type="button" onClick=${() => record(true)}>Start recording</button>`}
          <button type="button" onClick=${snapshot}>Take snapshot</button>
          <a class="button" href=${'#/recordings/' + path}>Recordings</a>
        </div>
        <p class="muted" aria-live="polite">${msg}</p>
        ${shot && html`<figure><img class="shot" src=${shot} alt=${'Snapshot of ' + path} />
          <figcaption><a href=${shot} download=${path.replaceAll('/', '_') + '.jpg'}>Download</a></figcaption></figure>`}
      </div>
    </div>
    ${urls && html`<section aria-labelledby="urls-title" class="urls">
      <h2 id="urls-title">URLs</h2>
      <div class="url-cols">
        <div><h3>Publish</h3>${urls.pub.map(([p, u]) => html`<${Copyable} label=${p} value=${u} />`)}</div>
        <div><h3>Play</h3>${urls.play.map(([p, u]) => html`<${Copyable} label=${p} value=${u} />`)}</div>
      </div>
    </section>`}
  </section>`;
}
