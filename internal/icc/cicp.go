package icc

import "fmt"

// Colour descriptions by code point (ITU-T H.273), as HEIF's nclx colour
// box and video streams give them instead of an ICC profile: primaries,
// transfer characteristics, and the matrix and range of the YCbCr coding.

// cicpPrimaries are the chromaticities of red, green, blue and white by
// the ColourPrimaries code.
var cicpPrimaries = map[uint16]struct {
	name string
	xy   [4][2]float64
}{
	1:  {"BT.709", [4][2]float64{{0.64, 0.33}, {0.30, 0.60}, {0.15, 0.06}, {0.3127, 0.3290}}},
	4:  {"BT.470 System M", [4][2]float64{{0.67, 0.33}, {0.21, 0.71}, {0.14, 0.08}, {0.310, 0.316}}},
	5:  {"BT.601 625-line", [4][2]float64{{0.64, 0.33}, {0.29, 0.60}, {0.15, 0.06}, {0.3127, 0.3290}}},
	6:  {"BT.601 525-line", [4][2]float64{{0.630, 0.340}, {0.310, 0.595}, {0.155, 0.070}, {0.3127, 0.3290}}},
	7:  {"SMPTE 240M", [4][2]float64{{0.630, 0.340}, {0.310, 0.595}, {0.155, 0.070}, {0.3127, 0.3290}}},
	9:  {"BT.2020", [4][2]float64{{0.708, 0.292}, {0.170, 0.797}, {0.131, 0.046}, {0.3127, 0.3290}}},
	11: {"DCI-P3", [4][2]float64{{0.680, 0.320}, {0.265, 0.690}, {0.150, 0.060}, {0.314, 0.351}}},
	12: {"Display P3", [4][2]float64{{0.680, 0.320}, {0.265, 0.690}, {0.150, 0.060}, {0.3127, 0.3290}}},
	22: {"EBU Tech. 3213", [4][2]float64{{0.630, 0.340}, {0.295, 0.605}, {0.155, 0.077}, {0.3127, 0.3290}}},
}

// cicpTransfer gives the tone curve, from coded value to linear light, by
// the TransferCharacteristics code, as an ICC parametric curve.
func cicpTransfer(code uint16) (curve, bool) {
	// Type 3: Y = (aX + b)^g for X >= d, cX below.
	bt709 := curve{kind: 3, g: [7]float64{1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081}}
	switch code {
	case 1, 6, 14, 15: // BT.709, BT.601, BT.2020 (10 and 12 bits): one curve
		return bt709, true
	case 2, 13: // unspecified, as sRGB; sRGB (IEC 61966-2-1)
		return curve{kind: 3, g: [7]float64{2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045}}, true
	case 4: // gamma 2.2
		return curve{g: [7]float64{2.2, 1}}, true
	case 5: // gamma 2.8
		return curve{g: [7]float64{2.8, 1}}, true
	case 8: // linear
		return curve{g: [7]float64{1, 1}}, true
	}
	return curve{}, false
}

// FromCICP makes a profile from the colour primaries and transfer
// characteristics codes of an nclx colour description, or nil for
// sRGB's. Unspecified
// (2) primaries or transfer mean sRGB's. HDR transfers (PQ, HLG) would
// need tone mapping, which is not done: such a picture is shown as it is.
func FromCICP(primaries, transfer uint16) (*Profile, error) {
	prim := primaries
	if prim == 2 {
		prim = 1
	}
	pr, ok := cicpPrimaries[prim]
	if !ok {
		return nil, &ProfileError{Reason: fmt.Sprintf("nclx colour primaries %d are not known", primaries)}
	}
	name := pr.name
	trc, ok := cicpTransfer(transfer)
	switch {
	case transfer == 16:
		return nil, &ProfileError{Name: name + " PQ", Reason: "an HDR picture (PQ), shown without tone mapping"}
	case transfer == 18:
		return nil, &ProfileError{Name: name + " HLG", Reason: "an HDR picture (HLG), shown without tone mapping"}
	case !ok:
		return nil, &ProfileError{Name: name, Reason: fmt.Sprintf("nclx transfer characteristics %d are not known", transfer)}
	}
	p := &Profile{Name: name + " (nclx)", rgb: primariesToXYZ50(pr.xy)}
	p.trc = [3]curve{trc, trc, trc}
	if p.sRGB() {
		return nil, nil // sRGB by another name: nothing to convert or say
	}
	return p, nil
}
