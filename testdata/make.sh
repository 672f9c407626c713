#!/usr/bin/env bash
# Rebuilds the test fixtures and their reference decodes. The results are
# committed, so tests never need these tools; run this only to change them.
# Needs Debian's imagemagick, webp, libjpeg-turbo-progs, libimage-exiftool-perl
# and plasma-workspace-wallpapers.
set -euo pipefail
cd "$(dirname "$0")"
IM=/usr/bin/convert # /usr/local/bin/convert may be a stand-in
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rm -f -- *.jpg *.png *.webp *.gif *.heic *.avif ref/*.png; mkdir -p ref

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

# HEIF: HEIC (libheif's heif-enc with x265) and AVIF (libavif's avifenc
# with aom), and libheif's decode of each (through libvips) as the
# reference. Needs libheif-examples, libavif-bin and ffmpeg. ImageMagick writes
# small pictures as palette PNGs, which heif-enc misreads: png24 first.
$IM "$tmp/photo.ppm" png24:"$tmp/photo.png"
heif-enc -q 90 -o heic-photo.heic "$tmp/photo.png" >/dev/null
avifenc -s 6 --min 8 --max 8 "$tmp/photo.png" avif-photo.avif >/dev/null
# Limited range and the BT.709 matrix, which the planes libheif returns do
# not say by themselves: coded by ffmpeg, said by an nclx box (heif-enc
# 1.15 ignores its own nclx options), and ffmpeg's decode as reference.
ffmpeg -v error -i "$tmp/photo.png" -vf scale=128:128,scale=out_color_matrix=bt709:out_range=tv \
    -pix_fmt yuv420p -strict -1 "$tmp/709.y4m"
heif-enc -q 92 -o "$tmp/709.heic" "$tmp/709.y4m" >/dev/null
go run heifgrid.go -cols 1 -width 128 -height 128 -nclx 1,13,1,0 -o heic-709-limited.heic "$tmp/709.heic"
ffmpeg -v error -i "$tmp/709.y4m" -vf scale=in_color_matrix=bt709:in_range=tv ref/heic-709-limited.png
# A colour profile in each: Adobe RGB in HEIC, red and green swapped in
# AVIF; and Display P3 given as nclx code points, not a profile.
# (HEIC pictures narrower than 128 pixels are refused: decode/heic.go.)
vips resize "$tmp/crop.v" "$tmp/medium.v" 0.2
vips pngsave "$tmp/medium.v" "$tmp/adobe.png" --profile "$icc/AdobeRGB1998.icc"
heif-enc -q 95 -o heic-adobergb.heic "$tmp/adobe.png" >/dev/null
vips pngsave "$tmp/small.v" "$tmp/small.png"
avifenc -s 6 --min 0 --max 0 -y 444 --icc "$icc/SwappedRedAndGreen.icc" "$tmp/small.png" avif-swapped.avif >/dev/null 2>&1
avifenc -s 6 --min 0 --max 0 -y 444 --cicp 12/13/6 "$tmp/small.png" avif-p3.avif >/dev/null 2>&1
for f in heic-photo.heic avif-photo.avif; do vips copy "$f" "ref/${f%.*}.png" 2>/dev/null; done
for f in heic-adobergb.heic avif-swapped.avif; do
  vips icc_transform "$f" "ref/${f%.*}.png" srgb --embedded --intent relative 2>/dev/null
done
# AVIF turned by irot and imir into each of the EXIF orientations: the
# quadrants stored so that, turned, they stand upright.
$IM "$tmp/corners.ppm" png24:"$tmp/corners.png"
turns=(x "" "--imir 1" "--irot 2" "--imir 0" "--irot 1 --imir 0" "--irot 3" "--irot 1 --imir 1" "--irot 1")
for o in 1 2 3 4 5 6 7 8; do
  $IM "$tmp/corners.png" ${inverse[$o]} png24:"$tmp/turned.png"
  avifenc -s 8 --min 0 --max 0 ${turns[$o]} "$tmp/turned.png" "avif-orient-$o.avif" >/dev/null 2>&1
done
# Alpha: the three stripes.
avifenc -s 8 --min 0 --max 0 "$tmp/alpha.png" avif-alpha.avif >/dev/null 2>&1
$IM "$tmp/alpha.png" -scale 200% png32:"$tmp/alpha2.png"
heif-enc -q 95 -o heic-alpha.heic "$tmp/alpha2.png" >/dev/null
# A HEIC stored as iPhones store photos: a grid of 64x64 tiles, cropped to
# 96x128, turned a quarter clockwise (irot 3) to show 128x96, with an Exif
# item whose orientation (8) must not be applied on top, and a date taken.
$IM -size 64x48 xc:'#ff0000' -size 64x48 xc:'#00ff00' +append \
    \( -size 64x48 xc:'#0000ff' -size 64x48 xc:'#ffff00' +append \) -append -rotate 270 \
    -background gray -extent 128x128 +repage -crop 64x64 +repage +adjoin png24:"$tmp/tile_%d.png"
for i in 0 1 2 3; do heif-enc -q 95 -o "$tmp/tile$i.heic" "$tmp/tile_$i.png" >/dev/null; done
$IM -size 8x8 xc:white "$tmp/exif.jpg"
exiftool -q -overwrite_original -n -Orientation=8 "-DateTimeOriginal=2023:07:14 18:30:05" "-OffsetTimeOriginal=+02:00" "$tmp/exif.jpg"
exiftool -q -b -Exif "$tmp/exif.jpg" > "$tmp/exif.tiff"
go run heifgrid.go -cols 2 -width 96 -height 128 -irot 3 -exif "$tmp/exif.tiff" -o heic-grid.heic "$tmp"/tile{0,1,2,3}.heic
vips copy heic-grid.heic ref/heic-grid.png
