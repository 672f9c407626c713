#!/usr/bin/env python3
"""Makes the README's gallery (docs/gallery/*.jpg) with the built binary.

    go build -o /tmp/slidestream . && scripts/gallery.py /tmp/slidestream

Each picture is a frame slidestream itself sent for the bundled images/,
480 px wide (?width=480 of a --fit 1280x720 box), or an e-paper still
(400x240 in four palettes), so what the README shows is what a screen
gets.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

OUT = os.path.join(os.path.dirname(__file__), "..", "docs", "gallery")


# The measured inks of the colour panels (encode/still.go), nominal first.
SEEN = {
    "spectra6": [("000000", "212122"), ("ffffff", "b9b1b1"), ("ffff00", "c8af4b"), ("ff0000", "610e0e"),
                 ("0000ff", "4152a0"), ("00ff00", "193d1e")],
    "acep7": [("000000", "191e21"), ("ffffff", "f1f1f1"), ("00ff00", "53a428"), ("0000ff", "31318f"),
              ("ff0000", "d20e13"), ("ffff00", "f3cf11"), ("ff8000", "b85e1c")],
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, binary, *args):
        self.port = free_port()
        self.state = tempfile.mkdtemp()
        self.proc = subprocess.Popen(
            [binary, "--addr", f"127.0.0.1:{self.port}", "--state-dir", self.state, "--dir", "images", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()
                if b"showing" in urllib.request.urlopen(self.url + "/healthz", timeout=1).read():
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("the server did not start")

    def get(self, path):
        return urllib.request.urlopen(self.url + path, timeout=30).read()

    def post(self, path):
        req = urllib.request.Request(self.url + path, method="POST", data=b"")
        return json.loads(urllib.request.urlopen(req, timeout=30).read())

    def show(self, name):
        for _ in range(10):
            if json.loads(self.get("/api/state"))["showing"] == name:
                return
            self.post("/api/next")
        raise SystemExit(f"never got to {name}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")


def parts(url, seconds):
    """The stream's parts for a while, as (arrival time, JPEG bytes)."""
    r = urllib.request.urlopen(url, timeout=10)
    end = time.time() + seconds
    out = []
    while time.time() < end:
        line = r.readline()
        if not line.startswith(b"--"):
            continue
        length = 0
        while True:
            h = r.readline().strip()
            if not h:
                break
            m = re.match(rb"(?i)content-length:\s*(\d+)", h)
            if m:
                length = int(m.group(1))
        out.append((time.time(), r.read(length)))
    r.close()
    return out


def main():
    binary = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    portrait = "2-colorful-cups.jpg"
    looks = [
        ("fit-bars.jpg", []),
        ("fill-blur.jpg", ["--fill", "blur"]),
        ("fill-blur-caption.jpg", ["--fill", "blur", "--caption", "{name} · {index} of {count}"]),
    ]
    for name, extra in looks:
        s = Server(binary, "--fit", "1280x720", "--interval", "1h", *extra)
        try:
            s.show(portrait)
            save(name, s.get("/snapshot?width=480"))
        finally:
            s.stop()
    # E-paper stills: the same photo as the panels get it, 400x240 in
    # each palette's nominal colours (a panel shows each as its own ink).
    s = Server(binary, "--interval", "1h")
    try:
        s.show("1-evening-glow.jpg")
        for palette in ["bw", "gray4", "spectra6", "acep7"]:
            save(f"epaper-{palette}.png", s.get(f"/snapshot?size=400x240&palette={palette}"))
    finally:
        s.stop()
    # The colour stills as their panels show them: each nominal colour
    # replaced by the ink's measured one (ImageMagick does the swap).
    for palette, inks in SEEN.items():
        args = []
        for nominal, seen in inks:
            args += ["-fill", "#" + seen, "-opaque", "#" + nominal]
        src = os.path.join(OUT, f"epaper-{palette}.png")
        dst = os.path.join(OUT, f"epaper-{palette}-seen.png")
        subprocess.run(["convert-im6.q16", src, *args, dst], check=True)
        print(f"epaper-{palette}-seen.png")
    # The middle of a one-second crossfade from the first slide to the
    # second.
    s = Server(binary, "--fit", "1280x720", "--fill", "blur", "--interval", "2s", "--fade", "1s")
    try:
        got = parts(s.url + "/slideshow?width=480", 5)
        distinct = []
        for _, b in got:
            if not distinct or distinct[-1] != b:
                distinct.append(b)
        # slide 1, then 9 frames of fade, then slide 2
        save("fade-middle.jpg", distinct[5])
    finally:
        s.stop()


if __name__ == "__main__":
    main()
