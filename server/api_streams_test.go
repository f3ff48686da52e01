package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"mps/internal/testutil"
)

// TestAPIListsLiveStream publishes with real ffmpeg over RTMP and checks
// what an operator would: the stream is listed with the right codecs and
// resolution while live, metrics count it, DELETE kicks the publisher, and
// the stream is gone afterwards.
func TestAPIListsLiveStream(t *testing.T) {
	needFFmpeg(t)
	s := startServer(t, testConfig(t))
	api := "http://" + s.HTTPAddr() + "/api/v1/streams"

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub := publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+s.RTMPAddr()+"/live/api", true)
	exited := make(chan error, 1)
	go func() { exited <- pub.Wait() }()

	var list struct{ Streams []streamInfo }
	testutil.WaitFor(t, 10*time.Second, "stream listed", func() bool {
		getJSON(t, api, &list)
		return len(list.Streams) == 1
	})
	st := list.Streams[0]
	if st.Path != "live/api" || st.Publisher.Protocol != "rtmp" {
		t.Fatalf("listed %+v", st)
	}
	if len(st.Tracks) != 2 || st.Tracks[0].Codec != "h264" || st.Tracks[0].Width != 320 || st.Tracks[0].Height != 240 ||
		st.Tracks[1].Codec != "aac" || st.Tracks[1].SampleRate != 48000 || st.Tracks[1].Channels != 2 {
		t.Fatalf("tracks %+v, want h264 320x240 and aac 48000 Hz 2 ch", st.Tracks)
	}

	// one stream's detail, and its bitrate once a rate sample exists (~300 kb/s video)
	var one streamInfo
	testutil.WaitFor(t, 10*time.Second, "bitrate measured", func() bool {
		if code := getJSON(t, api+"/live/api", &one); code != http.StatusOK {
			t.Fatalf("GET one: %d", code)
		}
		return one.BitrateIn > 100_000 && one.UptimeSeconds > 2*rateInterval.Seconds()
	})
	if one.BitrateIn > 2_000_000 {
		t.Fatalf("bitrate %d b/s, want about 370 kb/s", one.BitrateIn)
	}
	if code := getJSON(t, api+"/live/nothing", nil); code != http.StatusNotFound {
		t.Fatalf("unknown path: %d, want 404", code)
	}
	if code := getJSON(t, api+"/live/../etc", nil); code != http.StatusBadRequest && code != http.StatusNotFound {
		t.Fatalf("traversal path: %d", code)
	}

	metrics := fetch(t, "http://"+s.HTTPAddr()+"/metrics")
	for _, want := range []string{"mps_streams 1", `mps_bytes_in_total{protocol="rtmp"}`, "mps_ring_overruns_total 0"} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("metrics lack %q:\n%s", want, metrics)
		}
	}

	req, _ := http.NewRequest(http.MethodDelete, api+"/live/api", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	select {
	case <-exited: // the kicked ffmpeg publisher ends
	case <-time.After(10 * time.Second):
		t.Fatal("publisher still running 10 s after DELETE")
	}
	getJSON(t, api, &list)
	if len(list.Streams) != 0 {
		t.Fatalf("still listed after kick: %+v", list.Streams)
	}
}

func fetch(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
