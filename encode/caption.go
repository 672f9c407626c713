package encode

import (
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Caption is a --caption template: text with fields in braces, filled in
// for each photo. A field that is empty for a photo (no date taken, a photo
// at the top of the folder) is left out with the text that joins it to
// the field before it, so "{taken:2 January 2006} · {album}" becomes
// "Italy" for an undated photo, not " · Italy".
//
//	{name}          the file's name, without its folders
//	{album}         the folder it is in, relative to --dir
//	{taken:LAYOUT}  the date taken, in a Go time layout (default 2 January 2006)
//	{index}         its place in play order, from 1
//	{count}         the number of photos playing
type Caption struct {
	src string
	// lead is the text before the first field; parts alternate after it:
	// each field with the text that follows it.
	lead  string
	parts []captionPart
}

type captionPart struct {
	field  string // name, album, taken, index or count
	layout string // for taken
	tail   string // the text after the field, up to the next one
}

// MaxCaption bounds a template's length.
const MaxCaption = 256

// ParseCaption reads a --caption template. The empty template is no
// caption.
func ParseCaption(s string) (Caption, error) {
	c := Caption{src: s}
	if len(s) > MaxCaption || !utf8.ValidString(s) {
		return c, fmt.Errorf("caption: want at most %d characters of UTF-8", MaxCaption)
	}
	rest := s
	text := &c.lead
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return c, fmt.Errorf("caption %q: a } without its {", s)
			}
			*text += rest
			return c, nil
		}
		if strings.IndexByte(rest[:i], '}') >= 0 {
			return c, fmt.Errorf("caption %q: a } without its {", s)
		}
		*text += rest[:i]
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return c, fmt.Errorf("caption %q: a { without its }", s)
		}
		name, layout, hasLayout := strings.Cut(rest[i+1:i+j], ":")
		switch name {
		case "name", "album", "index", "count":
			if hasLayout {
				return c, fmt.Errorf("caption %q: {%s} takes no layout", s, name)
			}
		case "taken":
			if layout == "" {
				layout = "2 January 2006"
			}
		default:
			return c, fmt.Errorf("caption %q: unknown field {%s}: want {name}, {album}, {taken:LAYOUT}, {index} or {count}", s, name)
		}
		c.parts = append(c.parts, captionPart{field: name, layout: layout})
		text = &c.parts[len(c.parts)-1].tail
		rest = rest[i+j+1:]
	}
}

// On reports whether there is a caption at all.
func (c Caption) On() bool { return c.src != "" }

func (c Caption) String() string { return c.src }

// Hash identifies the template, so that frames made with another template
// are never taken for these.
func (c Caption) Hash() uint32 {
	if !c.On() {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(c.src))
	return max(h.Sum32(), 1)
}

// Counts reports whether the caption shows a photo's place in play order
// ({index} or {count}), which then shapes its frames.
func (c Caption) Counts() bool {
	for _, p := range c.parts {
		if p.field == "index" || p.field == "count" {
			return true
		}
	}
	return false
}

// CaptionFields are what a caption can say about one photo.
type CaptionFields struct {
	Name  string    // the file's path relative to --dir, with / separators
	Taken time.Time // zero when unknown
	// Index is the photo's place in play order, from 0, of Count; Count is
	// 0 outside play order (a thumbnail), and the fields are then empty.
	Index, Count int
}

// Text fills the template in for one photo. The text before the first
// field is written when any field is; the text between two fields when
// both are; the text after the last field when it is.
func (c Caption) Text(f CaptionFields) string {
	if len(c.parts) == 0 {
		return strings.TrimSpace(c.lead)
	}
	var b strings.Builder
	joint, wrote := c.lead, false
	for k, p := range c.parts {
		v := p.value(f)
		if v == "" {
			continue // and the text joining it to the field before goes too
		}
		b.WriteString(joint)
		b.WriteString(v)
		joint, wrote = p.tail, true
		if k == len(c.parts)-1 {
			b.WriteString(p.tail)
		}
	}
	if !wrote {
		return ""
	}
	return strings.TrimSpace(b.String())
}

// value is the field's text for one photo; "" when it has none.
func (p captionPart) value(f CaptionFields) string {
	switch p.field {
	case "name":
		return path.Base(f.Name)
	case "album":
		if d := path.Dir(f.Name); d != "." {
			return d
		}
	case "taken":
		if !f.Taken.IsZero() {
			return f.Taken.Format(p.layout)
		}
	case "index":
		if f.Count > 0 {
			return strconv.Itoa(f.Index + 1)
		}
	case "count":
		if f.Count > 0 {
			return strconv.Itoa(f.Count)
		}
	}
	return ""
}

