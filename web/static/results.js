// results.js: a task's results, rendered from what they are rather than
// which operation made them: media files play (with every WebVTT subtitle
// file of the task as a track), images form a gallery, HLS playlists play
// through hls.js, reports are shown as JSON, and anything in a report with
// a start and an end is drawn on a timeline that seeks the player.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, attachHls, fmtBytes, fmtClock, JSONView, useAuthURL } from './lib.js';

const ext = (name) => (name.match(/\.([a-z0-9]+)$/i) || [, ''])[1].toLowerCase();
const kinds = {
  video: ['mp4', 'webm', 'mkv', 'mov', 'm4v'],
  audio: ['mp3', 'm4a', 'aac', 'flac', 'wav', 'ogg', 'opus'],
  image: ['jpg', 'jpeg', 'png', 'webp', 'gif', 'avif', 'svg'],
};
const kindOf = (f) => {
  const e = ext(f.name);
  for (const [k, list] of Object.entries(kinds)) if (list.includes(e)) return k;
  if (e === 'vtt') return 'vtt';
  if (e === 'm3u8') return 'playlist';
  return 'other';
};

/** opBase is the URL folder of an operation's files. */
const opBase = (task, op) => `/outputs/${task.output}/${op.dir}`;

/** findSegments walks a report for arrays of objects with numeric start and end times. */
export function findSegments(v, path = 'report', out = []) {
  if (Array.isArray(v)) {
    const segs = v.filter((x) => x && typeof x === 'object' && typeof (x.start ?? x.start_time) === 'number'
      && typeof (x.end ?? x.end_time) === 'number');
    if (segs.length) {
      out.push({
        name: path,
        items: segs.map((x) => ({
          start: x.start ?? x.start_time, end: x.end ?? x.end_time,
          label: String(x.label ?? x.text ?? x.type ?? x.reason ?? x.kind ?? x.score ?? ''),
        })),
      });
    }
    v.forEach((x, i) => { if (x && typeof x === 'object') findSegments(x, `${path}[${i}]`, out); });
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (x && typeof x === 'object') findSegments(x, `${path}.${k}`, out);
  }
  return out;
}

/** SegmentTimeline draws labelled spans on one axis; a click seeks the results' player. */
function SegmentTimeline({ name, items, duration, onSeek }) {
  const span = Math.max(duration || 0, ...items.map((s) => s.end), 0.001);
  const pct = (t) => `${((t / span) * 100).toFixed(3)}%`;
  return html`<figure class="seg-timeline">
    <figcaption>${name} <span class="muted">${items.length} spans over ${fmtClock(span)}</span></figcaption>
    <div class="timeline" role="list">
      ${items.map((s) => html`<button type="button" role="listitem" class="seg"
        style=${{ left: pct(s.start), width: `max(3px, ${pct(s.end - s.start)})` }}
        title=${`${fmtClock(s.start)}–${fmtClock(s.end)} ${s.label}`}
        aria-label=${`${s.label || 'span'} from ${fmtClock(s.start)} to ${fmtClock(s.end)}`}
        onClick=${() => onSeek(s.start)}>${s.label}</button>`)}
    </div>
  </figure>`;
}

/** MediaFile plays one video or audio output with the task's subtitles as tracks. */
function MediaFile({ file, url, kind, subtitles, register }) {
  const ref = useRef(null);
  const src = useAuthURL(url);
  useEffect(() => register(ref.current), []);
  const Tag = kind === 'audio' ? 'audio' : 'video';
  return html`<figure class="media-out">
    <${Tag} ref=${ref} src=${src || undefined} controls preload="metadata" playsinline class="result-media" crossorigin="anonymous">
      ${subtitles.map((s, i) => html`<${Track} url=${s.url} name=${s.name} first=${i === 0} />`)}
    <//>
    <figcaption><a href=${url} download>${file.name}</a> <span class="muted">${fmtBytes(file.size)}
      ${file.width ? ` · ${file.width}×${file.height}` : ''}${file.duration ? ` · ${fmtClock(file.duration)}` : ''}
      ${file.video_codec ? ` · ${file.video_codec}` : ''}${file.audio_codec ? ` · ${file.audio_codec}` : ''}</span></figcaption>
  </figure>`;
}

/** Track is one subtitles track of a result player, fetched with the login. */
function Track({ url, name, first }) {
  const src = useAuthURL(url);
  return src ? html`<track kind="subtitles" src=${src} label=${name} srclang="und" default=${first} />` : null;
}

/** AuthImg is an image of the results, fetched with the login. */
function AuthImg({ url, alt }) {
  const src = useAuthURL(url);
  return html`<img src=${src || undefined} loading="lazy" alt=${alt} />`;
}

