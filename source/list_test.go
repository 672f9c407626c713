package source

import (
	"fmt"
	"testing"
	"time"
)

func TestListFindsSlidesByName(t *testing.T) {
	l := NewList([]Slide{{Name: "c"}, {Name: "a"}, {Name: "b"}, {Name: "a"}})
	for name, want := range map[string]int{"c": 0, "a": 1, "b": 2} {
		if i, ok := l.Find(name); !ok || i != want || l.At(i).Name != name {
			t.Errorf("Find(%q) = %d, %v; want %d", name, i, ok, want)
		}
	}
	if _, ok := l.Find("z"); ok {
		t.Error(`Find("z") found a slide that is not there`)
	}
	if l.Len() != 4 {
		t.Errorf("Len = %d; want 4", l.Len())
	}
}

func TestByNameKeepsTheListingEveryPass(t *testing.T) {
	listing := []Slide{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	for pass := range 3 {
		if got := names(ByName.Arrange(listing, pass, "").Slides()); fmt.Sprint(got) != "[a b c]" {
			t.Errorf("pass %d: ByName = %v; want [a b c]", pass, got)
		}
	}
}

func TestSameIsOneVersion(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	a := Slide{Name: "a.jpg", Size: 10, ModTime: t0}
	for _, tt := range []struct {
		o    Slide
		same bool
	}{
		{Slide{Name: "a.jpg", Size: 10, ModTime: t0.In(time.Local)}, true},
		{Slide{Name: "a.jpg", Size: 11, ModTime: t0}, false},
		{Slide{Name: "a.jpg", Size: 10, ModTime: t0.Add(1)}, false},
		{Slide{Name: "b.jpg", Size: 10, ModTime: t0}, false},
	} {
		if got := a.Same(tt.o); got != tt.same {
			t.Errorf("%+v.Same(%+v) = %v; want %v", a, tt.o, got, tt.same)
		}
	}
}
