// tasks.js: VOD tasks — upload (drag and drop, progress), submit with
// templates or a scheme, live progress, the task list, schemes and templates.
import { useRef, useState } from 'preact/hooks';
import { html, api, apiOr, usePoll, authHeader, fmtBytes, fmtTime, ErrorNote, JSONView } from './lib.js';
import { TaskResults } from './results.js';

const terminal = (s) => s === 'FINISH' || s === 'FAIL' || s === 'CANCELED';

/** upload POSTs a file to /api/v1/uploads with progress (XHR: fetch has no upload progress). */
function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', '/api/v1/uploads?name=' + encodeURIComponent(file.name));
    const a = authHeader();
    if (a) x.setRequestHeader('Authorization', a);
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    x.onload = () => {
      if (x.status === 401) window.dispatchEvent(new CustomEvent('mps-auth-required'));
      let body = null;
      try { body = JSON.parse(x.responseText); } catch { /* not JSON */ }
      if (x.status === 201 && body) resolve(body);
      else reject(new Error((body && body.error) || `upload failed: ${x.status}`));
    };
    x.onerror = () => reject(new Error('upload failed: network error'));
    x.send(file);
  });
}

/** Progress is a labelled progress bar; value is in percent, as the task API gives it. */
export function Progress({ value, label }) {
  const pct = Math.round(Math.min(100, Math.max(0, value || 0)));
  return html`<span class="progress"><progress max="100" value=${pct} aria-label=${label}></progress> ${pct}%</span>`;
}

function StatusBadge({ status }) {
  return html`<span class=${'badge st-' + String(status).toLowerCase()}>${status}</span>`;
}

