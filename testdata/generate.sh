#!/bin/sh
# Regenerates the small sample files the tests use. Each is made from
# ffmpeg's built-in sources (lavfi), so no outside media is needed.
#   h264_aac_1s_gop.mp4  H.264 (no B-frames) + AAC, 320x240 30 fps, 1 s GOP, 6 s
#   h264_bframes.mp4     H.264 with B-frames + AAC, 320x240 30 fps, 1 s GOP, 4 s
#   video_only.mp4       H.264 only, 320x240 25 fps, 1 s GOP, 4 s
#   audio_only.m4a       AAC only, 44.1 kHz stereo, 4 s
set -eu
cd "$(dirname "$0")"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

ff -f lavfi -i "testsrc2=size=320x240:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
   -t 6 -c:v libx264 -preset veryfast -profile:v baseline -g 30 -keyint_min 30 -sc_threshold 0 -b:v 300k \
   -pix_fmt yuv420p -c:a aac -b:a 64k -ac 2 -movflags +faststart h264_aac_1s_gop.mp4

ff -f lavfi -i "testsrc2=size=320x240:rate=30" -f lavfi -i "sine=frequency=660:sample_rate=44100" \
   -t 4 -c:v libx264 -preset veryfast -profile:v high -bf 2 -g 30 -keyint_min 30 -sc_threshold 0 -b:v 300k \
   -pix_fmt yuv420p -c:a aac -b:a 64k -ac 2 -movflags +faststart h264_bframes.mp4

ff -f lavfi -i "testsrc=size=320x240:rate=25" \
   -t 4 -c:v libx264 -preset veryfast -profile:v main -bf 0 -g 25 -keyint_min 25 -sc_threshold 0 -b:v 200k \
   -pix_fmt yuv420p -movflags +faststart video_only.mp4

ff -f lavfi -i "sine=frequency=330:sample_rate=44100" -ac 2 \
   -t 4 -c:a aac -b:a 64k -movflags +faststart audio_only.m4a
