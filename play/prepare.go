package play

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"slidestream/internal/urgent"
	"slidestream/source"
)

// slide can be shown, with the channel that signals the next folder change.
func (t *Timeline) pick(ctx context.Context, cur *Slot) (*Slot, string, <-chan struct{}) {
	list, wake := t.Playlist()
	if list.Len() == 0 {
		if !t.hasListing() {
			return nil, "reading the folder", wake // a large library takes a moment
		}
		return nil, t.empty, wake
	}
	start := 0
	if cur != nil {
		if start = after(list, cur); start == list.Len() {
			list, start = t.newPass(), 0
		}
	}
	// Nobody watching a lazy timeline: the slot is chosen by the listing
	// alone, and its frames are rendered only when asked for.
	watched, _ := t.watchers()
	lazy := t.lazy && !watched
	widths := t.preparedWidths()
	// While a slide shows, the slides after it are rendered in parallel.
	// At the start nothing shows yet: the first slide gets the machine to
	// itself, since two large decodes at once each take far longer, and
	// the first frame is what a new screen waits for.
	ahead := sync.OnceFunc(func() {
		if !lazy {
			t.renderAhead(ctx, list, start, widths)
		}
	})
	if cur != nil {
		ahead()
	}
	defer ahead()
	for k := range list.Len() {
		i := (start + k) % list.Len()
		s := list.At(i)
		if t.failures.Stands(s) {
			continue
		}
		if lazy {
			slot := t.newSlot(ctx, s, i, list.Len())
			slot.Pair, _ = t.pairAt(list, i)
			return slot, "", wake
		}
		slot, err := t.prepare(ctx, list, i, cur, widths)
		if ctx.Err() != nil {
			return nil, "", wake
		}
		if err != nil {
			t.failures.Record(s, err)
			continue
		}
		t.failures.Clear(s)
		for _, w := range widths[1:] {
			slot.Frame(ctx, w) // a failure here shows only at that width
		}
		return slot, "", wake
	}
	return nil, fmt.Sprintf("none of the %d images can be shown (see the log)", list.Len()), wake
}

// prepare makes the slot for the frame at place i of list (with its pair,
// if it has one; cur itself if it is that frame), starts rendering it at
// widths and waits for the first. When a pair cannot be shown, the slide at
// i is prepared alone: the other is tried alone in its turn.
func (t *Timeline) prepare(ctx context.Context, list *source.List, i int, cur *Slot, widths []int) (*Slot, error) {
	s := list.At(i)
	pair, _ := t.pairAt(list, i)
	try := func(pair source.Slide) (*Slot, error) {
		slot := cur
		if cur == nil || !cur.Slide.Same(s) || !cur.Pair.Same(pair) {
			slot = t.newSlot(ctx, s, i, list.Len())
			slot.Pair = pair
		}
		for _, w := range widths {
			slot.start(w)
		}
		_, err := slot.Frame(ctx, widths[0])
		return slot, err
	}
	slot, err := try(pair)
	if err != nil && pair.Name != "" && ctx.Err() == nil {
		slot, err = try(source.Slide{})
	}
	if err == nil && t.mover != nil && slot.Pair.Name == "" && slot.moves.Length == 0 {
		slot.moves = t.mover.Moves(slot.Picture())
		slot.moves.Length = min(slot.moves.Length, t.maxMotion)
	}
	return slot, err
}

// newSlot returns a slot for s at place i of n in play order. Its renders
// run under the timeline's ctx, marked as the timeline's own.
func (t *Timeline) newSlot(ctx context.Context, s source.Slide, i, n int) *Slot {
	slot := &Slot{Slide: s, Index: i, Count: n, render: t.render, ctx: urgent.Mark(ctx),
		frames: make(map[int]*future), hold: t.hold}
	if t.hold != nil {
		// A slot dropped before it was ever shown (the listing changed,
		// the channel stopped) lets go of its frames when collected.
		slot.held = &held{}
		runtime.AddCleanup(slot, (*held).letGo, slot.held)
	}
	return slot
}

// renderAhead starts rendering the lookahead slides after the one at start
// in the background, at every prepared width at once (a renderer may
// decode a photo once for all of them); their frames wait in the
// renderer's cache.
func (t *Timeline) renderAhead(ctx context.Context, list *source.List, start int, widths []int) {
	j := start + 1 // where the frame after the one at start begins
	if _, ok := t.pairAt(list, start%list.Len()); ok {
		j++
	}
	for k := 1; k <= min(t.lookahead, list.Len()-1) && j < start+list.Len(); k++ {
		i := j % list.Len()
		s := list.At(i)
		pair, _ := t.pairAt(list, i)
		if pair.Name != "" {
			j++
		}
		j++
		for k, width := range widths {
			// The default width ahead is the timeline's own work; the
			// others wait behind every slide's default width (and move
			// up when their slide comes and asks for them).
			t.renderOneAhead(ctx, Picture{Slide: s, Pair: pair, Index: i, Count: list.Len()}, width, k == 0)
		}
	}
}

// renderOneAhead starts rendering p at width in the background, unless it
// is under way already or its slide cannot be shown; now marks it as
// wanted now (package urgent), as the timeline's own work.
func (t *Timeline) renderOneAhead(ctx context.Context, p Picture, width int, now bool) {
	key := aheadKey{p.Slide.Name, width}
	if t.failures.Stands(p.Slide) {
		return
	}
	t.mu.Lock()
	if t.ahead[key] {
		t.mu.Unlock()
		return
	}
	t.ahead[key] = true
	t.mu.Unlock()
	go func() {
		// When the slide comes up, its render is already in line.
		mark := urgent.Unmarked
		if now {
			mark = urgent.Mark
		}
		t.render.Render(mark(ctx), p, width) // a failure is recorded where renders return
		t.mu.Lock()
		delete(t.ahead, key)
		t.mu.Unlock()
	}()
}
