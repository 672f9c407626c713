package source

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// An Order arranges a listing into play order. A player asks it again
// whenever the listing changes and whenever it has played the list through
// and starts a new pass. An Order that keeps state between calls (a
// shuffle that deals each pass anew) belongs to one player.
type Order interface {
	// Arrange returns the slides of listing (in the Folder's order) in
	// play order for the given pass, the number of times the list has
	// been played through; current names the slide on screen ("" when
	// none). It must not modify listing.
	Arrange(listing []Slide, pass int, current string) *List
}

// OrderNames are the orders NewOrder makes, as --order and ?order= name
// them.
var OrderNames = []string{"name", "shuffle", "taken", "newest"}

// NewOrder makes the order called name. taken gives the date a slide was
// taken, for the orders by date; a slide it knows none for goes by its
// modification time.
func NewOrder(name string, taken func(Slide) (time.Time, bool)) (Order, error) {
	switch name {
	case "name", "":
		return ByName, nil
	case "shuffle":
		return NewShuffle(rand.Uint64()), nil
	case "taken", "newest":
		return ByDate{Taken: taken, Newest: name == "newest"}, nil
	}
	return nil, fmt.Errorf("order %q: want one of %s", name, strings.Join(OrderNames, ", "))
}

// ByName plays slides in the Folder's order: by path in natural order,
// album after album, every pass alike.
var ByName Order = byName{}

type byName struct{}

func (byName) Arrange(listing []Slide, _ int, _ string) *List { return listingList(listing) }

// ByDate plays slides by the date they were taken, oldest first (or newest
// first), and slides of the same date in the Folder's order. As dates
// become known the order settles; a player goes on from the slide on
// screen wherever it lands.
type ByDate struct {
	// Taken gives a slide's date, if known; nil or unknown dates fall
	// back to the file's modification time.
	Taken  func(Slide) (time.Time, bool)
	Newest bool
}

func (o ByDate) Arrange(listing []Slide, _ int, _ string) *List {
	type dated struct {
		when int64 // Unix nanoseconds: an instant, whatever the zone
		i    int
	}
	ds := make([]dated, len(listing))
	for i, s := range listing {
		t := s.ModTime
		if o.Taken != nil {
			if tt, ok := o.Taken(s); ok {
				t = tt
			}
		}
		ds[i] = dated{t.UnixNano(), i}
	}
	slices.SortStableFunc(ds, func(a, b dated) int {
		if o.Newest {
			return cmp.Compare(b.when, a.when)
		}
		return cmp.Compare(a.when, b.when)
	})
	out := make([]Slide, len(listing))
	for k, d := range ds {
		out[k] = listing[d.i]
	}
	return NewList(out)
}

// Shuffle deals every slide exactly once per pass, in a new random order
// each pass, and never the same slide twice in a row across passes. A
// slide added during a pass joins it at a random place still to come; a
// removed one is dropped. It holds the state of its passes: one Shuffle per
// player. It is safe for concurrent use.
type Shuffle struct {
	mu   sync.Mutex
	rng  *rand.Rand
	pass int
	deal []Slide // this pass, in play order
}

// NewShuffle returns a Shuffle whose deals follow from seed.
func NewShuffle(seed uint64) *Shuffle {
	return &Shuffle{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), pass: -1}
}

func (s *Shuffle) Arrange(listing []Slide, pass int, current string) *List {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pass != s.pass || s.deal == nil {
		s.pass = pass
		s.deal = slices.Clone(listing)
		s.rng.Shuffle(len(s.deal), func(i, j int) { s.deal[i], s.deal[j] = s.deal[j], s.deal[i] })
		// The first of a pass is never the slide that ended the last one.
		if len(s.deal) > 1 && s.deal[0].Name == current {
			j := 1 + s.rng.IntN(len(s.deal)-1)
			s.deal[0], s.deal[j] = s.deal[j], s.deal[0]
		}
		return NewList(s.deal)
	}
	// The same pass with a new listing: keep the deal, with each slide at
	// its current version, drop what is gone, and deal what is new into
	// the part of the pass still to come.
	byName := make(map[string]int, len(listing))
	for i, l := range listing {
		byName[l.Name] = i
	}
	seen := make([]bool, len(listing))
	deal := make([]Slide, 0, len(listing))
	at := -1 // the place of current in the new deal
	for _, d := range s.deal {
		i, ok := byName[d.Name]
		if !ok || seen[i] {
			continue
		}
		seen[i] = true
		if d.Name == current {
			at = len(deal)
		}
		deal = append(deal, listing[i])
	}
	var fresh []Slide
	for i, l := range listing {
		if !seen[i] {
			fresh = append(fresh, l)
		}
	}
	if len(fresh) > 0 {
		// Deal what is new among the slides still to come (all of them
		// when nothing shows): a random interleaving of the two, in
		// linear time however many arrive.
		s.rng.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
		rest := slices.Clone(deal[at+1:])
		deal = deal[:at+1]
		i, j := 0, 0
		for i < len(rest) || j < len(fresh) {
			if s.rng.IntN(len(rest)-i+len(fresh)-j) < len(fresh)-j {
				deal = append(deal, fresh[j])
				j++
			} else {
				deal = append(deal, rest[i])
				i++
			}
		}
	}
	s.deal = deal
	return NewList(deal)
}
