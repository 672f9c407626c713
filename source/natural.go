package source

import "strings"

// Natural compares two names the way people sort photos: letters without
// regard to case, and runs of digits by their value, so IMG_2 comes
// before IMG_10 and img_3 between them. Names that differ only in case or
// in leading zeros are ordered by their bytes, so the order is total and
// the same on every machine.
func Natural(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			ea, eb := digitsEnd(a, i), digitsEnd(b, j)
			if c := compareNumbers(a[i:ea], b[j:eb]); c != 0 {
				return c
			}
			i, j = ea, eb
			continue
		}
		la, lb := lower(ca), lower(cb)
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		i++
		j++
	}
	switch {
	case len(a)-i < len(b)-j:
		return -1
	case len(a)-i > len(b)-j:
		return 1
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// compareNumbers compares two runs of digits by value, however long.
func compareNumbers(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// ComparePaths orders slide names (paths with / separators) as a Folder
// lists them: a folder's own files first, then its subfolders one after
// the other, each in natural order. Every album is thus one run of the
// listing, and the listing reads like a walk through the tree.
func ComparePaths(a, b string) int {
	for {
		ia, ib := strings.IndexByte(a, '/'), strings.IndexByte(b, '/')
		switch {
		case ia < 0 && ib < 0:
			return Natural(a, b)
		case ia < 0: // a is a file here, b is further down
			return -1
		case ib < 0:
			return 1
		}
		if c := Natural(a[:ia], b[:ib]); c != 0 {
			return c
		}
		a, b = a[ia+1:], b[ib+1:]
	}
}
