/*
 * coremu — virtio-rng, the entropy device (virtio 1.x, section 5.4): each buffer the driver
 * offers is filled from a host file (/dev/urandom by default, -object rng-random,filename=...)
 * read without blocking, on the thread that notified, under the device's lock. A short read
 * (a drained /dev/random, the end of a regular file) returns what was read; the driver asks
 * again.
 */
#ifndef COREMU_HW_VIRTIO_RNG_H
#define COREMU_HW_VIRTIO_RNG_H

#include <stddef.h>

#include <coremu/virtio.h>

#define VIRTIO_RNG_DEFAULT_FILE "/dev/urandom"

/* A virtio-rng device reading filename. NULL with a one-line message in err when the file
 * cannot be opened or memory runs out. */
struct coremu_virtio_device *virtio_rng_new(struct coremu_as *as, struct coremu_xmon *xmon,
                                            const char *filename, char *err, size_t errlen);

#endif /* COREMU_HW_VIRTIO_RNG_H */
