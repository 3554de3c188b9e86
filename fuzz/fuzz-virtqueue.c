/*
 * libFuzzer target: the split virtqueue as a hostile driver lays it out. The input is guest RAM
 * (descriptor table, available ring, used ring, indirect tables, data, all where the input puts
 * them) plus the queue's size, features and addresses; the target pops and completes chains
 * until the queue is empty or the device breaks. Whatever the bytes, the engine must neither
 * touch host memory outside the guest's RAM (AddressSanitizer watches: RAM is one mapping with
 * nothing around it in a fresh address space) nor loop for ever.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <coremu/physmem.h>
#include <coremu/virtio.h>

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (64u * 1024u)
#define HEADER   16u /* input bytes that configure the queue; the rest is RAM */

static void fuzz_notify(struct coremu_virtio_device *d, unsigned index)
{
    (void)d;
    (void)index;
}

static void fuzz_interrupt(void *opaque, uint32_t bits)
{
    (void)opaque;
    (void)bits;
}

static const struct coremu_virtio_device_ops fuzz_ops = {
    .name = "virtio-fuzz",
    .device_id = 4,
    .queue_notify = fuzz_notify,
};

static struct coremu_as *as;
static uint8_t *ram;
static struct coremu_virtio_device dev;

static void setup(void)
{
    as = coremu_as_new();
    ram = coremu_as_add_ram(as, "ram", RAM_BASE, RAM_SIZE);
    const uint16_t sizes[] = {256};
    if (!as || !ram ||
        coremu_virtio_device_init(&dev, &fuzz_ops, NULL, as, NULL, 0, 1, sizes, 8) != 0) {
        __builtin_trap();
    }
    dev.transport = (struct coremu_virtio_transport){fuzz_interrupt, NULL};
}

/* A guest address from two input bytes: mostly inside RAM, sometimes just outside or wrapped. */
static uint64_t fuzz_gpa(const uint8_t *p)
{
    uint16_t v = (uint16_t)(p[0] | p[1] << 8);
    switch (v >> 14) {
    case 0:
    case 1:
        return RAM_BASE + (v & 0x7fffu) * 2u; /* inside (or up to 0 bytes past the end) */
    case 2:
        return RAM_BASE + RAM_SIZE - (v & 0xffu); /* straddling the end */
    default:
        return (uint64_t)0 - (v & 0xfffu); /* wrapping past 2^64 */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ram) {
        setup();
    }
    if (size < HEADER) {
        return 0;
    }
    memset(ram, 0, RAM_SIZE);
    memcpy(ram, data + HEADER, size - HEADER < RAM_SIZE ? size - HEADER : RAM_SIZE);

    uint64_t features = 1ull << COREMU_VIRTIO_F_VERSION_1;
    if (data[0] & 1) {
        features |= 1ull << COREMU_VIRTIO_F_EVENT_IDX;
    }
    if (data[0] & 2) {
        features |= 1ull << COREMU_VIRTIO_F_INDIRECT_DESC;
    }
    coremu_virtio_reset(&dev);
    uint8_t st = COREMU_VIRTIO_STATUS_ACKNOWLEDGE | COREMU_VIRTIO_STATUS_DRIVER;
    coremu_virtio_set_status(&dev, st);
    coremu_virtio_set_driver_features(&dev, 0, (uint32_t)features);
    coremu_virtio_set_driver_features(&dev, 1, (uint32_t)(features >> 32));
    st |= COREMU_VIRTIO_STATUS_FEATURES_OK;
    coremu_virtio_set_status(&dev, st);
    /* The queue size the driver chose: 1 to 256 (the transports refuse others). */
    dev.vq[0].size = (uint16_t)(data[1] + 1u);
    dev.vq[0].desc_gpa = fuzz_gpa(data + 2);
    dev.vq[0].avail_gpa = fuzz_gpa(data + 4);
    dev.vq[0].used_gpa = fuzz_gpa(data + 6);
    coremu_virtio_queue_set_ready(&dev, 0, true);
    coremu_virtio_set_status(&dev, st | COREMU_VIRTIO_STATUS_DRIVER_OK);

    /* Pop and complete what the driver published, writing into the writable segments as a
     * device does; a well-formed ring has at most 65536 entries in flight, so more pops than
     * that would be a loop. */
    struct coremu_virtio_req req;
    uint8_t buf[512];
    memset(buf, 0x5a, sizeof(buf));
    for (unsigned n = 0; n < 70000; n++) {
        int r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
        if (r <= 0) {
            break;
        }
        coremu_virtio_req_read(&req, data[8], buf, sizeof(buf));
        size_t w = coremu_virtio_req_write(&req, data[9], buf, sizeof(buf));
        coremu_virtqueue_push(&dev, &dev.vq[0], &req, (uint32_t)w);
        if (coremu_virtqueue_should_interrupt(&dev, &dev.vq[0])) {
            coremu_virtqueue_interrupt(&dev, &dev.vq[0]);
        }
        if (n == 69999) {
            __builtin_trap(); /* the engine let a ring go round for ever */
        }
    }
    return 0;
}
