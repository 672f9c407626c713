#!/usr/bin/env python3
"""Makes the 26 large mixed photos the README's cold-cycle figures use.

    python3 scripts/corpus.py [--out /tmp/slidestream-mixed]

From testdata/bench/photo-12mp.webp, by vips: each photo a crop of the
bench photo scaled to its size (some scaled up, to 18 MP), at a different
place, so that no two are the same picture:
  - 10 JPEGs of 5 to 18 MP: 7 baseline (one 4:4:4, the rest 4:2:0), 3
    progressive, q85-92;
  - 8 PNGs of 4.5 to 8.3 MP, RGB;
  - 8 lossy WebPs of 8 to 12.5 MP, q80.
Then time a cold cycle with scripts/cycle.py BINARY OUT --width 640.
Files already there are kept, so a second run changes nothing.

    python3 scripts/corpus.py --phone [--out /tmp/phone]

makes instead the 10 phone-like JPEGs: 4032x3024 crops of the bench
photo scaled 1.10 to 1.37 times, with Gaussian grain (sigma 5) added, as
baseline 4:2:0 at Q=90. The grain is drawn afresh each time, so the
files differ from one run of this to the next; their sizes and costs do
not.
"""
import argparse, os, subprocess, sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(REPO, "testdata", "bench", "photo-12mp.webp")
SW, SH = 4480, 2800

# name, width, height, vips save options
PHOTOS = [
    ("j01.jpg", 4032, 3024, "Q=90"),
    ("j02.jpg", 4608, 3456, "Q=88"),
    ("j03.jpg", 4896, 3672, "Q=85"),
    ("j04.jpg", 3264, 2448, "Q=92,subsample_mode=off"),
    ("j05.jpg", 4000, 3000, "Q=90"),
    ("j06.jpg", 2736, 1824, "Q=90"),
    ("j07.jpg", 5184, 3456, "Q=87"),
    ("j08.jpg", 4032, 3024, "Q=90,interlace"),
    ("j09.jpg", 3648, 2736, "Q=88,interlace"),
    ("j10.jpg", 4480, 2520, "Q=90,interlace"),
    ("p01.png", 2592, 1728, "compression=6"),
    ("p02.png", 3000, 2000, "compression=6"),
    ("p03.png", 3264, 2448, "compression=6"),
    ("p04.png", 2800, 2100, "compression=6"),
    ("p05.png", 3456, 2304, "compression=6"),
    ("p06.png", 2736, 1824, "compression=6"),
    ("p07.png", 3840, 2160, "compression=6"),
    ("p08.png", 3200, 2400, "compression=6"),
    ("w01.webp", 3840, 2160, "Q=80"),
    ("w02.webp", 4480, 2800, "Q=80"),
    ("w03.webp", 4000, 3000, "Q=80"),
    ("w04.webp", 3264, 2448, "Q=80"),
    ("w05.webp", 4096, 2304, "Q=80"),
    ("w06.webp", 3648, 2736, "Q=80"),
    ("w07.webp", 4200, 2800, "Q=80"),
    ("w08.webp", 3600, 2400, "Q=80"),
]


def make(out, i, name, w, h, opts):
    dst = os.path.join(out, name)
    if os.path.exists(dst):
        return
    # Scale so that the photo covers w x h with room to move the crop,
    # more for some, then crop at a place of its own.
    scale = max(w / SW, h / SH) * (1.05 + 0.1 * (i % 4))
    tmp = os.path.join(out, ".scaled.v")
    subprocess.run(["vips", "resize", SRC, tmp, "%.4f" % scale], check=True)
    sw, sh = int(SW * scale), int(SH * scale)
    x = (sw - w) * ((i * 7) % 10) // 10
    y = (sh - h) * ((i * 3) % 10) // 10
    subprocess.run(["vips", "crop", tmp, dst + "[%s,strip]" % opts, str(x), str(y), str(w), str(h)], check=True)
    os.remove(tmp)


def phones(out):
    noise = os.path.join(out, ".noise.v")
    subprocess.run(["vips", "gaussnoise", noise, "4032", "3024", "--sigma", "5", "--mean", "0"], check=True)
    for i in range(10):
        dst = os.path.join(out, "phone%d.jpg" % i)
        if os.path.exists(dst):
            continue
        scale = 1.1 + 0.03 * i
        tmp, crop, grainy = (os.path.join(out, n) for n in (".scaled.v", ".crop.v", ".grainy.v"))
        subprocess.run(["vips", "resize", SRC, tmp, "%.2f" % scale], check=True)
        sw, sh = int(SW * scale), int(SH * scale)
        x, y = (sw - 4032) * i // 10, (sh - 3024) * (9 - i) // 10
        subprocess.run(["vips", "crop", tmp, crop, str(x), str(y), "4032", "3024"], check=True)
        subprocess.run(["vips", "add", crop, noise, grainy], check=True)
        subprocess.run(["vips", "cast", grainy, dst + "[Q=90,subsample_mode=on,strip]", "uchar"], check=True)
        for f in (tmp, crop, grainy):
            os.remove(f)
    os.remove(noise)
    print("10 phone JPEGs, 4032x3024, in %s" % out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--phone", action="store_true", help="the 10 phone-like JPEGs instead")
    a = ap.parse_args()
    if a.phone:
        out = a.out or "/tmp/phone"
        os.makedirs(out, exist_ok=True)
        return phones(out)
    a.out = a.out or "/tmp/slidestream-mixed"
    os.makedirs(a.out, exist_ok=True)
    for i, (name, w, h, opts) in enumerate(PHOTOS):
        make(a.out, i, name, w, h, opts)
    mp = sum(w * h for _, w, h, _ in PHOTOS) / 1e6
    print("%d photos, %.1f megapixels, in %s" % (len(PHOTOS), mp, a.out))


if __name__ == "__main__":
    sys.exit(main())
