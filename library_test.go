package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"slidestream/source"
	"slidestream/web"
)

// palette gives n well-separated colours, so that a frame's slide can be
// told from its centre pixel.
func palette(n int) []color.RGBA {
	var out []color.RGBA
	for i := range n {
		out = append(out, color.RGBA{uint8(i%4*70 + 20), uint8(i/4%4*70 + 20), uint8(i/16%4*70 + 20), 255})
	}
	return out
}

// library writes a small solid image of its own colour for each name
// (paths with /, folders made as needed) and returns the colours by name.
func library(t *testing.T, dir string, names ...string) map[string]color.RGBA {
	t.Helper()
	cols := palette(len(names))
	out := map[string]color.RGBA{}
	for i, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		os.MkdirAll(filepath.Dir(p), 0o755)
		solid(t, p, 48, 32, cols[i])
		out[n] = cols[i]
	}
	return out
}

// slideOf names the slide a frame shows, by the one colour that fills it.
// A frame that is not one flat colour (a placeholder, whose text may miss
// the centre) or whose colour is none of these is "?".
func slideOf(t *testing.T, frame []byte, colours map[string]color.RGBA) string {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(frame))
	if err != nil {
		t.Fatalf("frame is not a JPEG: %v", err)
	}
	b := m.Bounds()
	at := func(x, y int) color.RGBA {
		r, g, bl, _ := m.At(x, y).RGBA()
		return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}
	}
	dist := func(a, c color.RGBA) int {
		return sq(int(a.R)-int(c.R)) + sq(int(a.G)-int(c.G)) + sq(int(a.B)-int(c.B))
	}
	centre := at((b.Min.X+b.Max.X)/2, (b.Min.Y+b.Max.Y)/2)
	best, bestD := "", 1<<30
	for name, c := range colours {
		if d := dist(centre, c); d < bestD {
			best, bestD = name, d
		}
	}
	if bestD > 300 {
		return "?" // a placeholder, or no slide of these
	}
	off := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if dist(at(x, y), colours[best]) > 300 {
				off++
			}
		}
	}
	if off*100 > b.Dx()*b.Dy() {
		return "?" // text on a plain frame: a placeholder
	}
	return best
}

func sq(n int) int { return n * n }

// watchSlides reads n distinct frames from a stream and names their slides.
func watchSlides(t *testing.T, url string, n int, colours map[string]color.RGBA) []string {
	t.Helper()
	frames := openStream(t, url).distinct(n, 30*time.Second)
	var out []string
	for _, f := range frames {
		out = append(out, slideOf(t, f, colours))
	}
	return out
}

// rotation reports whether got is want (played round in a loop) from some
// place on.
func rotation(got, want []string) bool {
	start := slices.Index(want, got[0])
	if start < 0 {
		return false
	}
	for i, g := range got {
		if want[(start+i)%len(want)] != g {
			return false
		}
	}
	return true
}

var libraryTree = []string{
	"IMG_10.png", "IMG_2.png",
	"2024/b.png", "2024/Italy/IMG_9.png", "2024/Italy/IMG_10.png",
	"2023/x.png",
	// litter: never shown
	"@eaDir/IMG_2.png/SYNOPHOTO_THUMB_XL.png", "#recycle/old.png", ".Trash-1000/files/gone.png", "2024/.thumbs/t.png",
}

