/*
 * coremu — the qcow2 image format (versions 2 and 3).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "block_internal.h"

bool blk_qcow2_probe(const uint8_t *head, size_t len)
{
    return len >= 4 && memcmp(head, "QFI\xfb", 4) == 0;
}

int blk_qcow2_open(struct coremu_block *b, const char *path, enum coremu_block_cache cache,
                   unsigned depth, char *err, size_t errlen)
{
    (void)b;
    (void)cache;
    (void)depth;
    snprintf(err, errlen, "%s: qcow2 is not supported yet", path);
    return -1;
}

int blk_qcow2_create_over(struct coremu_block *b, uint64_t length, struct coremu_block *backing,
                          char *err, size_t errlen)
{
    (void)b;
    (void)length;
    coremu_block_close(backing);
    snprintf(err, errlen, "snapshot=on is not supported yet");
    return -1;
}
