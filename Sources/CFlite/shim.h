#ifndef STRIDECUE_CFLITE_SHIM_H
#define STRIDECUE_CFLITE_SHIM_H
// libflite (CMU Flite 2.2, Debian flite1-dev): its types only. The functions are found with
// dlsym at run time (FliteLibrary.swift). CMU's licence: see the README's credits.
#include <flite/flite.h>
#endif
