/*
 * coremu — a board's generic plumbing: address space, RAM and its exclusive monitor with the
 * sweep timer, kept boot images, and the device list (see coremu/board.h).
 *
 * Everything here is built before the cores start and not changed afterwards, so the machine
 * reset (world stopped) and the teardown (cores gone) read it without a lock. The only thread
 * of its own is the sweep timer's callback on the I/O thread, which touches nothing but the
 * monitor (whose sweep is safe against running cores) and its own timer.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/board.h>
#include <coremu/clock.h>
#include <coremu/log.h>
#include <coremu/options.h>

struct board_device {
    const char *name;
    void *opaque;
    coremu_device_fn reset_hook;
    coremu_device_fn free_hook;
};

/* A loaded image's bytes as they were before the guest ran. */
struct board_image {
    uint64_t addr;
    size_t size;
    uint8_t *bytes;
};

struct coremu_board {
    struct coremu_iothread *io; /* where the sweep timer runs */
    struct coremu_as *as;
    struct coremu_xmon *xmon;   /* NULL until coremu_board_add_ram */
    struct coremu_timer *sweep; /* exact mode only */

    struct board_device *devices; /* in the order they were added */
    size_t ndevices, devices_cap;

    struct board_image *images;
    size_t nimages, images_cap;
};

static int board_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int board_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Makes room for one more element of size elem in *array (holding *count of *cap). */
static bool board_grow(void **array, size_t *cap, size_t count, size_t elem)
{
    if (count < *cap) {
        return true;
    }
    size_t ncap = *cap != 0 ? *cap * 2 : 8;
    void *p = realloc(*array, ncap * elem);
    if (p == NULL) {
        return false;
    }
    *array = p;
    *cap = ncap;
    return true;
}

struct coremu_board *coremu_board_new(struct coremu_iothread *io)
{
    struct coremu_board *board = calloc(1, sizeof(*board));
    if (board == NULL) {
        return NULL;
    }
    board->io = io;
    board->as = coremu_as_new();
    if (board->as == NULL) {
        free(board);
        return NULL;
    }
    return board;
}

struct coremu_as *coremu_board_as(const struct coremu_board *board)
{
    return board->as;
}

struct coremu_xmon *coremu_board_xmon(const struct coremu_board *board)
{
    return board->xmon;
}

/* I/O thread, once a period: plain stores to pages that held a load-exclusive long ago take the
 * fast path again (coremu_xmon_sweep keeps reservations exact). */
static void board_xmon_sweep(void *opaque)
{
    struct coremu_board *board = opaque;
    size_t n = coremu_xmon_sweep(board->xmon);
    if (n != 0) {
        COREMU_LOG(COREMU_LOG_MMU, "xmon: %zu idle pages unwatched\n", n);
    }
    coremu_timer_mod(board->sweep, coremu_clock_ns() + COREMU_BOARD_XMON_SWEEP_NS);
}

int coremu_board_add_ram(struct coremu_board *board, const char *name, uint64_t base,
                         uint64_t size, enum coremu_xmon_mode mode, coremu_xmon_watch_fn watch,
                         void *watch_opaque, char *err, size_t errlen)
{
    if (board->xmon != NULL) {
        return board_error(err, errlen, "%s: the board already has its RAM", name);
    }
    if (coremu_as_add_ram(board->as, name, base, size) == NULL) {
        return board_error(err, errlen, "cannot allocate %llu MiB of guest RAM: %s",
                           (unsigned long long)(size >> 20), strerror(errno));
    }
    board->xmon = coremu_xmon_new(mode, base, size, watch, watch_opaque);
    if (board->xmon == NULL) {
        return board_error(err, errlen, "cannot create the exclusive monitor for guest RAM");
    }
    if (mode == COREMU_XMON_EXACT) {
        struct coremu_iothread *io = board->io != NULL ? board->io : coremu_iothread_default();
        board->sweep = io != NULL ? coremu_timer_new(io, board_xmon_sweep, board) : NULL;
        if (board->sweep == NULL) {
            return board_error(err, errlen, "cannot create the exclusive monitor's timer");
        }
        coremu_timer_mod(board->sweep, coremu_clock_ns() + COREMU_BOARD_XMON_SWEEP_NS);
    }
    return 0;
}

int coremu_board_add_device(struct coremu_board *board, const char *name, void *opaque,
                            coremu_device_fn reset_hook, coremu_device_fn free_hook)
{
    if (!board_grow((void **)&board->devices, &board->devices_cap, board->ndevices,
                    sizeof(*board->devices))) {
        if (free_hook != NULL) {
            free_hook(opaque);
        }
        return -ENOMEM;
    }
    board->devices[board->ndevices++] =
        (struct board_device){name, opaque, reset_hook, free_hook};
    return 0;
}

int coremu_board_keep_image(struct coremu_board *board, uint64_t addr, size_t size, char *err,
                            size_t errlen)
{
    if (size == 0) {
        return 0;
    }
    if (!board_grow((void **)&board->images, &board->images_cap, board->nimages,
                    sizeof(*board->images))) {
        return board_error(err, errlen, "out of memory for the boot images' list");
    }
    uint8_t *bytes = malloc(size);
    if (bytes == NULL) {
        return board_error(err, errlen, "out of memory for a %zu KiB copy of the boot images",
                           size >> 10);
    }
    if (coremu_as_copy_from(board->as, addr, bytes, size) != COREMU_MEM_OK) {
        free(bytes);
        return board_error(err, errlen, "cannot read back the image loaded at 0x%08llx",
                           (unsigned long long)addr);
    }
    board->images[board->nimages++] = (struct board_image){addr, size, bytes};
    return 0;
}

int coremu_board_reset(struct coremu_board *board)
{
    for (size_t i = 0; i < board->ndevices; i++) {
        const struct board_device *d = &board->devices[i];
        if (d->reset_hook != NULL) {
            COREMU_LOG(COREMU_LOG_INT, "machine reset: %s\n", d->name);
            d->reset_hook(d->opaque);
        }
    }
    int result = 0;
    for (size_t i = 0; i < board->nimages; i++) {
        const struct board_image *img = &board->images[i];
        if (coremu_as_copy_to(board->as, img->addr, img->bytes, img->size) != COREMU_MEM_OK) {
            /* The RAM it came from cannot have gone away: an internal error. */
            coremu_warn("machine reset: cannot restore the image at 0x%08llx",
                        (unsigned long long)img->addr);
            result = -1;
        }
    }
    return result;
}

void coremu_board_free(struct coremu_board *board)
{
    if (board == NULL) {
        return;
    }
    /* The address space goes before the devices it dispatches to. */
    coremu_as_free(board->as);
    for (size_t i = board->ndevices; i-- > 0;) {
        const struct board_device *d = &board->devices[i];
        if (d->free_hook != NULL) {
            d->free_hook(d->opaque);
        }
    }
    free(board->devices);
    coremu_timer_free(board->sweep); /* before the monitor it sweeps */
    if (board->xmon != NULL) {
        coremu_xmon_free(board->xmon);
    }
    for (size_t i = 0; i < board->nimages; i++) {
        free(board->images[i].bytes);
    }
    free(board->images);
    free(board);
}
