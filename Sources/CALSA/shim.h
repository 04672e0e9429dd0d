#ifndef STRIDECUE_CALSA_SHIM_H
#define STRIDECUE_CALSA_SHIM_H
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
#endif
