//go:build ignore

// heifgrid writes a HEIC whose primary picture is a grid of tiles, as
// phones store photos, from single-picture HEIC files (one per tile, in
// rows, as heif-enc writes them), with a rotation, an Exif item and a
// colour description, so that the decoder meets the layout an iPhone
// writes, which heif-enc cannot make:
//
//	go run heifgrid.go -cols 2 -width 120 -height 100 -irot 3 -exif exif.bin -o out.heic t1.heic t2.heic t3.heic t4.heic
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"
)

func main() {
	cols := flag.Int("cols", 2, "tiles per row")
	width := flag.Int("width", 0, "output width (at most the tiles' total)")
	height := flag.Int("height", 0, "output height")
	irot := flag.Int("irot", -1, "quarter turns anticlockwise (irot), -1 for none")
	imir := flag.Int("imir", -1, "mirror axis (imir), -1 for none")
	exif := flag.String("exif", "", "a TIFF structure to store as the Exif item")
	nclx := flag.String("nclx", "", "primaries,transfer,matrix,full: a colr box of type nclx")
	out := flag.String("o", "grid.heic", "output file")
	flag.Parse()
	type tile struct{ hvcC, data []byte }
	var tiles []tile
	tw, th := 0, 0
	for _, p := range flag.Args() {
		b, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		hvcC, data, w, h := picture(b)
		if tw == 0 {
			tw, th = w, h
		} else if w != tw || h != th {
			log.Fatalf("%s is %dx%d; the first tile is %dx%d", p, w, h, tw, th)
		}
		tiles = append(tiles, tile{hvcC, data})
	}
	n := len(tiles)
	if n == 0 || n%*cols != 0 {
		log.Fatalf("%d tiles do not fill rows of %d", n, *cols)
	}
	rows := n / *cols
	var tiff []byte
	if *exif != "" {
		var err error
		if tiff, err = os.ReadFile(*exif); err != nil {
			log.Fatal(err)
		}
	}

	gridID, exifID := uint16(n+1), uint16(n+2)
	build := func(mdatStart int) []byte {
		var infe [][]byte
		for i := range n {
			infe = append(infe, fullBox("infe", 2, 1, u16(uint16(i+1)), u16(0), []byte("hvc1\x00")))
		}
		infe = append(infe, fullBox("infe", 2, 0, u16(gridID), u16(0), []byte("grid\x00")))
		if tiff != nil {
			infe = append(infe, fullBox("infe", 2, 0, u16(exifID), u16(0), []byte("Exif\x00")))
		}
		count := len(infe)
		iinf := fullBox("iinf", 0, 0, append([][]byte{u16(uint16(count))}, infe...)...)

		// iloc version 1: 4-byte offsets and lengths, construction methods.
		var loc [][]byte
		off := mdatStart
		for i, t := range tiles {
			loc = append(loc, u16(uint16(i+1)), u16(0), u16(0), u16(1), u32(uint32(off)), u32(uint32(len(t.data))))
			off += len(t.data)
		}
		loc = append(loc, u16(gridID), u16(1), u16(0), u16(1), u32(0), u32(8)) // in idat
		if tiff != nil {
			loc = append(loc, u16(exifID), u16(0), u16(0), u16(1), u32(uint32(off)), u32(uint32(4+len(tiff))))
		}
		iloc := fullBox("iloc", 1, 0, append([][]byte{{0x44, 0x00}, u16(uint16(count))}, loc...)...)

		dimg := [][]byte{u16(gridID), u16(uint16(n))}
		for i := range n {
			dimg = append(dimg, u16(uint16(i+1)))
		}
		refs := [][]byte{box("dimg", dimg...)}
		if tiff != nil {
			refs = append(refs, box("cdsc", u16(exifID), u16(1), u16(gridID)))
		}
		iref := fullBox("iref", 0, 0, refs...)

		// Properties: each tile's hvcC, the tile size, the grid size, and
		// the transforms.
		var props [][]byte
		for _, t := range tiles {
			props = append(props, t.hvcC)
		}
		props = append(props, fullBox("ispe", 0, 0, u32(uint32(tw)), u32(uint32(th))))
		props = append(props, fullBox("ispe", 0, 0, u32(uint32(*width)), u32(uint32(*height))))
		// Property indices take 7 bits, or 15 with ipma's flag 1.
		wide := n+5 > 127
		ref := func(i int, essential bool) []byte {
			if wide {
				v := uint16(i)
				if essential {
					v |= 0x8000
				}
				return u16(v)
			}
			if essential {
				return []byte{0x80 | byte(i)}
			}
			return []byte{byte(i)}
		}
		gridProps := [][]byte{ref(n+2, false)}
		if *irot >= 0 {
			props = append(props, box("irot", []byte{byte(*irot)}))
			gridProps = append(gridProps, ref(len(props), true))
		}
		if *imir >= 0 {
			props = append(props, box("imir", []byte{byte(*imir)}))
			gridProps = append(gridProps, ref(len(props), true))
		}
		if *nclx != "" {
			var p, t, m, f int
			if _, err := fmt.Sscanf(*nclx, "%d,%d,%d,%d", &p, &t, &m, &f); err != nil {
				log.Fatalf("-nclx %q: %v", *nclx, err)
			}
			props = append(props, box("colr", []byte("nclx"), u16(uint16(p)), u16(uint16(t)), u16(uint16(m)), []byte{byte(f << 7)}))
			gridProps = append(gridProps, ref(len(props), false))
		}
		var ipma [][]byte
		ipma = append(ipma, u32(uint32(n+1)))
		for i := range n {
			ipma = append(ipma, u16(uint16(i+1)), []byte{2}, ref(i+1, true), ref(n+1, false))
		}
		ipma = append(ipma, u16(gridID), []byte{byte(len(gridProps))})
		ipma = append(ipma, gridProps...)
		flags := uint32(0)
		if wide {
			flags = 1
		}
		iprp := box("iprp", box("ipco", props...), fullBox("ipma", 0, flags, ipma...))

		grid := []byte{0, 0, byte(rows - 1), byte(*cols - 1)}
		grid = append(grid, u16(uint16(*width))...)
		grid = append(grid, u16(uint16(*height))...)

		hdlr := fullBox("hdlr", 0, 0, u32(0), []byte("pict"), make([]byte, 12), []byte{0})
		meta := fullBox("meta", 0, 0, hdlr, fullBox("pitm", 0, 0, u16(gridID)), iinf, iloc, iref, iprp, box("idat", grid))
		ftyp := box("ftyp", []byte("heic"), u32(0), []byte("mif1heic"))
		return append(ftyp, meta...)
	}
	head := build(0)
	head = build(len(head) + 8)
	var mdat [][]byte
	for _, t := range tiles {
		mdat = append(mdat, t.data)
	}
	if tiff != nil {
		mdat = append(mdat, u32(0), tiff)
	}
	if err := os.WriteFile(*out, append(head, box("mdat", mdat...)...), 0o644); err != nil {
		log.Fatal(err)
	}
}

