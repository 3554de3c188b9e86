/*
 * coremu — virtio-blk (virtio 1.x, 5.2). See virtio_blk.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_blk.h"

#define VIRTIO_ID_BLOCK 2
#define BLK_QUEUE_SIZE  256
#define BLK_SECTOR      512u

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9
#define VIRTIO_BLK_F_DISCARD  13

/* Configuration layout (5.2.4): the offsets of the fields this device fills. */
#define CFG_CAPACITY            0
#define CFG_SEG_MAX             12
#define CFG_BLK_SIZE            20
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG     40
#define CFG_DISCARD_ALIGNMENT   44
#define CFG_SIZE                60

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN      0
#define VIRTIO_BLK_T_OUT     1
#define VIRTIO_BLK_T_FLUSH   4
#define VIRTIO_BLK_T_GET_ID  8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_S_OK      0
#define VIRTIO_BLK_S_IOERR   1
#define VIRTIO_BLK_S_UNSUPP  2
#define VIRTIO_BLK_ID_BYTES  20
#define HEADER_BYTES         16
#define DISCARD_SEG_BYTES    16
#define DISCARD_MAX_SECTORS  0x3fffffu

struct virtio_blk {
    struct coremu_virtio_device dev;  /* first: the ops get it */
    struct coremu_block *blk;         /* immutable; thread-safe itself */
    uint64_t sectors;                 /* immutable: capacity in 512-byte sectors */
    bool readonly;                    /* immutable */
    char serial[VIRTIO_BLK_ID_BYTES]; /* immutable, zero-padded */
};

static void put_le32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v)); /* little-endian host */
}

/* Whether [sector, sector + bytes / 512) lies on the disk. */
static bool in_range(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
    uint64_t n = bytes / BLK_SECTOR;
    return sector <= b->sectors && n <= b->sectors - sector;
}

/* Reads or writes the data segments of a request: the writable ones before the status byte
 * (IN) or the readable ones after the header (OUT). */
static int blk_transfer(struct virtio_blk *b, const struct coremu_virtio_req *req, bool in,
                        uint64_t offset, uint64_t len)
{
    unsigned first = in ? req->nout : 0;
    unsigned count = in ? req->nin : req->nout;
    uint64_t skip = in ? 0 : HEADER_BYTES;
    for (unsigned i = first; i < first + count && len > 0; i++) {
        const struct coremu_virtio_seg *s = &req->seg[i];
        if (skip >= s->len) {
            skip -= s->len;
            continue;
        }
        uint64_t n = s->len - skip;
        if (n > len) {
            n = len;
        }
        int r = in ? coremu_block_pread(b->blk, offset, s->host + skip, (size_t)n)
                   : coremu_block_pwrite(b->blk, offset, s->host + skip, (size_t)n);
        if (r < 0) {
            return r;
        }
        offset += n;
        len -= n;
        skip = 0;
    }
    return 0;
}

static uint8_t blk_discard(struct virtio_blk *b, const struct coremu_virtio_req *req,
                           uint64_t bytes)
{
    if (b->readonly || bytes % DISCARD_SEG_BYTES != 0) {
        return VIRTIO_BLK_S_IOERR;
    }
    for (uint64_t off = 0; off < bytes; off += DISCARD_SEG_BYTES) {
        uint8_t seg[DISCARD_SEG_BYTES];
        uint64_t sector;
        uint32_t num;
        coremu_virtio_req_read(req, HEADER_BYTES + off, seg, sizeof(seg));
        memcpy(&sector, seg, sizeof(sector));
        memcpy(&num, seg + 8, sizeof(num));
        if (num > DISCARD_MAX_SECTORS || !in_range(b, sector, (uint64_t)num * BLK_SECTOR)) {
            return VIRTIO_BLK_S_IOERR;
        }
        if (coremu_block_discard(b->blk, sector * BLK_SECTOR, (uint64_t)num * BLK_SECTOR) < 0) {
            return VIRTIO_BLK_S_IOERR;
        }
    }
    return VIRTIO_BLK_S_OK;
}

