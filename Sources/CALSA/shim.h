#ifndef STRIDECUE_CALSA_SHIM_H
#define STRIDECUE_CALSA_SHIM_H
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
// eventfd: the playback thread's wake-up descriptor (Glibc's Swift module leaves it out).
#include <sys/eventfd.h>
#endif
