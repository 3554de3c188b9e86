/*
 * coremu — what every board needs around its devices, whatever the guest architecture:
 *
 *   - the guest address space;
 *   - guest RAM with its exclusive monitor (coremu_xmon, atomic.h), and in exact mode the
 *     once-a-second sweep on the I/O thread that unwatches pages no load-exclusive used lately;
 *   - the boot images' bytes as they were loaded, put back by every machine reset, so that a
 *     reboot does not read the files again (which may have changed, or gone);
 *   - the list of devices, each with its reset and free hooks: a machine reset resets them in
 *     the order they were added, and the board frees them in the reverse order.
 *
 * A board builds one of these before its cores exist and adds RAM, devices and images; the
 * structure is not changed after the machine starts. coremu_board_reset runs with the world
 * stopped (coremu_machine_reset's hook). coremu_board_free runs once the cores are gone.
 */
#ifndef COREMU_BOARD_H
#define COREMU_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include <coremu/atomic.h>
#include <coremu/iothread.h>
#include <coremu/physmem.h>

struct coremu_board;

/* A device's hook (opaque = the device, as given to coremu_board_add_device). */
typedef void (*coremu_device_fn)(void *opaque);

/* How often the exclusive monitor's idle pages are swept (exact mode): a page no load-exclusive
 * used for one to two periods is unwatched. */
#define COREMU_BOARD_XMON_SWEEP_NS 1000000000ll

/* An empty board: a new address space, no RAM, no device. Timers (the monitor's sweep) go on
 * io; NULL means the process-wide I/O thread (coremu_iothread_default). NULL when out of
 * memory. */
struct coremu_board *coremu_board_new(struct coremu_iothread *io);
/* Frees, in this order: the address space (no core may run any more), the devices in the
 * reverse order they were added, the sweep timer, the exclusive monitor, the kept images.
 * NULL is allowed. Not from an I/O thread callback. */
void coremu_board_free(struct coremu_board *board);

/* The board's address space (immutable; valid until coremu_board_free). */
struct coremu_as *coremu_board_as(const struct coremu_board *board);

/* Adds the guest RAM, size bytes at base (named name in the address space), and the exclusive
 * monitor that covers it (mode, watch and watch_opaque as for coremu_xmon_new); in exact mode,
 * starts the monitor's sweep timer. A board has one RAM range. 0, or -1 with a one-line message
 * in err. */
int coremu_board_add_ram(struct coremu_board *board, const char *name, uint64_t base,
                         uint64_t size, enum coremu_xmon_mode mode, coremu_xmon_watch_fn watch,
                         void *watch_opaque, char *err, size_t errlen);
/* The exclusive monitor of the RAM (NULL before coremu_board_add_ram). */
struct coremu_xmon *coremu_board_xmon(const struct coremu_board *board);

/* Adds a device to the list. reset_hook (may be NULL) runs at every coremu_board_reset;
 * free_hook (may be NULL) runs at coremu_board_free, after the address space is gone. name
 * (which must outlive the board) appears in log messages. The board owns the device from this
 * call on: if it cannot be added (out of memory), free_hook(opaque) runs at once and -ENOMEM is
 * returned; else 0. */
int coremu_board_add_device(struct coremu_board *board, const char *name, void *opaque,
                            coremu_device_fn reset_hook, coremu_device_fn free_hook);

/* Keeps a copy of the size bytes loaded at addr in the address space, for coremu_board_reset to
 * put back. size 0 keeps nothing. 0, or -1 with a one-line message in err. */
int coremu_board_keep_image(struct coremu_board *board, uint64_t addr, size_t size, char *err,
                            size_t errlen);

/* Machine reset, with nothing executing: every device's reset hook in the order the devices were
 * added, then every kept image copied back where it was loaded. The rest of RAM keeps its
 * contents, as on real hardware. 0, or -1 when an image could not be restored (warned about). */
int coremu_board_reset(struct coremu_board *board);

#endif /* COREMU_BOARD_H */
