// lib.js: what every page of the console shares — the html template tag,
// the API client (with the login's Basic credentials), polling, formatting,
// a copyable field, a small SVG line chart and the lazy hls.js loader.
import { h } from 'preact';
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

// --- API client ------------------------------------------------------------

const authKey = 'mps-console-auth';

/** authHeader is the Authorization value of the login, or '' when none. */
export function authHeader() {
  const v = sessionStorage.getItem(authKey);
  return v ? 'Basic ' + v : '';
}

/** setLogin stores the credentials sent on every API call of this tab. */
export function setLogin(user, pass) {
  const bytes = new TextEncoder().encode(user + ':' + pass);
  sessionStorage.setItem(authKey, btoa(String.fromCharCode(...bytes)));
}

export function clearLogin() { sessionStorage.removeItem(authKey); }

/** AuthError is thrown when the API answered 401; the shell then shows the login form. */
export class AuthError extends Error {}

/** withAuth adds the login's Authorization header to fetch options. */
export function withAuth(opts = {}) {
  const a = authHeader();
  if (!a) return opts;
  return { ...opts, headers: { ...(opts.headers || {}), Authorization: a } };
}

/**
 * useAuthURL is url as a src the page can use: the URL itself without a
 * login, else an object URL of it fetched with the login, since media and
 * image elements cannot send an Authorization header.
 */
export function useAuthURL(url) {
  const [src, setSrc] = useState(authHeader() ? null : url);
  useEffect(() => {
    if (!authHeader()) { setSrc(url); return undefined; }
    let obj = null, gone = false;
    fetch(url, withAuth()).then((r) => (r.ok ? r.blob() : null)).then((b) => {
      if (b && !gone) { obj = URL.createObjectURL(b); setSrc(obj); }
    }).catch(() => {});
    return () => { gone = true; if (obj) URL.revokeObjectURL(obj); };
  }, [url]);
  return src;
}

/** request fetches url with the login; a 401 raises AuthError and tells the shell. */
export async function request(url, opts = {}) {
  const res = await fetch(url, withAuth(opts));
  if (res.status === 401) {
    window.dispatchEvent(new CustomEvent('mps-auth-required'));
    throw new AuthError('login required');
  }
  return res;
}

/** api calls a JSON endpoint; it returns the decoded body or null for 204, and throws on errors. */
export async function api(url, opts = {}) {
  const res = await request(url, opts);
  if (res.status === 204) return null;
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!res.ok) {
    const err = new Error((body && body.error) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

/** apiOr is api that answers fallback for any error but a login request (optional endpoints). */
export async function apiOr(url, fallback) {
  try { return await api(url); } catch (e) {
    if (e instanceof AuthError) throw e;
    return fallback;
  }
}

/** blobURL fetches a file with the login and returns an object URL, or null on 404. */
export async function blobURL(url) {
  const res = await request(url, { cache: 'no-store' });
  if (!res.ok) return null;
  return URL.createObjectURL(await res.blob());
}

// --- hooks -----------------------------------------------------------------

/**
 * usePoll runs load now and every ms (skipped while the tab is hidden) and
 * returns {data, error, reload}. The latest load wins; errors keep the last data.
 */
export function usePoll(load, ms, deps = []) {
  const [state, setState] = useState({ data: null, error: null });
  const seq = useRef(0);
  const run = useCallback(async () => {
    const n = ++seq.current;
    try {
      const data = await load();
      if (n === seq.current) setState({ data, error: null });
    } catch (error) {
      if (n === seq.current) setState((s) => ({ data: s.data, error }));
    }
  }, deps);
  useEffect(() => {
    setState({ data: null, error: null });
    run();
    const id = setInterval(() => { if (!document.hidden) run(); }, ms);
    return () => { clearInterval(id); seq.current++; };
  }, [run, ms]);
  return { ...state, reload: run };
}

// --- formatting ------------------------------------------------------------

export function fmtBitrate(bps) {
  if (!bps) return '0 kb/s';
  if (bps >= 1e6) return (bps / 1e6).toFixed(2) + ' Mb/s';
  return Math.round(bps / 1e3) + ' kb/s';
}

export function fmtBytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  const i = Math.min(u.length - 1, Math.floor(Math.log10(n) / 3));
  return (n / 10 ** (3 * i)).toFixed(i ? 1 : 0) + ' ' + u[i];
}

export function fmtDuration(s) {
  s = Math.max(0, Math.floor(s || 0));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + (s % 60) + 's';
}

export function fmtClock(sec) {
  sec = Math.max(0, sec || 0);
  const m = Math.floor(sec / 60), s = sec - m * 60;
  return `${m}:${s < 10 ? '0' : ''}${s.toFixed(1)}`;
}

export function fmtTime(t) {
  const d = t instanceof Date ? t : new Date(t);
  return isNaN(d) ? '' : d.toLocaleString(undefined, { hour12: false });
}

export function fmtTrack(t) {
  if (t.width) return `${t.codec} ${t.width}×${t.height}`;
  if (t.sample_rate) return `${t.codec} ${t.sample_rate / 1000} kHz${t.channels ? ' ' + t.channels + 'ch' : ''}`;
  return t.codec;
}

/** streamHref is the console's address of a stream page. */
export const streamHref = (path) => '#/stream/' + path;

// --- small components --------------------------------------------------------

/** Copyable is a read-only field with a Copy button. */
export function Copyable({ label, value }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try { await navigator.clipboard.writeText(value); } catch {
      const i = document.createElement('textarea');
      i.value = value; document.body.append(i); i.select(); document.execCommand('copy'); i.remove();
    }
    setDone(true); setTimeout(() => setDone(false), 1200);
  };
  return html`<div class="copy">
    <span class="copy-label">${label}</span>
    <input readonly value=${value} aria-label=${label} onFocus=${(e) => e.target.select()} />
    <button type="button" onClick=${copy} aria-label=${'Copy ' + label}>${done ? 'Copied' : 'Copy'}</button>
  </div>`;
}