/** NewTask: drop or pick files, choose templates or a scheme, submit. */
function NewTask({ templates, schemes, onSubmitted }) {
  const [files, setFiles] = useState([]); // {name, size, progress, input, error}
  const [picked, setPicked] = useState(new Set(['thumbnails']));
  const [scheme, setScheme] = useState('');
  const [input, setInput] = useState('');
  const [over, setOver] = useState(false);
  const [msg, setMsg] = useState('');
  const fileInput = useRef(null);

  const add = (list) => {
    for (const f of list) {
      const entry = { name: f.name, size: f.size, progress: 0, input: '', error: '' };
      setFiles((fs) => [...fs, entry]);
      const update = (p) => setFiles((fs) => fs.map((e) => (e.name === f.name ? { ...e, ...p } : e)));
      upload(f, (p) => update({ progress: p }))
        .then((u) => update({ progress: 1, input: u.input }))
        .catch((e) => update({ error: e.message }));
    }
  };
  const drop = (e) => { e.preventDefault(); setOver(false); add(e.dataTransfer.files); };
  const submit = async (e) => {
    e.preventDefault();
    const inputs = [...files.filter((f) => f.input).map((f) => f.input), ...(input.trim() ? [input.trim()] : [])];
    if (!inputs.length) { setMsg('Upload a file or name an input first.'); return; }
    if (!scheme && !picked.size) { setMsg('Pick at least one template or a scheme.'); return; }
    setMsg('');
    try {
      for (const inp of inputs) {
        const body = scheme ? { input: inp, scheme } : { input: inp, operations: [...picked].map((t) => ({ template: t })) };
        await api('/api/v1/tasks', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      }
      setFiles([]); setInput('');
      setMsg(`${inputs.length} task(s) submitted.`);
      onSubmitted();
    } catch (err) { setMsg('Refused: ' + err.message); }
  };
  const toggle = (name) => setPicked((s) => { const n = new Set(s); if (n.has(name)) n.delete(name); else n.add(name); return n; });
  const uploading = files.some((f) => f.progress < 1 && !f.error);
  return html`<form class="new-task" onSubmit=${submit} aria-labelledby="new-task-title">
    <h2 id="new-task-title">New task</h2>
    <div class=${'drop' + (over ? ' over' : '')} onDragOver=${(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave=${() => setOver(false)} onDrop=${drop}>
      <p>Drop media files here or
        <button type="button" onClick=${() => fileInput.current.click()}>choose files</button></p>
      <input type="file" multiple ref=${fileInput} class="sr-only" aria-label="Files to upload"
        onChange=${(e) => { add(e.target.files); e.target.value = ''; }} />
      ${files.length > 0 && html`<ul class="uploads">${files.map((f) => html`<li>
        ${f.name} <span class="muted">${fmtBytes(f.size)}</span>
        ${f.error ? html`<span class="error">${f.error}</span>` : html`<${Progress} value=${f.progress * 100} label=${'Upload of ' + f.name} />`}
        ${f.input && html` <span class="muted">ready</span>`}</li>`)}</ul>`}
    </div>
    <label>…or an input path or URL <input value=${input} onInput=${(e) => setInput(e.target.value)}
      placeholder="/srv/media/file.mp4, https://…, upload:ID" /></label>
    <fieldset disabled=${!!scheme}>
      <legend>Templates</legend>
      ${Object.entries(templates).map(([name, t]) => html`<label class="check">
        <input type="checkbox" name="template" value=${name} checked=${picked.has(name)} onChange=${() => toggle(name)} />
        ${name} <span class="muted">${t.type}</span></label>`)}
    </fieldset>
    ${schemes.length > 0 && html`<label>…or a scheme <select value=${scheme} onChange=${(e) => setScheme(e.target.value)}>
      <option value="">none</option>
      ${schemes.map((s) => html`<option value=${s.name} disabled=${s.enabled === false}>${s.name}</option>`)}
    </select></label>`}
    <div class="actions"><button type="submit" disabled=${uploading}>${uploading ? 'Uploading…' : 'Run'}</button></div>
    <p aria-live="polite" class="muted">${msg}</p>
  </form>`;
}

function inputName(t) {
  const i = t.input || '';
  return i.startsWith('upload:') ? 'upload ' + i.slice(7, 15) + '…' : i.split('/').pop() || i;
}

/** TasksPage: new task form, the live task list, schemes and templates. */
export function TasksPage() {
  const { data: list, error, reload } = usePoll(() => api('/api/v1/tasks?limit=30'), 1500);
  const { data: meta, reload: reloadMeta } = usePoll(async () => {
    const [t, s] = await Promise.all([apiOr('/api/v1/templates', { templates: {} }), apiOr('/api/v1/schemes', { schemes: [] })]);
    return { templates: t.templates || {}, schemes: s.schemes || [] };
  }, 10000);
  const tasks = (list && list.tasks) || [];
  const switchScheme = async (name, on) => {
    await api(`/api/v1/schemes/${name}/${on ? 'enable' : 'disable'}`, { method: 'POST' }).catch(() => {});
    reloadMeta();
  };
  return html`<section aria-labelledby="tasks-title">
    <h1 id="tasks-title">Tasks</h1>
    <${ErrorNote} error=${error} />
    ${meta && html`<${NewTask} templates=${meta.templates} schemes=${meta.schemes} onSubmitted=${reload} />`}
    <h2>Recent tasks</h2>
    ${list && !tasks.length && html`<p class="empty">No tasks yet.</p>`}
    ${tasks.length > 0 && html`<div class="table-wrap"><table class="tasks">
      <thead><tr><th scope="col">Task</th><th scope="col">Input</th><th scope="col">Operations</th>
        <th scope="col">State</th><th scope="col">Created</th></tr></thead>
      <tbody>${tasks.map((t) => html`<tr data-id=${t.id} data-status=${t.status}>
        <th scope="row"><a href=${'#/tasks/' + t.id}>${t.id.slice(-8)}</a></th>
        <td>${inputName(t)}</td>
        <td>${(t.ops || []).map((o) => o.name || o.type).join(', ')}${t.scheme && html` <span class="muted">(${t.scheme})</span>`}</td>
        <td><${StatusBadge} status=${t.status} /> ${!terminal(t.status) && html`<${Progress} value=${t.progress} label=${'Progress of ' + t.id} />`}
          ${t.error && html`<span class="error"> ${t.error}</span>`}</td>
        <td>${fmtTime(t.created)}</td></tr>`)}</tbody></table></div>`}
    ${meta && html`<div class="two-col">
      <section aria-labelledby="schemes-title"><h2 id="schemes-title">Schemes</h2>
        ${!meta.schemes.length && html`<p class="muted">No schemes configured.</p>`}
        <ul class="plain">${meta.schemes.map((s) => html`<li>
          <label class="check"><input type="checkbox" checked=${s.enabled !== false}
            onChange=${(e) => switchScheme(s.name, e.target.checked)} /> <strong>${s.name}</strong></label>
          <details><summary>definition</summary><${JSONView} value=${s} label=${'Scheme ' + s.name} /></details></li>`)}</ul>
      </section>
      <section aria-labelledby="templates-title"><h2 id="templates-title">Templates</h2>
        <ul class="plain">${Object.entries(meta.templates).map(([name, t]) => html`<li>
          <details><summary><strong>${name}</strong> <span class="muted">${t.type}</span></summary>
          <${JSONView} value=${t} label=${'Template ' + name} /></details></li>`)}</ul>
      </section>
    </div>`}
  </section>`;
}

/** TaskPage: one task's live progress and, when done, its results. */
export function TaskPage({ id }) {
  const { data: t, error } = usePoll(() => api('/api/v1/tasks/' + id), 1000, [id]);
  const cancel = () => api('/api/v1/tasks/' + id, { method: 'DELETE' }).catch(() => {});
  return html`<section aria-labelledby="task-title" class="task-page">
    <p><a href="#/tasks">← Tasks</a></p>
    <h1 id="task-title">Task ${id.slice(-8)}</h1>
    <${ErrorNote} error=${error} />
    ${t && html`
      <p><${StatusBadge} status=${t.status} /> <${Progress} value=${t.progress} label="Task progress" />
        ${!terminal(t.status) && html` <button type="button" class="danger" onClick=${cancel}>Cancel</button>`}</p>
      ${t.error && html`<p class="error">${t.error}</p>`}
      <dl class="facts-list"><dt>Input</dt><dd>${t.input}</dd>
        <dt>Created</dt><dd>${fmtTime(t.created)}</dd>
        ${t.finished && html`<dt>Finished</dt><dd>${fmtTime(t.finished)}</dd>`}
        ${t.scheme && html`<dt>Scheme</dt><dd>${t.scheme}</dd>`}
        <dt>Outputs</dt><dd><code>/outputs/${t.output}/</code></dd></dl>
      <ol class="ops">${(t.ops || []).map((o) => html`<li data-state=${o.state}>
        <strong>${o.name || o.type}</strong> <span class="muted">${o.type}</span> <${StatusBadge} status=${o.state} />
        ${o.state === 'PROCESSING' && html`<${Progress} value=${o.progress} label=${'Progress of ' + (o.name || o.type)} />`}
        ${o.error && html`<span class="error"> ${o.error}</span>`}</li>`)}</ol>
      <${TaskResults} task=${t} />`}
  </section>`;
}
