#!/bin/sh
# Load scenarios of `make bench` and `make bench-load`: builds mps and
# mpsload into bin/, makes the sources once (600 kb/s 360p30, and 8 Mb/s
# 1080p60 for that scenario), runs the server on loopback ports of its own
# and runs the named scenarios against it (default: fanout), each printing
# server CPU per stream and per reader, RSS and the readers' frame rates:
#
#   fanout   1 publisher to 200 RTMP, then 200 RTSP Go readers (about a minute)
#   srt      1 publisher to 50 SRT readers
#   llhls    1 publisher to 50 LL-HLS players (blocking reloads, parts)
#   hls30    30 publishers, one LL-HLS player each
#   1080p60  1 publisher of 1080p60 at 8 Mb/s to 10 RTMP + 10 RTSP readers
#   mix      5 publishers to 40 readers over RTMP, RTSP, SRT and LL-HLS
#   all      every one of them
#
# A reader below 95% of the source frame rate fails the run. Figures
# depend on the machine. DURATION (10s) is each scenario's measured window.
set -eu
GO=${GO:-go}
DURATION=${DURATION:-10s}
scenarios=${*:-fanout}
[ "$scenarios" = all ] && scenarios="fanout srt llhls hls30 1080p60 mix"
mkdir -p bin
$GO build -o bin/mps ./cmd/mps
$GO build -o bin/mpsload ./cmd/mpsload
src=bin/load-600k.mp4
[ -f $src ] || ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 \
	-f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 -c:v libx264 -preset veryfast \
	-b:v 540k -maxrate 600k -bufsize 600k -g 60 -bf 2 -c:a aac -b:a 64k $src
hd=bin/load-1080p60-8m.mp4
case " $scenarios " in *" 1080p60 "*)
	[ -f $hd ] || ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=60 \
		-f lavfi -i sine=frequency=440:sample_rate=48000 -t 10 -c:v libx264 -preset superfast \
		-b:v 8M -maxrate 8M -bufsize 8M -g 120 -bf 2 -c:a aac -b:a 128k $hd
esac
export MPS_HTTP_ADDRESS=127.0.0.1:18180 MPS_RTMP_ADDRESS=127.0.0.1:19350 \
	MPS_RTSP_ADDRESS=127.0.0.1:18554 MPS_RTSP_UDP_RTP_ADDRESS=127.0.0.1:18000 \
	MPS_RTSP_UDP_RTCP_ADDRESS=127.0.0.1:18001 MPS_SRT_ADDRESS=127.0.0.1:18890 \
	MPS_WEBRTC_ENABLED=false
# every reader comes from 127.0.0.1: lift the per-IP connection caps (64
# on media listeners by default), or readers past the cap are refused
for l in RTMP RTSP SRT HTTP; do
	export MPS_${l}_MAX_CONNECTIONS=8192 MPS_${l}_MAX_CONNECTIONS_PER_IP=8192
done
bin/mps serve >bin/benchload-server.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
sleep 3
status=0
load() {
	bin/mpsload -scenario fanout -pid $pid -rtmp-port 19350 -rtsp-port 18554 \
		-srt-port 18890 -http-port 18180 -duration "$DURATION" "$@" || status=1
	sleep 2 # the previous scenario's publishers and readers are gone
}
for s in $scenarios; do
	echo "== $s"
	case $s in
	fanout)
		for proto in rtmp rtsp; do
			load -file $src -publishers 1 -readers 200 -read $proto
		done ;;
	srt) load -file $src -publishers 1 -readers 50 -read srt ;;
	llhls) load -file $src -publishers 1 -readers 50 -read hls ;;
	hls30) load -file $src -publishers 30 -readers 30 -read hls ;;
	1080p60) load -file $hd -fps 60 -publishers 1 -readers 20 -read rtmp,rtsp ;;
	mix) load -file $src -publishers 5 -readers 40 -read rtmp,rtsp,srt,hls ;;
	*) echo "benchload: unknown scenario $s" >&2; status=2 ;;
	esac
done
exit $status
