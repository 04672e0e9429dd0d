#ifndef STRIDECUE_CQRENCODE_SHIM_H
#define STRIDECUE_CQRENCODE_SHIM_H
#include <qrencode.h>
// getrandom(2), for the remote's session token: Swift's Glibc module leaves sys/random.h out,
// and the remote is this module's only user.
#include <sys/random.h>
#endif
