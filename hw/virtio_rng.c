/*
 * coremu — virtio-rng (virtio 1.x, 5.4). See virtio_rng.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio_rng.h"

#define VIRTIO_ID_RNG  4
#define RNG_QUEUE_SIZE 64
/* Bytes one request may take: a driver asking for more gets this much (and asks again). */
#define RNG_REQUEST_MAX (64u * 1024u)

struct virtio_rng {
    struct coremu_virtio_device dev; /* first: the ops get it */
    int fd;                          /* immutable; read under dev.lock */
};

/* Fills one segment from the file; returns the bytes read (short at EOF or when it would
 * block). */
static size_t rng_fill(int fd, uint8_t *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, p + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    return done;
}

/* Fills one request's writable segments in order; returns the bytes written. */
static uint32_t rng_request(struct coremu_virtio_device *dev, const struct coremu_virtio_req *req)
{
    struct virtio_rng *rng = (struct virtio_rng *)dev;
    size_t total = 0;
    for (unsigned i = req->nout; i < req->nout + req->nin && total < RNG_REQUEST_MAX; i++) {
        size_t want = req->seg[i].len;
        if (want > RNG_REQUEST_MAX - total) {
            want = RNG_REQUEST_MAX - total;
        }
        size_t got = rng_fill(rng->fd, req->seg[i].host, want);
        total += got;
        if (got < want) {
            break; /* the bytes written must be one contiguous run */
        }
    }
    return (uint32_t)total;
}

static void rng_free(struct coremu_virtio_device *dev)
{
    struct virtio_rng *rng = (struct virtio_rng *)dev;
    close(rng->fd);
    coremu_virtio_device_destroy(dev);
    free(rng);
}

static const struct coremu_virtio_device_ops rng_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .serve = rng_request,
    .free = rng_free,
};

struct coremu_virtio_device *virtio_rng_new(struct coremu_as *as, struct coremu_xmon *xmon,
                                            const char *filename, char *err, size_t errlen)
{
    /* Non-blocking: a core must never wait on a drained /dev/random. */
    int fd = open(filename, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s for virtio-rng: %s", filename, strerror(errno));
        return NULL;
    }
    struct virtio_rng *rng = calloc(1, sizeof(*rng));
    const uint16_t sizes[] = {RNG_QUEUE_SIZE};
    if (rng == NULL ||
        coremu_virtio_device_init(&rng->dev, &rng_ops, rng, as, xmon, 0, 1, sizes, 0) != 0) {
        free(rng);
        close(fd);
        snprintf(err, errlen, "cannot create virtio-rng: out of memory");
        return NULL;
    }
    rng->fd = fd;
    return &rng->dev;
}
