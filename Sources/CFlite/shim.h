#ifndef STRIDECUE_CFLITE_SHIM_H
#define STRIDECUE_CFLITE_SHIM_H
// libflite (CMU Flite 2.2, Debian flite1-dev). CMU's licence: see the README's credits.
#include <flite/flite.h>

// The voices' registration functions are exported by their libraries but declared in no
// public header. Each returns NULL on failure; voxdir is unused by compiled-in voices.
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);

// flite's feature tables keep the name pointer they are given, not a copy. A Swift String
// passed as `const char *` is a temporary that dangles once the call returns, so every
// feature StrideCue *sets* goes through a function that passes a string literal.
static inline void CFlite_set_duration_stretch(cst_voice *voice, float stretch) {
    feat_set_float(voice->features, "duration_stretch", stretch);
}
#endif
