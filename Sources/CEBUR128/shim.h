#ifndef STRIDECUE_CEBUR128_SHIM_H
#define STRIDECUE_CEBUR128_SHIM_H
#include <ebur128.h>
#endif
