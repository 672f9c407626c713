package decode

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// tiffWithDate builds an EXIF block (a TIFF structure) whose Exif IFD
// holds DateTimeOriginal and, unless empty, OffsetTimeOriginal.
func tiffWithDate(bo binary.ByteOrder, date, offset string) []byte {
	var b bytes.Buffer
	w16 := func(v uint16) { binary.Write(&b, bo, v) }
	w32 := func(v uint32) { binary.Write(&b, bo, v) }
	if bo == binary.LittleEndian {
		b.WriteString("II")
	} else {
		b.WriteString("MM")
	}
	w16(42)
	w32(8)
	// IFD0 at 8: one entry, the Exif IFD pointer.
	w16(1)
	w16(0x8769)
	w16(4)
	w32(1)
	w32(26) // 8 + 2 + 12 + 4
	w32(0)
	// Exif IFD at 26.
	n := uint16(1)
	if offset != "" {
		n = 2
	}
	data := uint32(26 + 2 + 12*int(n) + 4)
	w16(n)
	w16(0x9003)
	w16(2)
	w32(uint32(len(date) + 1))
	w32(data)
	if offset != "" {
		w16(0x9011)
		w16(2)
		w32(uint32(len(offset) + 1))
		w32(data + uint32(len(date)+1))
	}
	w32(0)
	b.WriteString(date + "\x00")
	if offset != "" {
		b.WriteString(offset + "\x00")
	}
	return b.Bytes()
}

func jpegWithExif(t *testing.T, tiff []byte) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 8)), nil); err != nil {
		t.Fatal(err)
	}
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xff, 0xe1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	return append(append(append([]byte{}, buf.Bytes()[:2]...), append(app1, seg...)...), buf.Bytes()[2:]...)
}

// pngWithExif puts an eXIf chunk after the pixels, just before IEND, where
// some writers put it.
func pngWithExif(t *testing.T, tiff []byte) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 8))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	iend := b[len(b)-12:]
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(tiff)))
	chunk = append(chunk, "eXIf"...)
	chunk = append(chunk, tiff...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append(append(append([]byte{}, b[:len(b)-12]...), chunk...), iend...)
}

// webpWithExif appends an EXIF chunk after the image data, where WebP
// writers put it.
func webpWithExif(t *testing.T, tiff []byte) []byte {
	b := bytes.Clone(readFixture(t, "webp-lossy-alpha.webp")) // extended: VP8X, ALPH, VP8
	if string(b[12:16]) != "VP8X" {
		t.Fatal("webp-lossy-alpha.webp has no VP8X chunk")
	}
	b[20] |= 0x08 // VP8X: has EXIF
	chunk := append([]byte("EXIF"), binary.LittleEndian.AppendUint32(nil, uint32(len(tiff)))...)
	chunk = append(chunk, tiff...)
	if len(tiff)%2 == 1 {
		chunk = append(chunk, 0)
	}
	out := append(append([]byte{}, b...), chunk...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func TestTakenFromEveryFormat(t *testing.T) {
	plus2 := time.FixedZone("", 2*3600)
	want := time.Date(2024, 7, 14, 18, 30, 5, 0, plus2)
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"le.jpg":  jpegWithExif(t, tiffWithDate(binary.LittleEndian, "2024:07:14 18:30:05", "+02:00")),
		"be.jpg":  jpegWithExif(t, tiffWithDate(binary.BigEndian, "2024:07:14 18:30:05", "+02:00")),
		"a.png":   pngWithExif(t, tiffWithDate(binary.BigEndian, "2024:07:14 18:30:05", "+02:00")),
		"a.webp":  webpWithExif(t, tiffWithDate(binary.LittleEndian, "2024:07:14 18:30:05", "+02:00")),
		"odd.jpg": jpegWithExif(t, tiffWithDate(binary.LittleEndian, "2024:07:14 18:30:05", "+2")), // a bad offset: local time
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		f, err := Open(p, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, ok := f.Taken()
		f.Close()
		w := want
		if name == "odd.jpg" {
			w = time.Date(2024, 7, 14, 18, 30, 5, 0, time.Local)
		}
		if !ok || !got.Equal(w) {
			t.Errorf("%s: Taken() = %v, %v; want %v", name, got, ok, w)
		}
		if m, err := f.Decode(Options{}); err != nil || m.Pixels.Bounds().Dx() == 0 {
			t.Errorf("%s: with the date added it no longer decodes: %v", name, err)
		}
	}
}

func TestTakenIgnoresBlanksAndBrokenExif(t *testing.T) {
	for _, tiff := range [][]byte{
		nil,
		tiffWithDate(binary.LittleEndian, "0000:00:00 00:00:00", ""),
		tiffWithDate(binary.LittleEndian, "    :  :     :  :  ", ""),
		tiffWithDate(binary.LittleEndian, "yesterday", ""),
		tiffWithDate(binary.LittleEndian, "2024:07:14 18:30:05", "")[:30],                         // cut short
		[]byte("II*\x00\x08\x00\x00\x00\x01\x00\x69\x87\x04\x00\x01\x00\x00\x00\xff\xff\xff\x7f"), // Exif IFD far out
	} {
		if got, ok := exifTaken(tiff); ok {
			t.Errorf("exifTaken(%q) = %v; want none", tiff, got)
		}
	}
	f, err := openBytes("plain.png", pngWithExif(t, nil)[:0:0], Limits{})
	if err == nil {
		if _, ok := f.Taken(); ok {
			t.Error("an empty file has a date")
		}
	}
}
