package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"slidestream/play"
)

func TestHostAllowed(t *testing.T) {
	var allowed []string
	for _, a := range []string{"frame.example.com", "*.home.arpa"} {
		allowed = append(allowed, hostName(a))
	}
	for _, c := range []struct {
		host string
		want bool
	}{
		{"127.0.0.1:8080", true},
		{"192.168.1.20", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"LOCALHOST.", true},
		{"frame.local:8080", true},
		{"frame.example.com:8080", true},
		{"tv.home.arpa", true},
		{"home.arpa", false},
		{"evil.example:8080", false},
		{"example.com", false},
		{"frame.example.com.evil.example", false},
		{"localhost.evil.example", false},
		{"", false},
	} {
		if got := hostAllowed(c.host, allowed); got != c.want {
			t.Errorf("hostAllowed(%q) = %v; want %v", c.host, got, c.want)
		}
	}
}

// A page on evil.example that points its name at this machine is
// same-origin with it as far as the browser can tell: its commands carry a
// matching Origin and Sec-Fetch-Site: same-origin. The Host gives it away.
func TestCommandsRefuseARebindingHost(t *testing.T) {
	tl := play.NewTimeline(newSource("a.jpg", "b.jpg"), newRenderer(), play.TimelineOptions{Interval: time.Hour, Width: 64})
	run(t, tl)
	ts := httptest.NewServer(NewHandler(tl, HandlerOptions{Width: 64, AllowedHosts: []string{"frame"}}))
	defer ts.Close()
	waitFor(t, tl, "a slide", func(st *play.State) bool { return st.Slide != nil })
	for _, c := range []struct {
		host string
		want int
	}{{"evil.example", http.StatusForbidden}, {"frame", http.StatusOK}, {ts.Listener.Addr().String(), http.StatusOK}} {
		req, _ := http.NewRequest("POST", ts.URL+"/api/pause", nil)
		req.Host = c.host
		req.Header.Set("Origin", "http://"+c.host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("POST /api/pause with Host %q: %s; want %d", c.host, resp.Status, c.want)
		}
	}
	if st, _ := tl.State(); st.Paused != true {
		t.Error("the allowed pause did not pause")
	}
}

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2024/Italy/IMG_1.jpg", "2024/Italy/IMG_1.jpg"},
		{"été.jpg", "été.jpg"},
		{"a\x1b[31mred.jpg", "a\uFFFD[31mred.jpg"},
		{"two\nlines", "two\uFFFDlines"},
		{"gpj.\u202eexe", "gpj.\uFFFDexe"},
		{"bad\xffbyte", "bad\uFFFDbyte"},
	} {
		if got := printable(c.in); got != c.want {
			t.Errorf("printable(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}
