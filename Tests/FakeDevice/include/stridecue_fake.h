#ifndef STRIDECUE_FAKE_H
#define STRIDECUE_FAKE_H

// The paced fake sound card is used through alsa-lib only: a configuration names it with
// `type stridecue_fake`, and alsa-lib finds this entry point with dlsym in
// libasound_module_pcm_stridecue_fake.so. Nothing links against it directly.

#include <alsa/asoundlib.h>

int _snd_pcm_stridecue_fake_open(snd_pcm_t **pcmp, const char *name, snd_config_t *root,
                                 snd_config_t *conf, snd_pcm_stream_t stream, int mode);

#endif
