#ifndef STRIDECUE_CSAMPLERATE_SHIM_H
#define STRIDECUE_CSAMPLERATE_SHIM_H
#include <samplerate.h>
#endif
