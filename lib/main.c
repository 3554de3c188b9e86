/*
 * coremu — the main() of every coremu-system-* binary (include/coremu/machine.h).
 *
 * The order matters: every check of the command line comes first, so that a wrong command
 * line costs nothing and names all its problems at once; then logging, -daemonize (before any
 * thread exists: fork keeps only the calling thread), the pid file, the board, and last the
 * serial back ends, because mon:stdio puts the terminal in raw mode and everything that can
 * fail should have failed before that.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <coremu/coremu.h>
#include <coremu/machine.h>
#include <coremu/util.h>

const struct coremu_machine_class *coremu_machine_class_find(const struct coremu_binary *bin,
                                                             const char *name)
{
    for (const struct coremu_machine_class *const *c = bin->classes; *c != NULL; c++) {
        if (strcmp((*c)->name, name) == 0) {
            return *c;
        }
    }
    return NULL;
}

/* "512 MiB", "1.5 MiB", "3 GiB", "4 KiB": a byte count as a user reads it. */
static const char *size_text(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned u = 0;
    uint64_t scaled = bytes;
    while (u + 1 < COREMU_ARRAY_SIZE(units) && scaled >= 1024) {
        scaled /= 1024;
        u++;
    }
    uint64_t unit = (uint64_t)1 << (10 * u);
    uint64_t tenths = (bytes % unit) * 10 / unit;
    if (tenths != 0 && scaled < 100) {
        snprintf(buf, len, "%llu.%llu %s", (unsigned long long)scaled, (unsigned long long)tenths,
                 units[u]);
    } else {
        snprintf(buf, len, "%llu %s", (unsigned long long)scaled, units[u]);
    }
    return buf;
}

/* Whether a -chardev holds the terminal. */
static bool chardev_holds_stdio(const struct coremu_options *o)
{
    for (unsigned i = 0; i < o->nchardevs; i++) {
        struct coremu_chardev_info info;
        char err[256];
        if (coremu_chardev_check_kv(&o->chardevs[i], &info, err, sizeof(err)) == 0 && info.stdio) {
            return true;
        }
    }
    return false;
}

/* The back end of serial port index: -serial, else for the first port the terminal (without
 * -nographic there would be a display window, but no board has a display device yet, so the
 * terminal it is too) unless -nodefaults leaves it unconnected. Without -nographic QEMU's
 * default is a display console, never stdio: so a -chardev stdio keeps the terminal, and the
 * default port is unconnected (with -nographic both want stdio, which the board refuses, as
 * QEMU does). */
static const char *serial_backend(const struct coremu_options *o, unsigned index)
{
    if (index < o->nserials) {
        return o->serials[index];
    }
    if (index != 0 || o->nodefaults || (!o->nographic && chardev_holds_stdio(o))) {
        return "none";
    }
    return "mon:stdio";
}

static bool uses_terminal(const char *backend)
{
    return strcmp(backend, "stdio") == 0 || strcmp(backend, "mon:stdio") == 0;
}

/* -cpu against the class's models. 0, 1 after an error line, -1 after -cpu help. */
static int check_cpu_model(const struct coremu_options *o, const struct coremu_machine_class *mc)
{
    if (o->cpu_model == NULL) {
        return 0;
    }
    if (strcmp(o->cpu_model, "help") == 0 || strcmp(o->cpu_model, "?") == 0) {
        printf("Available CPUs:\n");
        for (unsigned i = 0; i < mc->ncpu_models; i++) {
            printf("  %-12s %s%s\n", mc->cpu_models[i].name, mc->cpu_models[i].help,
                   i == 0 ? " (the default)" : "");
        }
        fflush(stdout);
        return -1;
    }
    for (unsigned i = 0; i < mc->ncpu_models; i++) {
        if (strcmp(mc->cpu_models[i].name, o->cpu_model) == 0) {
            return 0;
        }
    }
    coremu_error("-cpu %s: unknown processor model (use -cpu help to list them)", o->cpu_model);
    return 1;
}

/* -m against what the board can hold, naming the value as typed. 0 or 1 after an error line. */
static unsigned check_ram(const struct coremu_options *o, const struct coremu_machine_class *mc)
{
    char a[32], b[32];
    if (!o->m_given) {
        return 0;
    }
    if (o->ram_size < mc->min_ram_size) {
        coremu_error("-m %s: the %s machine needs at least %s of RAM", o->ram_arg, mc->name,
                     size_text(mc->min_ram_size, a, sizeof(a)));
        return 1;
    }
    if (mc->max_ram_size != 0 && o->ram_size > mc->max_ram_size) {
        coremu_error("-m %s: the %s machine has room for at most %s of RAM (-m %lluM)", o->ram_arg,
                     mc->name, size_text(mc->max_ram_size, a, sizeof(a)),
                     (unsigned long long)(mc->max_ram_size >> 20));
        return 1;
    }
    if (mc->ram_granule != 0 && (o->ram_size & (mc->ram_granule - 1)) != 0) {
        coremu_error("-m %s: %s is not a whole number of the %s machine's %s pages", o->ram_arg,
                     size_text(o->ram_size, a, sizeof(a)), mc->name,
                     size_text(mc->ram_granule, b, sizeof(b)));
        return 1;
    }
    return 0;
}