var (
	fontOnce sync.Once
	fontData *opentype.Font
)

// captionFont is the bundled Go Medium: no system fonts are needed.
func captionFont() *opentype.Font {
	fontOnce.Do(func() {
		f, err := opentype.Parse(gomedium.TTF)
		if err != nil {
			panic("encode: the bundled font does not parse: " + err.Error())
		}
		fontData = f
	})
	return fontData
}

// drawCaption writes text in the lower left corner of m, in white on a
// translucent dark plate, so that it reads on white and on black photos.
// Its size follows the frame: about a fortieth of its width (of the width
// a 16:9 frame of its height would have, if that is less), and never
// below 11 pixels. Text too wide for the frame ends in an ellipsis. It
// returns the rectangle it changed.
func drawCaption(m *image.RGBA, text string) image.Rectangle {
	b := m.Bounds()
	if text == "" || b.Dx() < 32 || b.Dy() < 24 {
		return image.Rectangle{}
	}
	size := max(11, float64(min(b.Dx(), b.Dy()*16/9))/40)
	margin := int(size * 0.8)
	pad := int(size*0.35) + 1
	t, ok := newText(text, size, b.Dx()-2*margin-2*pad)
	if !ok {
		return image.Rectangle{}
	}
	defer t.close()
	plate := image.Rect(b.Min.X+margin, b.Max.Y-margin-t.h-2*pad, b.Min.X+margin+t.w+2*pad, b.Max.Y-margin).Intersect(b)
	draw.Draw(m, plate, image.NewUniform(color.RGBA{0, 0, 0, 150}), image.Point{}, draw.Over)
	t.draw(m, plate.Min.Add(image.Pt(pad, pad)), color.RGBA{255, 255, 255, 255})
	return plate
}

// Notice makes the JPEG frame shown in place of a slide: NoticePicture,
// encoded.
func Notice(msg string, w, h, quality int) ([]byte, error) {
	return JPEG(NoticePicture(msg, w, h), quality)
}

// NoticePicture draws the frame shown in place of a slide: msg in light
// grey, centred on a dark w×h frame, in the captions' font, as large as a
// tenth of the height allows while it fits in nine tenths of the width
// (an ellipsis ends what does not fit at the smallest size). An empty msg
// is a black frame, as screens show during the sleep hours.
func NoticePicture(msg string, w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	if msg == "" {
		for i := 3; i < len(m.Pix); i += 4 {
			m.Pix[i] = 255
		}
		return m
	}
	draw.Draw(m, m.Rect, image.NewUniform(color.RGBA{16, 16, 16, 255}), image.Point{}, draw.Src)
	room := w * 9 / 10
	size := max(8, float64(h)/10)
	if t, ok := newText(msg, size, 1<<30); ok {
		if t.w > room {
			size = max(8, size*float64(room)/float64(t.w))
		}
		t.close()
	}
	if t, ok := newText(msg, size, room); ok {
		t.draw(m, image.Pt((w-t.w)/2, (h-t.h)/2), color.RGBA{200, 200, 200, 255})
		t.close()
	}
	return m
}

// text is a line of text set in the bundled font at a size, ready to draw.
type text struct {
	s    string
	face font.Face
	w, h int // its size in pixels
}

// newText sets s at size, cut short with an ellipsis to fit in width
// pixels.
func newText(s string, size float64, width int) (text, bool) {
	face, err := opentype.NewFace(captionFont(), &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return text{}, false
	}
	d := font.Drawer{Face: face}
	if limit := fixed.I(width); d.MeasureString(s) > limit {
		r := []rune(s)
		for len(r) > 0 && d.MeasureString(string(r)+"…") > limit {
			r = r[:len(r)-1]
		}
		s = strings.TrimSpace(string(r)) + "…"
	}
	met := face.Metrics()
	return text{s: s, face: face, w: d.MeasureString(s).Ceil(), h: (met.Ascent + met.Descent).Ceil()}, true
}

// draw writes the text into m with its top left corner at at.
func (t text) draw(m *image.RGBA, at image.Point, c color.RGBA) {
	d := font.Drawer{Dst: m, Src: image.NewUniform(c), Face: t.face,
		Dot: fixed.Point26_6{X: fixed.I(at.X), Y: fixed.I(at.Y) + t.face.Metrics().Ascent}}
	d.DrawString(t.s)
}

func (t text) close() { t.face.Close() }
