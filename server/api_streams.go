package server

import (
	"mps/internal/config"
	"net/http"
	"time"

	"mps/internal/httpjson"
	"mps/internal/stream"
)

// trackInfo is a track as the API shows it.
type trackInfo struct {
	Codec      string `json:"codec"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	SampleRate int    `json:"sample_rate,omitempty"`
	Channels   int    `json:"channels,omitempty"`
}

// streamInfo is a live stream as GET /api/v1/streams shows it.
type streamInfo struct {
	Path          string               `json:"path"`
	Publisher     publisherInfo        `json:"publisher"`
	Tracks        []trackInfo          `json:"tracks"`
	BitrateIn     int64                `json:"bitrate_in"` // bits/s over the last few seconds
	BytesIn       uint64               `json:"bytes_in"`
	Readers       map[string]int       `json:"readers"`
	BytesOut      map[string]uint64    `json:"bytes_out"`
	Overruns      uint64               `json:"overruns"`
	PerReader     []stream.ReaderStats `json:"reader_details"`
	Since         time.Time            `json:"since"`
	UptimeSeconds float64              `json:"uptime_seconds"`
}

type publisherInfo struct {
	Protocol   string `json:"protocol"`
	RemoteAddr string `json:"remote_addr,omitempty"`
}

func (s *Server) describe(st *stream.Stream) streamInfo {
	stats := st.Stats()
	info := streamInfo{
		Path:          st.Path(),
		BitrateIn:     s.rates.rate(st),
		BytesIn:       stats.BytesIn,
		Readers:       stats.Readers,
		BytesOut:      stats.BytesOut,
		Overruns:      stats.Overruns,
		PerReader:     stats.PerReader,
		Since:         st.Created().UTC(),
		UptimeSeconds: time.Since(st.Created()).Seconds(),
	}
	if pub, ok := s.paths.Publisher(st.Path()); ok {
		info.Publisher = publisherInfo{Protocol: pub.Protocol, RemoteAddr: pub.RemoteAddr}
	}
	for _, t := range st.Tracks() {
		info.Tracks = append(info.Tracks, trackInfo{
			Codec: string(t.Codec), Width: t.Width, Height: t.Height,
			SampleRate: t.SampleRate, Channels: t.Channels,
		})
	}
	return info
}

func (s *Server) apiListStreams(w http.ResponseWriter, r *http.Request) {
	list := []streamInfo{}
	for _, st := range s.paths.Streams() {
		list = append(list, s.describe(st))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"streams": list})
}

func (s *Server) apiGetStream(w http.ResponseWriter, r *http.Request) {
	path := r.PathValue("path")
	if err := stream.ValidPath(path); err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	st := s.paths.Get(path)
	if st == nil {
		httpjson.WriteError(w, http.StatusNotFound, "no stream on path "+path)
		return
	}
	httpjson.Write(w, http.StatusOK, s.describe(st))
}

func (s *Server) apiKickStream(w http.ResponseWriter, r *http.Request) {
	path := r.PathValue("path")
	if err := stream.ValidPath(path); err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !s.paths.Kick(path) {
		httpjson.WriteError(w, http.StatusNotFound, "no stream on path "+path)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiConfigOrigins answers where each set key of the running config came
// from (file and line, or environment variable), for the console.
func (s *Server) apiConfigOrigins(w http.ResponseWriter, r *http.Request) {
	file, keys := s.Config().Origins()
	httpjson.Write(w, http.StatusOK, map[string]any{"file": file, "keys": keys})
}

func (s *Server) apiGetConfig(w http.ResponseWriter, r *http.Request) {
	httpjson.Write(w, http.StatusOK, struct {
		*config.Config
		Listeners map[string]string `json:"listeners"`
	}{s.Config().Redacted(), s.boundAddrs()})
}
