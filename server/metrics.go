package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves Prometheus metrics from a registry of this server's
// own (no global registry), computed from the live streams at scrape time.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(&streamCollector{s: s})
	reg.MustRegister(qcCollector{s.qc})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

var (
	descStreams  = prometheus.NewDesc("mps_streams", "Live streams (paths with a publisher).", nil, nil)
	descReaders  = prometheus.NewDesc("mps_readers", "Readers attached to live streams, by protocol.", []string{"protocol"}, nil)
	descBytesIn  = prometheus.NewDesc("mps_bytes_in_total", "Media payload bytes received from publishers, by protocol.", []string{"protocol"}, nil)
	descBytesOut = prometheus.NewDesc("mps_bytes_out_total", "Media payload bytes handed to readers, by protocol.", []string{"protocol"}, nil)
	descOverruns = prometheus.NewDesc("mps_ring_overruns_total", "Times a reader fell a whole ring behind and skipped to the newest keyframe.", nil, nil)
	descRdrOver  = prometheus.NewDesc("mps_reader_overruns", "Overruns of the readers attached now, by path and protocol.", []string{"path", "protocol"}, nil)
	descTcRun    = prometheus.NewDesc("mps_transcode_running", "Running ffmpeg workers, by kind (ladder, snapshot, audio).", []string{"kind"}, nil)
	descTcCount  = prometheus.NewDesc("mps_transcode_events_total", "Transcoder lifecycle counts: refused by the cap, restarts after a crash, failures to start, snapshots written.", []string{"kind"}, nil)
	descEvDrop   = prometheus.NewDesc("mps_events_dropped_total", "Events not delivered to a full subscriber.", nil, nil)
)

// streamCollector turns the path manager's state into metrics at scrape
// time, so the hot path keeps only its own atomic counters.
type streamCollector struct{ s *Server }

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStreams, descReaders, descBytesIn, descBytesOut, descOverruns, descRdrOver, descTcRun, descTcCount, descEvDrop} {
		ch <- d
	}
}

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	in, out, overruns := c.s.paths.Totals()
	readers := map[string]int{}
	live := c.s.paths.Streams()
	for _, st := range live {
		stats := st.Stats()
		if pub, ok := c.s.paths.Publisher(st.Path()); ok {
			in[pub.Protocol] += stats.BytesIn
		}
		for p, n := range stats.BytesOut {
			out[p] += n
		}
		for p, n := range stats.Readers {
			readers[p] += n
		}
		overruns += stats.Overruns
		per := map[string]uint64{}
		for _, r := range stats.PerReader {
			per[r.Protocol] += r.Overruns
		}
		for p, n := range per {
			ch <- prometheus.MustNewConstMetric(descRdrOver, prometheus.GaugeValue, float64(n), st.Path(), p)
		}
	}
	ch <- prometheus.MustNewConstMetric(descStreams, prometheus.GaugeValue, float64(len(live)))
	for p, n := range readers {
		ch <- prometheus.MustNewConstMetric(descReaders, prometheus.GaugeValue, float64(n), p)
	}
	for p, n := range in {
		ch <- prometheus.MustNewConstMetric(descBytesIn, prometheus.CounterValue, float64(n), p)
	}
	for p, n := range out {
		ch <- prometheus.MustNewConstMetric(descBytesOut, prometheus.CounterValue, float64(n), p)
	}
	ch <- prometheus.MustNewConstMetric(descOverruns, prometheus.CounterValue, float64(overruns))
	if tc := c.s.tc; tc != nil {
		st := tc.Stats()
		ch <- prometheus.MustNewConstMetric(descTcRun, prometheus.GaugeValue, float64(st.Ladders), "ladder")
		ch <- prometheus.MustNewConstMetric(descTcRun, prometheus.GaugeValue, float64(st.Snapshotters), "snapshot")
		ch <- prometheus.MustNewConstMetric(descTcRun, prometheus.GaugeValue, float64(st.AudioFeeds), "audio")
		ch <- prometheus.MustNewConstMetric(descTcCount, prometheus.CounterValue, float64(st.Refused), "refused")
		ch <- prometheus.MustNewConstMetric(descTcCount, prometheus.CounterValue, float64(st.Restarts), "restarts")
		ch <- prometheus.MustNewConstMetric(descTcCount, prometheus.CounterValue, float64(st.Failures), "failures")
		ch <- prometheus.MustNewConstMetric(descTcCount, prometheus.CounterValue, float64(st.Snapshots), "snapshots")
	}
	ch <- prometheus.MustNewConstMetric(descEvDrop, prometheus.CounterValue, float64(c.s.bus.Dropped()))
}
