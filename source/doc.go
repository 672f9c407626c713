// Package source is the front of the pipeline: which files are slides, and
// in what order they play.
//
// A Folder lists the image files of a directory and keeps the listing up
// to date by polling; decode's table of formats says which names are
// images. An Order arranges a listing into a List, the slides in play
// order, which a player walks by identity (List.Find), so that any order
// works the same way. Slides are named by their path relative to the
// folder, with / separators.
package source
