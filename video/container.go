// Package video plays short clips (MP4, QuickTime, WebM) for the slideshow:
// it recognises their containers by their bytes, reads their size and
// length from the container's own boxes or elements, moves an MP4's index
// before its media so that it can be read from a pipe, and decodes frames
// with ffmpeg run as a child process, fed the bytes on its standard input,
// when ffmpeg is installed.
package video

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// Container is a clip's container format, as ffmpeg's demuxers name it.
type Container string

const (
	// MOV is the ISO base media file format: MP4, M4V and QuickTime MOV.
	MOV Container = "mov"
	// Matroska is Matroska and WebM.
	Matroska Container = "matroska"
)

// Sniff recognises a clip's container from its first bytes (16 are
// enough), never its name.
func Sniff(b []byte) (Container, bool) {
	if len(b) >= 4 && bytes.Equal(b[:4], []byte{0x1A, 0x45, 0xDF, 0xA3}) {
		return Matroska, true
	}
	if len(b) >= 12 {
		switch string(b[4:8]) {
		case "ftyp":
			// HEIC and AVIF are ISO files too: pictures, not clips.
			switch string(b[8:12]) {
			case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis":
				return "", false
			}
			return MOV, true
		case "moov", "mdat", "wide", "free", "skip":
			return MOV, true // QuickTime files without ftyp
		}
	}
	return "", false
}

// Info is what a clip's container says of it.
type Info struct {
	Container Container
	// Width and Height are the video's, as stored (0 when not found).
	Width, Height int
	// Length is the clip's duration (0 when not found).
	Length time.Duration
}

// ErrNotClip: the bytes are no clip this package reads.
var ErrNotClip = errors.New("not an MP4, QuickTime or WebM clip")

// Inspect reads a clip's size and length from its container, without
// decoding. b must be the whole file (an MP4's index may be at its end).
func Inspect(b []byte) (Info, error) {
	c, ok := Sniff(b)
	if !ok {
		return Info{}, ErrNotClip
	}
	if c == Matroska {
		return inspectMatroska(b), nil
	}
	return inspectMOV(b), nil
}

// box is an ISO BMFF box: its type, and where its payload and the box end.
type box struct {
	typ        string
	start, end int // the box, header included
	payload    int // where its contents start
}

// boxes lists the boxes laid end to end in b[from:to]; it stops at the
// first that does not fit.
func boxes(b []byte, from, to int) []box {
	var out []box
	for i := from; i+8 <= to; {
		size := int64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		head := 8
		switch size {
		case 0: // to the end
			size = int64(to - i)
		case 1:
			if i+16 > to {
				return out
			}
			size = int64(binary.BigEndian.Uint64(b[i+8:]))
			head = 16
		}
		if size < int64(head) || size > int64(to-i) {
			return out
		}
		out = append(out, box{typ: typ, start: i, end: i + int(size), payload: i + head})
		i += int(size)
	}
	return out
}

// child is the first box of type typ inside parent.
func child(b []byte, parent box, typ string) (box, bool) {
	for _, c := range boxes(b, parent.payload, parent.end) {
		if c.typ == typ {
			return c, true
		}
	}
	return box{}, false
}

// inspectMOV reads the length from moov/mvhd and the size from the
// first video track's tkhd (its display width and height, 16.16).
func inspectMOV(b []byte) Info {
	in := Info{Container: MOV}
	for _, top := range boxes(b, 0, len(b)) {
		if top.typ != "moov" {
			continue
		}
		if mvhd, ok := child(b, top, "mvhd"); ok && mvhd.payload+32 <= mvhd.end {
			p := b[mvhd.payload:mvhd.end]
			var scale, dur uint64
			if p[0] == 1 && len(p) >= 32 {
				scale, dur = uint64(binary.BigEndian.Uint32(p[20:])), binary.BigEndian.Uint64(p[24:])
			} else {
				scale, dur = uint64(binary.BigEndian.Uint32(p[12:])), uint64(binary.BigEndian.Uint32(p[16:]))
			}
			if scale > 0 && dur < math.MaxInt64/uint64(time.Second) {
				in.Length = time.Duration(dur * uint64(time.Second) / scale)
			}
		}
		for _, trak := range boxes(b, top.payload, top.end) {
			if trak.typ != "trak" {
				continue
			}
			tkhd, ok := child(b, trak, "tkhd")
			if !ok {
				continue
			}
			p := b[tkhd.payload:tkhd.end]
			off := 76 // version 0: width and height after the matrix
			if len(p) > 0 && p[0] == 1 {
				off = 88
			}
			if len(p) < off+8 {
				continue
			}
			w, h := int(binary.BigEndian.Uint32(p[off:])>>16), int(binary.BigEndian.Uint32(p[off+4:])>>16)
			if w > 0 && h > 0 {
				in.Width, in.Height = w, h
				break
			}
		}
	}
	return in
}