/** Chart draws one series as an SVG line with its latest value; values is oldest first. */
export function Chart({ label, values, format = String, max }) {
  const w = 300, hgt = 60;
  const top = Math.max(max || 0, ...values, 1);
  const n = Math.max(values.length - 1, 1);
  const pts = values.map((v, i) => `${((i / n) * w).toFixed(1)},${(hgt - (v / top) * (hgt - 4) - 2).toFixed(1)}`).join(' ');
  const last = values.length ? values[values.length - 1] : 0;
  return html`<figure class="chart">
    <figcaption>${label} <strong>${format(last)}</strong> <span class="muted">max ${format(top)}</span></figcaption>
    <svg viewBox="0 0 ${w} ${hgt}" preserveAspectRatio="none" role="img" aria-label=${`${label}: ${format(last)}`}>
      <polyline points=${pts} fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke" />
    </svg>
  </figure>`;
}

/** ErrorNote shows an error (never a login request: the shell handles those). */
export function ErrorNote({ error }) {
  if (!error || error instanceof AuthError) return null;
  return html`<p class="error" role="alert">${String(error.message || error)}</p>`;
}

/** JSONView shows a value pretty-printed. */
export function JSONView({ value, label }) {
  return html`<pre class="json" tabindex="0" aria-label=${label || 'JSON'}>${JSON.stringify(value, null, 2)}</pre>`;
}

// --- hls.js ------------------------------------------------------------------

let hlsLoading = null;

/** loadHls loads the vendored hls.js once, on first use, so the first paint does not wait for it. */
export function loadHls() {
  if (window.Hls) return Promise.resolve(window.Hls);
  if (!hlsLoading) {
    hlsLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/vendor/hls.min.js';
      s.onload = () => resolve(window.Hls);
      s.onerror = () => reject(new Error('hls.js failed to load'));
      document.head.append(s);
    });
  }
  return hlsLoading;
}

/**
 * attachHls plays an HLS URL in video with hls.js (or natively in Safari),
 * sending the login on every request; it returns a stop function.
 */
export async function attachHls(video, url, { live = false, onStatus = () => {}, onReady } = {}) {
  const Hls = await loadHls();
  if (Hls && Hls.isSupported()) {
    const a = authHeader();
    const hls = new Hls({
      lowLatencyMode: live,
      maxLiveSyncPlaybackRate: live ? 1.5 : 1,
      xhrSetup: a ? (xhr) => xhr.setRequestHeader('Authorization', a) : undefined,
    });
    hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) onStatus('error: ' + d.details); });
    hls.on(Hls.Events.MANIFEST_PARSED, () => { onStatus('playing'); if (onReady) onReady(hls); });
    hls.loadSource(url);
    hls.attachMedia(video);
    video.play().catch(() => {});
    return () => hls.destroy();
  }
  video.src = url;
  video.play().catch(() => {});
  if (onReady) video.addEventListener('loadedmetadata', () => onReady(null), { once: true });
  return () => { video.removeAttribute('src'); video.load(); };
}

/** waitIce resolves when ICE gathering is complete or after 2 s, whichever is first. */
export function waitIce(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const t = setTimeout(resolve, 2000);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
    });
  });
}

/** signal POSTs an SDP offer to a WHIP or WHEP URL; it returns {answer, location}. */
export async function signal(url, sdp) {
  const res = await request(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: sdp });
  if (res.status !== 201) throw new Error(`refused: ${res.status} ${(await res.text()).trim()}`);
  return { answer: await res.text(), location: res.headers.get('Location') };
}

/**
 * endSession DELETEs a WHIP/WHEP session resource, ignoring failures;
 * keepalive lets it out while the page closes. The promise settles when
 * the server answered (or the request failed).
 */
export function endSession(location) {
  if (!location) return Promise.resolve();
  return request(location, { method: 'DELETE', keepalive: true }).then(() => {}, () => {});
}
