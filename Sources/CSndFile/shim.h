#ifndef STRIDECUE_CSNDFILE_SHIM_H
#define STRIDECUE_CSNDFILE_SHIM_H
#include <sndfile.h>
#endif
