package conformance

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A process killed with no chance to say goodbye is shown offline: its
// last will, left with the broker, says so (Debian's mosquitto, read
// with mosquitto_sub).
func TestMQTTLastWill(t *testing.T) {
	bin := tool(t, "mosquitto", "/usr/sbin/mosquitto")
	sub := tool(t, "mosquitto_sub")
	passwdTool := tool(t, "mosquitto_passwd")
	// Started as root, mosquitto becomes the user mosquitto: its files
	// must be readable by others (t.TempDir's parent is not).
	dir, err := os.MkdirTemp("", "mosquitto")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	passwd := filepath.Join(dir, "passwd")
	if out, err := exec.Command(passwdTool, "-b", "-c", passwd, "frame", "w1ll-test").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	os.Chmod(passwd, 0o644)
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "mosquitto.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\npersistence false\n", port, passwd)), 0o644)
	broker := exec.Command(bin, "-c", conf)
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { broker.Process.Signal(syscall.SIGTERM); broker.Wait() }()
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatal("mosquitto did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	read := func() string {
		out, _ := exec.Command(sub, "-h", "127.0.0.1", "-p", port, "-u", "frame", "-P", "w1ll-test",
			"-t", "slidestream/will/availability", "-C", "1", "-W", "3").Output()
		return strings.TrimSpace(string(out))
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("w1ll-test\n"), 0o600)
	p := startProc(t, "--dir", filepath.Join("..", "images"), "--interval", "1h",
		"--mqtt", "mqtt://frame@"+addr, "--mqtt-password-file", pw, "--mqtt-prefix", "slidestream/will")
	deadline := time.Now().Add(10 * time.Second)
	for read() != "online" {
		if time.Now().After(deadline) {
			t.Fatalf("not online 10 s after start:\n%s", p.logs.String())
		}
	}
	p.kill()
	if got := read(); got != "offline" {
		t.Errorf("after kill -9 the availability topic says %q; want offline", got)
	}
}
