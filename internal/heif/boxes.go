package heif

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// HEIF (ISO/IEC 23008-12) is how phones store photos: HEIC holds HEVC
// pictures, AVIF AV1 ones, both in the ISO base media file format
// (ISO/IEC 14496-12): a tree of boxes, each a 32-bit size and a four-letter
// type. The picture is an item of the meta box; its properties (size,
// rotation, mirroring, crop, colour) are boxes the item is associated
// with, and its bytes lie wherever iloc says. This file reads that
// structure, from untrusted bytes, without decoding a pixel.

// ftypBrands lists the major and compatible brands of the ftyp box at the
// start of b.
func Brands(b []byte) []string {
	if len(b) < 16 || string(b[4:8]) != "ftyp" {
		return nil
	}
	size := int(binary.BigEndian.Uint32(b))
	if size < 16 || size > 4096 {
		return nil
	}
	size = min(size, len(b))
	brands := []string{string(b[8:12])}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(b[i:i+4]))
	}
	return brands
}

// box is one box: its type and its body, the bytes after the header.
type box struct {
	typ  string
	body []byte
}

// ErrShort says the bytes end inside a box: more of the file is needed.
var ErrShort = io.ErrUnexpectedEOF

// nextBox splits the first box off b. A box that runs past the end of b
// is ErrShort when more of the file may follow (partial), and a fault
// otherwise.
func nextBox(b []byte, partial bool) (box, []byte, error) {
	if len(b) < 8 {
		if partial {
			return box{}, nil, ErrShort
		}
		return box{}, nil, errors.New("a box header is cut off")
	}
	size, head := uint64(binary.BigEndian.Uint32(b)), uint64(8)
	typ := string(b[4:8])
	switch size {
	case 0: // to the end of the file
		if partial {
			return box{}, nil, ErrShort
		}
		size = uint64(len(b))
	case 1:
		if len(b) < 16 {
			if partial {
				return box{}, nil, ErrShort
			}
			return box{}, nil, errors.New("a box header is cut off")
		}
		size, head = binary.BigEndian.Uint64(b[8:]), 16
	}
	if size < head {
		return box{}, nil, fmt.Errorf("box %q says it is %d bytes", printable(typ), size)
	}
	if size > uint64(len(b)) {
		if partial {
			return box{}, nil, ErrShort
		}
		return box{}, nil, fmt.Errorf("box %q runs past its parent", printable(typ))
	}
	return box{typ: typ, body: b[head:size]}, b[size:], nil
}

// printable keeps a four-letter type fit for a message shown on a page.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// children splits a container's body into its boxes (at most maxBoxes).
func children(b []byte) ([]box, error) {
	const maxBoxes = 1 << 16
	var out []box
	for len(b) > 0 {
		if len(out) == maxBoxes {
			return nil, errors.New("too many boxes")
		}
		bx, rest, err := nextBox(b, false)
		if err != nil {
			return nil, err
		}
		out = append(out, bx)
		b = rest
	}
	return out, nil
}

// reader reads big-endian fields from a box body; reading past the end
// sets err and returns zeros, so a parser checks once at the end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		if r.err == nil {
			r.err = errors.New("a box is shorter than its fields")
		}
		return make([]byte, max(n, 0))
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8   { return r.take(1)[0] }
func (r *reader) u16() uint16 { return binary.BigEndian.Uint16(r.take(2)) }
func (r *reader) u32() uint32 { return binary.BigEndian.Uint32(r.take(4)) }

// uint reads an unsigned field of n bytes: 0, 2, 4 or 8, as iloc sizes are.
func (r *reader) uint(n int) uint64 {
	switch n {
	case 0:
		return 0
	case 2:
		return uint64(r.u16())
	case 4:
		return uint64(r.u32())
	case 8:
		return binary.BigEndian.Uint64(r.take(8))
	}
	if r.err == nil {
		r.err = fmt.Errorf("a field of %d bytes", n)
	}
	return 0
}

// full reads a full box's version and flags.
func (r *reader) full() (version uint8, flags uint32) {
	v := r.u32()
	return uint8(v >> 24), v & 0xffffff
}

