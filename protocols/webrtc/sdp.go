package webrtc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// offerMedia is what the adapter needs to know about one m= section of an
// offer: its kind, whether the peer sends and receives on it, and the codecs
// it lists.
type offerMedia struct {
	kind   string // "audio", "video", "application"...
	mid    string
	sends  bool // the offerer sends media here (sendonly/sendrecv)
	recvs  bool // the offerer accepts media here (recvonly/sendrecv)
	codecs []offerCodec
}

// offerCodec is one rtpmap entry of an m= section.
type offerCodec struct {
	pt        uint8
	name      string // upper-case encoding name: "H264", "OPUS"
	clockRate int
	channels  int
	fmtp      map[string]string
}

// parseOffer checks that body is an SDP offer pion can be given and lists
// its media. It is run before any peer connection is made, so a broken
// offer costs nothing but a 400.
func parseOffer(body []byte) ([]offerMedia, error) {
	if len(body) == 0 {
		return nil, errors.New("empty SDP offer")
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, fmt.Errorf("invalid SDP offer: %w", err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return nil, errors.New("SDP offer has no media sections")
	}
	if len(sd.MediaDescriptions) > 64 {
		return nil, errors.New("SDP offer has more than 64 media sections")
	}
	sessDir := direction(sd.Attributes)
	out := make([]offerMedia, 0, len(sd.MediaDescriptions))
	for _, md := range sd.MediaDescriptions {
		m := offerMedia{kind: md.MediaName.Media}
		dir := direction(md.Attributes)
		if dir == "" {
			dir = sessDir
		}
		switch dir {
		case "sendonly":
			m.sends = true
		case "recvonly":
			m.recvs = true
		case "inactive":
		default:
			m.sends, m.recvs = true, true
		}
		if _, bundleOnly := md.Attribute("bundle-only"); md.MediaName.Port.Value == 0 && !bundleOnly {
			m.sends, m.recvs = false, false
		}
		m.codecs = mediaCodecs(md)
		if v, ok := md.Attribute("mid"); ok {
			m.mid = v
		}
		out = append(out, m)
	}
	return out, nil
}

func direction(attrs []sdp.Attribute) string {
	for _, a := range attrs {
		switch a.Key {
		case "sendonly", "recvonly", "sendrecv", "inactive":
			return a.Key
		}
	}
	return ""
}

// mediaCodecs reads the rtpmap and fmtp lines of one m= section. Static
// payload types without an rtpmap (0 PCMU, 8 PCMA) are filled in.
func mediaCodecs(md *sdp.MediaDescription) []offerCodec {
	byPT := make(map[uint8]*offerCodec)
	var order []uint8
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		if _, dup := byPT[uint8(pt)]; dup {
			continue
		}
		c := &offerCodec{pt: uint8(pt)}
		switch pt {
		case 0:
			c.name, c.clockRate, c.channels = "PCMU", 8000, 1
		case 8:
			c.name, c.clockRate, c.channels = "PCMA", 8000, 1
		}
		byPT[uint8(pt)] = c
		order = append(order, uint8(pt))
	}
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap":
			pt, rest, ok := splitPT(a.Value)
			c := byPT[pt]
			if !ok || c == nil {
				continue
			}
			parts := strings.Split(rest, "/")
			c.name = strings.ToUpper(strings.TrimSpace(parts[0]))
			if len(parts) > 1 {
				c.clockRate, _ = strconv.Atoi(parts[1])
			}
			c.channels = 1
			if len(parts) > 2 {
				c.channels, _ = strconv.Atoi(parts[2])
			}
		case "fmtp":
			pt, rest, ok := splitPT(a.Value)
			c := byPT[pt]
			if !ok || c == nil {
				continue
			}
			c.fmtp = parseFmtp(rest)
		}
	}
	out := make([]offerCodec, 0, len(order))
	for _, pt := range order {
		if c := byPT[pt]; c.name != "" {
			out = append(out, *c)
		}
	}
	return out
}

func splitPT(v string) (uint8, string, bool) {
	ptS, rest, ok := strings.Cut(v, " ")
	if !ok {
		return 0, "", false
	}
	pt, err := strconv.ParseUint(ptS, 10, 7)
	if err != nil {
		return 0, "", false
	}
	return uint8(pt), rest, true
}

func parseFmtp(s string) map[string]string {
	m := make(map[string]string)
	for _, kv := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k != "" {
			m[strings.ToLower(k)] = v
		}
	}
	return m
}

// has reports whether the section lists a codec by encoding name; for
// H.264 only packetization-mode 1, the mode the adapter speaks.
func (m offerMedia) has(name string) bool {
	for _, c := range m.codecs {
		if c.name != name {
			continue
		}
		if name == "H264" && c.fmtp["packetization-mode"] != "1" {
			continue
		}
		return true
	}
	return false
}

func (m offerMedia) codecNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range m.codecs {
		if !seen[c.name] && c.name != "RTX" && c.name != "RED" && c.name != "ULPFEC" {
			seen[c.name] = true
			out = append(out, c.name)
		}
	}
	return out
}

// trickleCandidate is one candidate line of a PATCH body.
type trickleCandidate struct {
	mid       string
	candidate string // "candidate:..." without the "a="
}

// parseSDPFrag reads an application/trickle-ice-sdpfrag body (RFC 8840):
// the candidates it carries, each with the mid of its section, and the ICE
// username fragment, which tells an ICE restart from plain trickle.
func parseSDPFrag(body []byte) (ufrag string, cands []trickleCandidate, err error) {
	mid := ""
	for i, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "":
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=mid:"):
			mid = strings.TrimPrefix(line, "a=mid:")
		case strings.HasPrefix(line, "a=candidate:"):
			if len(cands) >= 64 {
				return "", nil, errors.New("more than 64 candidates")
			}
			cands = append(cands, trickleCandidate{mid: mid, candidate: strings.TrimPrefix(line, "a=")})
		case len(line) >= 2 && line[1] == '=' && line[0] >= 'a' && line[0] <= 'z':
			// Other SDP lines (m=, a=ice-pwd, a=end-of-candidates...) carry
			// nothing the adapter acts on.
		default:
			return "", nil, fmt.Errorf("line %d: not an SDP line", i+1)
		}
	}
	return ufrag, cands, nil
}
