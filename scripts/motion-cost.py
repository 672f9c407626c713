#!/usr/bin/env python3
"""What motion costs: server CPU per second of motion, bytes per client per
second, and how soon the first motion frame follows the slide's change, for
a 1080p H.264 clip and a Live Photo with a 1080p HEVC video, at 1280 and 640
pixels and 15 frames a second; then the same clip to 1 and to 50 clients.

    go build -o /tmp/slidestream . && scripts/motion-cost.py /tmp/slidestream

ffmpeg makes the clips (testsrc2, 30 frames a second). Each run starts the
server on a folder of a black still and the clip (or the Live Photo) at
--interval 3s and connects the clients. The clip's frames are made ahead
while the still shows, so CPU is counted from the first client's
connection to the end of the motion, less the same with --motion stills
(run alternately): the server's user and system time from /proc, with its
ffmpeg children's (those that ended, and those still running). Bytes and
frames are counted from the moment the first client gets the clip's first
frame (its poster) to the end of its motion.
"""
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def folders(tmp):
    clip = os.path.join(tmp, "clip")
    live = os.path.join(tmp, "live")
    for d in (clip, live):
        os.makedirs(d)
        ffmpeg("-f", "lavfi", "-i", "color=c=black:s=1920x1080:d=1", "-frames:v", "1", os.path.join(d, "0-black.png"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30:d=10", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
           "-pix_fmt", "yuv420p", os.path.join(clip, "clip.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1920x1080:d=1", "-frames:v", "1", "-q:v", "3", os.path.join(live, "IMG_0001.JPG"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30:d=3", "-c:v", "libx265", "-preset", "veryfast", "-crf", "26",
           "-tag:v", "hvc1", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error", os.path.join(live, "IMG_0001.MOV"))
    return {"1080p H.264 clip (10 s)": (clip, 10.0), "Live Photo, 1080p HEVC video (3 s)": (live, 3.0)}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu(pid):
    """The process's CPU seconds, with its children's, ended or running."""
    def own(p):
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12]), int(f[13]) + int(f[14]), int(f[1])
    mine, waited, _ = own(pid)
    total = mine + waited
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                t, w, ppid = own(p)
            except (OSError, IndexError):
                continue
            if ppid == pid:
                total += t + w
    return total / TICK


class Client(threading.Thread):
    """Reads the stream, noting each part's arrival."""

    def __init__(self, url, parts):
        super().__init__(daemon=True)
        self.url, self.parts, self.bytes, self.stop = url, parts, 0, False
        self.times = []

    def run(self):
        r = urllib.request.urlopen(self.url)
        boundary = r.headers.get_content_type() and r.headers.get_param("boundary")
        while not self.stop:
            line = r.readline()
            if not line:
                return
            self.bytes += len(line)
            if not line.startswith(b"Content-Length:"):
                continue
            n = int(line.split(b":")[1])
            self.bytes += len(r.readline())
            body = r.read(n)
            self.bytes += n
            if self.parts:
                self.times.append((time.monotonic(), hashlib.md5(body).digest()))


def run(binary, folder, length, width, clients, motion="auto"):
    port = free_port()
    p = subprocess.Popen([binary, "--addr", f"127.0.0.1:{port}", "--state-dir", "", "--dir", folder, "--interval", "3s",
                          "--width", str(width), "--motion-fps", "15", "--max-clip", "30s", "--motion", motion],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz").read()
                break
            except OSError:
                time.sleep(0.05)
        # One client is read here; the others are curl, which costs the
        # two cores less than Python's readers would.
        c_start = cpu(p.pid)
        cs = [Client(base + "/slideshow", True)]
        cs[0].start()
        others = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w", "%{size_download}", "--max-time", str(length + 6),
                                    base + "/slideshow"], stdout=subprocess.PIPE) for _ in range(clients - 1)]
        first = cs[0]
        # The first part is the black still; the clip's poster is the
        # first part after it that differs.
        while len(first.times) < 1:
            time.sleep(0.005)
        black = first.times[0][1]
        while True:
            poster = next((t for t, h in first.times if h != black), None)
            if poster is not None:
                break
            time.sleep(0.002)
        c0, b0 = cpu(p.pid), first.bytes
        time.sleep(max(0, poster + length - time.monotonic()))
        c1, b1 = cpu(p.pid), first.bytes
        after = [t for t, h in first.times if t > poster]
        hashes = [h for t, h in first.times if t > poster]
        poster_hash = next(h for t, h in first.times if t == poster)
        motion = next((t for t, h in zip(after, hashes) if h != poster_hash), None)
        if motion is None:
            motion = poster + length  # stills: no motion
        first.stop = True
        # Each curl read its stream for about length + 6 s; the first
        # client's bytes over the motion are the figure, the others' a
        # check that none fell far behind.
        got = [int(o.communicate()[0] or 0) for o in others]
        slowest = min(got) / (length + 6) if got else float("nan")
        return {
            "cpu": c1 - c_start,
            "cpu_per_s": (c1 - c0) / length,
            "bytes_per_client_per_s": (b1 - b0) / length,
            "slowest_per_s": slowest,
            "first_motion_ms": (motion - poster) * 1000 if motion else float("nan"),
            "frames_per_s": len(after) / length,
        }
    finally:
        p.terminate()
        p.wait()


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tmp = tempfile.mkdtemp()
    sets = folders(tmp)
    print(f"{os.cpu_count()} cores; medians of {runs} runs")
    print(f"{'motion':38} {'width':>5} {'clients':>7} {'CPU s/s':>8} {'KB/s a client':>13} {'frames/s':>8} {'1st motion ms':>13} {'slowest KB/s':>12}")
    cases = [(name, w, 1) for name in sets for w in (1280, 640)]
    cases.append((next(iter(sets)), 640, 50))
    for name, width, clients in cases:
        folder, length = sets[name]
        # Motion is made ahead while its slide is next, so its cost is
        # counted from the first client's connection to the end of the
        # motion, less the same with --motion stills, run alternately.
        rs = []
        for _ in range(runs):
            r = run(binary, folder, length, width, clients)
            still = run(binary, folder, length, width, clients, "stills")
            r["cpu_per_s"] = (r["cpu"] - still["cpu"]) / length
            rs.append(r)

        def med(k):
            v = sorted(r[k] for r in rs)
            return v[len(v) // 2]
        print(f"{name:38} {width:5} {clients:7} {med('cpu_per_s'):8.2f} {med('bytes_per_client_per_s') / 1024:13.0f} "
              f"{med('frames_per_s'):8.1f} {med('first_motion_ms'):13.0f} {med('slowest_per_s') / 1024:12.0f}")


if __name__ == "__main__":
    main()
