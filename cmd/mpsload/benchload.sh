#!/bin/sh
# Load scenarios of `make bench`: builds mps and mpsload into bin/, makes a
# 600 kb/s 360p30 source once, runs the server on loopback ports of its own
# and fans one publisher out to 200 RTMP and then 200 RTSP Go readers,
# 10 s each (about a minute in all). Figures depend on the machine.
set -eu
GO=${GO:-go}
mkdir -p bin
$GO build -o bin/mps ./cmd/mps
$GO build -o bin/mpsload ./cmd/mpsload
src=bin/load-600k.mp4
[ -f $src ] || ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 \
	-f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 -c:v libx264 -preset veryfast \
	-b:v 540k -maxrate 600k -bufsize 600k -g 60 -bf 2 -c:a aac -b:a 64k $src
export MPS_HTTP_ADDRESS=127.0.0.1:18180 MPS_RTMP_ADDRESS=127.0.0.1:19350 \
	MPS_RTSP_ADDRESS=127.0.0.1:18554 MPS_RTSP_UDP_RTP_ADDRESS=127.0.0.1:18000 \
	MPS_RTSP_UDP_RTCP_ADDRESS=127.0.0.1:18001 MPS_SRT_ADDRESS=127.0.0.1:18890 \
	MPS_WEBRTC_ENABLED=false
bin/mps serve >bin/benchload-server.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
sleep 3
status=0
for proto in rtmp rtsp; do
	bin/mpsload -scenario fanout -pid $pid -file $src -readers 200 -read $proto \
		-rtmp-port 19350 -rtsp-port 18554 -duration 10s || status=1
done
exit $status
