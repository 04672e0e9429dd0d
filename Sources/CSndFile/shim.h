#ifndef STRIDECUE_CSNDFILE_SHIM_H
#define STRIDECUE_CSNDFILE_SHIM_H
#include <sndfile.h>

// For reserving a WAV's space before writing it (SoundFileWriter.reserveSpace). glibc declares
// fallocate only under _GNU_SOURCE, which Swift's Glibc module does not define.
#include <linux/falloc.h>
#include <sys/types.h>
extern int fallocate(int fd, int mode, off_t offset, off_t len);
#endif
