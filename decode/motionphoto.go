package decode

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// Motion Photos (Google's format, and the older MicroVideo one): a JPEG
// with a short MP4 appended after its end, and XMP in the JPEG saying
// where it starts. The XMP says so either with GCamera:MicroVideo="1" and
// GCamera:MicroVideoOffset, the video's length in bytes counted back from
// the end of the file, or with GCamera:MotionPhoto="1" and a Container
// directory whose item of semantic MotionPhoto has the video's Length,
// the last item of the file.

// xmpJPEG finds the XMP packet of a JPEG in its first bytes: the payload
// of an APP1 segment that starts with the XMP namespace.
func xmpJPEG(b []byte) []byte {
	const ns = "http://ns.adobe.com/xap/1.0/\x00"
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return nil
		}
		marker := b[i+1]
		if marker == 0xDA || marker == 0xD9 { // the pixels start, or the end
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte(ns)) {
			return seg[len(ns):]
		}
		i += 2 + n
	}
	return nil
}

// attr is the value of the XML attribute name="..." (or name='...') in x,
// searched from its start.
func attr(x []byte, name string) (string, bool) {
	for i := 0; ; {
		j := bytes.Index(x[i:], []byte(name))
		if j < 0 {
			return "", false
		}
		k := i + j + len(name)
		i = k
		// name, optional spaces, '=', optional spaces, a quote
		for k < len(x) && x[k] == ' ' {
			k++
		}
		if k >= len(x) || x[k] != '=' {
			continue
		}
		k++
		for k < len(x) && x[k] == ' ' {
			k++
		}
		if k >= len(x) || (x[k] != '"' && x[k] != '\'') {
			continue
		}
		q := x[k]
		end := bytes.IndexByte(x[k+1:], q)
		if end < 0 || end > 256 {
			return "", false
		}
		return string(x[k+1 : k+1+end]), true
	}
}

// MotionPhotoTail is how many bytes at the end of the file are a Motion
// Photo's video, as the XMP among the header bytes already read says; 0
// for none (and for every format but JPEG).
func (f *File) MotionPhotoTail() int64 {
	if f.header.Format != JPEG {
		return 0
	}
	return MotionPhotoVideo(f.data)
}

// MotionPhotoVideo reads from a JPEG's first bytes (its XMP) how many
// bytes at the end of the file are a Motion Photo's video; 0 when it is
// no Motion Photo.
func MotionPhotoVideo(head []byte) int64 {
	x := xmpJPEG(head)
	if x == nil {
		return 0
	}
	if v, _ := attr(x, "GCamera:MicroVideo"); v == "1" {
		if off, ok := attr(x, "GCamera:MicroVideoOffset"); ok {
			if n, err := strconv.ParseInt(off, 10, 64); err == nil && n > 0 {
				return n
			}
		}
	}
	if v, _ := attr(x, "GCamera:MotionPhoto"); v != "1" {
		return 0
	}
	// The directory's item whose semantic is MotionPhoto: its element
	// runs from the '<' before the semantic to the next '>'.
	at := bytes.Index(x, []byte(`Item:Semantic="MotionPhoto"`))
	if at < 0 {
		return 0
	}
	start := bytes.LastIndexByte(x[:at], '<')
	end := bytes.IndexByte(x[at:], '>')
	if start < 0 || end < 0 {
		return 0
	}
	length, ok := attr(x[start:at+end], "Item:Length")
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(length, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
