#!/usr/bin/env python3
"""Times a cold cycle through the server against vipsthumbnail and Pillow.

    scripts/cycle.py BINARY DIR [--width 640] [--runs 3] [--flags "--decode-memory 128MiB"] [--server-only]

For each run, alternating: starts BINARY --dir DIR --interval 0 --width W on
a free loopback port with an empty state folder, reads /slideshow until
every image of DIR has been seen once (distinct frames), and reports the
time from process start to the last of them, the time to the first frame,
the CPU time the server used and the peak resident memory of the server and its children. Then
vipsthumbnail and Pillow (draft + thumbnail) make the same widths from the
same files. Prints each run and the medians.
"""
import argparse
import glob
import hashlib
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_tree(pid):
    """Resident kB of pid and its children."""
    total = 0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pid):
    """User plus system CPU seconds pid has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cycle(binary, folder, width, count, extra=()):
    port = free_port()
    state = tempfile.mkdtemp()
    start = time.monotonic()
    proc = subprocess.Popen([binary, "--dir", folder, "--interval", "0", "--width", str(width),
                             "--addr", f"127.0.0.1:{port}", "--state-dir", state, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], rss_tree(proc.pid))
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    try:
        conn = None
        while conn is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/slideshow")
                resp = conn.getresponse()
            except OSError:
                conn = None
                time.sleep(0.01)
        boundary = resp.getheader("Content-Type").split("boundary=")[1].encode()
        seen, first = set(), None
        buf = b""
        while len(seen) < count:
            chunk = resp.read1(1 << 16)
            if not chunk:
                raise RuntimeError("the stream ended")
            buf += chunk
            while True:
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    break
                head = buf[:i].decode("latin-1")
                n = [int(l.split(":")[1]) for l in head.split("\r\n") if l.lower().startswith("content-length")]
                if not n or len(buf) < i + 4 + n[0]:
                    break
                body = buf[i + 4:i + 4 + n[0]]
                buf = buf[i + 4 + n[0]:]
                if first is None:
                    first = time.monotonic() - start
                seen.add(hashlib.sha1(body).digest())
        total = time.monotonic() - start
        cpu = cpu_seconds(proc.pid)
    finally:
        done.set()
        proc.terminate()
        proc.wait()
        shutil.rmtree(state, ignore_errors=True)
    return total, first, peak[0] / 1024, cpu


def vips_cycle(files, width):
    out = tempfile.mkdtemp()
    start = time.monotonic()
    subprocess.run(["vipsthumbnail", *files, "--size", f"{width}x", "-o", os.path.join(out, "%s.jpg")], check=True)
    t = time.monotonic() - start
    shutil.rmtree(out)
    return t


def pillow_cycle(files, width):
    code = (
        "import sys\nfrom PIL import Image\n"
        "w=int(sys.argv[1])\n"
        "for i,p in enumerate(sys.argv[2:]):\n"
        "  im=Image.open(p); im.draft('RGB',(w,w*im.height//im.width)); im=im.convert('RGB')\n"
        "  im.thumbnail((w,10**6)); im.save('/dev/null',format='JPEG',quality=80)\n")
    start = time.monotonic()
    subprocess.run(["/usr/bin/python3", "-c", code, str(width), *files], check=True)
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("dir")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--flags", default="", help="more server flags, e.g. '--decode-memory 128MiB'")
    ap.add_argument("--server-only", action="store_true", help="time the server alone")
    a = ap.parse_args()
    files = sorted(f for f in glob.glob(os.path.join(a.dir, "*")) if os.path.isfile(f))
    server, firsts, peaks, vips, pil = [], [], [], [], []
    for r in range(a.runs):
        t, f, p, c = server_cycle(os.path.abspath(a.binary), a.dir, a.width, len(files), a.flags.split())
        if a.server_only:
            print(f"run {r + 1}: server {t:.2f} s (first frame {f:.2f} s, peak {p:.0f} MiB, {c:.2f} s CPU)", flush=True)
            server.append(t); firsts.append(f); peaks.append(p)
            continue
        v = vips_cycle(files, a.width)
        try:
            q = pillow_cycle(files, a.width)
        except Exception:
            q = float("nan")
        print(f"run {r + 1}: server {t:.2f} s (first frame {f:.2f} s, peak {p:.0f} MiB, {c:.2f} s CPU), "
              f"vipsthumbnail {v:.2f} s, Pillow {q:.2f} s, ratio {t / v:.2f}x", flush=True)
        server.append(t); firsts.append(f); peaks.append(p); vips.append(v); pil.append(q)
    if a.server_only:
        print(f"median: server {statistics.median(server):.2f} s; first frame {statistics.median(firsts):.2f} s; peak {max(peaks):.0f} MiB")
        return
    m, mv = statistics.median(server), statistics.median(vips)
    print(f"median: server {m:.2f} s, vipsthumbnail {mv:.2f} s ({m / mv:.2f}x), Pillow {statistics.median(pil):.2f} s; "
          f"first frame {statistics.median(firsts):.2f} s; peak {max(peaks):.0f} MiB")


if __name__ == "__main__":
    main()