// id reads an item ID, 16 bits in version 0 boxes and 32 bits after.
func (r *reader) id(wide bool) uint32 {
	if wide {
		return r.u32()
	}
	return uint32(r.u16())
}

// extent is a run of an item's bytes: at an offset in the file, or in the
// meta box's idat when idat is set.
type Extent struct {
	Off, N uint64
	InIdat bool
}

// NCLX is a colr box of type nclx: the colour description of ITU-T H.273
// (coding-independent code points).
type NCLX struct {
	Primaries, Transfer, Matrix uint16
	Full                        bool
}

// clap is a clean aperture: the part of the picture meant to be shown.
type clap struct {
	wN, wD, hN, hD uint32
	hoN, hoD       int32
	voN, voD       int32
}

// Meta is what a HEIF file's meta box says about its primary picture.
type Meta struct {
	// Codec is the item type of the pictures to decode: hvc1 or av01 (a
	// grid's tiles).
	Codec string
	Grid  bool
	// Width and Height are the stored picture's (ispe), before the
	// transformative properties below.
	Width, Height int
	clap          *clap
	// Turns are the rotations (irot: quarter turns anticlockwise, 0-3)
	// and mirrors (imir: 4 + axis) in the order they apply.
	Turns []int
	ICC   []byte
	NCLX  *NCLX
	Depth int // bits per channel (pixi), 8 when not said
	// Alpha is the item of the primary picture's alpha plane, 0 for none.
	Alpha uint32
	// items is the meta box's item structure, kept to copy the alpha
	// plane out.
	items *heifItems
	// transforms are the primary picture's clap, irot and imir boxes, as
	// stored, in order.
	transforms []box
	Exif       []Extent // the Exif item's bytes, nil without one
	Idat       []byte
}

// maxItems bounds the items and properties a meta box may declare.
const maxItems = 1 << 16

