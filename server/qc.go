package server

import (
	"context"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"mps/ai/qc"
	"mps/internal/stream"
)

// qcManager runs one live QC checker per published stream whose path rule
// has qc.enabled, and exposes their values as metrics.
type qcManager struct {
	s   *Server
	log *slog.Logger
	ctx context.Context

	mu       sync.Mutex
	checkers map[*stream.Stream]*qc.Checker
	wg       sync.WaitGroup
}

func newQCManager(s *Server) *qcManager {
	return &qcManager{s: s, log: s.log.With("component", "qc"), ctx: s.ctx, checkers: map[*stream.Stream]*qc.Checker{}}
}

// streamStarted is the publish hook: it attaches a checker when the
// path's rule asks for one. It does not block.
func (m *qcManager) streamStarted(st *stream.Stream) {
	rule := m.s.Config().Rule(st.Path()).QC
	if !rule.Enabled {
		return
	}
	c := qc.Start(m.ctx, st, rule, m.s.bus.Publish, m.log)
	m.mu.Lock()
	m.checkers[st] = c
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		<-c.Done()
		m.mu.Lock()
		delete(m.checkers, st)
		m.mu.Unlock()
	}()
}

// statuses returns every running checker's values.
func (m *qcManager) statuses() []qc.Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]qc.Status, 0, len(m.checkers))
	for _, c := range m.checkers {
		out = append(out, c.Status())
	}
	return out
}

// wait blocks until every checker has stopped (they stop with the
// server's context).
func (m *qcManager) wait() { m.wg.Wait() }

var (
	descQCGauge   = prometheus.NewDesc("mps_qc_value", "Live QC measurements by path: fps, nominal_fps, bitrate (bit/s), keyframe_interval (s), luma (0-255), loudness (short-term LUFS).", []string{"path", "measure"}, nil)
	descQCProblem = prometheus.NewDesc("mps_qc_problem", "1 while a live QC problem is going on, by path and check.", []string{"path", "check"}, nil)
	descQCCount   = prometheus.NewDesc("mps_qc_problems_total", "Live QC problems started, by path and check.", []string{"path", "check"}, nil)
	descQCRestart = prometheus.NewDesc("mps_qc_decoder_restarts_total", "Restarts of a live QC decoder, by path.", []string{"path"}, nil)
)

// qcCollector turns the checkers' values into metrics at scrape time.
type qcCollector struct{ m *qcManager }

func (c qcCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQCGauge, descQCProblem, descQCCount, descQCRestart} {
		ch <- d
	}
}

func (c qcCollector) Collect(ch chan<- prometheus.Metric) {
	if c.m == nil {
		return
	}
	for _, st := range c.m.statuses() {
		for k, v := range map[string]float64{"fps": st.FPS, "nominal_fps": st.NominalFPS, "bitrate": st.Bitrate,
			"keyframe_interval": st.KeyframeInterval, "luma": st.Luma, "loudness": st.Loudness} {
			ch <- prometheus.MustNewConstMetric(descQCGauge, prometheus.GaugeValue, v, st.Path, k)
		}
		for _, check := range qc.AllChecks {
			on := 0.0
			if st.Active[check] {
				on = 1
			}
			ch <- prometheus.MustNewConstMetric(descQCProblem, prometheus.GaugeValue, on, st.Path, check)
			ch <- prometheus.MustNewConstMetric(descQCCount, prometheus.CounterValue, float64(st.Counts[check]), st.Path, check)
		}
		ch <- prometheus.MustNewConstMetric(descQCRestart, prometheus.CounterValue, float64(st.DecoderRestarts), st.Path)
	}
}
