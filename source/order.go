package source

// An Order arranges a listing into play order. A player asks it again
// whenever the listing changes and whenever it has played the list through
// and starts a new pass. An Order that keeps state between calls (a
// shuffle that deals each pass anew) belongs to one player.
type Order interface {
	// Arrange returns the slides of listing (in the Folder's name order)
	// in play order for the given pass, the number of times the list has
	// been played through. It must not modify listing.
	Arrange(listing []Slide, pass int) *List
}

// ByName plays slides in the Folder's order: by name, every pass alike.
var ByName Order = byName{}

type byName struct{}

func (byName) Arrange(listing []Slide, _ int) *List { return NewList(listing) }
