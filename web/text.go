package web

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable makes a file name or a reason safe to show as text: control
// characters (a name may hold an escape sequence or a line break), the
// marks that reorder text on screen (U+202A–U+202E, U+2066–U+2069) and
// bytes that are not UTF-8 each become U+FFFD. Names are kept as they are
// everywhere a file is looked up; only what is shown is cleaned.
// strings.Map copies only when a rune changes, and writes U+FFFD for a
// byte that is not UTF-8.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if shady(r) {
			return utf8.RuneError
		}
		return r
	}, s)
}

func shady(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
