// Package source is the front of the pipeline: which files are slides, and
// in what order they play.
//
// A Folder lists the image files of a directory tree and keeps the
// listing up to date by watching it (fsnotify) and reading it again now
// and then; decode's table of formats says which names are images, and
// its subfolders are the albums. An Index reads what every file's header
// says (size, date taken, orientation, colour profile) in the background
// and keeps it in a state file across restarts. An Order arranges a
// listing into a List, the slides in play order, which a player walks by
// identity (List.Find), so that any order works the same way. Slides are
// named by their path relative to the folder, with / separators.
package source
