/*
 * coremu-system-arm — the ARMv7-A emulator binary.
 *
 * main() checks the command line against what this binary can do, registers what the ARM
 * architecture provides with the runtime (its atomic helper table), builds the virt board
 * (virt.c), connects its serial port, runs the machine and exits with the machine's status:
 * 0 when the guest powers off through PSCI. Every error before the guest runs is one line on
 * stderr and exit status 1.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <coremu/coremu.h>

#include "board.h"

static const char *const arm_machines[] = {"virt", NULL};
static const char *const arm_machine_help[] = {
    "ARM virtual machine (GICv2, PL011, PL031, PSCI, virtio-mmio)",
    NULL,
};

static const struct coremu_binary_info arm_binary = {
    .name = "coremu-system-arm",
    .default_machine = "virt",
    .machines = arm_machines,
    .machine_help = arm_machine_help,
    .max_cpus = 8, /* GICv2 */
};

/* The processor models -cpu accepts, with what -cpu help says of them. There is one model;
 * "max" (QEMU's "every feature the emulator has") names it too. */
static const struct arm_cpu_model {
    const char *name;
    const char *help;
} arm_cpu_models[] = {
    {"cortex-a15", "ARMv7-A with VFPv4, no NEON, no LPAE (the default)"},
    {"max", "the same cortex-a15: every feature coremu implements"},
};

/* Options the parser accepts (they are part of the command-line syntax) that this binary
 * cannot honour yet. Each is an error naming it, never silently ignored. */
enum arm_opt_type { OPT_STRING, OPT_FLAG, OPT_COUNT };
static const struct arm_unsupported {
    const char *option;
    enum arm_opt_type type;
    size_t offset; /* of the field in struct coremu_options */
    const char *why;
} arm_unsupported[] = {
    {"-bios", OPT_STRING, offsetof(struct coremu_options, bios), "virt has no flash yet"},
    {"-drive", OPT_COUNT, offsetof(struct coremu_options, ndrives), "no block devices yet"},
    {"-device", OPT_COUNT, offsetof(struct coremu_options, ndevices), "no pluggable devices yet"},
    {"-netdev", OPT_COUNT, offsetof(struct coremu_options, nnetdevs), "no network devices yet"},
    {"-chardev", OPT_COUNT, offsetof(struct coremu_options, nchardevs),
     "give the back end to -serial directly"},
    {"-S", OPT_FLAG, offsetof(struct coremu_options, start_paused), "there is no debugger yet"},
    {"-gdb", OPT_STRING, offsetof(struct coremu_options, gdb), "there is no debugger yet"},
    {"-no-shutdown", OPT_FLAG, offsetof(struct coremu_options, no_shutdown),
     "a powered-off guest always ends the emulator"},
};

static bool arm_option_given(const struct coremu_options *o, const struct arm_unsupported *u)
{
    const char *field = (const char *)o + u->offset;
    switch (u->type) {
    case OPT_STRING:
        return *(char *const *)(const void *)field != NULL;
    case OPT_FLAG:
        return *(const bool *)(const void *)field;
    case OPT_COUNT:
        return *(const unsigned *)(const void *)field != 0;
    }
    return false;
}

static bool arm_machine_known(const char *name)
{
    for (const char *const *m = arm_machines; *m != NULL; m++) {
        if (strcmp(*m, name) == 0) {
            return true;
        }
    }
    return false;
}

/* The serial port's back end: -serial, or the terminal. Without -nographic there would be a
 * display window, but there is no display device yet, so the terminal it is too; -nodefaults
 * leaves the port unconnected instead. */
static const char *arm_serial_backend(const struct coremu_options *o)
{
    return o->nserials > 0 ? o->serials[0] : o->nodefaults ? "none" : "mon:stdio";
}

/* One -machine virt property. 0, or 1 after an error line. */
static int arm_check_machine_prop(const char *machine, const char *key, const char *value)
{
    bool on;
    if (strcmp(key, "dumpdtb") == 0) {
        if (value == NULL || value[0] == '\0') {
            coremu_error("-machine %s: dumpdtb needs a file name (dumpdtb=FILE)", machine);
            return 1;
        }
        return 0;
    }
    if (strcmp(key, "highmem") == 0) {
        /* RAM and devices above 4 GiB need LPAE, which this core lacks: as with QEMU and a
         * 32-bit core without it, the board is the same either way. */
        if (value == NULL || coremu_parse_bool(value, &on) < 0) {
            coremu_error("-machine %s: highmem: expected on or off", machine);
            return 1;
        }
        return 0;
    }
    if (strcmp(key, "gic-version") == 0) {
        if (value == NULL || (strcmp(value, "2") != 0 && strcmp(value, "max") != 0)) {
            coremu_error("-machine %s: gic-version=%s: only GICv2 is implemented (2 or max)",
                         machine, value != NULL ? value : "");
            return 1;
        }
        return 0;
    }
    if (strcmp(key, "accel") == 0) {
        if (value == NULL || strcmp(value, "tcg") != 0) {
            coremu_error("-machine %s: accel=%s: tcg is the only accelerator", machine,
                         value != NULL ? value : "");
            return 1;
        }
        return 0;
    }
    coremu_error("-machine %s: property '%s' is not supported yet", machine, key);
    return 1;
}

