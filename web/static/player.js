// player.js: the live player — WebRTC (WHEP) for the lowest latency, or
// LL-HLS through hls.js — with a status line the tests and people read.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, attachHls, waitIce, signal, endSession } from './lib.js';

/** playWHEP starts a WHEP session into video; it returns a stop function. */
async function playWHEP(video, path, onStatus) {
  const pc = new RTCPeerConnection();
  let location = null;
  let stopped = false;
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.ontrack = (e) => {
    if (!video.srcObject) video.srcObject = e.streams[0] || new MediaStream([e.track]);
    video.play().catch(() => {});
  };
  pc.onconnectionstatechange = () => onStatus(pc.connectionState);
  const stop = () => {
    stopped = true;
    pc.close();
    endSession(location);
    location = null;
    video.srcObject = null;
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await waitIce(pc);
    const { answer, location: loc } = await signal('/webrtc/' + path + '/whep', pc.localDescription.sdp);
    location = loc;
    if (stopped) { endSession(location); return stop; }
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  } catch (e) {
    onStatus(String(e.message || e));
  }
  return stop;
}

/**
 * LivePlayer plays path with mode 'webrtc' or 'hls' and restarts when
 * either changes. The video element carries data-mode for the tests.
 */
export function LivePlayer({ path, mode }) {
  const video = useRef(null);
  const [status, setStatus] = useState('starting…');
  useEffect(() => {
    const v = video.current;
    let stop = null;
    let gone = false;
    setStatus('starting…');
    const start = mode === 'hls'
      ? attachHls(v, '/hls/' + path + '/index.m3u8', { live: true, onStatus: setStatus })
      : playWHEP(v, path, setStatus);
    start.then((s) => { if (gone) s(); else stop = s; }, (e) => setStatus(String(e.message || e)));
    const bye = () => { if (stop) { stop(); stop = null; } };
    window.addEventListener('pagehide', bye);
    return () => { gone = true; window.removeEventListener('pagehide', bye); if (stop) stop(); };
  }, [path, mode]);
  return html`<div class="player">
    <video ref=${video} class="live-video" data-mode=${mode} controls muted playsinline autoplay
      aria-label=${`Live video of ${path}`}></video>
    <p class="muted" aria-live="polite">${mode === 'hls' ? 'LL-HLS' : 'WebRTC (WHEP)'}: <span class="player-status">${status}</span></p>
  </div>`;
}
