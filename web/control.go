package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"path"
	"time"

	"slidestream/play"
)

// Remote control, per channel: the same ?album=, ?order= and ?interval=
// that pick a stream pick the channel a command goes to.
//
//	POST /api/next, /api/prev, /api/pause, /api/resume
//	GET  /api/state
//	GET  /control (buttons for the above, for a phone)

// StateReport is the answer of /api/state and of every command.
type StateReport struct {
	Channel ChannelReport `json:"channel"`
	// Showing is the slide on screen, at Index (from 1) of Count.
	Showing string `json:"showing,omitempty"`
	// Album is the folder the slide is in, Taken when it was taken (when
	// known).
	Album string     `json:"album,omitempty"`
	Taken *time.Time `json:"taken,omitempty"`
	// Pair is the portrait shown beside it (--pair-portraits).
	Pair  string `json:"pair,omitempty"`
	Index int    `json:"index,omitempty"`
	Count int    `json:"count"`
	// Next is the slide that follows, when it is known.
	Next   string `json:"next,omitempty"`
	Paused bool   `json:"paused"`
	Asleep bool   `json:"asleep"`
	// Wake is when the sleep hours end, while Asleep.
	Wake *time.Time `json:"wake,omitempty"`
	// SecondsToNext is how long until the slide changes: while paused,
	// what will be left once resumed; while asleep, until waking.
	SecondsToNext float64 `json:"seconds_to_next"`
	// Reason says why nothing is showing.
	Reason string `json:"reason,omitempty"`
}

// ChannelReport names the channel a report is about.
type ChannelReport struct {
	Album    string `json:"album"`
	Order    string `json:"order"`
	Interval string `json:"interval"`
	Taken    string `json:"taken,omitempty"`
	Days     int    `json:"days,omitempty"`
	Screen   string `json:"screen,omitempty"`
}

// ops are the commands by the last element of their path.
var ops = map[string]play.Op{"next": play.OpNext, "prev": play.OpPrev, "pause": play.OpPause, "resume": play.OpResume,
	"sleep": play.OpSleep, "wake": play.OpWake}

// commandWait bounds how long a command waits for its change to show: the
// slide to go back to may need rendering, or the timeline may be busy
// rendering the next one.
const commandWait = 30 * time.Second

func (h *Handler) serveCommand(w http.ResponseWriter, r *http.Request) {
	op, ok := ops[r.PathValue("op")]
	if !ok {
		http.Error(w, "no such command: want next, prev, pause, resume, sleep or wake", http.StatusNotFound)
		return
	}
	tl, c, leave := h.channel(w, r)
	if tl == nil {
		return
	}
	defer leave()
	err := h.control(r.Context(), tl, c, r.PathValue("op"), op, r.RemoteAddr)
	switch {
	case errors.Is(err, play.ErrNothingBefore), errors.Is(err, play.ErrAsleep):
		http.Error(w, err.Error(), http.StatusConflict)
		return
	case errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "the slideshow did not answer in time", http.StatusServiceUnavailable)
		return
	case err != nil:
		return // the client left
	}
	writeJSON(w, h.namedReport(r.URL.Query(), tl, c))
}

// control runs op (named name) on tl, channel c's timeline, for by,
// waiting at most commandWait for its change to show, and logs it: the
// one path of every transport's commands.
func (h *Handler) control(ctx context.Context, tl *play.Timeline, c play.Channel, name string, op play.Op, by string) error {
	ctx, cancel := context.WithTimeout(ctx, commandWait)
	defer cancel()
	if err := tl.Control(ctx, op); err != nil {
		return err
	}
	h.log.Info("remote control", "command", name, "channel", c.String(), "by", by)
	return nil
}

func (h *Handler) serveState(w http.ResponseWriter, r *http.Request) {
	tl, c, leave := h.channel(w, r)
	if tl == nil {
		return
	}
	defer leave()
	writeJSON(w, h.namedReport(r.URL.Query(), tl, c))
}

// stateReport describes what tl shows now.
func (h *Handler) stateReport(tl *play.Timeline, c play.Channel) StateReport {
	st, _ := tl.State()
	list, _ := tl.Playlist()
	r := StateReport{
		Channel: ChannelReport{Album: c.Album, Order: c.Order, Interval: st.Interval.String(), Taken: c.Taken, Days: c.Days},
		Count:   list.Len(),
		Paused:  st.Paused,
		Asleep:  st.Asleep,
		Reason:  st.Reason,
	}
	now := time.Now()
	seconds := func(d time.Duration) float64 { return math.Round(max(d, 0).Seconds()*10) / 10 }
	switch {
	case st.Asleep && st.Wake.IsZero(): // asleep until woken
	case st.Asleep:
		r.Wake = &st.Wake
		r.SecondsToNext = seconds(st.Wake.Sub(tl.Now()))
	case st.Paused:
		r.SecondsToNext = seconds(st.Left)
	case !st.NextAt.IsZero():
		r.SecondsToNext = seconds(st.NextAt.Sub(now))
	}
	if st.Slide == nil {
		return r
	}
	r.Showing, r.Pair = st.Slide.Slide.Name, st.Slide.Pair.Name
	if dir := path.Dir(r.Showing); dir != "." {
		r.Album = dir
	}
	if h.inspect != nil {
		if info, read, err := h.inspect.Inspect(st.Slide.Slide); read && err == nil && !info.Taken.IsZero() {
			r.Taken = &info.Taken
		}
	}
	r.Index = st.Slide.Index + 1
	if i, ok := list.Find(r.Showing); ok {
		r.Index = i + 1
	}
	switch {
	case st.Next != nil:
		r.Next = st.Next.Slide.Name
	case list.Len() > 0:
		if next, ok := play.NextAfter(list, st.Slide); ok {
			r.Next = next.Name
		}
	}
	return r
}

