package transcode

import (
	"fmt"
	"image"
	"strconv"
	"strings"
)

// roiGrid moves a region of interest over a live rung without restarting
// its ffmpeg. ffmpeg 5.1's addroi takes fixed boxes (no commands, no
// timeline), so the rung's chain holds, for each side of the box, a mask
// of every width on a grid aligned to x264's 16-pixel macroblocks — left
// masks of 0..cols cells, right masks from each column, top and bottom
// masks likewise — with qoffset 0, each side's masks behind one
// streamselect; then one addroi over the whole picture with the rung's
// qoffset. x264 applies the first region that covers a macroblock, so the
// macroblocks no mask covers, the box, get the qoffset and the rest is
// untouched. Moving the box is four streamselect "map" commands, sent
// through the graph's zmq filter (filterControl). With the grid aligned to
// macroblocks the result is bit-exact with a static addroi of the same
// box. About 2×(cols+rows) filters: at most 24 columns and 24 rows, as a
// filter graph's cost grows with the square of its filter count.
type roiGrid struct {
	// id names the rung's filters (streamselect@ID_l …).
	id string
	// w, h are the rung's picture size, cell the grid step in pixels (a
	// multiple of 16), cols and rows the cells (the last ones may be cut).
	w, h, cell, cols, rows int
	qoffset                float64
}

// maxGridCells bounds the columns and rows of a grid.
const maxGridCells = 24

func newROIGrid(id string, w, h int, qoffset float64) roiGrid {
	mbw, mbh := (w+15)/16, (h+15)/16
	k := max((max(mbw, mbh)+maxGridCells-1)/maxGridCells, 1)
	cell := 16 * k
	return roiGrid{id: id, w: w, h: h, cell: cell, cols: (w + cell - 1) / cell, rows: (h + cell - 1) / cell, qoffset: qoffset}
}

// gridState is where the four mask selectors point: the box covers
// columns [x0, x1) and rows [y0, y1); x0 == cols is no box.
type gridState struct{ x0, x1, y0, y1 int }

// off is the state without a box (the left mask covers everything).
func (g roiGrid) off() gridState { return gridState{x0: g.cols, x1: g.cols, y0: 0, y1: g.rows} }

// chain returns the filters from label in to label out, the selectors
// set to st at start.
func (g roiGrid) chain(in, out string, st gridState) string {
	var parts []string
	cur := in
	stage := func(side string, masks []image.Rectangle, sel int) {
		name := g.id + "_" + side
		n := len(masks) + 1
		var b strings.Builder
		fmt.Fprintf(&b, "[%s]split=%d", cur, n)
		for i := range n {
			fmt.Fprintf(&b, "[%s%d]", name, i)
		}
		parts = append(parts, b.String())
		b.Reset()
		fmt.Fprintf(&b, "[%s0]", name)
		for i, m := range masks {
			parts = append(parts, fmt.Sprintf("[%s%d]addroi=x=%d:y=%d:w=%d:h=%d:qoffset=0[%sm%d]",
				name, i+1, m.Min.X, m.Min.Y, m.Dx(), m.Dy(), name, i+1))
			fmt.Fprintf(&b, "[%sm%d]", name, i+1)
		}
		parts = append(parts, fmt.Sprintf("%sstreamselect@%s=inputs=%d:map=%d[%so]", b.String(), name, n, sel, name))
		cur = name + "o"
	}
	var left, right, top, bottom []image.Rectangle
	for i := 1; i <= g.cols; i++ {
		left = append(left, image.Rect(0, 0, min(i*g.cell, g.w), g.h))
	}
	for i := 1; i < g.cols; i++ {
		right = append(right, image.Rect(i*g.cell, 0, g.w, g.h))
	}
	for i := 1; i < g.rows; i++ {
		top = append(top, image.Rect(0, 0, g.w, i*g.cell))
		bottom = append(bottom, image.Rect(0, i*g.cell, g.w, g.h))
	}
	sel := g.selectors(st)
	stage("l", left, sel[0])
	stage("r", right, sel[1])
	stage("t", top, sel[2])
	stage("b", bottom, sel[3])
	parts = append(parts, fmt.Sprintf("[%s]addroi=x=0:y=0:w=iw:h=ih:qoffset=%s[%s]", cur, strconv.FormatFloat(g.qoffset, 'f', 3, 64), out))
	return strings.Join(parts, ";")
}

// selectors are the streamselect inputs of a state: left, right, top,
// bottom (input 0 is "no mask" on every side).
func (g roiGrid) selectors(s gridState) [4]int {
	sel := [4]int{s.x0, s.x1, s.y0, s.y1}
	if s.x1 >= g.cols {
		sel[1] = 0
	}
	if s.y1 >= g.rows {
		sel[3] = 0
	}
	return sel
}

// state snaps a box in rung pixels outwards to the grid; an empty box is
// off.
func (g roiGrid) state(b image.Rectangle) gridState {
	b = b.Intersect(image.Rect(0, 0, g.w, g.h))
	if b.Empty() {
		return g.off()
	}
	return gridState{
		x0: b.Min.X / g.cell, x1: min((b.Max.X+g.cell-1)/g.cell, g.cols),
		y0: b.Min.Y / g.cell, y1: min((b.Max.Y+g.cell-1)/g.cell, g.rows),
	}
}

// commands are the zmq commands that move the grid from one state to
// another: only the selectors that change.
func (g roiGrid) commands(from, to gridState) []string {
	a, b := g.selectors(from), g.selectors(to)
	var out []string
	for i, side := range []string{"l", "r", "t", "b"} {
		if a[i] != b[i] {
			out = append(out, fmt.Sprintf("streamselect@%s_%s map %d", g.id, side, b[i]))
		}
	}
	return out
}
