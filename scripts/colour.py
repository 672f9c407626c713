#!/usr/bin/env python3
"""Measures what colour conversion adds to a frame, against ImageMagick with
Little CMS, at 320 px.

    go build -o /tmp/slidestream . && python3 scripts/colour.py /tmp/slidestream

Makes (in --work) one sRGB photo without a profile (a 2400x1800 crop of
testdata/bench/photo-12mp.webp, by vips) and the same picture converted by
ImageMagick into Adobe RGB and ProPhoto (their profiles taken from
testdata's icc-adobergb.jpg and icc-prophoto.png), JPEG q95 each. Then for
each: the frame slidestream makes (`bench --width 320 --quality 95 --out`)
against ImageMagick's (converted to sRGB with Little CMS at full size, then
-resize 320x), the mean difference per channel, in levels of 255. What the
conversion adds is a profiled file's difference less the plain one's: both
share the resampling's. Needs vips, ImageMagick (convert-im6.q16 or
magick) and Pillow with ImageCms (for an sRGB profile to convert to).
"""
import argparse, os, shutil, subprocess, sys, tempfile

def im():
    for c in ("magick", "convert-im6.q16", "convert"):
        if shutil.which(c):
            return c
    sys.exit("ImageMagick not found")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "slidestream-colour"))
    a = ap.parse_args()
    from PIL import Image, ImageCms
    import numpy as np
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    td = os.path.join(repo, "testdata")
    w = a.work
    src, out = os.path.join(w, "src"), os.path.join(w, "out")
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(src); os.makedirs(out)
    convert = im()
    srgb = os.path.join(w, "srgb.icc")
    open(srgb, "wb").write(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    subprocess.run([convert, os.path.join(td, "icc-adobergb.jpg"), os.path.join(w, "adobe.icc")], check=True)
    subprocess.run([convert, os.path.join(td, "icc-prophoto.png"), os.path.join(w, "prophoto.icc")], check=True)
    crop = os.path.join(w, "crop.v")
    subprocess.run(["vips", "crop", os.path.join(td, "bench", "photo-12mp.webp"), crop, "1200", "600", "2400", "1800"], check=True)
    plain = os.path.join(src, "plain.jpg")
    subprocess.run(["vips", "copy", crop, plain + "[Q=95]"], check=True)
    os.remove(crop)
    for name, icc in (("adobergb", "adobe.icc"), ("prophoto", "prophoto.icc")):
        subprocess.run([convert, plain, "-profile", srgb, "-profile", os.path.join(w, icc), "-quality", "95",
                        os.path.join(src, name + ".jpg")], check=True)
    subprocess.run([a.binary, "bench", "--dir", src, "--width", "320", "--quality", "95", "--out", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = None
    for name in ("plain", "adobergb", "prophoto"):
        ref = os.path.join(w, name + "-ref.png")
        subprocess.run([convert, os.path.join(src, name + ".jpg"), "-profile", srgb, "-resize", "320x", ref], check=True)
        ours = np.asarray(Image.open(os.path.join(out, name + ".jpg.jpg")).convert("RGB")).astype(float)
        theirs = np.asarray(Image.open(ref).convert("RGB")).astype(float)
        h, wd = min(ours.shape[0], theirs.shape[0]), min(ours.shape[1], theirs.shape[1])
        d = ours[:h, :wd] - theirs[:h, :wd]
        mean = np.abs(d).mean()
        bias = " ".join("%+.2f" % v for v in d.mean(axis=(0, 1)))
        if base is None:
            base = mean
            print("%-9s %.2f levels a channel from ImageMagick (resampling alone); bias R G B %s" % (name, mean, bias))
        else:
            print("%-9s %.2f levels: the conversion adds %.2f; bias R G B %s" % (name, mean, mean - base, bias))

main()