var controlPage = template.Must(template.New("control").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>slidestream remote</title>
<style>
body { font: 18px system-ui, sans-serif; margin: 0; padding: 1rem; background: #111; color: #eee; }
.row { display: flex; gap: .5rem; margin: 1rem 0; }
button { flex: 1; font-size: 1.2rem; padding: 1rem 0; border: 0; border-radius: .6rem; background: #333; color: #fff; }
button:active { background: #555; }
img { width: 100%; border-radius: .4rem; background: #000; }
#state { color: #aaa; min-height: 3em; word-break: break-all; }
</style>
</head>
<body>
<img id="shot" alt="">
<div class="row">
<button data-op="prev">&lsaquo; Back</button>
<button data-op="pause">Pause</button>
<button data-op="resume">Play</button>
<button data-op="next">Next &rsaquo;</button>
</div>
<div id="state"></div>
<script>
var q = {{.Query}};
var sep = q ? "?" + q : "";
function show(s) {
  var t = s.asleep ? "sleeping" : s.showing ? s.showing + " (" + s.index + " of " + s.count + ")" : (s.reason || "");
  if (s.paused) t += ", paused";
  else if (!s.asleep && s.showing) t += ", next in " + Math.round(s.seconds_to_next) + " s";
  document.getElementById("state").textContent = t;
}
function refresh() {
  fetch("api/state" + sep).then(function (r) { return r.json(); }).then(function (s) {
    show(s);
    document.getElementById("shot").src = "snapshot?" + (q ? q + "&" : "") + "width=640&t=" + Date.now();
  }).catch(function () {});
}
document.querySelectorAll("button").forEach(function (b) {
  b.addEventListener("click", function () {
    fetch("api/" + b.dataset.op + sep, { method: "POST" }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { document.getElementById("state").textContent = t; });
      return r.json().then(function (s) { show(s); refresh(); });
    });
  });
});
refresh();
setInterval(refresh, 3000);
</script>
</body>
</html>
`))

func (h *Handler) serveControl(w http.ResponseWriter, r *http.Request) {
	tl, c, leave := h.channel(w, r)
	if tl == nil {
		return
	}
	leave()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	q := channelQuery(c, h.base())
	if ref, ok := screenOf(r); ok {
		q = url.Values{"screen": {ref.name}}
	}
	controlPage.Execute(w, struct{ Query string }{q.Encode()})
}

// Other transports (MQTT) drive the channels through the same code as
// the HTTP commands: a channel is named by a query as the URLs name it
// (album, order, interval, taken, days, or screen=NAME).

// publicQuery is q with a screen applied, as a request's would be.
func (h *Handler) publicQuery(q url.Values) (url.Values, error) {
	c := url.Values{}
	for k, v := range q {
		if k != lookParam {
			c[k] = v
		}
	}
	if name := c.Get("screen"); name != "" {
		if err := h.applyScreen(c, name); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Command runs op (next, prev, pause or resume) on the channel q names,
// as POST /api/OP does, for client, and returns the state after it. A
// refusal (prev with nothing before, a command while asleep) is an error
// wrapping play.ErrNothingBefore or play.ErrAsleep.
func (h *Handler) Command(ctx context.Context, q url.Values, op, client string) (StateReport, error) {
	o, ok := ops[op]
	if !ok {
		return StateReport{}, fmt.Errorf("no such command %q: want next, prev, pause, resume, sleep or wake", op)
	}
	q, err := h.publicQuery(q)
	if err != nil {
		return StateReport{}, err
	}
	tl, c, release, err := h.acquire(q, client)
	if err != nil {
		return StateReport{}, err
	}
	defer release()
	err = h.control(ctx, tl, c, op, o, client)
	return h.namedReport(q, tl, c), err
}

// Follow calls each with the state of the channel q names now and at
// every change, holding the channel for client, until ctx ends. When the
// default channel or the screen q names is set to another album (or the
// screens file changes), it follows the channel it stands for then.
func (h *Handler) Follow(ctx context.Context, asked url.Values, client string, each func(StateReport)) error {
	for ctx.Err() == nil {
		moved := h.changed()
		q, err := h.publicQuery(asked)
		if err != nil {
			return err
		}
		tl, c, release, err := h.acquire(q, client)
		if err != nil {
			return err
		}
		for again := true; again; {
			_, changed := tl.State()
			each(h.namedReport(q, tl, c))
			select {
			case <-ctx.Done():
				release()
				return nil
			case <-moved:
				again = false
			case <-changed:
			}
		}
		release()
	}
	return nil
}

// namedReport is the state report of c, naming the screen q asks for (a
// request's query names it once resolved).
func (h *Handler) namedReport(q url.Values, tl *play.Timeline, c play.Channel) StateReport {
	rep := h.stateReport(tl, c)
	rep.Channel.Screen = q.Get("screen")
	return rep
}