/** PlaylistFile plays an HLS output through hls.js. */
function PlaylistFile({ url, register }) {
  const ref = useRef(null);
  const [on, setOn] = useState(false);
  useEffect(() => {
    register(ref.current);
    if (!on) return undefined;
    let stop = null, gone = false;
    attachHls(ref.current, url).then((s) => { if (gone) s(); else stop = s; });
    return () => { gone = true; if (stop) stop(); };
  }, [on]);
  return html`<figure class="media-out">
    <video ref=${ref} controls playsinline class="result-media" aria-label=${'HLS output ' + url}></video>
    <figcaption>${!on && html`<button type="button" onClick=${() => setOn(true)}>Play HLS</button> `}<code>${url}</code></figcaption>
  </figure>`;
}

/** OpResult shows one operation's files and report. */
function OpResult({ task, op, subtitles, register, seek, mediaDuration }) {
  const r = op.result;
  const base = opBase(task, op);
  const files = r.files || [];
  const by = { video: [], audio: [], image: [], vtt: [], playlist: [], other: [] };
  for (const f of files) by[kindOf(f)].push(f);
  const snapTimes = new Map((r.snapshots || []).map((s) => [s.name, s.time]));
  const segs = r.report ? findSegments(r.report) : [];
  const duration = Math.max(mediaDuration, ...files.map((f) => f.duration || 0));
  const playlist = r.playlist ? base + '/' + r.playlist : (by.playlist.length ? base + '/' + by.playlist[0].name : null);
  const shown = new Set([...by.video, ...by.audio, ...by.image, ...by.vtt].map((f) => f.name));
  const rest = files.filter((f) => !shown.has(f.name));
  return html`<section class="op-result" aria-label=${'Results of ' + (op.name || op.type)} data-type=${op.type}>
    <h3>${op.name || op.type} <span class="muted">${op.type}</span></h3>
    ${[...by.video, ...by.audio].map((f) => html`<${MediaFile} file=${f} url=${base + '/' + f.name} kind=${kindOf(f)}
      subtitles=${subtitles} register=${register} />`)}
    ${playlist && html`<${PlaylistFile} url=${playlist} register=${register} />`}
    ${by.image.length > 0 && html`<ul class="gallery" aria-label="Images">${by.image.map((f) => html`<li>
      <a href=${base + '/' + f.name} target="_blank" rel="noopener"><${AuthImg} url=${base + '/' + f.name}
        alt=${f.name + (snapTimes.has(f.name) ? ' at ' + fmtClock(snapTimes.get(f.name)) : '')} /></a>
      <span>${snapTimes.has(f.name) ? fmtClock(snapTimes.get(f.name)) : f.name}</span></li>`)}</ul>`}
    ${r.vtt && html`<p class="muted">Thumbnail track: <a href=${base + '/' + r.vtt}>${r.vtt}</a></p>`}
    ${by.vtt.filter((f) => f.name !== r.vtt).map((f) => html`<p>Subtitles <a href=${base + '/' + f.name} download>${f.name}</a>
      <span class="muted">(shown on the players of this task)</span></p>`)}
    ${segs.map((s) => html`<${SegmentTimeline} name=${s.name} items=${s.items} duration=${duration} onSeek=${seek} />`)}
    ${r.report && html`<details open><summary>Report</summary><${JSONView} value=${r.report} label="Report" /></details>`}
    ${r.probe && html`<details><summary>Probe</summary><${JSONView} value=${r.probe} label="Probe" /></details>`}
    ${rest.length > 0 && html`<details><summary>${rest.length} more file(s)</summary><ul class="plain">
      ${rest.map((f) => html`<li><a href=${base + '/' + f.name} download>${f.name}</a> <span class="muted">${fmtBytes(f.size)}</span></li>`)}</ul></details>`}
  </section>`;
}

/** TaskResults renders the results of every finished operation of task. */
export function TaskResults({ task }) {
  const players = useRef([]);
  const ops = (task.ops || []).filter((o) => o.result);
  if (!ops.length) return null;
  const subtitles = [];
  for (const op of ops) {
    for (const f of op.result.files || []) {
      if (kindOf(f) === 'vtt' && f.name !== op.result.vtt) subtitles.push({ name: f.name, url: opBase(task, op) + '/' + f.name });
    }
  }
  // Spans of a report are drawn against the longest media of the task.
  const mediaDuration = Math.max(0, ...ops.flatMap((op) => (op.result.files || []).map((f) => f.duration || 0)));
  const register = (el) => { if (el && !players.current.includes(el)) players.current.push(el); };
  const seek = (t) => {
    const p = players.current.find((el) => el.isConnected);
    if (p) { p.currentTime = t; p.play().catch(() => {}); p.scrollIntoView({ block: 'nearest' }); }
  };
  return html`<section class="results" aria-labelledby="results-title">
    <h2 id="results-title">Results</h2>
    ${ops.map((op) => html`<${OpResult} task=${task} op=${op} subtitles=${subtitles} register=${register} seek=${seek}
      mediaDuration=${mediaDuration} />`)}
  </section>`;
}
