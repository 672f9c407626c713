package conformance

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is a real browser the test drives: it loads a page in a w×h
// viewport and takes screenshots when asked, so that what is on screen can
// be timed to the millisecond.
type browser interface {
	navigate(url string) error
	screenshot() (image.Image, error)
}

// startBrowser starts the named browser ("chromium" or "firefox") headless
// with a w×h viewport, or skips the test where it is missing outside CI.
// It is closed when the test ends.
func startBrowser(t *testing.T, name string, w, h int) browser {
	t.Helper()
	switch name {
	case "chromium":
		return startChromium(t, tool(t, "chromium", "chromium-browser", "google-chrome"), w, h)
	case "firefox":
		return startFirefox(t, tool(t, "firefox-esr", "firefox"), w, h)
	}
	t.Fatalf("no browser %q", name)
	return nil
}

// chromium speaks the DevTools protocol over --remote-debugging-pipe:
// JSON messages, each ended by a NUL byte, written to the browser's fd 3
// and read from its fd 4.
type chromium struct {
	mu      sync.Mutex // protects id and the pipe
	in      io.Writer
	out     *bufio.Reader
	id      int
	session string
}

func startChromium(t *testing.T, path string, w, h int) browser {
	t.Helper()
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--host-resolver-rules=MAP * 127.0.0.1", "--user-data-dir="+t.TempDir(),
		fmt.Sprintf("--window-size=%d,%d", w, h), "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, outW} // fds 3 and 4
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmdR.Close()
	outW.Close()
	c := &chromium{in: cmdW, out: bufio.NewReader(outR)}
	t.Cleanup(func() {
		c.call("", "Browser.close", nil, nil)
		cmdW.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		outR.Close()
	})
	var target struct{ TargetID string }
	if err := c.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	var attached struct{ SessionID string }
	if err := c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	c.session = attached.SessionID
	if err := c.call(c.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": w, "height": h, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return c
}

// call sends one command and waits for its answer, passing over events.
func (c *chromium) call(session, method string, params, result any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id++
	msg := map[string]any{"id": c.id, "method": method, "params": params}
	if params == nil {
		msg["params"] = map[string]any{}
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := c.in.Write(append(b, 0)); err != nil {
		return fmt.Errorf("%s: %v", method, err)
	}
	for {
		line, err := c.out.ReadBytes(0)
		if err != nil {
			return fmt.Errorf("%s: %v", method, err)
		}
		var resp struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if err := json.Unmarshal(line[:len(line)-1], &resp); err != nil {
			return fmt.Errorf("%s: %v", method, err)
		}
		if resp.ID != c.id {
			continue // an event, or an answer to nothing we wait for
		}
		if resp.Error != nil {
			return fmt.Errorf("%s: %s", method, resp.Error.Message)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(resp.Result, result)
	}
}

func (c *chromium) navigate(url string) error {
	return c.call(c.session, "Page.navigate", map[string]any{"url": url}, nil)
}

func (c *chromium) screenshot() (image.Image, error) {
	var shot struct{ Data string }
	if err := c.call(c.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		return nil, err
	}
	return decodePNG(shot.Data)
}

// firefox speaks Marionette: JSON messages written as LENGTH:JSON over TCP,
// commands [0, id, name, params] answered by [1, id, error, result].
type firefox struct {
	mu   sync.Mutex // protects id and the connection
	conn net.Conn
	r    *bufio.Reader
	id   int
}

func startFirefox(t *testing.T, path string, w, h int) browser {
	t.Helper()
	profile := t.TempDir()
	// Marionette picks a free port and writes it into the profile. Every
	// host name resolves to 127.0.0.1, so the browser reaches nothing else.
	prefs := `user_pref("marionette.port", 0);
user_pref("network.dns.forceResolve", "127.0.0.1");
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("app.update.disabledForTesting", true);
`
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(prefs), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--headless", "--marionette", "--no-remote", "--profile", profile, "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	f := &firefox{}
	deadline := time.Now().Add(60 * time.Second)
	for f.conn == nil {
		if b, err := os.ReadFile(filepath.Join(profile, "MarionetteActivePort")); err == nil {
			if port, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && port > 0 {
				f.conn, _ = net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			}
		}
		select {
		case <-exited:
			t.Fatalf("firefox exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("firefox's Marionette did not listen within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { f.conn.Close() })
	f.r = bufio.NewReader(f.conn)
	if _, err := f.read(); err != nil { // the greeting
		t.Fatalf("firefox: %v", err)
	}
	if err := f.call("WebDriver:NewSession", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		t.Fatalf("firefox: %v", err)
	}
	if err := f.call("WebDriver:SetWindowRect", map[string]any{"width": w, "height": h}, nil); err != nil {
		t.Fatalf("firefox: %v", err)
	}
	return f
}

func (f *firefox) read() ([]byte, error) {
	n, err := f.r.ReadString(':')
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, ":"))
	if err != nil || size < 0 || size > 64<<20 {
		return nil, fmt.Errorf("marionette: bad message length %q", n)
	}
	b := make([]byte, size)
	_, err = io.ReadFull(f.r, b)
	return b, err
}

func (f *firefox) call(name string, params, result any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.id++
	b, err := json.Marshal([]any{0, f.id, name, params})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f.conn, "%d:%s", len(b), b); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	for {
		m, err := f.read()
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		var resp []json.RawMessage
		if err := json.Unmarshal(m, &resp); err != nil || len(resp) != 4 {
			return fmt.Errorf("%s: bad answer %.200s", name, m)
		}
		if id, _ := strconv.Atoi(string(resp[1])); id != f.id {
			continue
		}
		if string(resp[2]) != "null" {
			return fmt.Errorf("%s: %s", name, resp[2])
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(resp[3], result)
	}
}

func (f *firefox) navigate(url string) error {
	return f.call("WebDriver:Navigate", map[string]any{"url": url}, nil)
}

func (f *firefox) screenshot() (image.Image, error) {
	var shot struct{ Value string }
	if err := f.call("WebDriver:TakeScreenshot", map[string]any{"full": false}, &shot); err != nil {
		return nil, err
	}
	return decodePNG(shot.Value)
}

func decodePNG(b64 string) (image.Image, error) {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, errors.New("screenshot is not a PNG: " + err.Error())
	}
	return m, nil
}
