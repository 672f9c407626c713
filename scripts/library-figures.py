#!/usr/bin/env python3
"""Measures slidestream on a large photo library, as the README reports it.

    go build -o /tmp/slidestream . && python3 scripts/library-figures.py /tmp/slidestream

makes (once) a tree of 100,000 photos in 1,000 folders from hard links of
five small JPEGs (--seed-dir, made with vips from testdata/bench if absent),
then, on the built binary:
  - start to first frame (a cold start, an empty state dir), and the same
    with the index file from the first run;
  - /api/images?limit=100 and /images: time and size (median of 5);
  - CPU over --idle seconds with nothing changing;
  - resident memory against the same binary on an empty folder.
Only 127.0.0.1 is used.
"""
import argparse, os, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def make_tree(root, seeds, folders=1000, per=100):
    if os.path.isdir(root) and sum(len(f) for _, _, f in os.walk(root)) == folders * per:
        return
    shutil.rmtree(root, ignore_errors=True)
    for d in range(folders):
        p = os.path.join(root, str(2000 + d // 100), "album%03d" % d)
        os.makedirs(p)
        for i in range(per):
            os.link(seeds[i % len(seeds)], os.path.join(p, "IMG_%04d.jpg" % i))

def seeds(dirname, repo):
    os.makedirs(dirname, exist_ok=True)
    out = []
    for i in range(1, 6):
        p = os.path.join(dirname, "seed%d.jpg" % i)
        if not os.path.exists(p):
            v = os.path.join(dirname, "c%d.v" % i)
            subprocess.run(["vips", "crop", os.path.join(repo, "testdata/bench/photo-12mp.webp"), v,
                            str(i * 300), str(i * 200), "2000", "1500"], check=True)
            subprocess.run(["vips", "resize", v, p + "[Q=85]", "0.32"], check=True)
        out.append(p)
    return out

def get(url, timeout=10):
    t = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as r:
        b = r.read()
    return time.monotonic() - t, b

def start(binary, d, state, port):
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "--dir", d, "--state-dir", state, "--addr", "127.0.0.1:%d" % port,
                          "--width", "640", "--interval", "5s"], stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port
    while True:
        try:
            _, b = get(base + "/healthz", 1)
            if b"showing" in b:
                return p, base, time.monotonic() - t0
        except Exception:
            pass
        if time.monotonic() - t0 > 60:
            p.kill(); sys.exit("no first frame within 60 s")
        time.sleep(0.005)

def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

def wait_indexed(base):
    import json
    t0 = time.monotonic()
    while json.loads(get(base + "/api/images?limit=1")[1])["pending"] > 0:
        time.sleep(0.1)
    return time.monotonic() - t0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--tree", default="/tmp/slidestream-lib100k")
    ap.add_argument("--seed-dir", default="/tmp/slidestream-seeds")
    ap.add_argument("--idle", type=int, default=60)
    a = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    make_tree(a.tree, seeds(a.seed_dir, repo))
    state = tempfile.mkdtemp()
    empty = tempfile.mkdtemp()

    for run in ("cold start (no index file)", "second start (index file kept)"):
        p, base, first = start(a.binary, a.tree, state, free_port())
        indexed = wait_indexed(base)
        print("%s: first frame after %.2f s; every header read %.1f s later" % (run, first, indexed))
        if run.startswith("second"):
            break
        p.terminate(); p.wait()

    for path in ("/api/images?limit=100", "/images"):
        times, size = [], 0
        for _ in range(5):
            t, b = get(base + path)
            times.append(t); size = len(b)
        print("%s: %.0f ms (median of 5), %.0f KB" % (path, statistics.median(times) * 1000, size / 1000))

    time.sleep(2)
    c0 = cpu(p.pid)
    time.sleep(a.idle)
    used = cpu(p.pid) - c0
    print("idle: %.2f s of CPU in %d s = %.2f%% of one core" % (used, a.idle, 100 * used / a.idle))
    lib_rss = rss(p.pid)
    p.terminate(); p.wait()

    q, base, _ = start(a.binary, "images" if os.path.isdir("images") else repo + "/images", tempfile.mkdtemp(), free_port())
    q.terminate(); q.wait()
    e = subprocess.Popen([a.binary, "--dir", empty, "--state-dir", tempfile.mkdtemp(),
                          "--addr", "127.0.0.1:%d" % free_port(), "--width", "640"], stderr=subprocess.DEVNULL)
    time.sleep(3)
    base_rss = rss(e.pid)
    e.terminate(); e.wait()
    print("resident memory: %.1f MiB with the library, %.1f MiB on an empty folder: %.1f MiB for the index"
          % (lib_rss, base_rss, lib_rss - base_rss))

main()
