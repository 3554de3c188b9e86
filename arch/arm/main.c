/*
 * coremu-system-arm — the ARMv7-A emulator binary: its machine class table, run by the
 * runtime's shared coremu_main (include/coremu/machine.h).
 *
 * The virt class's hooks are thin adapters around virt.c: they turn the checked command line
 * into a struct virt_config, register the ARM atomic helper table, and pass the board through.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <coremu/coremu.h>
#include <coremu/machine.h>
#include <coremu/util.h>

#include "board.h"
#include "cpu.h"
#include "virtio_cmdline.h"

/* There is one model; "max" (QEMU's "every feature the emulator has") names it too. */
static const struct coremu_cpu_model_info arm_cpu_models[] = {
    {"cortex-a15", "ARMv7-A with VFPv4, no NEON, no LPAE"},
    {"max", "the same cortex-a15: every feature coremu implements"},
};

/* One -machine virt property. 0, or 1 after an error line. */
static unsigned virt_check_prop(const char *key, const char *value)
{
    bool on;
    if (strcmp(key, "dumpdtb") == 0) {
        if (value == NULL || value[0] == '\0') {
            coremu_error("-machine virt: dumpdtb needs a file name (dumpdtb=FILE)");
            return 1;
        }
        return 0;
    }
    if (strcmp(key, "highmem") == 0) {
        /* RAM and devices above 4 GiB need LPAE, which this core lacks: as with QEMU and a
         * 32-bit core without it, the board is the same either way. */
        if (value == NULL || coremu_parse_bool(value, &on) < 0) {
            coremu_error("-machine virt: highmem: expected on or off");
            return 1;
        }
        return 0;
    }
    if (strcmp(key, "gic-version") == 0) {
        if (value == NULL || (strcmp(value, "2") != 0 && strcmp(value, "max") != 0)) {
            coremu_error("-machine virt: gic-version=%s: only GICv2 is implemented (2 or max)",
                         value != NULL ? value : "");
            return 1;
        }
        return 0;
    }
    if (strcmp(key, "accel") == 0) {
        if (value == NULL || strcmp(value, "tcg") != 0) {
            coremu_error("-machine virt: accel=%s: tcg is the only accelerator",
                         value != NULL ? value : "");
            return 1;
        }
        return 0;
    }
    coremu_error("-machine virt: property '%s' is not supported yet", key);
    return 1;
}

/* The virtio devices of the command line: built by virt_check, read by virt_class_init (both on
 * the main thread, before the machine runs). */
static struct virtio_cmdline virt_virtio;

static unsigned virt_check(const struct coremu_options *o)
{
    unsigned errors = virtio_cmdline_check(o, "virt", "device|pci", &virt_virtio);
    for (unsigned i = 0; i < o->machine_props.n; i++) {
        errors += virt_check_prop(o->machine_props.key[i], o->machine_props.value[i]);
    }
    /* dumpdtb only writes the device tree: no kernel needed. */
    if (o->kernel == NULL && coremu_kv_get(&o->machine_props, "dumpdtb") == NULL) {
        coremu_error("no kernel given: use -kernel FILE");
        errors++;
    }
    return errors;
}

static enum coremu_machine_init_result virt_class_init(const struct coremu_machine_config *mcfg,
                                                       void **board_out, char *err, size_t errlen)
{
    const struct coremu_options *o = mcfg->opts;
    int r = coremu_atomic_register(&arm_atomic_table);
    if (r != 0) {
        snprintf(err, errlen, "cannot register the ARM atomic helpers: %s", strerror(-r));
        return COREMU_MACHINE_INIT_ERROR;
    }
    const struct virt_config cfg = {
        .ncpus = mcfg->ncpus,
        .ram_size = mcfg->ram_size,
        .llsc = mcfg->llsc,
        .pin_threads = o->accel_pin,
        .no_reboot = o->no_reboot,
        .kernel = o->kernel,
        .initrd = o->initrd,
        .dtb = o->dtb,
        .append = o->append,
        .dumpdtb = coremu_kv_get(&o->machine_props, "dumpdtb"),
        .rtc_offset = mcfg->rtc_offset,
        .virtio = &virt_virtio,
    };
    struct arm_board *board = virt_new(&cfg, err, errlen);
    if (board == NULL) {
        return COREMU_MACHINE_INIT_ERROR;
    }
    *board_out = board;
    /* -machine virt,dumpdtb=FILE: the tree the guest would get, then stop (as QEMU does). */
    if (cfg.dumpdtb != NULL) {
        if (virt_dump_dtb(board, cfg.dumpdtb, err, errlen) != 0) {
            virt_free(board);
            *board_out = NULL;
            return COREMU_MACHINE_INIT_ERROR;
        }
        return COREMU_MACHINE_INIT_DONE;
    }
    return COREMU_MACHINE_INIT_RUN;
}

static void virt_class_attach_serial(void *board, unsigned index, struct coremu_chardev *chr)
{
    (void)index; /* virt has one UART */
    virt_attach_serial(board, chr);
}

static int virt_class_run(void *board, char *err, size_t errlen)
{
    return virt_run(board, err, errlen);
}

static void virt_class_request_exit(void *board, int status)
{
    coremu_machine_exit(((struct arm_board *)board)->machine, status);
}

static void virt_class_reset(void *board)
{
    virt_system_reset(board);
}

static void virt_class_free(void *board)
{
    virt_free(board);
}

static const struct coremu_machine_class virt_class = {
    .name = "virt",
    .description = "ARM virtual machine (GICv2, PL011, PL031, PSCI, virtio-mmio)",
    .max_cpus = 8, /* GICv2 */
    .default_ram_size = 128ull << 20,
    /* RAM starts at 1 GiB and must end below 4 GiB (no LPAE); the board maps whole pages. */
    .min_ram_size = 1ull << 20,
    .max_ram_size = 3ull << 30,
    .ram_granule = 4096,
    .nserial = 1,
    .cpu_models = arm_cpu_models,
    .ncpu_models = COREMU_ARRAY_SIZE(arm_cpu_models),
    .check = virt_check,
    .init = virt_class_init,
    .attach_serial = virt_class_attach_serial,
    .run = virt_class_run,
    .request_exit = virt_class_request_exit,
    .reset = virt_class_reset,
    .free = virt_class_free,
};

static const struct coremu_machine_class *const arm_classes[] = {&virt_class, NULL};

static const struct coremu_binary arm_binary = {
    .name = "coremu-system-arm",
    .classes = arm_classes,
};

/* The board reads these itself (virtio_cmdline.c). */
static const char *const arm_implemented_options[] = {
    "drive", "device", "object", "chardev", "mon", "snapshot", "netdev", "nic", "net", NULL};

int main(int argc, char **argv)
{
    coremu_options_implement(arm_implemented_options);
    return coremu_main(argc, argv, &arm_binary);
}
