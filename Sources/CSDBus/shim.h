#ifndef STRIDECUE_CSDBUS_SHIM_H
#define STRIDECUE_CSDBUS_SHIM_H
// sd-bus, systemd's D-Bus client library, for BlueZ's API (the footpod). Only its
// non-variadic calls are used: Swift cannot call C-variadic functions.
#include <systemd/sd-bus.h>
#endif
