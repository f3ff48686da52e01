package recorder

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// template names segment files and reads the start time back from a name,
// so the index can be rebuilt from the directory listing alone.
type template struct {
	dir    string         // directory part, holds %path
	file   string         // file part, holds the time fields
	dirRe  *regexp.Regexp // matches a relative directory, captures the path
	fileRe *regexp.Regexp // matches a file name (with extension)
	fields []byte         // time field letters in capture order
	loc    *time.Location
}

// Extensions of the two formats.
var formatExt = map[string]string{FormatFMP4: ".mp4", FormatMPEGTS: ".ts"}

func extFormat(ext string) string {
	for f, e := range formatExt {
		if e == ext {
			return f
		}
	}
	return ""
}

func newTemplate(tpl string, loc *time.Location) (*template, error) {
	tpl = strings.Trim(tpl, "/")
	i := strings.LastIndex(tpl, "/")
	if i < 0 {
		return nil, fmt.Errorf("path template %q: needs a directory part holding %%path", tpl)
	}
	t := &template{dir: tpl[:i], file: tpl[i+1:], loc: loc}
	if !strings.Contains(t.dir, "%path") || strings.Contains(t.file, "%path") {
		return nil, fmt.Errorf("path template %q: %%path must be in the directory part only", tpl)
	}
	if strings.Count(t.dir, "%path") != 1 {
		return nil, fmt.Errorf("path template %q: %%path must appear once", tpl)
	}
	if strings.ContainsAny(strings.ReplaceAll(t.dir, "%path", ""), "%") {
		return nil, fmt.Errorf("path template %q: time fields must be in the file name", tpl)
	}
	for _, el := range strings.Split(t.dir, "/") {
		if el == "" || el == "." || el == ".." {
			return nil, fmt.Errorf("path template %q: empty, '.' or '..' element", tpl)
		}
	}
	dq := regexp.QuoteMeta(t.dir)
	dq = strings.Replace(dq, "%path", "(.+)", 1)
	t.dirRe = regexp.MustCompile("^" + dq + "$")

	var re strings.Builder
	re.WriteString("^")
	seen := map[byte]bool{}
	for j := 0; j < len(t.file); j++ {
		c := t.file[j]
		if c != '%' || j+1 == len(t.file) {
			re.WriteString(regexp.QuoteMeta(string(c)))
			continue
		}
		j++
		f := t.file[j]
		width, ok := fieldWidth[f]
		if !ok {
			return nil, fmt.Errorf("path template %q: unknown field %%%c", tpl, f)
		}
		seen[f] = true
		t.fields = append(t.fields, f)
		fmt.Fprintf(&re, `(\d{%d})`, width)
	}
	for _, need := range []byte("YmdHMS") {
		if !seen[need] {
			return nil, fmt.Errorf("path template %q: file name needs %%%c so start times can be read back", tpl, need)
		}
	}
	re.WriteString(`(\.mp4|\.ts)$`)
	t.fileRe = regexp.MustCompile(re.String())
	return t, nil
}

var fieldWidth = map[byte]int{'Y': 4, 'm': 2, 'd': 2, 'H': 2, 'M': 2, 'S': 2, 'f': 6}

// render returns the file of a segment of streamPath starting at t, relative
// to the root, with the format's extension.
func (t *template) render(streamPath string, at time.Time, format string) string {
	at = at.In(t.loc)
	r := strings.NewReplacer(
		"%Y", fmt.Sprintf("%04d", at.Year()),
		"%m", fmt.Sprintf("%02d", int(at.Month())),
		"%d", fmt.Sprintf("%02d", at.Day()),
		"%H", fmt.Sprintf("%02d", at.Hour()),
		"%M", fmt.Sprintf("%02d", at.Minute()),
		"%S", fmt.Sprintf("%02d", at.Second()),
		"%f", fmt.Sprintf("%06d", at.Nanosecond()/1000),
	)
	return path.Join(t.pathDir(streamPath), r.Replace(t.file)+formatExt[format])
}

// pathDir returns the directory, relative to the root, of streamPath's
// segments.
func (t *template) pathDir(streamPath string) string {
	return strings.Replace(t.dir, "%path", streamPath, 1)
}

// streamPath returns the stream path whose segments live in the relative
// directory dir.
func (t *template) streamPath(dir string) (string, bool) {
	m := t.dirRe.FindStringSubmatch(dir)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// parseFile reads the start time and format from a segment file name.
func (t *template) parseFile(name string) (time.Time, string, bool) {
	m := t.fileRe.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, "", false
	}
	v := map[byte]int{}
	for i, f := range t.fields {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return time.Time{}, "", false
		}
		v[f] = n
	}
	at := time.Date(v['Y'], time.Month(v['m']), v['d'], v['H'], v['M'], v['S'], v['f']*1000, t.loc)
	return at, extFormat(m[len(m)-1]), true
}
