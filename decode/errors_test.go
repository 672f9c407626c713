package decode

import (
	"errors"
	"strings"
	"testing"
)

// A decoder's message becomes one line of a reason: a trap in a
// WebAssembly decoder brings its whole stack, which belongs in no page.
func TestReasonIsOneLine(t *testing.T) {
	trap := errors.New("wasm error: out of bounds memory access\nwasm stack trace:\n\tlibheif.decode(i32)\n\t" + strings.Repeat("x", 5000))
	err := corrupt("photo.heic", HEIC, trap)
	var de *Error
	if !errors.As(err, &de) || strings.ContainsAny(de.Reason, "\n\t") || len(de.Reason) > maxReasonLine+100 {
		t.Fatalf("reason %q; want one short line", de.Reason)
	}
	if !strings.Contains(de.Reason, "out of bounds memory access") {
		t.Errorf("reason %q lost the decoder's first line", de.Reason)
	}
	long := corrupt("photo.heic", HEIC, errors.New(strings.Repeat("é", 1000)))
	if r := long.(*Error).Reason; !strings.HasSuffix(r, "é…") {
		t.Errorf("a long message is cut to %q; want it cut between characters, marked", r[len(r)-10:])
	}
}
