package source

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func names(list []Slide) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}

// write makes the files named (paths relative to dir, folders made as
// needed), each holding its own name.
func write(t testing.TB, dir string, files ...string) {
	t.Helper()
	for _, n := range files {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func scan(dir string, o FolderOptions) *Folder {
	f := NewFolder(dir, o)
	f.Scan()
	return f
}

func TestFolderListsImagesInNameOrder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b.JPG", "a.png", "c.WebP", "d.jpeg", ".hidden.jpg", "notes.txt", "e.gif", "f.jpg~")
	os.Mkdir(filepath.Join(dir, "sub.jpg"), 0o755)
	os.Symlink(filepath.Join(dir, "a.png"), filepath.Join(dir, "link.png"))
	f := scan(dir, FolderOptions{Flat: true})
	list, _ := f.Slides()
	want := []string{"a.png", "b.JPG", "c.WebP", "d.jpeg", "e.gif", "link.png"}
	if got := names(list); !slices.Equal(got, want) {
		t.Errorf("Slides() = %q; want %q", got, want)
	}
	if s, err := f.Stat("c.WebP"); err != nil || !s.Same(list[2]) || f.Path(s.Name) != filepath.Join(dir, "c.WebP") {
		t.Errorf(`Stat("c.WebP") = %+v, %v; want %+v`, s, err, list[2])
	}
	for _, n := range []string{".hidden.jpg", "notes.txt", "missing.jpg", "sub.jpg", "../b.JPG", "sub.jpg/x.jpg"} {
		if s, err := f.Stat(n); err == nil {
			t.Errorf("Stat(%q) = %+v; want an error: the folder does not list it", n, s)
		}
	}
}

// A photo library: albums in subfolders, in natural order, the folder's own
// photos before its albums, and the litter of NAS boxes and operating
// systems left out.
func TestFolderListsAlbumsInNaturalOrder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir,
		"IMG_10.jpg", "img_2.jpg", "IMG_1.jpg",
		"2024/Italy/IMG_0412.jpg", "2024/Italy/IMG_412b.jpg", "2024/Italy/day 2/IMG_9.png",
		"2024/Bretagne/a.webp",
		"2023/x.jpg",
		"2024/cover.jpg",
		// litter
		"@eaDir/IMG_1.jpg/SYNOPHOTO_THUMB_XL.jpg", "#recycle/old.jpg", "#snapshot/daily/IMG_1.jpg",
		".Trash-1000/files/gone.jpg", "lost+found/x.jpg", "2024/._IMG_0412.jpg", "2024/.thumbnails/t.jpg",
		"2024/Italy/.DS_Store", "2024/Italy/notes.txt",
	)
	// A link to a folder is not followed (it could lead back up); a link
	// to a file is that file.
	os.Symlink(dir, filepath.Join(dir, "2024", "loop"))
	os.Symlink(filepath.Join(dir, "2023", "x.jpg"), filepath.Join(dir, "2024", "Bretagne", "link.jpg"))
	f := scan(dir, FolderOptions{})
	list, _ := f.Slides()
	want := []string{
		"IMG_1.jpg", "img_2.jpg", "IMG_10.jpg",
		"2023/x.jpg",
		"2024/cover.jpg",
		"2024/Bretagne/a.webp", "2024/Bretagne/link.jpg",
		"2024/Italy/IMG_0412.jpg", "2024/Italy/IMG_412b.jpg",
		"2024/Italy/day 2/IMG_9.png",
	}
	if got := names(list); !slices.Equal(got, want) {
		t.Errorf("Slides() =\n%q\nwant\n%q", got, want)
	}
	for i, s := range list {
		if f.Path(s.Name) != filepath.Join(dir, filepath.FromSlash(s.Name)) || s.Size == 0 {
			t.Errorf("slide %d: %+v; want the path and size of %s", i, s, s.Name)
		}
	}
	wantAlbums := []Album{{"2023", 1, 1}, {"2024", 1, 6}, {"2024/Bretagne", 2, 2}, {"2024/Italy", 2, 3}, {"2024/Italy/day 2", 1, 1}}
	if got := f.Albums(); !slices.Equal(got, wantAlbums) {
		t.Errorf("Albums() = %v; want %v", got, wantAlbums)
	}
	if !f.HasAlbum("2024/Italy") || f.HasAlbum("2024/loop") || f.HasAlbum("@eaDir") || f.HasAlbum("") || f.HasAlbum("2024/It") {
		t.Error("HasAlbum is wrong about 2024/Italy, a linked folder, litter, the top or a prefix")
	}
	if s, err := f.Stat("2024/Italy/day 2/IMG_9.png"); err != nil || s.Name != "2024/Italy/day 2/IMG_9.png" {
		t.Errorf("Stat of a photo three folders down = %+v, %v", s, err)
	}
	for _, n := range []string{"@eaDir/IMG_1.jpg/SYNOPHOTO_THUMB_XL.jpg", "2024/loop/IMG_1.jpg", "2024/../IMG_1.jpg",
		"/IMG_1.jpg", "2024//cover.jpg", "2024/._IMG_0412.jpg", "./IMG_1.jpg", "2024/Italy/notes.txt"} {
		if s, err := f.Stat(n); err == nil {
			t.Errorf("Stat(%q) = %+v; want an error: the folder does not list it", n, s)
		}
	}

	flat := scan(dir, FolderOptions{Flat: true})
	if got, _ := flat.Slides(); !slices.Equal(names(got), want[:3]) || len(flat.Albums()) != 0 {
		t.Errorf("Flat: Slides() = %q, Albums() = %v; want the top folder's own photos and no albums", names(got), flat.Albums())
	}
}

