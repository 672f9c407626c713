package conformance

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"slidestream/internal/brokertest"
)

// A process killed with no chance to say goodbye is shown offline: its
// last will, left with the broker, says so (Debian's mosquitto, read
// with mosquitto_sub).
func TestMQTTLastWill(t *testing.T) {
	b := brokertest.Start(t)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(brokertest.Password+"\n"), 0o600)
	p := startProc(t, "--dir", filepath.Join("..", "images"), "--interval", "1h",
		"--mqtt", "mqtt://"+brokertest.User+"@"+b.Addr, "--mqtt-password-file", pw, "--mqtt-prefix", "slidestream/will")
	deadline := time.Now().Add(10 * time.Second)
	for b.Read(t, "slidestream/will/availability") != "online" {
		if time.Now().After(deadline) {
			t.Fatalf("not online 10 s after start:\n%s", p.logs.String())
		}
	}
	p.kill()
	if got := b.Read(t, "slidestream/will/availability"); got != "offline" {
		t.Errorf("after kill -9 the availability topic says %q; want offline", got)
	}
}
