/*
 * coremu — virtio-blk (virtio 1.x, section 5.2): a disk backed by the block layer
 * (include/coremu/block.h).
 *
 * Requests: IN, OUT, FLUSH, GET_ID (the serial), DISCARD; features SEG_MAX, BLK_SIZE (512),
 * FLUSH, DISCARD, and RO for a read-only image. One queue. Requests run on the thread that
 * notified (a guest core's, under the device's lock) and complete before the notify returns:
 * the block layer is synchronous, and the guest's other cores keep running meanwhile.
 */
#ifndef COREMU_HW_VIRTIO_BLK_H
#define COREMU_HW_VIRTIO_BLK_H

#include <coremu/block.h>
#include <coremu/virtio.h>

/* A virtio-blk device on blk (which it owns and closes when freed), answering GET_ID with
 * serial (at most 20 bytes are used; NULL: empty). NULL when out of memory (blk is then
 * closed). */
struct coremu_virtio_device *virtio_blk_new(struct coremu_as *as, struct coremu_xmon *xmon,
                                            struct coremu_block *blk, const char *serial);

#endif /* COREMU_HW_VIRTIO_BLK_H */
