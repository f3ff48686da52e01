// publish.js: publish this browser's camera or screen to a path over WHIP,
// with a device pick and a preview.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, waitIce, signal, endSession, streamHref } from './lib.js';

/** PublishPage captures media and sends it to /webrtc/PATH/whip. */
export function PublishPage({ path: initial }) {
  const [path, setPath] = useState(initial || 'live/browser');
  const [source, setSource] = useState('camera');
  const [devices, setDevices] = useState({ video: [], audio: [] });
  const [videoId, setVideoId] = useState('');
  const [audioId, setAudioId] = useState('');
  const [state, setState] = useState('idle');
  const [error, setError] = useState('');
  const media = useRef(null);
  const session = useRef(null);
  const preview = useRef(null);
  const busy = useRef(false);

  const listDevices = async () => {
    if (!navigator.mediaDevices) return;
    const all = await navigator.mediaDevices.enumerateDevices();
    setDevices({
      video: all.filter((d) => d.kind === 'videoinput'),
      audio: all.filter((d) => d.kind === 'audioinput'),
    });
  };
  const stopMedia = () => {
    if (media.current) media.current.getTracks().forEach((t) => t.stop());
    media.current = null;
    if (preview.current) preview.current.srcObject = null;
  };
  const stopPublish = () => {
    const s = session.current;
    if (!s) return;
    session.current = null;
    // The connection closes once the DELETE is answered (2 s at most):
    // closed at once, it could reach the server before the request, which
    // would then find the session already gone and answer 404.
    const close = () => s.pc.close();
    endSession(s.location).then(close);
    setTimeout(close, 2000);
  };
  useEffect(() => {
    listDevices();
    // Closing the tab ends the session at once instead of at the ICE time-out.
    const bye = () => stopPublish();
    window.addEventListener('pagehide', bye);
    return () => { window.removeEventListener('pagehide', bye); stopPublish(); stopMedia(); };
  }, []);

  /** capture asks for the chosen source and shows it in the preview. */
  const capture = async () => {
    setError('');
    stopMedia();
    try {
      const audio = audioId ? { deviceId: { exact: audioId } } : true;
      media.current = source === 'screen'
        ? await navigator.mediaDevices.getDisplayMedia({ video: true, audio: true })
        : await navigator.mediaDevices.getUserMedia({ video: videoId ? { deviceId: { exact: videoId } } : true, audio });
      preview.current.srcObject = media.current;
      preview.current.play().catch(() => {});
      setState('preview');
      listDevices(); // labels are readable once access was granted
    } catch (e) {
      setError('Capture failed: ' + e.message);
    }
  };

  const start = async (e) => {
    e.preventDefault();
    if (busy.current || session.current) return; // one session at a time, whatever submits the form
    busy.current = true;
    try { await publish(); } finally { busy.current = false; }
  };

  /** publish sends the captured media to the path over WHIP. */
  const publish = async () => {
    setError('');
    if (!media.current) await capture();
    if (!media.current) return;
    stopPublish();
    const pc = new RTCPeerConnection();
    session.current = { pc, location: null };
    for (const t of media.current.getTracks()) pc.addTransceiver(t, { direction: 'sendonly' });
    pc.onconnectionstatechange = () => setState(pc.connectionState === 'connected' ? 'live' : pc.connectionState);
    setState('connecting');
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await waitIce(pc);
      const { answer, location } = await signal('/webrtc/' + path + '/whip', pc.localDescription.sdp);
      session.current.location = location;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } catch (err) {
      stopPublish();
      setState('preview');
      setError(String(err.message || err));
    }
  };
  const stop = () => { stopPublish(); setState(media.current ? 'preview' : 'idle'); };
  const live = state === 'live' || state === 'connecting' || state === 'connected';

  return html`<section aria-labelledby="pub-title">
    <h1 id="pub-title">Publish from this browser</h1>
    <form class="publish" onSubmit=${start}>
      <label>Path <input name="path" value=${path} required pattern="[\\w.~\\/\\-]+"
        onInput=${(e) => setPath(e.target.value)} disabled=${live} /></label>
      <fieldset class="seg">
        <legend>Source</legend>
        <label><input type="radio" name="source" checked=${source === 'camera'} onChange=${() => setSource('camera')} disabled=${live} /> Camera</label>
        <label><input type="radio" name="source" checked=${source === 'screen'} onChange=${() => setSource('screen')} disabled=${live} /> Screen</label>
      </fieldset>
      ${source === 'camera' && html`
        <label>Camera <select value=${videoId} onChange=${(e) => setVideoId(e.target.value)} disabled=${live}>
          <option value="">default</option>
          ${devices.video.map((d, i) => html`<option value=${d.deviceId}>${d.label || 'camera ' + (i + 1)}</option>`)}
        </select></label>
        <label>Microphone <select value=${audioId} onChange=${(e) => setAudioId(e.target.value)} disabled=${live}>
          <option value="">default</option>
          ${devices.audio.map((d, i) => html`<option value=${d.deviceId}>${d.label || 'microphone ' + (i + 1)}</option>`)}
        </select></label>`}
      <div class="actions">
        <button type="button" onClick=${capture} disabled=${live}>Preview</button>
        ${live
          ? html`<button type="button" key="stop" class="danger" onClick=${stop}>Stop publishing</button>`
          : html`<button type="submit" key="start">Start publishing</button>`}
      </div>
    </form>
    <p aria-live="polite">State: <strong class="publish-state">${state}</strong>
      ${state === 'live' && html` — <a href=${streamHref(path)}>open ${path}</a>`}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <video ref=${preview} class="preview" muted playsinline aria-label="Preview of what is sent"></video>
  </section>`;
}
