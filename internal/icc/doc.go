// Package icc reads colour profiles (ICC.1, versions 2 and 4) and the
// colour code points of ITU-T H.273 (nclx), and converts pictures from
// the colours they describe to sRGB. Matrix/TRC RGB profiles and gray
// profiles are applied exactly; the others are reported with the reason
// (a *ProfileError) and the picture is left as it is.
package icc
