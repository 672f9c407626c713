#!/usr/bin/env bash
# Rebuilds the test fixtures and their reference decodes. The results are
# committed, so tests never need these tools; run this only to change them.
# Needs Debian's imagemagick, webp, libjpeg-turbo-progs, libimage-exiftool-perl
# and plasma-workspace-wallpapers.
set -euo pipefail
cd "$(dirname "$0")"
IM=/usr/bin/convert # /usr/local/bin/convert may be a stand-in
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rm -f -- *.jpg *.png *.webp *.gif ref/*.png; mkdir -p ref

# A photo crop with skin tones, saturated reds and deep shadows.
$IM /usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg -crop 1200x900+700+350 -resize 160x120! "$tmp/photo.ppm"
# Four coloured quadrants: red, green / blue, yellow. Corners tell orientation.
$IM -size 32x24 xc:'#ff0000' -size 32x24 xc:'#00ff00' +append \
    \( -size 32x24 xc:'#0000ff' -size 32x24 xc:'#ffff00' +append \) -append "$tmp/corners.ppm"
# Three stripes: opaque red, half-transparent red, and fully transparent
# magenta, whose colour must never show.
$IM -size 20x24 xc:'rgba(255,0,0,1)' -size 20x24 xc:'rgba(255,0,0,0.5)' -size 24x24 xc:'rgba(255,0,255,0)' +append "$tmp/alpha.png"

# JPEG in every layout the decoder meets.
cjpeg -quality 90 -sample 2x2 "$tmp/photo.ppm" > jpeg-420.jpg
cjpeg -quality 90 -sample 2x1 "$tmp/photo.ppm" > jpeg-422.jpg
cjpeg -quality 90 -sample 1x1 "$tmp/photo.ppm" > jpeg-444.jpg
cjpeg -quality 90 -progressive "$tmp/photo.ppm" > jpeg-progressive.jpg
cjpeg -quality 90 -grayscale "$tmp/photo.ppm" > jpeg-gray.jpg
$IM "$tmp/photo.ppm" -colorspace CMYK -quality 90 jpeg-cmyk.jpg # Adobe transform 0
(cd "$tmp" && tjbench photo.ppm 90 -cmyk -subsamp 420 -quiet -benchtime 0.01 -warmup 0 >/dev/null)
mv "$tmp"/photo_420_Q90.jpg jpeg-ycck.jpg # Adobe transform 2
for f in jpeg-*.jpg; do djpeg "$f" | $IM - "ref/${f%.jpg}.png"; done
# djpeg leaves CMYK as CMYK; ImageMagick's conversion is the reference there.
for f in jpeg-cmyk jpeg-ycck; do $IM "$f.jpg" -colorspace sRGB "ref/$f.png"; done

# EXIF orientation 1-8: each file stores the pixels so that, turned as its
# tag says, it shows the upright quadrants.
inverse=(x "" "-flop" "-rotate 180" "-flip" "-transpose" "-rotate 270" "-transverse" "-rotate 90")
for o in 1 2 3 4 5 6 7 8; do
  $IM "$tmp/corners.ppm" ${inverse[$o]} -quality 95 "orient-$o.jpg"
  exiftool -q -overwrite_original -n -Orientation="$o" "orient-$o.jpg"
done
$IM "$tmp/corners.ppm" -rotate 270 "orient-6.png"; exiftool -q -overwrite_original -n -Orientation=6 orient-6.png
cwebp -quiet -lossless "$tmp/corners.ppm" -o "$tmp/c.webp"
$IM "$tmp/corners.ppm" -rotate 270 "$tmp/r.png"; cwebp -quiet -lossless "$tmp/r.png" -o "$tmp/r.webp"
exiftool -q -n -Orientation=6 -o "$tmp/exif.jpg" orient-1.jpg 2>/dev/null || cp orient-6.jpg "$tmp/exif.jpg"
exiftool -q -b -Exif orient-6.jpg > "$tmp/exif.bin"
webpmux -set exif "$tmp/exif.bin" "$tmp/r.webp" -o orient-6.webp
# A photo carrying an EXIF thumbnail, whose own end-of-image marker must not
# reach the output.
$IM "$tmp/photo.ppm" -resize 40x30 "$tmp/thumb.jpg"
$IM "$tmp/photo.ppm" -quality 90 jpeg-thumbnail.jpg
exiftool -q -overwrite_original "-ThumbnailImage<=$tmp/thumb.jpg" -Make=slidestream jpeg-thumbnail.jpg
djpeg jpeg-thumbnail.jpg | $IM - ref/jpeg-thumbnail.png

# PNG in every colour type.
$IM "$tmp/photo.ppm" png24:png-rgb.png
$IM "$tmp/photo.ppm" -depth 16 png48:png-rgb16.png
$IM "$tmp/photo.ppm" -colorspace Gray -depth 8 -define png:color-type=0 png:png-gray.png
$IM "$tmp/photo.ppm" -colorspace Gray -depth 16 png:png-gray16.png
$IM "$tmp/photo.ppm" -interlace PNG png24:png-interlaced.png
$IM "$tmp/alpha.png" png32:png-rgba.png
$IM "$tmp/alpha.png" -depth 16 png64:png-rgba16.png
$IM "$tmp/alpha.png" -colorspace Gray -define png:color-type=4 png:png-graya.png
# Palette with a tRNS chunk holding opaque, half and no alpha.
go run palette.go
for f in png-rgb png-rgb16 png-gray png-gray16 png-interlaced; do $IM "$f.png" -depth 8 png24:"ref/$f.png"; done

# WebP: lossy, lossless, both with alpha (-exact keeps the hidden colour),
# and an animation.
cwebp -quiet -q 90 "$tmp/photo.ppm" -o webp-lossy.webp
cwebp -quiet -lossless "$tmp/photo.ppm" -o webp-lossless.webp
cwebp -quiet -q 90 -exact "$tmp/alpha.png" -o webp-lossy-alpha.webp
cwebp -quiet -lossless -exact "$tmp/alpha.png" -o webp-lossless-alpha.webp
for f in webp-lossy webp-lossless; do dwebp -quiet "$f.webp" -o "ref/$f.png"; done
$IM "$tmp/corners.ppm" "$tmp/c1.png"; $IM "$tmp/corners.ppm" -negate "$tmp/c2.png"
img2webp -q 80 "$tmp/c1.png" "$tmp/c2.png" -o webp-animated.webp 2>/dev/null

# GIF (first frame of an animation), and a PNG that claims to be a JPEG.
$IM -delay 50 "$tmp/c1.png" "$tmp/c2.png" gif-animated.gif
cp png-rgb.png png-named.jpg


# A larger photo and ImageMagick's Lanczos resize of it, the reference the
# downscaler is compared with.
$IM /usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg -resize 1200x750! -quality 88 jpeg-large.jpg
djpeg jpeg-large.jpg | $IM - -filter Lanczos -resize 240x150! ref/jpeg-large-240.png

# A 12.5-megapixel photo for the benchmarks (the JPEG and PNG versions are
# made from it by bench_test.go): EveningGlow enlarged, with sensor-like
# noise so that it compresses like a real camera file.
mkdir -p bench
$IM /usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg -filter Lanczos -resize 4480x2800! \
    -attenuate 0.25 +noise Gaussian "$tmp/big.ppm"
cwebp -quiet -q 80 "$tmp/big.ppm" -o bench/photo-12mp.webp

# Colour profiles: the same crop stored as if it were in another colour
# space (its numbers unchanged, the profile embedded), and lcms's conversion
# of each to sRGB (through libvips) as the reference. Needs libvips-tools
# and colord-data (whose profiles are CC0).
icc=/usr/share/color/icc/colord
vips crop ../images/1-evening-glow.jpg "$tmp/crop.v" 400 200 640 480
vips resize "$tmp/crop.v" "$tmp/small.v" 0.1
vips jpegsave "$tmp/small.v" icc-adobergb.jpg --Q 95 --profile "$icc/AdobeRGB1998.icc"
vips jpegsave "$tmp/small.v" icc-swapped.jpg --Q 95 --profile "$icc/SwappedRedAndGreen.icc"
vips pngsave "$tmp/small.v" icc-prophoto.png --profile "$icc/ProPhotoRGB.icc"
vips webpsave "$tmp/small.v" icc-widegamut.webp --lossless --profile "$icc/WideGamutRGB.icc" # lossless: decoders agree to the level
for f in icc-adobergb.jpg icc-swapped.jpg icc-prophoto.png icc-widegamut.webp; do
  vips icc_transform "$f" "ref/${f%.*}.png" srgb --embedded --intent relative
done
