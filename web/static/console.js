// MPS console: lists live streams from the REST API every 2 s and plays one
// over HLS (hls.js) or WebRTC (WHEP). Plain browser JavaScript, no build.
'use strict';

const $ = (sel) => document.querySelector(sel);
let hls = null;
let pc = null;
let whepLocation = null;

function fmtBitrate(bps) {
  if (bps >= 1e6) return (bps / 1e6).toFixed(2) + ' Mb/s';
  return Math.round(bps / 1e3) + ' kb/s';
}

function fmtUptime(s) {
  s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + (s % 60) + 's';
}

function fmtTrack(t) {
  if (t.width) return `${t.codec} ${t.width}x${t.height}`;
  if (t.sample_rate) return `${t.codec} ${t.sample_rate / 1000} kHz`;
  return t.codec;
}

function button(label, onClick) {
  const b = document.createElement('button');
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

async function refresh() {
  try {
    const res = await fetch('/api/v1/streams');
    const { streams } = await res.json();
    const body = $('#streams tbody');
    body.replaceChildren();
    for (const s of streams) {
      const tr = document.createElement('tr');
      tr.dataset.path = s.path;
      const readers = Object.entries(s.readers || {}).map(([p, n]) => `${p} ${n}`).join(', ') || '0';
      for (const text of [s.path, s.publisher.protocol, s.tracks.map(fmtTrack).join(', '),
        fmtBitrate(s.bitrate_in), readers, fmtUptime(s.uptime_seconds)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      const actions = document.createElement('td');
      actions.append(button('HLS', () => playHLS(s.path)), button('WebRTC', () => playWHEP(s.path)),
        button('Kick', () => kick(s.path)));
      tr.appendChild(actions);
      body.appendChild(tr);
    }
    $('#count').textContent = `(${streams.length})`;
    $('#empty').hidden = streams.length > 0;
    $('#health').textContent = 'connected';
  } catch (e) {
    $('#health').textContent = 'API unreachable: ' + e.message;
  }
}

async function kick(path) {
  await fetch('/api/v1/streams/' + path, { method: 'DELETE' });
  refresh();
}

async function stop() {
  if (hls) { hls.destroy(); hls = null; }
  if (pc) { pc.close(); pc = null; }
  if (whepLocation) { fetch(whepLocation, { method: 'DELETE' }).catch(() => {}); whepLocation = null; }
  const v = $('#video');
  v.removeAttribute('src');
  v.srcObject = null;
  $('#player').hidden = true;
}

function showPlayer(path, mode) {
  $('#player').hidden = false;
  $('#playing').textContent = path;
  $('#mode').textContent = mode;
  $('#status').textContent = 'starting…';
}

async function playHLS(path) {
  await stop();
  showPlayer(path, 'HLS');
  const v = $('#video');
  const url = '/hls/' + path + '/index.m3u8';
  if (window.Hls && Hls.isSupported()) {
    hls = new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 });
    hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) $('#status').textContent = 'error: ' + d.details; });
    hls.loadSource(url);
    hls.attachMedia(v);
  } else {
    v.src = url; // Safari plays HLS natively
  }
  v.play().catch(() => {});
}

async function playWHEP(path) {
  await stop();
  showPlayer(path, 'WebRTC');
  pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const v = $('#video');
  pc.ontrack = (e) => { if (!v.srcObject) v.srcObject = e.streams[0] || new MediaStream([e.track]); v.play().catch(() => {}); };
  pc.onconnectionstatechange = () => { $('#status').textContent = pc ? pc.connectionState : ''; };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
    setTimeout(resolve, 2000);
  });
  const res = await fetch('/webrtc/' + path + '/whep', {
    method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp,
  });
  if (res.status !== 201) {
    $('#status').textContent = `refused: ${res.status} ${await res.text()}`;
    return;
  }
  whepLocation = res.headers.get('Location');
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
}

$('#stop').addEventListener('click', stop);
setInterval(() => { const v = $('#video'); if (!$('#player').hidden) $('#status').dataset.time = v.currentTime.toFixed(2); }, 500);
refresh();
setInterval(refresh, 2000);
