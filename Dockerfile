# Multi-stage build: a Go toolchain image compiles MPS, a Debian slim image
# with ffmpeg runs it.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/mps ./cmd/mps

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core pocketsphinx pocketsphinx-en-us tesseract-ocr tesseract-ocr-eng ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/mps /usr/local/bin/mps
COPY configs/mps.yaml /etc/mps/mps.yaml
WORKDIR /var/lib/mps
ENV MPS_STORAGE_DATA_DIR=/var/lib/mps
# The default config answers the API and metrics on loopback only: inside a
# container, list auth.users in a mounted config to reach them from outside.
# RTMP, RTSP (TCP + UDP RTP/RTCP), SRT, HTTP (API, HLS, WebRTC signalling), WebRTC ICE (UDP + TCP)
EXPOSE 1935/tcp 8554/tcp 8000/udp 8001/udp 8890/udp 8080/tcp 8189/udp 8189/tcp
ENTRYPOINT ["/usr/local/bin/mps"]
CMD ["serve", "-c", "/etc/mps/mps.yaml"]