// ErrNoIndex: an MP4 without its index (moov), such as one cut short.
var ErrNoIndex = errors.New("the clip has no index (moov box): it was cut short or is no MP4")

// FastStart returns an MP4 whose index (moov) comes before its media
// (mdat), so that a reader that cannot seek, as ffmpeg on a pipe, can
// play it: b itself when it already does, else a copy with moov moved
// ahead of the first mdat and every chunk offset (stco, co64) moved by
// moov's size.
func FastStart(b []byte) ([]byte, error) {
	pieces, err := fastStart(b)
	if err != nil || len(pieces) == 1 {
		return b, err
	}
	return bytes.Join(pieces, nil), nil
}

// fastStart is FastStart as the pieces to write one after the other:
// only the index is copied (it is small; the media is most of the file).
func fastStart(b []byte) ([][]byte, error) {
	top := boxes(b, 0, len(b))
	moovAt, mdatAt := -1, -1
	for i, x := range top {
		switch x.typ {
		case "moov":
			if moovAt < 0 {
				moovAt = i
			}
		case "mdat":
			if mdatAt < 0 {
				mdatAt = i
			}
		}
	}
	switch {
	case moovAt < 0:
		return nil, ErrNoIndex
	case mdatAt < 0 || moovAt < mdatAt:
		return [][]byte{b}, nil
	}
	moov := top[moovAt]
	index := bytes.Clone(b[moov.start:moov.end])
	// Offsets into what followed the insertion point move by the
	// index's size.
	from, delta := uint64(top[mdatAt].start), uint64(len(index))
	if err := shiftOffsets(index, box{typ: "moov", start: 0, end: len(index), payload: moov.payload - moov.start}, from, delta); err != nil {
		return nil, err
	}
	return [][]byte{b[:top[mdatAt].start], index, b[top[mdatAt].start:moov.start], b[moov.end:]}, nil
}

// containers are the boxes on the way from moov to the chunk offsets.
var containers = map[string]bool{"moov": true, "trak": true, "mdia": true, "minf": true, "stbl": true, "edts": true}

// shiftOffsets adds delta to every chunk offset at or past from in the
// stco and co64 boxes under parent, in place.
func shiftOffsets(b []byte, parent box, from, delta uint64) error {
	for _, c := range boxes(b, parent.payload, parent.end) {
		switch {
		case containers[c.typ]:
			if err := shiftOffsets(b, c, from, delta); err != nil {
				return err
			}
		case c.typ == "stco" || c.typ == "co64":
			size := 4
			if c.typ == "co64" {
				size = 8
			}
			if c.payload+8 > c.end {
				return ErrNoIndex
			}
			n := uint64(binary.BigEndian.Uint32(b[c.payload+4:]))
			if n > uint64(c.end-c.payload-8)/uint64(size) {
				return errors.New("a chunk offset table longer than its box")
			}
			for i := range int(n) {
				at := c.payload + 8 + i*size
				if size == 4 {
					v := uint64(binary.BigEndian.Uint32(b[at:]))
					if v < from {
						continue
					}
					if v+delta > math.MaxUint32 {
						return errors.New("a chunk offset past 4 GiB once the index is moved")
					}
					binary.BigEndian.PutUint32(b[at:], uint32(v+delta))
				} else if v := binary.BigEndian.Uint64(b[at:]); v >= from {
					binary.BigEndian.PutUint64(b[at:], v+delta)
				}
			}
		}
	}
	return nil
}