// A library of albums plays in natural order, album after album, without
// the litter, and /api/albums and /api/images name every photo by its
// path.
func TestLibraryPlaysAlbumsInNaturalOrder(t *testing.T) {
	dir := t.TempDir()
	colours := library(t, dir, libraryTree...)
	s := startServer(t, "--dir", dir, "--width", "48", "--interval", "150ms")
	want := []string{"IMG_2.png", "IMG_10.png", "2023/x.png", "2024/b.png", "2024/Italy/IMG_9.png", "2024/Italy/IMG_10.png"}
	if got := watchSlides(t, s.url+"/slideshow", 8, colours); !rotation(got, want) {
		t.Errorf("the stream played %q; want the loop %q", got, want)
	}

	var albums struct {
		Photos int
		Albums []struct {
			Path          string
			Photos, Total int
			Slideshow     string
		}
	}
	getJSON(t, s.url+"/api/albums", &albums)
	if got := fmt.Sprint(albums.Albums); albums.Photos != 6 || got != "[{2023 1 1 /slideshow?album=2023} {2024 1 3 /slideshow?album=2024} {2024/Italy 2 2 /slideshow?album=2024%2FItaly}]" {
		t.Errorf("/api/albums: %d photos, %s", albums.Photos, got)
	}
	var rep web.ImagesReport
	getJSON(t, s.url+"/api/images?limit=1000", &rep)
	var names []string
	for _, im := range rep.Images {
		names = append(names, im.Name)
	}
	if !slices.Equal(names, want) || rep.Total != 6 {
		t.Errorf("/api/images lists %q (total %d); want %q", names, rep.Total, want)
	}

	// A photo added four folders down, in folders that are all new, plays.
	colours["2025/a/b/c/new.png"] = color.RGBA{250, 250, 250, 255}
	os.MkdirAll(filepath.Join(dir, "2025", "a", "b", "c"), 0o755)
	start := time.Now()
	solid(t, filepath.Join(dir, "2025", "a", "b", "c", "new.png"), 48, 32, colours["2025/a/b/c/new.png"])
	for {
		rep = web.ImagesReport{}
		getJSON(t, s.url+"/api/images?album=2025/a", &rep)
		if rep.Total == 1 && rep.Images[0].Name == "2025/a/b/c/new.png" {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("2 s after adding 2025/a/b/c/new.png, /api/images?album=2025/a says %+v", rep)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("a photo added four folders deep was listed after %v", time.Since(start).Round(time.Millisecond))
}

// --order shuffle over 50 photos: each exactly once per pass, a new order
// each pass, never the same photo twice in a row.
func TestShufflePlaysEveryPhotoOncePerPass(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := range 50 {
		names = append(names, fmt.Sprintf("p%02d.png", i))
	}
	colours := library(t, dir, names...)
	s := startServer(t, "--dir", dir, "--width", "48", "--interval", "50ms", "--order", "shuffle")
	got := watchSlides(t, s.url+"/slideshow", 150, colours)
	// The client joined somewhere in a pass: somewhere in the first 50
	// frames a pass begins, and it and the next are each all 50 photos.
	whole := func(w []string) bool {
		return len(w) == 50 && slices.Equal(slices.Sorted(slices.Values(w)), names)
	}
	for b := range 50 {
		head := slices.Clone(got[:b])
		slices.Sort(head)
		if len(slices.Compact(head)) != b {
			break // a photo came twice before b: no pass can begin later
		}
		if whole(got[b:b+50]) && whole(got[b+50:b+100]) {
			if slices.Equal(got[b:b+50], got[b+50:b+100]) || slices.Equal(got[b:b+50], names) {
				t.Errorf("two passes in the same order, or in name order: %q", got[b:b+50])
			}
			return
		}
	}
	t.Errorf("no two whole passes of the 50 photos in the stream:\n%q", got)
}

// jpegTaken writes a solid JPEG whose EXIF says when it was taken.
func jpegTaken(t *testing.T, path string, c color.RGBA, taken, offset string) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, 255
	}
	var enc bytes.Buffer
	jpeg.Encode(&enc, m, &jpeg.Options{Quality: 95})
	// TIFF, big-endian: IFD0 with the Exif IFD pointer; the Exif IFD with
	// DateTimeOriginal (0x9003) and OffsetTimeOriginal (0x9011).
	var tiff bytes.Buffer
	w := func(v ...any) {
		for _, x := range v {
			binary.Write(&tiff, binary.BigEndian, x)
		}
	}
	tiff.WriteString("MM")
	w(uint16(42), uint32(8), uint16(1), uint16(0x8769), uint16(4), uint32(1), uint32(26), uint32(0))
	data := uint32(26 + 2 + 2*12 + 4)
	w(uint16(2), uint16(0x9003), uint16(2), uint32(len(taken)+1), data,
		uint16(0x9011), uint16(2), uint32(len(offset)+1), data+uint32(len(taken)+1), uint32(0))
	tiff.WriteString(taken + "\x00" + offset + "\x00")
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(enc.Bytes()[:2]) // SOI
	out.Write([]byte{0xff, 0xe1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)})
	out.Write(seg)
	out.Write(enc.Bytes()[2:])
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// --order taken plays by the EXIF dates, which here disagree with the
// names and the modification times; ?order=newest on the same server
// plays them the other way round, on a channel of its own.
func TestTakenOrderFollowsExifDates(t *testing.T) {
	dir := t.TempDir()
	cols := palette(4)
	colours := map[string]color.RGBA{}
	for i, f := range []struct{ name, taken, offset string }{
		{"a.jpg", "2021:06:01 12:00:00", "+00:00"},
		{"b.jpg", "2019:03:10 08:00:00", "+01:00"},
		{"c.jpg", "2021:06:01 13:30:00", "+02:00"}, // 11:30 UTC: before a.jpg
		{"d.jpg", "2020:12:31 23:59:59", "-05:00"},
	} {
		jpegTaken(t, filepath.Join(dir, f.name), cols[i], f.taken, f.offset)
		os.Chtimes(filepath.Join(dir, f.name), time.Now(), time.Now().Add(time.Duration(-i)*time.Hour))
		colours[f.name] = cols[i]
	}
	s := startServer(t, "--dir", dir, "--width", "48", "--interval", "150ms", "--order", "taken")
	taken := []string{"b.jpg", "d.jpg", "c.jpg", "a.jpg"}
	// The show starts at once and settles as the dates are read: wait for
	// the index to have them all.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var rep web.ImagesReport
		getJSON(t, s.url+"/api/images", &rep)
		if rep.Pending == 0 && rep.OK == 4 {
			for _, im := range rep.Images {
				if im.Taken == nil {
					t.Errorf("%s: no date taken in /api/images", im.Name)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index has not read the 4 dates after 5 s: %+v", rep)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := watchSlides(t, s.url+"/slideshow", 6, colours); !rotation(got, taken) {
		t.Errorf("--order taken played %q; want the loop %q", got, taken)
	}
	newest := slices.Clone(taken)
	slices.Reverse(newest)
	if got := watchSlides(t, s.url+"/slideshow?order=newest&interval=1s", 3, colours); !rotation(got, newest) {
		t.Errorf("?order=newest played %q; want the loop %q", got, newest)
	}
}

// An album channel plays beside the default one: the same slides to all of
// its clients, only the album's photos; an unknown album is a 404 naming
// it; past --max-channels a new channel is a 503; a deleted album's
// channel says it is empty and new clients get a 404.
func TestAlbumChannelsBesideTheDefault(t *testing.T) {
	dir := t.TempDir()
	colours := library(t, dir, libraryTree...)
	s := startServer(t, "--dir", dir, "--width", "48", "--interval", "1h", "--max-channels", "1")

	italy := s.url + "/slideshow?album=2024/Italy&interval=1s"
	a, b := openStream(t, italy), openStream(t, italy)
	var seenA, seenB []string
	for range 3 {
		seenA = append(seenA, slideOf(t, a.next(), colours))
		seenB = append(seenB, slideOf(t, b.next(), colours))
	}
	for _, n := range append(seenA, seenB...) {
		if !strings.HasPrefix(n, "2024/Italy/") {
			t.Errorf("the 2024/Italy channel showed %s", n)
		}
	}
	if s.channels.Running() != 1 {
		t.Errorf("%d channels run for two clients of one album; want 1, shared", s.channels.Running())
	}
	// The default channel is untouched: at --interval 1h it still shows
	// its first slide.
	if got := slideOf(t, openStream(t, s.url+"/slideshow").next(), colours); got != "IMG_2.png" {
		t.Errorf("the default channel shows %s; want IMG_2.png", got)
	}

	for _, tc := range []struct {
		url    string
		status int
		says   string
	}{
		{"/slideshow?album=1999", http.StatusNotFound, `no album "1999"`},
		{"/?album=1999", http.StatusNotFound, `no album "1999"`},
		{"/snapshot?album=../etc", http.StatusBadRequest, "album"},
		{"/slideshow?order=sideways", http.StatusBadRequest, "order"},
		{"/slideshow?interval=1ms", http.StatusBadRequest, "interval"},
		{"/slideshow?album=2023", http.StatusServiceUnavailable, "max-channels 1"},
	} {
		resp, err := http.Get(s.url + tc.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.says) {
			t.Errorf("GET %s: %s %q; want %d saying %q", tc.url, resp.Status, body, tc.status, tc.says)
		}
	}

	// The album is deleted under its channel.
	os.RemoveAll(filepath.Join(dir, "2024", "Italy"))
	deadline := time.Now().Add(3 * time.Second)
	for slideOf(t, a.next(), colours) != "?" {
		if time.Now().After(deadline) {
			t.Fatal("3 s after its album was deleted the channel still shows its photos")
		}
	}
	resp, err := http.Get(s.url + "/snapshot?album=2024/Italy")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a snapshot of the deleted album: %s; want 404", resp.Status)
	}
}

// /api/images pages through a large folder and carries the totals.
func TestImagesArePaginatedWithTotals(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := range 230 {
		names = append(names, fmt.Sprintf("album%d/p%03d.png", i%3, i))
	}
	library(t, dir, names...)
	for _, bad := range []string{"album0/bad1.jpg", "album1/bad2.jpg", "bad3.png"} {
		os.WriteFile(filepath.Join(dir, bad), []byte("not an image at all\n"), 0o644)
	}
	s := startServer(t, "--dir", dir, "--width", "48", "--interval", "1h")
	var rep web.ImagesReport
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep = web.ImagesReport{}
		getJSON(t, s.url+"/api/images", &rep)
		if rep.Pending == 0 && rep.Total == 233 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rep.Total != 233 || rep.OK != 230 || rep.Skipped != 3 || rep.Kinds["unknown-format"] != 3 ||
		len(rep.Images) != 100 || rep.Matching != 233 || rep.Next != "/api/images?offset=100" || rep.Prev != "" {
		t.Fatalf("first page: total %d, ok %d, skipped %d, kinds %v, %d images, next %q, prev %q",
			rep.Total, rep.OK, rep.Skipped, rep.Kinds, len(rep.Images), rep.Next, rep.Prev)
	}
	rep = web.ImagesReport{}
	getJSON(t, s.url+"/api/images?offset=200", &rep)
	if len(rep.Images) != 33 || rep.Next != "" || rep.Prev != "/api/images?offset=100" || rep.Images[0].Name != "album2/p131.png" {
		t.Errorf("last page: %d images from %q, next %q, prev %q", len(rep.Images), rep.Images[0].Name, rep.Next, rep.Prev)
	}
	rep = web.ImagesReport{}
	getJSON(t, s.url+"/api/images?status=skipped", &rep)
	var skipped []string
	for _, im := range rep.Images {
		skipped = append(skipped, im.Name+":"+im.Kind)
	}
	if fmt.Sprint(skipped) != "[bad3.png:unknown-format album0/bad1.jpg:unknown-format album1/bad2.jpg:unknown-format]" || rep.Total != 233 {
		t.Errorf("?status=skipped lists %v (total %d)", skipped, rep.Total)
	}
	rep = web.ImagesReport{}
	getJSON(t, s.url+"/api/images?album=album1&limit=5", &rep)
	if rep.Total != 78 || rep.Skipped != 1 || len(rep.Images) != 5 || rep.Next != "/api/images?album=album1&limit=5&offset=5" {
		t.Errorf("?album=album1&limit=5: total %d, skipped %d, %d images, next %q", rep.Total, rep.Skipped, len(rep.Images), rep.Next)
	}
	for _, q := range []string{"?limit=0", "?limit=5000", "?offset=-1", "?status=bad", "?album=../x"} {
		resp, _ := http.Get(s.url + "/api/images" + q)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/api/images%s: %s; want 400", q, resp.Status)
		}
	}
	page, _ := http.Get(s.url + "/images?offset=100")
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if n := strings.Count(string(body), "<li "); n != 100 || !strings.Contains(string(body), "230 of 233 images") || !strings.Contains(string(body), "101–200 of 233") {
		t.Errorf("/images?offset=100 shows %d files; want 100, with the totals", n)
	}
}

