package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// libraryTree makes folders×perFolder hard links of small files (one per
// hundred folders: file systems bound a file's links), in folders two deep
// (YEAR/albumNNN), as a photo library is laid out.
func libraryTree(b *testing.B, folders, perFolder int) string {
	b.Helper()
	dir := b.TempDir()
	var seed string
	for d := range folders {
		if d%100 == 0 {
			seed = filepath.Join(dir, fmt.Sprintf(".seed%d.jpg", d))
			if err := os.WriteFile(seed, make([]byte, 4096), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		p := filepath.Join(dir, fmt.Sprint(2000+d/100), fmt.Sprintf("album%03d", d))
		if err := os.MkdirAll(p, 0o755); err != nil {
			b.Fatal(err)
		}
		for i := range perFolder {
			if err := os.Link(seed, filepath.Join(p, fmt.Sprintf("IMG_%04d.jpg", i))); err != nil {
				b.Fatal(err)
			}
		}
	}
	return dir
}

// BenchmarkScan100k is one full rescan of 100,000 photos in 1,000 folders
// with nothing changed: what --rescan costs each time.
func BenchmarkScan100k(b *testing.B) {
	dir := libraryTree(b, 1000, 100)
	f := NewFolder(dir, FolderOptions{})
	f.Scan()
	if list, _ := f.Slides(); len(list) != 100_000 {
		b.Fatalf("listed %d", len(list))
	}
	b.ResetTimer()
	for b.Loop() {
		f.Scan()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000, "ns/file")
}

// BenchmarkWatchAdd100k is the time from a photo written deep in a watched
// library of 100,000 to the listing that includes it: notification,
// settling, the folder read again, the listing rebuilt.
func BenchmarkWatchAdd100k(b *testing.B) {
	dir := libraryTree(b, 1000, 100)
	f := NewFolder(dir, FolderOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Watch(ctx, 0)
	<-f.Ready()
	time.Sleep(500 * time.Millisecond) // every folder watched
	album := filepath.Join(dir, "2005", "album512")
	b.ResetTimer()
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("2005/album512/new%06d.jpg", i)
		i++
		_, changed := f.Slides()
		os.WriteFile(filepath.Join(album, filepath.Base(name)), []byte("x"), 0o644)
		for {
			<-changed
			var list []Slide
			list, changed = f.Slides()
			if _, ok := NewList(list[50_000:60_000]).Find(name); ok {
				break
			}
		}
	}
}

// BenchmarkArrange100k arranges a listing of 100,000 in each order, as a
// channel does when the listing changes or a pass begins.
func BenchmarkArrange100k(b *testing.B) {
	listing := make([]Slide, 100_000)
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range listing {
		listing[i] = Slide{Name: fmt.Sprintf("%d/album%03d/IMG_%04d.jpg", 2000+i/10000, i/100, i%100), ModTime: t0.Add(time.Duration(i*7919%100_000) * time.Minute)}
	}
	if !slices.IsSortedFunc(listing, func(a, b Slide) int { return ComparePaths(a.Name, b.Name) }) {
		b.Fatal("the listing is not in the Folder's order")
	}
	for _, name := range OrderNames {
		b.Run(name, func(b *testing.B) {
			o, _ := NewOrder(name, nil)
			pass := 0
			for b.Loop() {
				pass++
				o.Arrange(listing, pass, listing[pass%len(listing)].Name)
			}
		})
	}
}

// BenchmarkRecall100k is a start from the listing the last run kept, for
// 100,000 photos in 1,000 folders: the file read and checked, the
// listing shown.
func BenchmarkRecall100k(b *testing.B) {
	dir := libraryTree(b, 1000, 100)
	keep := filepath.Join(b.TempDir(), "listing.bin")
	f := NewFolder(dir, FolderOptions{Remember: keep})
	f.Scan()
	f.keep(true)
	b.ResetTimer()
	for b.Loop() {
		g := NewFolder(dir, FolderOptions{Remember: keep})
		g.recall()
		if list, _ := g.Slides(); len(list) != 100_000 {
			b.Fatalf("recalled %d", len(list))
		}
	}
}