// picture finds the coded picture of a single-picture HEIC (the one
// item stored in the file, not in idat): its hvcC box, its coded bytes
// and its size.
func picture(b []byte) (hvcC, data []byte, w, h int) {
	meta := find(b, "meta")[4:]
	ipco := find(find(meta, "iprp"), "ipco")
	for rest := ipco; len(rest) >= 8; {
		size := int(binary.BigEndian.Uint32(rest))
		switch string(rest[4:8]) {
		case "hvcC":
			if hvcC == nil {
				hvcC = rest[:size]
			}
		case "ispe":
			if w == 0 {
				w, h = int(binary.BigEndian.Uint32(rest[12:])), int(binary.BigEndian.Uint32(rest[16:]))
			}
		}
		rest = rest[size:]
	}
	iloc := find(meta, "iloc")
	version := iloc[0]
	offSize, lenSize, baseSize := int(iloc[4]>>4), int(iloc[4]&15), int(iloc[5]>>4)
	r := iloc[6:]
	get := func(n int) uint64 {
		var v uint64
		for i := range n {
			v = v<<8 | uint64(r[i])
		}
		r = r[n:]
		return v
	}
	count := int(get(2))
	for range count {
		get(2) // item ID
		method := uint64(0)
		if version >= 1 {
			method = get(2) & 15
		}
		get(2)
		base := get(baseSize)
		extents := int(get(2))
		for range extents {
			off, n := base+get(offSize), get(lenSize)
			if method == 0 && data == nil { // the coded picture, in the file
				data = b[off : off+n]
			}
		}
	}
	if hvcC == nil || data == nil || w == 0 {
		log.Fatal("not a single-picture HEIC")
	}
	return hvcC, data, w, h
}

// find returns the body of the first box of type typ among the boxes in b.
func find(b []byte, typ string) []byte {
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			break
		}
		if string(b[4:8]) == typ {
			return b[8:size]
		}
		b = b[size:]
	}
	panic(fmt.Sprintf("no %s box", typ))
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func box(typ string, parts ...[]byte) []byte {
	var body []byte
	for _, p := range parts {
		body = append(body, p...)
	}
	return append(append(u32(uint32(8+len(body))), typ...), body...)
}

func fullBox(typ string, version byte, flags uint32, parts ...[]byte) []byte {
	return box(typ, append([][]byte{u32(uint32(version)<<24 | flags)}, parts...)...)
}
