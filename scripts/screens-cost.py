#!/usr/bin/env python3
"""Five screens of different presentation in one process, against five
processes each with one of the presentations: CPU and peak memory of one
cycle over the bundled images/ (every photo once on every screen).

    go build -o /tmp/slidestream . && scripts/screens-cost.py /tmp/slidestream

Each screen's cycle asks for its snapshot, then moves to the next slide,
one screen after another; --interval 1h keeps the clock out of it. CPU
is the processes' user and system time from /proc, from their start (a
process whose default channel is the screen renders ahead while it
starts), memory their peak resident size (VmHWM), summed over the five
processes.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SCREENS = {
    "tv": ["--fit", "1920x1080", "--fill", "blur", "--caption", "{name}"],
    "kitchen": ["--width", "1024"],
    "frame": ["--fit", "1024x768", "--fill", "crop"],
    "phone": ["--width", "640", "--quality", "70"],
    "hall": None,  # an e-paper still, by its query
}
HALL = "size=800x480&palette=spectra6"
FILE = """
[screen.tv]
fit = "1920x1080"
fill = "blur"
caption = "{name}"
[screen.kitchen]
width = 1024
[screen.frame]
fit = "1024x768"
fill = "crop"
[screen.phone]
width = 640
quality = 70
[screen.hall]
size = "800x480"
palette = "spectra6"
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(binary, *args):
    port = free_port()
    p = subprocess.Popen([binary, "--addr", f"127.0.0.1:{port}", "--state-dir", tempfile.mkdtemp(),
                          "--dir", "images", "--interval", "1h", *args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if b"showing" in urllib.request.urlopen(url + "/healthz", timeout=1).read():
                return p, url
        except OSError:
            pass
        time.sleep(0.025)
    raise SystemExit("no server")


def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def hwm(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0


def cycle(url, snapshot, nxt, n=5):
    for _ in range(n):
        urllib.request.urlopen(url + snapshot, timeout=60).read()
        urllib.request.urlopen(urllib.request.Request(url + nxt, method="POST", data=b""), timeout=60).read()


def main():
    binary = sys.argv[1]
    screens = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    screens.write(FILE)
    screens.close()
    # One process, five screens.
    p, url = start(binary, "--screens", screens.name)
    c0 = 0
    for name in SCREENS:
        cycle(url, f"/s/{name}/snapshot", f"/s/{name}/api/next")
    one_cpu, one_mem = cpu(p.pid) - c0, hwm(p.pid)
    p.terminate()
    p.wait()
    # Five processes.
    five_cpu = five_mem = 0.0
    for name, args in SCREENS.items():
        if args is None:
            p, url = start(binary)
            c0 = 0
            cycle(url, "/snapshot?" + HALL, "/api/next")
        else:
            p, url = start(binary, *args)
            c0 = 0
            cycle(url, "/snapshot", "/api/next")
        five_cpu += cpu(p.pid) - c0
        five_mem += hwm(p.pid)
        p.terminate()
        p.wait()
    print(f"one process, five screens: CPU {one_cpu:.2f} s, peak RSS {one_mem:.0f} MiB")
    print(f"five processes:            CPU {five_cpu:.2f} s, peak RSS {five_mem:.0f} MiB (summed)")


if __name__ == "__main__":
    main()