/* A kernel file larger than all of RAM cannot be loaded, whatever the board does with it:
 * say so in the user's terms before the board reads it. A gzip file is left to the loader,
 * which knows its decompressed size only while reading. 0 or 1 after an error line. */
static unsigned check_kernel_fits(const struct coremu_options *o, uint64_t ram_size)
{
    struct stat st;
    unsigned char magic[2];
    char a[32], b[32];

    if (o->kernel == NULL || stat(o->kernel, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size <= ram_size) {
        return 0;
    }
    int fd = open(o->kernel, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0; /* the board's loader names the error */
    }
    ssize_t n = read(fd, magic, sizeof(magic));
    close(fd);
    if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        return 0;
    }
    coremu_error("-kernel %s: the kernel (%s) does not fit in RAM (%s%s%s): give more with -m",
                 o->kernel, size_text((uint64_t)st.st_size, a, sizeof(a)),
                 size_text(ram_size, b, sizeof(b)), o->m_given ? " with -m " : ", the default",
                 o->m_given ? o->ram_arg : "");
    return 1;
}

int coremu_machine_check_options(const struct coremu_options *o,
                                 const struct coremu_machine_class *mc)
{
    unsigned errors = 0;

    int r = check_cpu_model(o, mc);
    if (r < 0) {
        return -1;
    }
    errors += (unsigned)r;
    errors += coremu_options_report_not_yet(o);
    if (mc->check != NULL) {
        errors += mc->check(o);
    }
    if (o->smp_cpus > mc->max_cpus) {
        coremu_error("-smp %u: the %s machine supports at most %u cpus", o->smp_cpus, mc->name,
                     mc->max_cpus);
        errors++;
    }
    errors += check_ram(o, mc);
    if (o->vga != NULL && strcmp(o->vga, "none") != 0) {
        coremu_error("-vga %s: %s has no display adapter (none is the only choice)", o->vga,
                     mc->name);
        errors++;
    }
    if (o->monitor != NULL && strcmp(o->monitor, "none") != 0) {
        coremu_error("-monitor %s is not supported yet: there is no monitor yet (none is the "
                     "only choice)",
                     o->monitor);
        errors++;
    }
    if (o->display != NULL && strcmp(o->display, "none") != 0) {
        coremu_error("-display %s is not supported yet: no machine has a display device yet "
                     "(use -nographic)",
                     o->display);
        errors++;
    }
    if (o->nserials > mc->nserial) {
        coremu_error("-serial given %u times: %s has %u serial port%s", o->nserials, mc->name,
                     mc->nserial, mc->nserial == 1 ? "" : "s");
        errors++;
    }
    if (o->daemonize) {
        if (o->nographic) {
            coremu_error("-daemonize cannot be used with -nographic: the terminal goes away");
            errors++;
        } else {
            for (unsigned i = 0; i < mc->nserial; i++) {
                if (uses_terminal(serial_backend(o, i))) {
                    coremu_error("-daemonize: the serial port cannot use the terminal (give "
                                 "-serial file:PATH, pty, tcp:... or none)");
                    errors++;
                    break;
                }
            }
        }
    }
    /* Every board's real-time clock follows the host's clock today. */
    const char *rtc_clock = coremu_kv_get(&o->rtc, "clock");
    if (rtc_clock != NULL && strcmp(rtc_clock, "host") != 0) {
        coremu_error("-rtc clock=%s: the RTC follows the host clock (clock=host) only", rtc_clock);
        errors++;
    }
    const char *rtc_drift = coremu_kv_get(&o->rtc, "driftfix");
    if (rtc_drift != NULL && strcmp(rtc_drift, "none") != 0) {
        coremu_error("-rtc driftfix=%s: no machine has drift compensation yet (none)", rtc_drift);
        errors++;
    }
    if (errors == 0) {
        errors += check_kernel_fits(o, o->m_given ? o->ram_size : mc->default_ram_size);
    }
    return (int)errors;
}

/* -d and -D. 0 to go on, 1 after an error line, 2 after -d help. */
static int setup_log(const struct coremu_options *o)
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

/* What the terminal's quit key reaches. */
struct running_board {
    const struct coremu_machine_class *mc;
    void *board;
};

static void quit_board(void *opaque, int status)
{
    struct running_board *rb = opaque;
    rb->mc->request_exit(rb->board, status);
}

