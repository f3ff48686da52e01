// settings.js: the running config (redacted by the server), the server's
// capabilities and the live event log.
import { useEffect, useState } from 'preact/hooks';
import { html, api, usePoll, withAuth, AuthError, fmtTime, ErrorNote, JSONView } from './lib.js';

const maxEvents = 200;

/** useEvents returns the last events and appends new ones from the SSE stream (read with fetch, so the login header goes along). */
function useEvents() {
  const [list, setList] = useState([]);
  const [live, setLive] = useState('connecting');
  useEffect(() => {
    const ctl = new AbortController();
    const add = (e) => setList((l) => [...l, e].slice(-maxEvents));
    (async () => {
      try {
        const first = await api('/api/v1/events?limit=100');
        setList(first.events || []);
        const res = await fetch('/api/v1/events/stream', withAuth({ signal: ctl.signal }));
        if (!res.ok || !res.body) { setLive(`not live (${res.status})`); return; }
        setLive('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            if (data) { try { add(JSON.parse(data)); } catch { /* skip a broken line */ } }
          }
        }
        setLive('ended');
      } catch (e) {
        if (!ctl.signal.aborted && !(e instanceof AuthError)) setLive('not live: ' + e.message);
      }
    })();
    return () => ctl.abort();
  }, []);
  return { list, live };
}

function EventLog() {
  const { list, live } = useEvents();
  const [filter, setFilter] = useState('');
  const shown = list.filter((e) => !filter || (e.type + ' ' + (e.path || '')).includes(filter)).slice().reverse();
  return html`<section aria-labelledby="events-title">
    <h2 id="events-title">Events <span class="muted">(${live})</span></h2>
    <label>Filter <input type="search" value=${filter} onInput=${(e) => setFilter(e.target.value)} placeholder="type or path" /></label>
    <div class="table-wrap events" aria-live="polite"><table>
      <thead><tr><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Path</th><th scope="col">Data</th></tr></thead>
      <tbody>${shown.map((e) => html`<tr data-type=${e.type}><td>${fmtTime(e.time)}</td><td>${e.type}</td><td>${e.path || ''}</td>
        <td><code>${e.data ? JSON.stringify(e.data) : ''}</code></td></tr>`)}</tbody>
    </table></div>
    ${!shown.length && html`<p class="muted">No events yet.</p>`}
  </section>`;
}

/** Value shows a capability value: scalars inline, lists as chips, objects as JSON. */
function Value({ v }) {
  if (v === null || v === undefined) return html`<span class="muted">—</span>`;
  if (typeof v === 'boolean') return html`<span class=${v ? 'ok' : 'muted'}>${v ? 'yes' : 'no'}</span>`;
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) {
    return html`<ul class="chips">${v.map((x) => html`<li class="chip">${String(x)}</li>`)}</ul>`;
  }
  if (typeof v === 'object') return html`<${JSONView} value=${v} />`;
  return html`<span>${String(v)}</span>`;
}

function Capabilities() {
  const { data, error } = usePoll(async () => {
    try { return await api('/api/v1/capabilities'); } catch (e) {
      if (e.status === 404) return null;
      throw e;
    }
  }, 60000);
  return html`<section aria-labelledby="caps-title">
    <h2 id="caps-title">Capabilities</h2>
    <${ErrorNote} error=${error} />
    ${data === null && !error && html`<p class="muted">This server does not report its capabilities.</p>`}
    ${data && html`<dl class="facts-list caps">${Object.entries(data).map(([k, v]) => html`<dt>${k}</dt><dd><${Value} v=${v} /></dd>`)}</dl>`}
  </section>`;
}

/** originsOf lists the "where set" entries of one config section. */
function originsOf(keys, section) {
  return Object.entries(keys || {})
    .filter(([k]) => k === section || k.startsWith(section + '.') || k.startsWith(section + '['))
    .sort(([a], [b]) => a.localeCompare(b));
}

function Config() {
  const { data, error } = usePoll(() => api('/api/v1/config'), 30000);
  const { data: origins } = usePoll(async () => {
    try { return await api('/api/v1/config/origins'); } catch (e) { return null; }
  }, 30000);
  const file = origins && origins.file;
  return html`<section aria-labelledby="config-title">
    <h2 id="config-title">Running config <span class="muted">(secrets redacted by the server)</span></h2>
    <p class="muted config-source">${file ? html`Loaded from <code>${file}</code>; each section lists the lines that set its keys.` : 'Built-in defaults (no config file).'}</p>
    <${ErrorNote} error=${error} />
    ${data && Object.entries(data).map(([k, v]) => {
      const set = origins ? originsOf(origins.keys, k) : [];
      return html`<details class="config-section">
        <summary>${k}${set.length > 0 && html` <span class="muted">(${set.length} set)</span>`}</summary>
        ${set.length > 0 && html`<dl class="facts-list origins" aria-label=${'Where the keys of ' + k + ' are set'}>
          ${set.map(([key, where]) => html`<dt><code>${key}</code></dt><dd><code>${where}</code></dd>`)}</dl>`}
        <${JSONView} value=${v} label=${'Config ' + k} /></details>`;
    })}
  </section>`;
}

/** SettingsPage: capabilities, config and the event log. */
export function SettingsPage() {
  return html`<section aria-labelledby="settings-title">
    <h1 id="settings-title">Settings</h1>
    <div class="two-col"><${Capabilities} /><${Config} /></div>
    <${EventLog} />
  </section>`;
}