/* Everything the command line asks that this binary cannot do. 0 to go on, 1 after printing
 * one error line, 2 when an informational request was answered (-cpu help). */
static int arm_check_options(const struct coremu_options *o, const char *machine)
{
    if (!arm_machine_known(machine)) {
        coremu_error("unsupported machine type '%s' (use -machine help to list them)", machine);
        return 1;
    }
    for (size_t i = 0; i < sizeof(arm_unsupported) / sizeof(arm_unsupported[0]); i++) {
        if (arm_option_given(o, &arm_unsupported[i])) {
            coremu_error("%s is not supported yet: %s", arm_unsupported[i].option,
                         arm_unsupported[i].why);
            return 1;
        }
    }
    for (unsigned i = 0; i < o->machine_props.n; i++) {
        if (arm_check_machine_prop(machine, o->machine_props.key[i],
                                   o->machine_props.value[i]) != 0) {
            return 1;
        }
    }
    if (o->nic != NULL && strcmp(o->nic, "none") != 0) {
        coremu_error("-nic/-net %s: no network devices yet (none is the only choice)", o->nic);
        return 1;
    }
    if (o->vga != NULL && strcmp(o->vga, "none") != 0) {
        coremu_error("-vga %s: virt has no display adapter (none is the only choice)", o->vga);
        return 1;
    }
    if (o->daemonize) {
        const char *serial = arm_serial_backend(o);
        if (o->nographic) {
            coremu_error("-daemonize cannot be used with -nographic: the terminal goes away");
            return 1;
        }
        if (strcmp(serial, "stdio") == 0 || strcmp(serial, "mon:stdio") == 0) {
            coremu_error("-daemonize: the serial port cannot use the terminal (give -serial "
                         "file:PATH, pty, tcp:... or none)");
            return 1;
        }
    }
    const char *rtc_clock = coremu_kv_get(&o->rtc, "clock");
    if (rtc_clock != NULL && strcmp(rtc_clock, "host") != 0) {
        coremu_error("-rtc clock=%s: the RTC follows the host clock (clock=host) only",
                     rtc_clock);
        return 1;
    }
    const char *rtc_drift = coremu_kv_get(&o->rtc, "driftfix");
    if (rtc_drift != NULL && strcmp(rtc_drift, "none") != 0) {
        coremu_error("-rtc driftfix=%s: only the PC's RTC has drift compensation", rtc_drift);
        return 1;
    }
    if (o->cpu_model != NULL) {
        size_t nmodels = sizeof(arm_cpu_models) / sizeof(arm_cpu_models[0]);
        if (strcmp(o->cpu_model, "help") == 0) {
            printf("Available CPUs:\n");
            for (size_t i = 0; i < nmodels; i++) {
                printf("  %-12s %s\n", arm_cpu_models[i].name, arm_cpu_models[i].help);
            }
            return 2;
        }
        bool known = false;
        for (size_t i = 0; i < nmodels; i++) {
            known = known || strcmp(arm_cpu_models[i].name, o->cpu_model) == 0;
        }
        if (!known) {
            coremu_error("-cpu %s: unknown processor model (use -cpu help to list them)",
                         o->cpu_model);
            return 1;
        }
    }
    if (o->monitor != NULL && strcmp(o->monitor, "none") != 0) {
        coremu_error("-monitor %s: the monitor is only reachable through mon:stdio for now",
                     o->monitor);
        return 1;
    }
    if (o->display != NULL && strcmp(o->display, "none") != 0) {
        coremu_error("-display %s: virt has no display device yet (use -nographic)", o->display);
        return 1;
    }
    if (o->nserials > 1) {
        coremu_error("-serial given %u times: virt has one serial port", o->nserials);
        return 1;
    }
    if (o->xmon_mode != NULL && strcmp(o->xmon_mode, "exact") != 0 &&
        strcmp(o->xmon_mode, "value") != 0) {
        coremu_error("-accel llsc=%s: expected exact or value", o->xmon_mode);
        return 1;
    }
    /* dumpdtb only writes the device tree: no kernel needed. */
    if (o->kernel == NULL && coremu_kv_get(&o->machine_props, "dumpdtb") == NULL) {
        coremu_error("no kernel given: use -kernel FILE");
        return 1;
    }
    return 0;
}

