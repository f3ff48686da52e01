// app.js: the console's shell — navigation, hash routing, login — and the
// mount point. Pages live in their own modules.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html, api, setLogin, clearLogin, authHeader } from './lib.js';
import { LiveGrid, StreamPage } from './live.js';
import { PublishPage } from './publish.js';
import { RecordingsPage } from './recordings.js';
import { TasksPage, TaskPage } from './tasks.js';
import { SettingsPage } from './settings.js';

const pages = [
  ['live', 'Live'],
  ['publish', 'Publish'],
  ['recordings', 'Recordings'],
  ['tasks', 'Tasks'],
  ['settings', 'Settings'],
];

/** route splits the hash ("#/stream/live/cam1") into the page and the rest. */
function route() {
  const h = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const i = h.indexOf('/');
  return i < 0 ? { page: h || 'live', rest: '' } : { page: h.slice(0, i), rest: h.slice(i + 1) };
}

function Page({ r }) {
  switch (r.page) {
    case 'stream': return html`<${StreamPage} path=${r.rest} />`;
    case 'publish': return html`<${PublishPage} path=${r.rest} />`;
    case 'recordings': return html`<${RecordingsPage} path=${r.rest} />`;
    case 'tasks': return r.rest ? html`<${TaskPage} id=${r.rest} />` : html`<${TasksPage} />`;
    case 'settings': return html`<${SettingsPage} />`;
    default: return html`<${LiveGrid} />`;
  }
}

function Login({ onDone }) {
  const [error, setError] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setLogin(f.get('user'), f.get('pass'));
    try {
      await api('/api/v1/streams');
      onDone();
    } catch (err) {
      clearLogin();
      setError(err.status === 403 ? 'This user may not use the API.' : 'Wrong user name or password.');
    }
  };
  return html`<section class="login" aria-labelledby="login-title">
    <h1 id="login-title">Log in to MPS</h1>
    <p class="muted">The API asks for a user. The credentials stay in this tab only.</p>
    <form onSubmit=${submit}>
      <label>User <input name="user" autocomplete="username" required autofocus /></label>
      <label>Password <input name="pass" type="password" autocomplete="current-password" /></label>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit">Log in</button>
    </form>
  </section>`;
}

function App() {
  const [r, setR] = useState(route());
  const [needLogin, setNeedLogin] = useState(false);
  const [health, setHealth] = useState(null);
  const [gen, setGen] = useState(0);
  useEffect(() => {
    const onHash = () => { setR(route()); window.scrollTo(0, 0); };
    const onAuth = () => setNeedLogin(true);
    window.addEventListener('hashchange', onHash);
    window.addEventListener('mps-auth-required', onAuth);
    fetch('/healthz').then((res) => res.json()).then(setHealth).catch(() => {});
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('mps-auth-required', onAuth);
    };
  }, []);
  useEffect(() => { document.title = `MPS · ${(pages.find(([p]) => p === r.page) || ['', r.page === 'stream' ? r.rest : 'Live'])[1]}`; }, [r]);
  const current = r.page === 'stream' ? 'live' : r.page;
  const logout = () => { clearLogin(); setNeedLogin(true); };
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="#/live">MPS</a>
      <nav aria-label="Sections">
        <ul>
          ${pages.map(([p, label]) => html`<li><a href=${'#/' + p} aria-current=${current === p ? 'page' : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
      <span class="muted version">${health ? 'v' + health.version : ''}</span>
      ${authHeader() && !needLogin && html`<button type="button" class="link" onClick=${logout}>Log out</button>`}
    </header>
    <main id="main" tabindex="-1">
      ${needLogin
        ? html`<${Login} onDone=${() => { setNeedLogin(false); setGen(gen + 1); }} />`
        : html`<${Page} r=${r} key=${gen + ':' + r.page + ':' + r.rest} />`}
    </main>`;
}

const root = document.getElementById('app');
root.textContent = ''; // drop the loading note: render adds to what is there
render(html`<${App} />`, root);
