/*
 * coremu — virtio-net (virtio 1.x, section 5.1): an Ethernet NIC on a network back end
 * (include/coremu/net.h), on any virtio transport.
 *
 * Features: MAC (the mac= address in the configuration space) and STATUS (the link is always
 * up); no offloads (checksums and segmentation are the guest's), no merged receive buffers, no
 * control queue. Two queues: receiveq1 (0) and transmitq1 (1); every buffer starts with the
 * 12-byte virtio-net header (zero from the device, ignored from the driver).
 *
 * Threads. Transmit runs on the guest core that kicked transmitq1, under the device's lock: each
 * frame goes to the back end there (coremu_net_send takes the back end's lock inside the
 * device's). Receive runs on the back end's thread: the device's lock is taken per frame, a
 * receive buffer popped, filled and pushed. When the guest gave no receive buffer, the frame
 * waits in the back end's bounded queue; the guest's next kick of receiveq1 (which the event
 * index asks for when the ring ran dry) wakes the back end to offer it again. Frames that
 * arrive while the driver is not running are dropped, as a NIC without a driver would.
 */
#ifndef COREMU_HW_VIRTIO_NET_H
#define COREMU_HW_VIRTIO_NET_H

#include <stdint.h>

#include <coremu/net.h>
#include <coremu/virtio.h>

/* A virtio-net device with the given MAC address on backend (which it owns, attaches and frees;
 * NULL: a NIC connected to nothing, whose frames go nowhere). NULL when out of memory or the
 * back end's thread cannot start (backend is then freed). */
struct coremu_virtio_device *virtio_net_new(struct coremu_as *as, struct coremu_xmon *xmon,
                                            struct coremu_net *backend, const uint8_t mac[6]);

#endif /* COREMU_HW_VIRTIO_NET_H */