/* -d and -D. 0 to go on, 1 after an error line, 2 after -d help. */
static int arm_setup_log(const struct coremu_options *o)
{
    char err[256];
    if (o->log_items != NULL) {
        int r = coremu_log_parse(o->log_items, err, sizeof(err));
        if (r != 0) {
            if (r < 0) {
                coremu_error("-d: %s", err);
            }
            return r < 0 ? 1 : 2;
        }
    }
    if (o->log_file != NULL) {
        int r = coremu_log_set_file(o->log_file);
        if (r != 0) {
            coremu_error("-D %s: %s", o->log_file, strerror(-r));
            return 1;
        }
    }
    return 0;
}

/* The user quit through the escape keys (C-a x). */
static void arm_quit(void *opaque, int status)
{
    coremu_machine_exit(opaque, status);
}

static int arm_run(const struct coremu_options *o)
{
    const char *machine = o->machine != NULL ? o->machine : arm_binary.default_machine;
    char err[512];

    int r = arm_check_options(o, machine);
    if (r == 0) {
        r = arm_setup_log(o);
    }
    if (r != 0) {
        return r == 2 ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    int64_t rtc_offset;
    if (coremu_rtc_base_offset(&o->rtc, (int64_t)time(NULL), &rtc_offset, err, sizeof(err)) <
        0) {
        coremu_error("%s", err);
        return EXIT_FAILURE;
    }
    r = coremu_atomic_register(&arm_atomic_table);
    if (r != 0) {
        coremu_error("cannot register the ARM atomic helpers: %s", strerror(-r));
        return EXIT_FAILURE;
    }

    const struct virt_config cfg = {
        .ncpus = o->smp_cpus != 0 ? o->smp_cpus : 1,
        .ram_size = o->ram_size,
        .llsc = (o->xmon_mode != NULL && strcmp(o->xmon_mode, "value") == 0) ? COREMU_XMON_VALUE
                                                                             : COREMU_XMON_EXACT,
        .pin_threads = o->accel_pin,
        .no_reboot = o->no_reboot,
        .kernel = o->kernel,
        .initrd = o->initrd,
        .dtb = o->dtb,
        .append = o->append,
        .dumpdtb = coremu_kv_get(&o->machine_props, "dumpdtb"),
        .rtc_offset = rtc_offset,
    };
    /* Into the background, then the pid file (with the daemon's pid) and the process name:
     * all before any thread exists. */
    if (o->daemonize && coremu_process_daemonize(err, sizeof(err)) != 0) {
        coremu_error("%s", err);
        return EXIT_FAILURE;
    }
    if (coremu_process_setup(o, err, sizeof(err)) != 0) {
        coremu_error("%s", err);
        return EXIT_FAILURE;
    }
    struct arm_board *board = virt_new(&cfg, err, sizeof(err));
    if (board == NULL) {
        coremu_error("%s", err);
        return EXIT_FAILURE;
    }
    /* -machine virt,dumpdtb=FILE: the tree the guest would get, then stop (as QEMU does). */
    if (cfg.dumpdtb != NULL) {
        r = virt_dump_dtb(board, cfg.dumpdtb, err, sizeof(err));
        if (r != 0) {
            coremu_error("%s", err);
        }
        virt_free(board);
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    }

    /* The chardev is opened last, once every input has been checked: mon:stdio puts the
     * terminal in raw mode. */
    const char *serial = arm_serial_backend(o);
    struct coremu_iothread *io = coremu_iothread_default();
    struct coremu_chardev *chr = NULL;
    int status = EXIT_FAILURE;
    r = io != NULL ? coremu_iothread_start(io) : -1;
    if (r != 0) {
        coremu_error("cannot start the I/O thread");
        io = NULL;
        goto out;
    }
    if (strcmp(serial, "none") != 0) {
        chr = coremu_chardev_open(io, serial, err, sizeof(err));
        if (chr == NULL) {
            coremu_error("-serial: %s", err);
            goto out;
        }
        if (coremu_chardev_pty_path(chr) != NULL) {
            fprintf(stderr, "char device redirected to %s (label serial0)\n",
                    coremu_chardev_pty_path(chr));
        }
        virt_attach_serial(board, chr);
        coremu_chardev_set_quit(chr, arm_quit, board->machine);
    }

    /* Everything that can fail before the guest runs has been checked: a daemon's parent may
     * exit now. */
    coremu_process_daemon_ready();
    status = virt_run(board, err, sizeof(err));
    if (status < 0) {
        coremu_error("%s", err);
        status = EXIT_FAILURE;
    }
out:
    /* The chardev first: once it is closed no input callback can reach the UART. */
    if (chr != NULL) {
        coremu_chardev_close(chr);
    }
    virt_free(board);
    if (io != NULL) {
        coremu_iothread_free(io);
    }
    return status;
}

int main(int argc, char **argv)
{
    struct coremu_options opts;
    enum coremu_parse_result r = coremu_options_parse(&opts, &arm_binary, argc, argv);
    if (r != COREMU_PARSE_OK) {
        coremu_options_free(&opts);
        return r == COREMU_PARSE_EXIT ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    int status = arm_run(&opts);
    coremu_process_cleanup();
    coremu_options_free(&opts);
    return status;
}