// parseHEIF reads the ftyp and meta boxes at the start of b. With partial
// set, b may be a prefix of the file: ErrShort asks for more of it.
func Parse(b []byte, partial bool) (*Meta, error) {
	var meta []byte
	for rest := b; meta == nil; {
		if len(rest) == 0 {
			if partial {
				return nil, ErrShort
			}
			return nil, errors.New("no meta box")
		}
		bx, next, err := nextBox(rest, partial)
		if err != nil {
			return nil, err
		}
		if bx.typ == "meta" {
			meta = bx.body
		}
		rest = next
	}
	r := &reader{b: meta}
	r.full()
	if r.err != nil {
		return nil, r.err
	}
	boxes, err := children(r.b)
	if err != nil {
		return nil, err
	}
	var (
		primary  uint32
		havePitm bool
		types    = map[uint32]string{}
		locs     = map[uint32][]Extent{}
		refs     []iref
		props    []box
		assoc    = map[uint32][]int{}
		m        = &Meta{Depth: 8}
	)
	for _, bx := range boxes {
		r := &reader{b: bx.body}
		switch bx.typ {
		case "hdlr":
			r.full()
			r.u32()
			if h := string(r.take(4)); r.err == nil && h != "pict" {
				return nil, fmt.Errorf("a %q handler, not pictures", printable(h))
			}
		case "pitm":
			v, _ := r.full()
			primary, havePitm = r.id(v > 0), true
		case "iinf":
			v, _ := r.full()
			if v == 0 {
				r.u16()
			} else {
				r.u32()
			}
			if r.err != nil {
				return nil, r.err
			}
			entries, err := children(r.b)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if e.typ != "infe" {
					continue
				}
				er := &reader{b: e.body}
				v, _ := er.full()
				if v < 2 {
					continue // no item type: not a picture
				}
				id := er.id(v > 2)
				er.u16() // protection
				t := string(er.take(4))
				if er.err == nil {
					if len(types) == maxItems {
						return nil, errors.New("too many items")
					}
					types[id] = t
				}
			}
		case "iloc":
			if err := parseIloc(bx.body, locs); err != nil {
				return nil, err
			}
		case "iref":
			if refs, err = parseIref(bx.body); err != nil {
				return nil, err
			}
		case "iprp":
			if props, err = parseIprp(bx.body, assoc); err != nil {
				return nil, err
			}
		case "idat":
			m.Idat = bx.body
		}
		if r.err != nil {
			return nil, fmt.Errorf("%s: %w", bx.typ, r.err)
		}
	}
	if !havePitm {
		return nil, errors.New("no primary picture (pitm)")
	}
	m.items = &heifItems{types: types, locs: locs, refs: refs, props: props, assoc: assoc}
	m.Codec = types[primary]
	switch m.Codec {
	case "hvc1", "av01":
	case "grid":
		m.Grid = true
		m.Codec = ""
		for _, ref := range refs {
			if ref.typ == "dimg" && ref.from == primary && len(ref.to) > 0 {
				m.Codec = types[ref.to[0]]
				break
			}
		}
		if m.Codec != "hvc1" && m.Codec != "av01" {
			return nil, fmt.Errorf("a grid of %q tiles", printable(m.Codec))
		}
	case "":
		return nil, errors.New("the primary picture is not among the items")
	default:
		return nil, fmt.Errorf("the primary picture is a %q item, which is not decoded (only HEVC and AV1 are)", printable(m.Codec))
	}
	haveSize := false
	for _, i := range assoc[primary] {
		if i < 1 || i > len(props) {
			continue // 0 means none; past the end is a broken file's
		}
		p := props[i-1]
		pr := &reader{b: p.body}
		switch p.typ {
		case "ispe":
			pr.full()
			w, h := pr.u32(), pr.u32()
			m.Width, m.Height, haveSize = int(min(w, 1<<30)), int(min(h, 1<<30)), true
		case "irot":
			m.Turns = append(m.Turns, int(pr.u8()&3))
			m.transforms = append(m.transforms, p)
		case "imir":
			m.Turns = append(m.Turns, 4+int(pr.u8()&1))
			m.transforms = append(m.transforms, p)
		case "clap":
			m.transforms = append(m.transforms, p)
			c := &clap{wN: pr.u32(), wD: pr.u32(), hN: pr.u32(), hD: pr.u32(),
				hoN: int32(pr.u32()), hoD: int32(pr.u32()), voN: int32(pr.u32()), voD: int32(pr.u32())}
			if pr.err == nil {
				m.clap = c
			}
		case "colr":
			switch string(pr.take(4)) {
			case "nclx":
				c := &NCLX{Primaries: pr.u16(), Transfer: pr.u16(), Matrix: pr.u16(), Full: pr.u8()&0x80 != 0}
				if pr.err == nil {
					m.NCLX = c
				}
			case "prof", "rICC":
				if pr.err == nil {
					m.ICC = pr.b
				}
			}
			pr.err = nil // a broken colour box leaves the colours as they are
		case "pixi":
			pr.full()
			if n := int(pr.u8()); n > 0 {
				m.Depth = int(pr.u8())
			}
			pr.err = nil
		}
		if pr.err != nil {
			return nil, fmt.Errorf("%s: %w", p.typ, pr.err)
		}
	}
	if !haveSize {
		return nil, errors.New("the primary picture has no size (ispe)")
	}
	// Items that belong to the primary picture: its alpha plane (auxl,
	// with an auxC naming alpha) and its EXIF (cdsc).
	for _, ref := range refs {
		if len(ref.to) == 0 || ref.to[0] != primary {
			continue
		}
		switch {
		case ref.typ == "auxl" && m.Alpha == 0:
			for _, i := range assoc[ref.from] {
				if i >= 1 && i <= len(props) && props[i-1].typ == "auxC" && isAlphaURN(props[i-1].body) {
					m.Alpha = ref.from
				}
			}
		case ref.typ == "cdsc" && types[ref.from] == "Exif" && m.Exif == nil:
			m.Exif = locs[ref.from]
		}
	}
	return m, nil
}

// isAlphaURN reads an auxC box: whether the auxiliary picture is an alpha
// plane, by the generic URN (MPEG-B) or HEVC's (auxiliary picture type 1).
func isAlphaURN(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	urn, _, _ := strings.Cut(string(b[4:]), "\x00")
	return urn == "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha" || urn == "urn:mpeg:hevc:2015:auxid:1"
}

// heifItems is the item structure of a meta box.
type heifItems struct {
	types map[uint32]string
	locs  map[uint32][]Extent
	refs  []iref
	props []box
	assoc map[uint32][]int
}