// /api/albums pages its albums as /api/images pages its files (10,000
// albums made a 9 MB answer); an album whose folder name is not UTF-8
// gets URLs that play it, encoded from its bytes; a file name with control
// characters shows on the status page without them.
func TestAlbumsArePagedAndNamesAreShownSafely(t *testing.T) {
	dir := t.TempDir()
	for i := range 250 {
		sub := filepath.Join(dir, fmt.Sprintf("album-%03d", i))
		os.Mkdir(sub, 0o755)
		solid(t, filepath.Join(sub, "a.png"), 16, 12, color.RGBA{uint8(i), 0, 0, 255})
	}
	odd := filepath.Join(dir, "z-\xff\xfe")
	os.Mkdir(odd, 0o755)
	solid(t, filepath.Join(odd, "a.png"), 16, 12, color.RGBA{0, 0, 200, 255})
	solid(t, filepath.Join(dir, "evil\x1b[2J\rname.png"), 16, 12, color.RGBA{0, 200, 0, 255})
	s := startServer(t, "--dir", dir, "--width", "16", "--interval", "1h")
	waitHealth(t, s, "showing evil\uFFFD[2J\uFFFDname.png") // /healthz shows the name cleaned too
	type page struct {
		Total, Offset, Limit int
		Albums               []struct{ Path, Snapshot string }
		Next, Prev           string
	}
	var seen []string
	var last page
	for u := "/api/albums"; u != ""; u = last.Next {
		last = page{}
		getJSON(t, s.url+u, &last)
		if len(last.Albums) > 100 {
			t.Fatalf("%s: %d albums in one answer; want pages of 100", u, len(last.Albums))
		}
		for _, a := range last.Albums {
			seen = append(seen, a.Snapshot)
		}
	}
	if last.Total != 251 || len(seen) != 251 || last.Prev == "" {
		t.Fatalf("paging /api/albums: total %d, %d albums seen, last page's prev %q; want all 251", last.Total, len(seen), last.Prev)
	}
	resp, err := http.Get(s.url + seen[250])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(seen[250], "%FF%FE") {
		t.Errorf("GET %s (an album named with bytes that are not UTF-8): %s; want it played", seen[250], resp.Status)
	}
	resp, err = http.Get(s.url + "/images?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.ContainsAny(body, "\x1b\r") || !bytes.Contains(body, []byte("evil\uFFFD[2J\uFFFDname.png")) {
		t.Errorf("/images shows the name with its control characters, or not at all")
	}
}

// A file that only an album's channel has reached, and found it cannot
// show, is reported as skipped at once by /api/images and /metrics: every
// channel records into one memo, which the pages read.
func TestAlbumChannelSkipShowsEverywhere(t *testing.T) {
	dir := t.TempDir()
	for i := range 4 {
		solid(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), 64, 48, palette(4)[i])
	}
	trip := filepath.Join(dir, "trip")
	os.Mkdir(trip, 0o755)
	b, err := os.ReadFile("testdata/jpeg-large.jpg")
	if err != nil {
		t.Fatal(err)
	}
	// The header is whole, so the file looks fine until it is decoded.
	os.WriteFile(filepath.Join(trip, "a-cut.jpg"), b[:len(b)/2], 0o644)
	copyFixture(t, trip, "png-rgb.png", "b.png")
	ts := startServer(t, "--dir", dir, "--interval", "1h", "--workers", "1", "--width", "100")
	// The default channel shows 0.png for an hour and renders one slide
	// ahead: it never gets near trip/.
	resp, err := http.Get(ts.url + "/snapshot?album=trip&width=100")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var rep web.ImagesReport
	deadline := time.Now().Add(10 * time.Second)
	for {
		getJSON(t, ts.url+"/api/images?status=skipped", &rep)
		if rep.Skipped == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rep.Skipped != 1 || len(rep.Images) != 1 || rep.Images[0].Name != "trip/a-cut.jpg" || rep.Images[0].Kind == "" {
		t.Fatalf("/api/images?status=skipped after the album's snapshot: %+v; want trip/a-cut.jpg with its kind", rep)
	}
	kind := rep.Images[0].Kind
	if n := value(scrape(t, ts.url), "slidestream_skipped_files", "kind", kind); n != 1 {
		t.Errorf("slidestream_skipped_files{kind=%q} = %v; want 1", kind, n)
	}
	var st web.StateReport
	getJSON(t, ts.url+"/api/state", &st)
	if st.Showing != "0.png" {
		t.Errorf("the default channel shows %q; want 0.png", st.Showing)
	}
}

// A restart shows the listing the last run kept (from --state-dir) while
// the folder is listed again, then plays what the folder holds now: a
// photo deleted in between is never shown, one added plays.
func TestRestartStartsFromTheLastListing(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	colours := library(t, dir, "a.png", "b.png", "trip/c.png", "d.png")
	os.Remove(filepath.Join(dir, "d.png")) // added while the server is down
	args := []string{"--dir", dir, "--state-dir", state, "--width", "48", "--interval", "150ms"}
	first := startServer(t, args...)
	if got := watchSlides(t, first.url+"/slideshow", 3, colours); !rotation(got, []string{"a.png", "b.png", "trip/c.png"}) {
		t.Fatalf("the first run played %q", got)
	}
	first.stop()
	if _, err := os.Stat(source.ListingFile(state, dir)); err != nil {
		t.Fatalf("the first run kept no listing: %v", err)
	}

	os.Remove(filepath.Join(dir, "a.png"))
	solid(t, filepath.Join(dir, "d.png"), 48, 32, colours["d.png"])
	second := startServer(t, args...)
	want := []string{"b.png", "d.png", "trip/c.png"}
	if got := watchSlides(t, second.url+"/slideshow", 7, colours); !rotation(got[len(got)-4:], want) || slices.Contains(got, "a.png") {
		t.Errorf("after the restart the stream played %q; want it to end in the loop %q", got, want)
	}
	logs := second.logs.String()
	for _, line := range []string{"showing the listing of the last run", `msg="folder changed"`} {
		if !strings.Contains(logs, line) {
			t.Errorf("the restart's log has no %q:\n%s", line, logs)
		}
	}
}
