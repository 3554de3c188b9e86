/*
 * coremu — virtio-net (virtio 1.x, 5.1). See virtio_net.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "virtio_net.h"

#define VIRTIO_ID_NET       1
#define VIRTIO_NET_F_MAC    5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1u

#define NET_QUEUE_SIZE 256
#define NET_RXQ        0
#define NET_TXQ        1
/* struct virtio_net_hdr of virtio 1.x: flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset, num_buffers. */
#define NET_HDR_LEN 12
#define NET_CONFIG_SIZE 10 /* mac[6], status, max_virtqueue_pairs */

struct virtio_net {
    struct coremu_virtio_device dev; /* first: the ops get it */
    struct coremu_net *backend;      /* immutable (NULL: connected to nothing) */
    struct coremu_virtio_req rxreq;  /* dev.lock: the receive buffer being filled */
    struct coremu_virtio_req txreq;  /* dev.lock: the frame being sent */
    uint8_t frame[COREMU_NET_FRAME_MAX]; /* dev.lock: the frame being sent, gathered */
};

/* A frame from the back end (its thread, no back end lock held). */
static bool net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct virtio_net *n = opaque;
    struct coremu_virtio_device *dev = &n->dev;
    struct coremu_virtqueue *vq = &dev->vq[NET_RXQ];
    bool taken = true;

    pthread_mutex_lock(&dev->lock);
    if ((dev->status & COREMU_VIRTIO_STATUS_DRIVER_OK) == 0 || dev->broken || !vq->ready) {
        goto out; /* no driver: the frame is lost, as on a wire */
    }
    int r = coremu_virtqueue_pop(dev, vq, &n->rxreq);
    if (r == 0) {
        taken = false; /* no buffer: the back end keeps the frame until the guest gives one */
        goto out;
    }
    if (r < 0) {
        goto out; /* broken now */
    }
    if (n->rxreq.in_len < NET_HDR_LEN + len) {
        /* Without merged buffers every buffer must hold a whole frame: this one cannot. The
         * buffer goes back empty (the driver counts a length error) and the frame is lost. */
        coremu_virtqueue_push(dev, vq, &n->rxreq, 0);
    } else {
        uint8_t hdr[NET_HDR_LEN] = {0};
        hdr[10] = 1; /* num_buffers */
        coremu_virtio_req_write(&n->rxreq, 0, hdr, sizeof(hdr));
        coremu_virtio_req_write(&n->rxreq, NET_HDR_LEN, frame, len);
        coremu_virtqueue_push(dev, vq, &n->rxreq, (uint32_t)(NET_HDR_LEN + len));
    }
    coremu_virtqueue_interrupt(dev, vq);
out:
    pthread_mutex_unlock(&dev->lock);
    return taken;
}

/* Sends every frame the driver queued on transmitq1 (the kicking core, dev.lock held). */
static void net_transmit(struct virtio_net *n)
{
    struct coremu_virtio_device *dev = &n->dev;
    struct coremu_virtqueue *vq = &dev->vq[NET_TXQ];
    bool pushed = false;
    for (;;) {
        int r = coremu_virtqueue_pop(dev, vq, &n->txreq);
        if (r <= 0) {
            break;
        }
        if (n->txreq.out_len < NET_HDR_LEN) {
            coremu_virtio_set_broken(dev, "transmit buffer of %llu bytes: shorter than the header",
                                     (unsigned long long)n->txreq.out_len);
            break;
        }
        uint64_t len = n->txreq.out_len - NET_HDR_LEN;
        if (len > sizeof(n->frame)) {
            len = sizeof(n->frame); /* larger than any frame: sent cut, the peer drops it */
        }
        size_t got = coremu_virtio_req_read(&n->txreq, NET_HDR_LEN, n->frame, (size_t)len);
        if (n->backend != NULL) {
            coremu_net_send(n->backend, n->frame, got);
        }
        coremu_virtqueue_push(dev, vq, &n->txreq, 0);
        pushed = true;
    }
    if (pushed) {
        coremu_virtqueue_interrupt(dev, vq);
    }
}

static void net_queue_notify(struct coremu_virtio_device *dev, unsigned index)
{
    struct virtio_net *n = (struct virtio_net *)dev;
    if (index == NET_TXQ) {
        net_transmit(n);
    } else if (index == NET_RXQ && n->backend != NULL) {
        coremu_net_rx_ready(n->backend); /* new receive buffers: offer the waiting frames */
    }
}

static void net_free(struct coremu_virtio_device *dev)
{
    struct virtio_net *n = (struct virtio_net *)dev;
    coremu_net_free(n->backend); /* its thread stops first: it calls net_receive */
    coremu_virtio_device_destroy(dev);
    free(n);
}

static const struct coremu_virtio_device_ops net_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .queue_notify = net_queue_notify,
    .free = net_free,
};

struct coremu_virtio_device *virtio_net_new(struct coremu_as *as, struct coremu_xmon *xmon,
                                            struct coremu_net *backend, const uint8_t mac[6])
{
    struct virtio_net *n = calloc(1, sizeof(*n));
    const uint16_t sizes[] = {NET_QUEUE_SIZE, NET_QUEUE_SIZE};
    uint64_t features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS);
    if (n == NULL || coremu_virtio_device_init(&n->dev, &net_ops, n, as, xmon, features, 2, sizes,
                                               NET_CONFIG_SIZE) != 0) {
        free(n);
        coremu_net_free(backend);
        return NULL;
    }
    memcpy(n->dev.config, mac, 6);
    n->dev.config[6] = VIRTIO_NET_S_LINK_UP;
    n->dev.config[8] = 1; /* max_virtqueue_pairs (read only with MQ) */
    n->backend = backend;
    if (backend != NULL && coremu_net_attach(backend, net_receive, n) != 0) {
        n->backend = NULL;
        coremu_net_free(backend);
        coremu_virtio_device_destroy(&n->dev);
        free(n);
        return NULL;
    }
    return &n->dev;
}
