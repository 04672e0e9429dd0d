#ifndef STRIDECUE_CFILESYNC_SHIM_H
#define STRIDECUE_CFILESYNC_SHIM_H
// sync_file_range(2): start (or wait for) the writing back of part of a file, so that a
// track's fsync before its rename finds the disk already done with most of it. glibc declares
// it only under _GNU_SOURCE, which Swift's Glibc module is built without; the declaration here
// is glibc's own (off64_t is a 64-bit long long on every Linux ABI).
extern int sync_file_range(int fd, long long offset, long long nbytes, unsigned int flags);

// The flags, as <fcntl.h> defines them under _GNU_SOURCE.
enum {
    STRIDECUE_SYNC_FILE_RANGE_WAIT_BEFORE = 1,
    STRIDECUE_SYNC_FILE_RANGE_WRITE = 2,
    STRIDECUE_SYNC_FILE_RANGE_WAIT_AFTER = 4,
};

// eventfd(2): the one wake-up descriptor (WakeUp.swift). Glibc's Swift module leaves it out.
#include <sys/eventfd.h>

// mallopt(3) and malloc_trim(3): the remote's server keeps one malloc arena and gives back what
// a crowd of connections freed once it has gone. <malloc.h> is not in Glibc's Swift module.
#include <malloc.h>
#endif
