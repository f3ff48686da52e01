// recordings.js: recordings per path — a timeline of segments with the gaps
// visible, playback from any time (HLS VOD), a range downloaded as MP4, and
// segment deletion.
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  html, api, usePoll, authHeader, request, attachHls, fmtBytes, fmtDuration, fmtTime, ErrorNote,
} from './lib.js';

/** RecordingsPage lists the recorded paths, and one path's timeline when chosen. */
export function RecordingsPage({ path }) {
  const { data, error, reload } = usePoll(() => api('/api/v1/recordings'), 3000);
  const items = (data && data.items) || [];
  const toggle = async (p, on) => {
    await api(`/api/v1/recordings/${p}/${on ? 'start' : 'stop'}`, { method: 'POST' }).catch(() => {});
    reload();
  };
  return html`<section aria-labelledby="rec-title">
    <h1 id="rec-title">Recordings</h1>
    <${ErrorNote} error=${error} />
    ${data && !items.length && html`<p class="empty">Nothing recorded yet. Switch recording on for a path
      (<code>record: {enabled: true}</code> in its rule) or press “Start recording” on a live stream.</p>`}
    ${items.length > 0 && html`<div class="table-wrap"><table class="rec-paths">
      <thead><tr><th scope="col">Path</th><th scope="col">State</th><th scope="col">Segments</th>
        <th scope="col">On disk</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${items.map((r) => html`<tr data-path=${r.path} aria-current=${r.path === path ? 'true' : undefined}>
        <th scope="row"><a href=${'#/recordings/' + r.path}>${r.path}</a></th>
        <td>${r.recording ? html`<span class="badge rec">● recording</span>` : r.live ? 'live, not recording' : 'offline'}
          ${r.override && html` <span class="muted">(${r.override} by API)</span>`}
          ${r.failing && html` <span class="error">disk failing</span>`}</td>
        <td>${r.segments}</td><td>${fmtBytes(r.disk_bytes)}</td>
        <td>${r.recording
          ? html`<button type="button" onClick=${() => toggle(r.path, false)}>Stop</button>`
          : html`<button type="button" onClick=${() => toggle(r.path, true)}>Start</button>`}</td>
      </tr>`)}</tbody></table></div>`}
    ${path && html`<${PathRecordings} path=${path} key=${path} />`}
  </section>`;
}

/** playlistOffset maps a wall time (ms) to the VOD playlist's time (s): the playlist is the playable segments back to back. */
function playlistOffset(segs, t) {
  let acc = 0;
  for (const s of segs) {
    if (t < s.t0) return acc;
    if (t < s.t1) return acc + (t - s.t0) / 1000;
    acc += s.duration;
  }
  return Math.max(0, acc - 0.5);
}

/** PathRecordings is one path: timeline, player, range download and the segment table. */
function PathRecordings({ path }) {
  const { data, error, reload } = usePoll(() => api(`/api/v1/recordings/${path}/segments`), 5000, [path]);
  const [sel, setSel] = useState(null); // {a, b} in ms since the epoch
  const [playAt, setPlayAt] = useState(null);
  const [msg, setMsg] = useState('');
  const segs = ((data && data.items) || []).map((s) => {
    const t0 = Date.parse(s.start);
    return { ...s, t0, t1: t0 + s.duration * 1000 };
  }).sort((a, b) => a.t0 - b.t0);
  if (!data) return html`<${ErrorNote} error=${error} />`;
  if (!segs.length) return html`<p class="empty">No segments for ${path}.</p>`;
  const from = segs[0].t0, to = Math.max(...segs.map((s) => s.t1));
  const range = sel || { a: from, b: to };
  const del = async (s) => {
    if (!confirm(`Delete the segment of ${fmtTime(s.t0)} (${fmtDuration(s.duration)})?`)) return;
    try { await api(s.url, { method: 'DELETE' }); setMsg('Deleted ' + s.name); } catch (e) { setMsg(e.message); }
    reload();
  };
  const seconds = (ms) => ((ms - from) / 1000).toFixed(1);
  const setBound = (k, v) => {
    const t = from + Number(v) * 1000;
    if (!isNaN(t)) setSel({ ...range, [k]: Math.min(Math.max(t, from), to) });
  };
  const dur = Math.max(0.1, (range.b - range.a) / 1000);
  const dl = `/api/v1/recordings/${path}/get?start=${encodeURIComponent(new Date(range.a).toISOString())}&duration=${dur.toFixed(3)}s&format=mp4`;
  const fileName = `${path.replaceAll('/', '_')}_${new Date(range.a).toISOString().replace(/[:.]/g, '-')}.mp4`;
  const download = async (e) => {
    if (!authHeader()) return; // the plain link works without a login
    e.preventDefault();
    const res = await request(dl);
    if (!res.ok) { setMsg('Download failed: ' + res.status); return; }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await res.blob());
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  };
  return html`<section aria-labelledby="path-rec-title" class="path-rec">
    <h2 id="path-rec-title">${path}</h2>
    <p class="muted">${segs.length} segments from ${fmtTime(from)} to ${fmtTime(to)}. Click the timeline to play from
      that time; drag to select a range.</p>
    <${Timeline} segs=${segs} from=${from} to=${to} sel=${sel} onSelect=${setSel}
      onPlay=${(t) => setPlayAt({ t, n: Date.now() })} />
    <div class="range" role="group" aria-label="Range">
      <label>From (s) <input type="number" step="0.1" min="0" value=${seconds(range.a)} onChange=${(e) => setBound('a', e.target.value)} /></label>
      <label>To (s) <input type="number" step="0.1" min="0" value=${seconds(range.b)} onChange=${(e) => setBound('b', e.target.value)} /></label>
      <span class="muted">${fmtDuration(dur)} from ${fmtTime(range.a)}</span>
      <button type="button" onClick=${() => setPlayAt({ t: range.a, n: Date.now() })}>Play from start of range</button>
      <a class="button download" href=${dl} download=${fileName} onClick=${download}>Download range as MP4</a>
    </div>
    <p class="muted" aria-live="polite">${msg}</p>
    <${RecPlayer} path=${path} segs=${segs} playAt=${playAt} />
    <details><summary>Segments</summary>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Start</th><th scope="col">Length</th><th scope="col">Size</th><th scope="col">Format</th>
          <th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${segs.map((s) => html`<tr>
          <td>${fmtTime(s.t0)}</td><td>${fmtDuration(s.duration)}</td><td>${fmtBytes(s.size)}</td><td>${s.format}</td>
          <td><button type="button" onClick=${() => setPlayAt({ t: s.t0, n: Date.now() })}>Play</button>
            <a class="button" href=${s.url} download=${s.name}>Download</a>
            <button type="button" class="danger" disabled=${s.recording} title=${s.recording ? 'being written' : ''}
              onClick=${() => del(s)} aria-label=${'Delete segment ' + fmtTime(s.t0)}>Delete</button></td>
        </tr>`)}</tbody>
      </table></div>
    </details>
  </section>`;
}

