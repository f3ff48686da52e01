package audit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ocrLine is one line of text tesseract read, with its box.
type ocrLine struct {
	text  OCRText
	words []string
}

// readText runs tesseract on one image and returns its lines with boxes.
// OMP_THREAD_LIMIT=1 makes it 2-3x faster on a small machine (its OpenMP
// threads fight each other and the rest of the server).
func readText(ctx context.Context, image string) ([]ocrLine, error) {
	cmd := exec.CommandContext(ctx, "tesseract", image, "stdout", "tsv")
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("tesseract: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseTSV(out), nil
}

// parseTSV groups tesseract's word rows (level 5) into lines, each with the
// union of its words' boxes and their mean confidence.
func parseTSV(data []byte) []ocrLine {
	type key struct{ block, par, line string }
	var order []key
	lines := map[key]*ocrLine{}
	confSum := map[key]float64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 12 || f[0] != "5" {
			continue
		}
		word := strings.TrimSpace(f[11])
		conf, _ := strconv.ParseFloat(f[10], 64)
		if word == "" || conf < 0 {
			continue
		}
		x, _ := strconv.Atoi(f[6])
		y, _ := strconv.Atoi(f[7])
		w, _ := strconv.Atoi(f[8])
		h, _ := strconv.Atoi(f[9])
		k := key{f[2], f[3], f[4]}
		l := lines[k]
		if l == nil {
			l = &ocrLine{text: OCRText{X: x, Y: y, Width: w, Height: h}}
			lines[k] = l
			order = append(order, k)
		}
		x2, y2 := max(l.text.X+l.text.Width, x+w), max(l.text.Y+l.text.Height, y+h)
		l.text.X, l.text.Y = min(l.text.X, x), min(l.text.Y, y)
		l.text.Width, l.text.Height = x2-l.text.X, y2-l.text.Y
		l.words = append(l.words, word)
		confSum[k] += conf
	}
	var out []ocrLine
	for _, k := range order {
		l := lines[k]
		l.text.Text = strings.Join(l.words, " ")
		l.text.Confidence = round3(confSum[k] / float64(len(l.words)) / 100)
		out = append(out, *l)
	}
	return out
}