// Matroska's elements, by ID.
const (
	ebmlSegment  = 0x18538067
	ebmlInfo     = 0x1549A966
	ebmlScale    = 0x2AD7B1
	ebmlDuration = 0x4489
	ebmlTracks   = 0x1654AE6B
	ebmlTrack    = 0xAE
	ebmlVideo    = 0xE0
	ebmlPixelW   = 0xB0
	ebmlPixelH   = 0xBA
)

// element is one EBML element: its ID and where its data is.
type element struct {
	id        uint64
	data, end int
}

// vint reads an EBML variable-length number at b[i:]: its value (with the
// length marker kept for IDs) and its length in bytes; 0 when it does not
// parse.
func vint(b []byte, i int, keepMarker bool) (uint64, int) {
	if i >= len(b) || b[i] == 0 {
		return 0, 0
	}
	n := 1
	for mask := byte(0x80); b[i]&mask == 0; mask >>= 1 {
		n++
	}
	if i+n > len(b) {
		return 0, 0
	}
	v := uint64(b[i])
	if !keepMarker {
		v &= uint64(0xFF >> n)
	}
	for k := 1; k < n; k++ {
		v = v<<8 | uint64(b[i+k])
	}
	return v, n
}

// elements lists the elements laid end to end in b[from:to]; an element
// of unknown size (a live stream's segment or cluster) runs to the end.
func elements(b []byte, from, to int) []element {
	var out []element
	for i := from; i < to && len(out) < 4096; {
		id, n := vint(b, i, true)
		if n == 0 {
			break
		}
		size, m := vint(b, i+n, false)
		if m == 0 {
			break
		}
		data := i + n + m
		end := to // unknown (all ones) or cut short: to the end
		if size != (uint64(1)<<(7*m))-1 && size <= uint64(to-data) {
			end = data + int(size)
		}
		out = append(out, element{id: id, data: data, end: end})
		i = end
	}
	return out
}

func uintOf(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// inspectMatroska reads Segment/Info's TimecodeScale and Duration, and the
// first video track's PixelWidth and PixelHeight.
func inspectMatroska(b []byte) Info {
	in := Info{Container: Matroska}
	for _, top := range elements(b, 0, len(b)) {
		if top.id != ebmlSegment {
			continue
		}
		for _, e := range elements(b, top.data, top.end) {
			switch e.id {
			case ebmlInfo:
				scale := uint64(1000000)
				var dur float64
				for _, f := range elements(b, e.data, e.end) {
					switch {
					case f.id == ebmlScale && f.end-f.data <= 8:
						scale = uintOf(b[f.data:f.end])
					case f.id == ebmlDuration && f.end-f.data == 4:
						dur = float64(math.Float32frombits(binary.BigEndian.Uint32(b[f.data:])))
					case f.id == ebmlDuration && f.end-f.data == 8:
						dur = math.Float64frombits(binary.BigEndian.Uint64(b[f.data:]))
					}
				}
				if ns := dur * float64(scale); ns > 0 && ns < float64(math.MaxInt64) {
					in.Length = time.Duration(ns)
				}
			case ebmlTracks:
				for _, tr := range elements(b, e.data, e.end) {
					if tr.id != ebmlTrack || in.Width > 0 {
						continue
					}
					for _, v := range elements(b, tr.data, tr.end) {
						if v.id != ebmlVideo {
							continue
						}
						for _, p := range elements(b, v.data, v.end) {
							if p.end-p.data > 8 {
								continue
							}
							switch p.id {
							case ebmlPixelW:
								in.Width = int(min(uintOf(b[p.data:p.end]), 1<<20))
							case ebmlPixelH:
								in.Height = int(min(uintOf(b[p.data:p.end]), 1<<20))
							}
						}
					}
				}
			}
		}
		break
	}
	return in
}