/* Builds, connects and runs the board: the exit status. */
static int run_machine(const struct coremu_options *o, const struct coremu_machine_class *mc)
{
    char err[512];
    int64_t rtc_offset;
    if (coremu_rtc_base_offset(&o->rtc, (int64_t)time(NULL), &rtc_offset, err, sizeof(err)) < 0) {
        coremu_error("%s", err);
        return EXIT_FAILURE;
    }
    const struct coremu_machine_config cfg = {
        .opts = o,
        .ncpus = o->smp_cpus != 0 ? o->smp_cpus : 1,
        .ram_size = o->m_given ? o->ram_size : mc->default_ram_size,
        .cpu_model = o->cpu_model != NULL  ? o->cpu_model
                     : mc->ncpu_models > 0 ? mc->cpu_models[0].name
                                           : NULL,
        .llsc = (o->xmon_mode != NULL && strcmp(o->xmon_mode, "value") == 0) ? COREMU_XMON_VALUE
                                                                             : COREMU_XMON_EXACT,
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
    void *board = NULL;
    enum coremu_machine_init_result ir = mc->init(&cfg, &board, err, sizeof(err));
    if (ir == COREMU_MACHINE_INIT_ERROR) {
        coremu_error("%s", err);
        return EXIT_FAILURE;
    }
    if (ir == COREMU_MACHINE_INIT_DONE) {
        mc->free(board);
        return EXIT_SUCCESS;
    }

    struct running_board rb = {.mc = mc, .board = board};
    /* C-a x on a device's console (a virtconsole on mux=on) ends this machine too. */
    coremu_chardev_set_default_quit(quit_board, &rb);
    struct coremu_chardev *chr[COREMU_MAX_LIST] = {NULL};
    unsigned nports = mc->nserial < COREMU_MAX_LIST ? mc->nserial : COREMU_MAX_LIST;
    int status = EXIT_FAILURE;
    struct coremu_iothread *io = coremu_iothread_default();
    if (io == NULL || coremu_iothread_start(io) != 0) {
        coremu_error("cannot start the I/O thread");
        io = NULL;
        goto out;
    }
    for (unsigned i = 0; i < nports; i++) {
        const char *backend = serial_backend(o, i);
        if (strcmp(backend, "none") == 0) {
            continue;
        }
        chr[i] = coremu_chardev_open(io, backend, err, sizeof(err));
        if (chr[i] == NULL) {
            coremu_error("-serial: %s", err);
            goto out;
        }
        if (coremu_chardev_pty_path(chr[i]) != NULL) {
            fprintf(stderr, "char device redirected to %s (label serial%u)\n",
                    coremu_chardev_pty_path(chr[i]), i);
        }
        mc->attach_serial(board, i, chr[i]);
        coremu_chardev_set_quit(chr[i], quit_board, &rb);
    }

    /* Everything that can fail before the guest runs has been checked: a daemon's parent may
     * exit now. */
    coremu_process_daemon_ready();
    status = mc->run(board, err, sizeof(err));
    if (status < 0) {
        coremu_error("%s", err);
        status = EXIT_FAILURE;
    }
out:
    coremu_chardev_set_default_quit(NULL, NULL);
    /* The back ends first: once they are closed no input callback can reach a device. */
    for (unsigned i = 0; i < nports; i++) {
        if (chr[i] != NULL) {
            coremu_chardev_close(chr[i]);
        }
    }
    mc->free(board);
    if (io != NULL) {
        coremu_iothread_free(io);
    }
    return status;
}

int coremu_main(int argc, char **argv, const struct coremu_binary *bin)
{
    /* What the parser needs to know of the binary: the machine names (-M, -M help) and the
     * largest core count any of them takes (the class's own limit is checked after). */
    size_t nclasses = 0;
    while (bin->classes[nclasses] != NULL) {
        nclasses++;
    }
    const char **names = calloc(nclasses + 1, sizeof(*names));
    const char **helps = calloc(nclasses + 1, sizeof(*helps));
    if (names == NULL || helps == NULL) {
        free(names);
        free(helps);
        coremu_set_progname(bin->name);
        coremu_error("out of memory");
        return EXIT_FAILURE;
    }
    struct coremu_binary_info info = {
        .name = bin->name,
        .default_machine = nclasses > 0 ? bin->classes[0]->name : NULL,
        .machines = names,
        .machine_help = helps,
    };
    for (size_t i = 0; i < nclasses; i++) {
        names[i] = bin->classes[i]->name;
        helps[i] = bin->classes[i]->description;
        if (bin->classes[i]->max_cpus > info.max_cpus) {
            info.max_cpus = bin->classes[i]->max_cpus;
        }
    }

    struct coremu_options opts;
    int status;
    enum coremu_parse_result pr = coremu_options_parse(&opts, &info, argc, argv);
    if (pr != COREMU_PARSE_OK) {
        status = pr == COREMU_PARSE_EXIT ? EXIT_SUCCESS : EXIT_FAILURE;
        goto out;
    }
    const struct coremu_machine_class *mc = coremu_machine_class_find(bin, opts.machine);
    if (mc == NULL) {
        coremu_error("unsupported machine type '%s' (use -machine help to list them)",
                     opts.machine);
        status = EXIT_FAILURE;
        goto out;
    }
    int r = coremu_machine_check_options(&opts, mc);
    if (r != 0) {
        status = r < 0 ? EXIT_SUCCESS : EXIT_FAILURE;
        goto out;
    }
    r = setup_log(&opts);
    if (r != 0) {
        status = r == 2 ? EXIT_SUCCESS : EXIT_FAILURE;
        goto out;
    }
    status = run_machine(&opts, mc);
    coremu_process_cleanup();
out:
    coremu_options_free(&opts);
    free(names);
    free(helps);
    return status;
}
