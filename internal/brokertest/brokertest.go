// Package brokertest runs Debian's mosquitto for tests: a real MQTT
// broker on a free loopback port, with a password file and one user. A
// test skips where mosquitto is not installed, and fails instead under
// CI=true, where .ci/run installs it.
package brokertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
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
	// TLSAddr is where a broker of StartTLS listens with TLS, and CAFile
	// the PEM file of the CA that signed its certificate.
	TLSAddr, CAFile string
	bin             string
	conf            string
	cmd             *exec.Cmd
}

// Start starts a broker, stopped when the test ends.
func Start(t testing.TB) *Broker { return start(t, false) }

// StartTLS starts a broker that also listens with TLS, at TLSAddr, with a
// certificate for 127.0.0.1 from a CA of its own, whose certificate is
// in the PEM file CAFile.
func StartTLS(t testing.TB) *Broker { return start(t, true) }

func start(t testing.TB, withTLS bool) *Broker {
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
	b := &Broker{bin: bin, conf: filepath.Join(dir, "mosquitto.conf")}
	if withTLS {
		b.CAFile = filepath.Join(dir, "ca.pem")
		writeCerts(t, b.CAFile, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	}
	t.Cleanup(b.Stop)
	// The ports are chosen free, then bound by mosquitto: another socket
	// can take one in between, and the broker then never listens. It is
	// started again on other ports.
	for attempt := 1; ; attempt++ {
		b.Addr, b.TLSAddr = freeAddr(t), ""
		_, b.Port, _ = net.SplitHostPort(b.Addr)
		conf := fmt.Sprintf("per_listener_settings false\nallow_anonymous false\npassword_file %s\npersistence false\nlistener %s 127.0.0.1\n", passwd, b.Port)
		if withTLS {
			b.TLSAddr = freeAddr(t)
			_, port, _ := net.SplitHostPort(b.TLSAddr)
			conf += fmt.Sprintf("listener %s 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n", port, b.CAFile,
				filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
		}
		if err := os.WriteFile(b.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		err := b.launch()
		if err == nil {
			return b
		}
		b.Stop()
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("%v; again on other ports", err)
	}
}

// Restart starts the broker again after Stop, on the same port, and
// returns once it listens.
func (b *Broker) Restart(t testing.TB) {
	t.Helper()
	if err := b.launch(); err != nil {
		t.Fatal(err)
	}
}

// launch starts mosquitto and waits until it listens at every address.
func (b *Broker) launch() error {
	b.cmd = exec.Command(b.bin, "-c", b.conf)
	if err := b.cmd.Start(); err != nil {
		return err
	}
	for _, addr := range []string{b.Addr, b.TLSAddr} {
		if addr == "" {
			continue
		}
		listening := false
		for i := 0; i < 100 && !listening; i++ {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				listening = true
			} else {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !listening {
			return fmt.Errorf("mosquitto did not listen at %s", addr)
		}
	}
	return nil
}

// freeAddr is a loopback address with a port free now.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// writeCerts writes a new CA's certificate, and a certificate for
// 127.0.0.1 it signed with its key, as PEM files readable by the broker.
func writeCerts(t testing.TB, caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "slidestream test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, _ := x509.ParseCertificate(caDER)
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	for _, f := range []struct {
		path, kind string
		der        []byte
	}{{caFile, "CERTIFICATE", caDER}, {certFile, "CERTIFICATE", der}, {keyFile, "EC PRIVATE KEY", keyDER}} {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der}), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