/* Serves one request; returns the bytes written to the driver (data and status). */
static uint32_t blk_request(struct coremu_virtio_device *dev, const struct coremu_virtio_req *req)
{
    struct virtio_blk *b = (struct virtio_blk *)dev;
    uint8_t header[HEADER_BYTES];
    if (req->out_len < HEADER_BYTES || req->in_len < 1) {
        coremu_virtio_set_broken(&b->dev, "request without header or status byte");
        return 0;
    }
    coremu_virtio_req_read(req, 0, header, sizeof(header));
    uint32_t type;
    uint64_t sector;
    memcpy(&type, header, sizeof(type));
    memcpy(&sector, header + 8, sizeof(sector));
    uint64_t data_in = req->in_len - 1; /* the status byte is the last writable byte */
    uint64_t data_out = req->out_len - HEADER_BYTES;
    uint64_t written = 0;
    uint8_t status = VIRTIO_BLK_S_OK;

    switch (type) {
    case VIRTIO_BLK_T_IN:
        if (data_in % BLK_SECTOR != 0 || !in_range(b, sector, data_in) ||
            blk_transfer(b, req, true, sector * BLK_SECTOR, data_in) != 0) {
            status = VIRTIO_BLK_S_IOERR;
        } else {
            written = data_in;
        }
        break;
    case VIRTIO_BLK_T_OUT:
        if (b->readonly || data_out % BLK_SECTOR != 0 || !in_range(b, sector, data_out) ||
            blk_transfer(b, req, false, sector * BLK_SECTOR, data_out) != 0) {
            status = VIRTIO_BLK_S_IOERR;
        }
        break;
    case VIRTIO_BLK_T_FLUSH:
        if (coremu_block_flush(b->blk) != 0) {
            status = VIRTIO_BLK_S_IOERR;
        }
        break;
    case VIRTIO_BLK_T_GET_ID:
        written = coremu_virtio_req_write(
            req, 0, b->serial, data_in < sizeof(b->serial) ? (size_t)data_in : sizeof(b->serial));
        break;
    case VIRTIO_BLK_T_DISCARD:
        status = blk_discard(b, req, data_out);
        break;
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    coremu_virtio_req_write(req, req->in_len - 1, &status, 1);
    /* The status byte counts too; data bytes before it count only when they were written. */
    return (uint32_t)(written == data_in ? req->in_len : written + 1);
}

static void blk_free(struct coremu_virtio_device *dev)
{
    struct virtio_blk *b = (struct virtio_blk *)dev;
    coremu_block_close(b->blk);
    coremu_virtio_device_destroy(dev);
    free(b);
}

static const struct coremu_virtio_device_ops blk_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .serve = blk_request,
    .free = blk_free,
};

struct coremu_virtio_device *virtio_blk_new(struct coremu_as *as, struct coremu_xmon *xmon,
                                            struct coremu_block *blk, const char *serial)
{
    struct virtio_blk *b = calloc(1, sizeof(*b));
    bool ro = coremu_block_is_readonly(blk);
    uint64_t features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                        (1ull << VIRTIO_BLK_F_FLUSH) | (ro ? 1ull << VIRTIO_BLK_F_RO : 0) |
                        (ro ? 0 : 1ull << VIRTIO_BLK_F_DISCARD);
    const uint16_t sizes[] = {BLK_QUEUE_SIZE};
    if (b == NULL || coremu_virtio_device_init(&b->dev, &blk_ops, b, as, xmon, features, 1, sizes,
                                               CFG_SIZE) != 0) {
        free(b);
        coremu_block_close(blk);
        return NULL;
    }
    b->blk = blk;
    b->readonly = ro;
    b->sectors = coremu_block_length(blk) / BLK_SECTOR;
    if (serial != NULL) {
        size_t n = strlen(serial);
        memcpy(b->serial, serial, n < sizeof(b->serial) ? n : sizeof(b->serial));
    }
    memcpy(b->dev.config + CFG_CAPACITY, &b->sectors, sizeof(b->sectors));
    /* Two descriptors of every chain are the header and the status. */
    put_le32(b->dev.config + CFG_SEG_MAX, BLK_QUEUE_SIZE - 2);
    put_le32(b->dev.config + CFG_BLK_SIZE, BLK_SECTOR);
    put_le32(b->dev.config + CFG_MAX_DISCARD_SECTORS, DISCARD_MAX_SECTORS);
    put_le32(b->dev.config + CFG_MAX_DISCARD_SEG, 1);
    put_le32(b->dev.config + CFG_DISCARD_ALIGNMENT, 1);
    return &b->dev;
}