// bytes returns a box as it is stored: its header and body.
func (b box) bytes() []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(b.body)))
	return append(append(out, b.typ...), b.body...)
}

// AlphaFile makes a HEIC file whose primary picture is the alpha plane of
// m's (with its tiles, when it is a grid), turned and cropped as m's is,
// for libheif to decode on its own: the API github.com/gen2brain/heic
// calls returns the colour planes of a picture with alpha, not the alpha.
// nil when the plane's bytes are not all within data.
func (m *Meta) AlphaFile(data []byte) []byte {
	it := m.items
	ids := []uint32{m.Alpha}
	for _, r := range it.refs {
		if r.typ == "dimg" && r.from == m.Alpha {
			ids = append(ids, r.to...)
		}
	}
	if len(ids) > 1<<12 {
		return nil
	}
	be16 := func(v uint32) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
	be32 := func(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
	mk := func(typ string, parts ...[]byte) []byte {
		var body []byte
		for _, p := range parts {
			body = append(body, p...)
		}
		return box{typ: typ, body: body}.bytes()
	}
	// Each item's coded bytes, gathered into the new file's mdat; items
	// in idat keep their place, idat being copied whole.
	var mdat []byte
	type loc struct{ off, n int }
	var locs []loc
	for _, id := range ids {
		ext := it.locs[id]
		if len(ext) == 1 && ext[0].InIdat {
			locs = append(locs, loc{-1 - int(ext[0].Off), int(ext[0].N)})
			continue
		}
		coded := m.ItemBytes(data, ext, uint64(len(data)))
		if coded == nil {
			return nil
		}
		locs = append(locs, loc{len(mdat), len(coded)})
		mdat = append(mdat, coded...)
	}
	// Properties: every item's own (the auxC saying "alpha" dropped, so
	// that the plane is a picture), and the colour picture's transforms
	// on the plane.
	var ipco, ipma []byte
	index := map[int]byte{}
	add := func(b box) byte {
		ipco = append(ipco, b.bytes()...)
		return byte(len(index) + 1)
	}
	ipma = append(ipma, be32(len(ids))...)
	for n, id := range ids {
		var a []byte
		for _, i := range it.assoc[id] {
			if i < 1 || i > len(it.props) || it.props[i-1].typ == "auxC" {
				continue
			}
			if _, ok := index[i]; !ok {
				p := it.props[i-1]
				if p.typ == "hvcC" && len(p.body) > 16 && p.body[16]&3 == 0 {
					// A monochrome plane, said to be 4:2:0: libheif then
					// returns it as YCbCr planes, the only kind the glue
					// takes; the luma is the plane.
					p.body = bytes.Clone(p.body)
					p.body[16] |= 1
				}
				index[i] = add(p)
			}
			a = append(a, 0x80|index[i])
		}
		if n == 0 {
			for j, t := range m.transforms {
				index[-1-j] = add(t)
				a = append(a, 0x80|index[-1-j])
			}
		}
		if len(index) > 127 || len(a) > 255 {
			return nil
		}
		ipma = append(append(append(ipma, be16(uint32(n+1))...), byte(len(a))), a...)
	}
	var infe, dimg []byte
	for n, id := range ids {
		infe = append(infe, mk("infe", be32(2<<24), be16(uint32(n+1)), []byte{0, 0}, []byte(it.types[id]), []byte{0})...)
		if n > 0 {
			dimg = append(dimg, be16(uint32(n+1))...)
		}
	}
	ftyp := mk("ftyp", []byte("heic"), be32(0), []byte("mif1heic"))
	meta := func(start int) []byte {
		// iloc version 1: 4-byte offsets and lengths, one extent each.
		iloc := append(be32(1<<24), 0x44, 0)
		iloc = append(iloc, be16(uint32(len(ids)))...)
		for n, l := range locs {
			method, off := 0, start+l.off
			if l.off < 0 {
				method, off = 1, -1-l.off
			}
			iloc = append(append(iloc, be16(uint32(n+1))...), 0, byte(method), 0, 0, 0, 1)
			iloc = append(append(iloc, be32(off)...), be32(l.n)...)
		}
		parts := [][]byte{be32(0),
			mk("hdlr", be32(0), be32(0), []byte("pict"), make([]byte, 13)),
			mk("pitm", be32(0), be16(1)),
			mk("iinf", be32(0), be16(uint32(len(ids))), infe),
			box{typ: "iloc", body: iloc}.bytes(),
			mk("iprp", mk("ipco", ipco), mk("ipma", be32(0), ipma))}
		if len(ids) > 1 {
			parts = append(parts, mk("iref", be32(0), mk("dimg", be16(1), be16(uint32(len(ids)-1)), dimg)))
		}
		if m.Idat != nil {
			parts = append(parts, mk("idat", m.Idat))
		}
		return mk("meta", parts...)
	}
	start := len(ftyp) + len(meta(0)) + 8
	out := append(ftyp, meta(start)...)
	return append(out, mk("mdat", mdat)...)
}

// iref is one reference: from an item to others, of a type such as dimg
// (a grid's tiles), auxl (an alpha plane) or cdsc (metadata).
type iref struct {
	typ  string
	from uint32
	to   []uint32
}

func parseIref(b []byte) ([]iref, error) {
	r := &reader{b: b}
	v, _ := r.full()
	if r.err != nil {
		return nil, r.err
	}
	boxes, err := children(r.b)
	if err != nil {
		return nil, err
	}
	var out []iref
	total := 0
	for _, bx := range boxes {
		br := &reader{b: bx.body}
		ref := iref{typ: bx.typ, from: br.id(v > 0)}
		n := int(br.u16())
		if total += n; total > maxItems {
			return nil, errors.New("too many references")
		}
		for range n {
			ref.to = append(ref.to, br.id(v > 0))
		}
		if br.err != nil {
			return nil, fmt.Errorf("iref: %w", br.err)
		}
		out = append(out, ref)
	}
	return out, nil
}

// parseIloc reads where each item's bytes lie.
func parseIloc(b []byte, locs map[uint32][]Extent) error {
	r := &reader{b: b}
	v, _ := r.full()
	sizes := r.u16()
	offSize, lenSize, baseSize, idxSize := int(sizes>>12), int(sizes>>8&15), int(sizes>>4&15), int(sizes&15)
	if v == 0 {
		idxSize = 0
	}
	var count uint32
	if v < 2 {
		count = uint32(r.u16())
	} else {
		count = r.u32()
	}
	if count > maxItems {
		return errors.New("iloc: too many items")
	}
	total := 0
	for range count {
		id := r.id(v >= 2)
		method := 0
		if v >= 1 {
			method = int(r.u16() & 15)
		}
		r.u16() // data reference index: 0, this file
		base := r.uint(baseSize)
		n := int(r.u16())
		if total += n; total > maxItems {
			return errors.New("iloc: too many extents")
		}
		var ext []Extent
		for range n {
			r.uint(idxSize)
			off, length := r.uint(offSize), r.uint(lenSize)
			if off > 1<<62 || base > 1<<62 {
				return errors.New("iloc: an offset past any file")
			}
			ext = append(ext, Extent{Off: base + off, N: length, InIdat: method == 1})
		}
		if r.err != nil {
			return fmt.Errorf("iloc: %w", r.err)
		}
		if method <= 1 {
			locs[id] = ext
		}
	}
	return r.err
}

// parseIprp reads the property boxes (ipco) and which items each belongs
// to (ipma), as 1-based indices into the returned list.
func parseIprp(b []byte, assoc map[uint32][]int) ([]box, error) {
	boxes, err := children(b)
	if err != nil {
		return nil, err
	}
	var props []box
	for _, bx := range boxes {
		switch bx.typ {
		case "ipco":
			if props, err = children(bx.body); err != nil {
				return nil, err
			}
		case "ipma":
			r := &reader{b: bx.body}
			v, flags := r.full()
			count := r.u32()
			if count > maxItems {
				return nil, errors.New("ipma: too many items")
			}
			for range count {
				id := r.id(v >= 1)
				n := int(r.u8())
				for range n {
					if flags&1 != 0 {
						assoc[id] = append(assoc[id], int(r.u16()&0x7fff))
					} else {
						assoc[id] = append(assoc[id], int(r.u8()&0x7f))
					}
				}
				if r.err != nil {
					return nil, fmt.Errorf("ipma: %w", r.err)
				}
			}
		}
	}
	return props, nil
}

// shown is the size of the picture after its clean aperture, before any
// rotation: round(N/D) of each side, never more than the stored size.
func (m *Meta) Cropped() (w, h int) {
	w, h = m.Width, m.Height
	if c := m.clap; c != nil && c.wD > 0 && c.hD > 0 {
		cw := int((uint64(c.wN) + uint64(c.wD)/2) / uint64(c.wD))
		ch := int((uint64(c.hN) + uint64(c.hD)/2) / uint64(c.hD))
		if cw >= 1 && ch >= 1 && cw <= w && ch <= h {
			w, h = cw, ch
		}
	}
	return w, h
}

// CropRect is where the clean aperture lies in the stored picture: centred,
// moved by its offsets, kept inside the picture.
func (m *Meta) CropRect() (x0, y0, w, h int) {
	w, h = m.Cropped()
	c := m.clap
	if c == nil || (w == m.Width && h == m.Height) {
		return 0, 0, w, h
	}
	off := func(n, d int32) float64 {
		if d == 0 {
			return 0
		}
		return float64(n) / float64(d)
	}
	x := float64(m.Width-w)/2 + off(c.hoN, c.hoD)
	y := float64(m.Height-h)/2 + off(c.voN, c.voD)
	x0 = min(max(int(x+0.5), 0), m.Width-w)
	y0 = min(max(int(y+0.5), 0), m.Height-h)
	return x0, y0, w, h
}

// Orientation turns the rotations and mirrors into the EXIF orientation
// that does the same, by composing their effect on the corners.
func (m *Meta) Orientation() int {
	// A turn is where the stored picture's top-left and top-right corners
	// end up: as the corners of a unit square, (0,0) to (1,1).
	type pt struct{ x, y int }
	tl, tr := pt{0, 0}, pt{1, 0}
	for _, t := range m.Turns {
		f := func(p pt) pt { return p }
		switch t {
		case 1: // a quarter turn anticlockwise
			f = func(p pt) pt { return pt{p.y, 1 - p.x} }
		case 2:
			f = func(p pt) pt { return pt{1 - p.x, 1 - p.y} }
		case 3: // a quarter turn clockwise
			f = func(p pt) pt { return pt{1 - p.y, p.x} }
		case 4: // imir axis 0: top and bottom swap
			f = func(p pt) pt { return pt{p.x, 1 - p.y} }
		case 5: // imir axis 1: left and right swap
			f = func(p pt) pt { return pt{1 - p.x, p.y} }
		}
		tl, tr = f(tl), f(tr)
	}
	// EXIF orientations by where they take those two corners.
	for o, c := range [9][2]pt{
		1: {{0, 0}, {1, 0}}, 2: {{1, 0}, {0, 0}}, 3: {{1, 1}, {0, 1}}, 4: {{0, 1}, {1, 1}},
		5: {{0, 0}, {0, 1}}, 6: {{1, 0}, {1, 1}}, 7: {{1, 1}, {1, 0}}, 8: {{0, 1}, {0, 0}},
	} {
		if o > 0 && c[0] == tl && c[1] == tr {
			return o
		}
	}
	return 1
}

// ItemBytes gathers an item's extents from b, the file or its prefix; nil
// when they are not all within b or add up to more than limit.
func (m *Meta) ItemBytes(b []byte, ext []Extent, limit uint64) []byte {
	var out []byte
	for _, e := range ext {
		src := b
		if e.InIdat {
			src = m.Idat
		}
		if e.N > limit || uint64(len(out))+e.N > limit || e.Off > uint64(len(src)) || e.N > uint64(len(src))-e.Off {
			return nil
		}
		out = append(out, src[e.Off:e.Off+e.N]...)
	}
	return out
}

// exifTIFF finds the TIFF structure in an Exif item: it starts with the
// offset of the TIFF header from the end of that field.
func ExifTIFF(item []byte) []byte {
	if len(item) < 4 {
		return nil
	}
	skip := uint64(binary.BigEndian.Uint32(item))
	if skip > uint64(len(item)-4) {
		return nil
	}
	return item[4+skip:]
}