/** Timeline draws segments on a time axis; a click plays, a drag selects. */
function Timeline({ segs, from, to, sel, onSelect, onPlay }) {
  const ref = useRef(null);
  const drag = useRef(null);
  const span = Math.max(1, to - from);
  const pct = (t) => `${(((t - from) / span) * 100).toFixed(3)}%`;
  const timeAt = (e) => {
    const r = ref.current.getBoundingClientRect();
    return from + Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)) * span;
  };
  const down = (e) => {
    if (e.button !== 0) return;
    ref.current.setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, t: timeAt(e) };
  };
  const move = (e) => {
    if (!drag.current || Math.abs(e.clientX - drag.current.x) < 4) return;
    const t = timeAt(e);
    onSelect({ a: Math.min(t, drag.current.t), b: Math.max(t, drag.current.t) });
  };
  const up = (e) => {
    if (!drag.current) return;
    if (Math.abs(e.clientX - drag.current.x) < 4) onPlay(drag.current.t);
    drag.current = null;
  };
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => from + f * span);
  return html`<div class="timeline-wrap">
    <div class="timeline" ref=${ref} onPointerDown=${down} onPointerMove=${move} onPointerUp=${up}
      role="group" aria-label="Recording timeline">
      ${segs.map((s) => html`<button type="button" class=${'seg' + (s.recording ? ' writing' : '')}
        style=${{ left: pct(s.t0), width: `max(3px, ${pct(from + (s.t1 - s.t0))})` }}
        title=${`${fmtTime(s.t0)} · ${fmtDuration(s.duration)}`} aria-label=${`Play from ${fmtTime(s.t0)}`}
        onKeyDown=${(e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onPlay(s.t0); } }}></button>`)}
      ${sel && html`<div class="sel" style=${{ left: pct(sel.a), width: pct(from + (sel.b - sel.a)) }}></div>`}
    </div>
    <div class="ticks" aria-hidden="true">${ticks.map((t) => html`<span>${new Date(t).toLocaleTimeString(undefined, { hour12: false })}</span>`)}</div>
  </div>`;
}

/** RecPlayer plays the path's recordings as HLS VOD and seeks when playAt changes. */
function RecPlayer({ path, segs, playAt }) {
  const video = useRef(null);
  const ready = useRef(false);
  const pending = useRef(null);
  const [status, setStatus] = useState('');
  const [on, setOn] = useState(false);
  const seek = (t) => {
    const v = video.current;
    v.currentTime = playlistOffset(segs, t);
    v.play().catch(() => {});
  };
  useEffect(() => {
    if (!playAt) return;
    if (ready.current) seek(playAt.t); else { pending.current = playAt.t; setOn(true); }
  }, [playAt]);
  useEffect(() => {
    if (!on) return undefined;
    let stop = null, gone = false;
    setStatus('loading…');
    const v = video.current;
    const onMeta = () => {
      ready.current = true;
      setStatus('');
      if (pending.current != null) { seek(pending.current); pending.current = null; }
    };
    v.addEventListener('loadedmetadata', onMeta);
    attachHls(v, `/hls/recordings/${path}/index.m3u8`, { onStatus: (s) => setStatus(s === 'playing' ? '' : s) })
      .then((s) => { if (gone) s(); else stop = s; });
    return () => { gone = true; ready.current = false; v.removeEventListener('loadedmetadata', onMeta); if (stop) stop(); };
  }, [on, path]);
  return html`<div class=${'player' + (on ? '' : ' idle')}>
    <video ref=${video} class="rec-video" controls muted playsinline aria-label=${'Recordings of ' + path}></video>
    ${status && html`<p class="muted">${status}</p>`}
  </div>`;
}
