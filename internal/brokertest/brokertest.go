// Package brokertest runs Debian's mosquitto for tests: a real MQTT
// broker on a free loopback port, with a password file and one user. A
// test skips where mosquitto is not installed, and fails instead under
// CI=true, where .ci/run installs it.
package brokertest

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

// The one user of every broker.
const (
	User     = "frame"
	Password = "s3cret-Pa55"
)

// Broker is a running mosquitto.
type Broker struct {
	Addr string // 127.0.0.1:PORT
	Port string
	bin  string
	conf string
	cmd  *exec.Cmd
}

// Start starts a broker, stopped when the test ends.
func Start(t testing.TB) *Broker {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("mosquitto is not installed; .ci/run should install it")
			}
			t.Skip("mosquitto is not installed")
		}
	}
	// Started as root, mosquitto becomes the user mosquitto: its files
	// must be readable by others, and t.TempDir's parent is not.
	dir, err := os.MkdirTemp("", "mosquitto")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	passwd := filepath.Join(dir, "passwd")
	if out, err := exec.Command("mosquitto_passwd", "-b", "-c", passwd, User, Password).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	os.Chmod(passwd, 0o644)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &Broker{Addr: l.Addr().String(), bin: bin, conf: filepath.Join(dir, "mosquitto.conf")}
	l.Close()
	_, b.Port, _ = net.SplitHostPort(b.Addr)
	conf := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\npersistence false\n", b.Port, passwd)
	if err := os.WriteFile(b.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Restart(t)
	t.Cleanup(b.Stop)
	return b
}

// Restart starts the broker again after Stop, on the same port, and
// returns once it listens.
func (b *Broker) Restart(t testing.TB) {
	t.Helper()
	b.cmd = exec.Command(b.bin, "-c", b.conf)
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if c, err := net.Dial("tcp", b.Addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("mosquitto did not listen")
}

// Stop stops the broker, as a restart or a crash of it would.
func (b *Broker) Stop() {
	if b.cmd != nil && b.cmd.Process != nil && b.cmd.ProcessState == nil {
		b.cmd.Process.Signal(syscall.SIGTERM)
		b.cmd.Wait()
	}
}

// Publish sends one message with mosquitto_pub.
func (b *Broker) Publish(t testing.TB, topic, payload string) {
	t.Helper()
	if out, err := exec.Command("mosquitto_pub", "-h", "127.0.0.1", "-p", b.Port, "-u", User, "-P", Password,
		"-t", topic, "-m", payload).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
}

// Read reads up to one message of topic with mosquitto_sub, waiting at
// most 3 s: "" for none.
func (b *Broker) Read(t testing.TB, topic string) string {
	t.Helper()
	out, _ := exec.Command("mosquitto_sub", "-h", "127.0.0.1", "-p", b.Port, "-u", User, "-P", Password,
		"-t", topic, "-C", "1", "-W", "3").Output()
	return strings.TrimSpace(string(out))
}
