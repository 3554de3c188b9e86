/*
 * coremu-system-x86_64 — the x86_64 emulator binary: its machine class table, run by the
 * runtime's shared coremu_main (include/coremu/machine.h). The pc class's hooks are thin
 * adapters around pc.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/coremu.h>
#include <coremu/machine.h>
#include <coremu/util.h>

#include "cpu.h"
#include "pc.h"
#include "virtio_cmdline.h"

static const struct coremu_cpu_model_info x86_cpu_models[] = {
    {"max", "coremu x86_64: x86-64 with SSE4.2, POPCNT, MOVBE, LZCNT, FSGSBASE, NX, 1 GiB "
            "pages (every feature coremu implements)"},
};

/* The virtio devices of the command line: built by pc_check, read by pc_class_init (both on
 * the main thread, before the machine runs). */
static struct virtio_cmdline pc_virtio;

static unsigned pc_check(const struct coremu_options *o)
{
    unsigned errors =
        virtio_cmdline_check(o, o->machine != NULL ? o->machine : "pc", "pci", &pc_virtio);
    for (unsigned i = 0; i < o->machine_props.n; i++) {
        const char *key = o->machine_props.key[i], *value = o->machine_props.value[i];
        if (strcmp(key, "accel") == 0 && value != NULL && strcmp(value, "tcg") == 0) {
            continue;
        }
        coremu_error("-machine %s: property '%s' is not supported yet",
                     o->machine != NULL ? o->machine : "pc", key);
        errors++;
    }
    if (o->kernel == NULL) {
        coremu_error("no kernel given: use -kernel FILE (a bzImage or a multiboot kernel)");
        errors++;
    }
    /* options the PC cannot honour (yet): refused, never ignored */
    if (o->dtb != NULL) {
        coremu_error("-dtb: the pc machine has no device tree (its firmware tables are ACPI)");
        errors++;
    }
    if (o->xmon_mode != NULL) {
        coremu_error("-accel llsc=%s: x86_64 has no load-linked/store-conditional instructions",
                     o->xmon_mode);
        errors++;
    }
    return errors;
}

/* first_pci_slot: where the command line's PCI devices begin, as QEMU numbers them with
 * -nodefaults: 00:02.0 on pc (00:01.0 is its PIIX3), 00:01.0 on q35 (its ICH9 is at 00:1f). */
static enum coremu_machine_init_result pc_init_board(const struct coremu_machine_config *mcfg,
                                                     unsigned first_pci_slot, void **board_out,
                                                     char *err, size_t errlen)
{
    const struct coremu_options *o = mcfg->opts;
    int r = coremu_atomic_register(&x86_atomic_table);
    if (r != 0) {
        snprintf(err, errlen, "cannot register the x86_64 atomic helpers: %s", strerror(-r));
        return COREMU_MACHINE_INIT_ERROR;
    }
    const struct pc_config cfg = {
        .ncpus = mcfg->ncpus,
        .threads_per_core = o->smp_threads ? o->smp_threads : 1,
        .cores_per_socket = o->smp_cores ? o->smp_cores : mcfg->ncpus,
        .ram_size = mcfg->ram_size,
        .nserial_ports = o->nserials,
        .pin_threads = o->accel_pin,
        .no_reboot = o->no_reboot,
        .rtc_offset = mcfg->rtc_offset,
        .kernel = o->kernel,
        .initrd = o->initrd,
        .append = o->append,
        .virtio = &pc_virtio,
        .first_pci_slot = first_pci_slot,
    };
    struct pc_board *pc = pc_new(&cfg, err, errlen);
    if (!pc) {
        return COREMU_MACHINE_INIT_ERROR;
    }
    *board_out = pc;
    return COREMU_MACHINE_INIT_RUN;
}

static enum coremu_machine_init_result pc_class_init(const struct coremu_machine_config *mcfg,
                                                     void **board_out, char *err, size_t errlen)
{
    return pc_init_board(mcfg, 2, board_out, err, errlen);
}

static enum coremu_machine_init_result q35_class_init(const struct coremu_machine_config *mcfg,
                                                      void **board_out, char *err, size_t errlen)
{
    return pc_init_board(mcfg, 1, board_out, err, errlen);
}

static void pc_class_attach_serial(void *board, unsigned index, struct coremu_chardev *chr)
{
    pc_attach_serial(board, index, chr);
}

static int pc_class_run(void *board, char *err, size_t errlen)
{
    return pc_run(board, err, errlen);
}

static void pc_class_request_exit(void *board, int status)
{
    pc_request_exit(board, status);
}

static void pc_class_free(void *board)
{
    pc_free(board);
}

#define PC_CLASS_HOOKS                                                                           \
    .max_cpus = 255, .default_ram_size = 128ull << 20, .min_ram_size = 2ull << 20,               \
    .max_ram_size = PC_MAX_RAM, .ram_granule = 4096, .nserial = 4, .cpu_models = x86_cpu_models, \
    .ncpu_models = COREMU_ARRAY_SIZE(x86_cpu_models), .check = pc_check,                         \
    .attach_serial = pc_class_attach_serial, .run = pc_class_run,                                \
    .request_exit = pc_class_request_exit, .free = pc_class_free

static const struct coremu_machine_class pc_class = {
    .name = "pc",
    .description = "Standard PC (local APICs, I/O APIC, 8259, PIT, HPET, RTC, COM1-4, ACPI, PCI "
                   "host)",
    .init = pc_class_init,
    PC_CLASS_HOOKS,
};

/* Command lines written for QEMU's q35 machine work unchanged: the same board until coremu
 * models what q35 has and pc has not (PCI Express root ports, AHCI). */
static const struct coremu_machine_class q35_class = {
    .name = "q35",
    .description = "Standard PC, as -M pc for now (an alias until q35's own devices exist)",
    .init = q35_class_init,
    PC_CLASS_HOOKS,
};

static const struct coremu_machine_class *const x86_classes[] = {&pc_class, &q35_class, NULL};

static const struct coremu_binary x86_binary = {
    .name = "coremu-system-x86_64",
    .classes = x86_classes,
};

/* The board reads these itself (virtio_cmdline.c). */
static const char *const x86_implemented_options[] = {"drive", "device", "object", "netdev",
                                                      "nic",   "net",    NULL};

int main(int argc, char **argv)
{
    coremu_options_implement(x86_implemented_options);
    return coremu_main(argc, argv, &x86_binary);
}