func TestNaturalOrder(t *testing.T) {
	in := []string{"IMG_10.jpg", "img_2.jpg", "IMG_2.jpg", "IMG_1.jpg", "IMG_002.jpg", "b", "A", "a", "a1b", "a01b", "x99999999999999999999999", "x100000000000000000000000", "x9"}
	slices.SortFunc(in, Natural)
	want := []string{"A", "a", "a01b", "a1b", "b", "IMG_1.jpg", "IMG_002.jpg", "IMG_2.jpg", "img_2.jpg", "IMG_10.jpg", "x9", "x99999999999999999999999", "x100000000000000000000000"}
	if !slices.Equal(in, want) {
		t.Errorf("natural order:\n%q\nwant\n%q", in, want)
	}
	for _, p := range [][2]string{{"a.jpg", "a/b.jpg"}, {"z.jpg", "a/b.jpg"}, {"a/z.jpg", "a/b/c.jpg"}, {"a/b/c.jpg", "b/a.jpg"}, {"2/x.jpg", "10/a.jpg"}} {
		if ComparePaths(p[0], p[1]) >= 0 || ComparePaths(p[1], p[0]) <= 0 {
			t.Errorf("ComparePaths: want %s before %s", p[0], p[1])
		}
	}
}

func TestFolderSignalsChanges(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.jpg")
	os.WriteFile(a, []byte("one"), 0o644)
	f := scan(dir, FolderOptions{})
	before, changed := f.Slides()

	f.Scan() // nothing changed
	select {
	case <-changed:
		t.Fatal("a scan without changes signalled a change")
	default:
	}

	os.WriteFile(a, []byte("three"), 0o644) // same name, new size
	os.Chtimes(a, time.Now(), time.Now().Add(time.Second))
	f.Scan()
	select {
	case <-changed:
	default:
		t.Fatal("replacing a file did not signal a change")
	}
	after, _ := f.Slides()
	if len(after) != 1 || after[0].Same(before[0]) {
		t.Errorf("after replacing a.jpg: %+v; want a new version of it", after)
	}

	os.RemoveAll(dir) // a vanished folder is an empty list, not an error
	f.Scan()
	if list, _ := f.Slides(); len(list) != 0 {
		t.Errorf("Slides() of a deleted folder = %q; want none", names(list))
	}
}

// waitFor waits up to limit for the listing to satisfy ok, and says how
// long it took.
func waitFor(t *testing.T, f *Folder, limit time.Duration, ok func([]string) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		list, changed := f.Slides()
		if ok(names(list)) {
			return time.Since(start)
		}
		select {
		case <-changed:
		case <-time.After(start.Add(limit).Sub(time.Now())):
			t.Fatalf("after %v the listing is %q", limit, names(list))
		}
	}
}

// Watching a tree: additions deep down, replacements, new albums and
// deleted ones show up without rescans, each within a few seconds (about
// 0.2 s on a quiet machine; the bound leaves room for a CI machine busy
// with other packages' tests under the race detector).
func TestFolderWatchSeesChangesAnywhere(t *testing.T) {
	const watchWait = 6 * time.Second
	dir := t.TempDir()
	write(t, dir, "top.jpg", "2024/Italy/a.jpg", "2024/Italy/b.jpg")
	f := NewFolder(dir, FolderOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Watch(ctx, 0) // notifications only
	waitFor(t, f, watchWait, func(n []string) bool { return len(n) == 3 })

	write(t, dir, "2025/a/b/c/deep.jpg") // four folders down, all of them new
	took := waitFor(t, f, watchWait, func(n []string) bool { return slices.Contains(n, "2025/a/b/c/deep.jpg") })
	t.Logf("a photo added four folders deep was listed after %v", took)

	write(t, dir, "2025/a/b/c/deeper.png") // into the folder just found
	waitFor(t, f, watchWait, func(n []string) bool { return slices.Contains(n, "2025/a/b/c/deeper.png") })

	list, _ := f.Slides()
	os.WriteFile(filepath.Join(dir, "2024", "Italy", "a.jpg"), []byte("a new picture"), 0o644)
	waitFor(t, f, watchWait, func([]string) bool {
		now, _ := f.Slides()
		return len(now) == len(list) && !now[1].Same(list[1]) && now[1].Name == "2024/Italy/a.jpg"
	})

	os.RemoveAll(filepath.Join(dir, "2024")) // a deleted album
	took = waitFor(t, f, watchWait, func(n []string) bool {
		return slices.Equal(n, []string{"top.jpg", "2025/a/b/c/deep.jpg", "2025/a/b/c/deeper.png"})
	})
	t.Logf("a deleted album left the listing after %v", took)
	if f.HasAlbum("2024") || f.HasAlbum("2024/Italy") || !f.HasAlbum("2025/a/b") {
		t.Errorf("albums after deleting 2024: %v", f.Albums())
	}

	os.Rename(filepath.Join(dir, "2025"), filepath.Join(dir, "2026")) // an album renamed
	waitFor(t, f, watchWait, func(n []string) bool {
		return slices.Equal(n, []string{"top.jpg", "2026/a/b/c/deep.jpg", "2026/a/b/c/deeper.png"})
	})
	write(t, dir, "2026/a/b/c/d/new.jpg") // and the renamed one is watched too
	waitFor(t, f, watchWait, func(n []string) bool { return slices.Contains(n, "2026/a/b/c/d/new.jpg") })
}

// Where notifications never come (network mounts), the rescan finds
// changes.
func TestFolderRescansWithoutNotifications(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.jpg")
	f := NewFolder(dir, FolderOptions{})
	f.Scan()
	write(t, dir, "sub/b.jpg")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Watch(ctx, 100*time.Millisecond)
	waitFor(t, f, 2*time.Second, func(n []string) bool { return slices.Equal(n, []string{"a.jpg", "sub/b.jpg"}) })
}
