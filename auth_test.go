package main

import (
	"image/color"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBasicAuth(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 64, 40, color.RGBA{0, 0, 200, 255})
	pwFile := filepath.Join(t.TempDir(), "auth")
	os.WriteFile(pwFile, []byte("screen:s3cret pass\n"), 0o600)

	for _, flags := range [][]string{{"--auth", "screen:s3cret pass"}, {"--auth-file", pwFile}} {
		s := startServer(t, append([]string{"--dir", dir}, flags...)...)
		get := func(path, user, pass string) *http.Response {
			req, _ := http.NewRequest("GET", s.url+path, nil)
			if user != "" {
				req.SetBasicAuth(user, pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		for _, path := range []string{"/", "/snapshot", "/metrics", "/api/images", "/images"} {
			if r := get(path, "", ""); r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%v: GET %s without credentials: %s, WWW-Authenticate %q; want 401 asking for Basic",
					flags[0], path, r.Status, r.Header.Get("WWW-Authenticate"))
			}
			if r := get(path, "screen", "s3cret"); r.StatusCode != 401 {
				t.Errorf("%v: GET %s with a wrong password: %s; want 401", flags[0], path, r.Status)
			}
			if r := get(path, "screen", "s3cret pass"); r.StatusCode != 200 {
				t.Errorf("%v: GET %s with the password: %s; want 200", flags[0], path, r.Status)
			}
		}
		if r := get("/healthz", "", ""); r.StatusCode != 200 {
			t.Errorf("%v: /healthz without credentials: %s; want 200 (health checks carry none)", flags[0], r.Status)
		}
		// Open to all, it tells only that the server is up.
		resp, err := http.Get(s.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok\n" {
			t.Errorf("%v: /healthz behind --auth says %q; want only \"ok\" (no file names, no folder)", flags[0], body)
		}
		if !strings.Contains(s.logs.String(), "authentication is on") {
			t.Errorf("%v: the log does not say authentication is on:\n%s", flags[0], s.logs.String())
		}
	}
	s := startServer(t, "--dir", dir)
	http.Get(s.url + "/healthz") // serve has logged its start by the time it answers
	if !strings.Contains(s.logs.String(), "authentication is off") {
		t.Errorf("without --auth the log does not say authentication is off:\n%s", s.logs.String())
	}
}
