/*
 * coremu — machine classes and the one main() every coremu-system-* binary shares.
 *
 * A machine class describes one board a binary can build (-M NAME): its name and description
 * for -M help, its defaults and limits (cores, RAM, processor models for -cpu), and the hooks
 * that build, run, reset and free one instance of it. coremu_main() does everything else a
 * binary does: parse and check the command line, answer -help/-version/-M help/-cpu help/
 * -d help, set up logging (-d, -D), -daemonize, -pidfile and -name, start the I/O thread,
 * open the serial back end (-serial, -nographic, mon:stdio...), run the board and turn the
 * outcome into the exit status.
 *
 * A binary's main() is then one call:
 *
 *     static const struct coremu_machine_class *const classes[] = {&my_board_class, NULL};
 *     static const struct coremu_binary my_binary = {.name = "coremu-system-foo",
 *                                                    .classes = classes};
 *     int main(int argc, char **argv) { return coremu_main(argc, argv, &my_binary); }
 *
 * Every hook runs on the main thread unless its comment says otherwise.
 */
#ifndef COREMU_MACHINE_H
#define COREMU_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/atomic.h>
#include <coremu/options.h>

struct coremu_chardev;

/* One processor model -cpu accepts, with what -cpu help says of it. */
struct coremu_cpu_model_info {
    const char *name; /* "cortex-a15" */
    const char *help; /* one line */
};

/* What the command line asks of one board, once coremu_main has checked it. */
struct coremu_machine_config {
    const struct coremu_options *opts; /* everything as parsed (machine_props, kernel...) */
    unsigned ncpus;                    /* -smp, within the class's max_cpus */
    uint64_t ram_size;                 /* -m, or the class's default_ram_size */
    const char *cpu_model;             /* -cpu, or the class's first model (NULL: none) */
    enum coremu_xmon_mode llsc;        /* -accel llsc=exact|value */
    int64_t rtc_offset;                /* -rtc base: seconds added to the host's UTC time */
};

/* What init decided. */
enum coremu_machine_init_result {
    COREMU_MACHINE_INIT_ERROR = -1, /* *board is NULL; the message is in err */
    COREMU_MACHINE_INIT_RUN = 0,    /* *board is built: connect it and run it */
    COREMU_MACHINE_INIT_DONE = 1,   /* *board was built only to answer a request (a device tree
                                     * dump...) that init has answered: free it, exit 0 */
};

struct coremu_machine_class {
    const char *name;                    /* what -M takes: "virt" */
    const char *description;             /* one line for -M help */
    unsigned max_cpus;                   /* -smp limit (>= 1) */
    uint64_t default_ram_size;           /* bytes, without -m */
    uint64_t min_ram_size, max_ram_size; /* what -m may ask for, in bytes */
    uint64_t ram_granule; /* -m must be a multiple of it (bytes, a power of two; 0: any) */
    unsigned nserial;     /* serial ports the board has (each -serial takes one) */
    /* -cpu: the models, the first being the default; ncpu_models 0: -cpu is refused. */
    const struct coremu_cpu_model_info *cpu_models;
    unsigned ncpu_models;

    /* The board's own checks of the command line (its -machine properties, whether it needs
     * -kernel...). Prints one line per problem with coremu_error and returns how many it
     * printed, so that every problem of one command line is named in one run. May be NULL. */
    unsigned (*check)(const struct coremu_options *o);
    /* Builds the board (memory, cores, devices) and loads what it boots. Nothing runs yet. */
    enum coremu_machine_init_result (*init)(const struct coremu_machine_config *cfg, void **board,
                                            char *err, size_t errlen);
    /* Connects serial port index (< nserial) to chr; before run. May be NULL when nserial is 0. */
    void (*attach_serial)(void *board, unsigned index, struct coremu_chardev *chr);
    /* Runs the guest until the machine exits; returns the exit status (0: the guest powered
     * off), or -1 with a message in err when it could not start. */
    int (*run)(void *board, char *err, size_t errlen);
    /* Asks the running machine to exit with status (the user quit with the terminal's escape
     * keys). Any thread; returns at once. */
    void (*request_exit)(void *board, int status);
    /* Resets the whole machine, as a power cycle would, while it runs (a monitor's
     * system_reset, once there is a monitor; a board's firmware calls its own reset). Any
     * thread. May be NULL. */
    void (*reset)(void *board);
    /* Frees the board after run, or instead of it; the serial back ends are closed first. */
    void (*free)(void *board);
};

/* One binary: its name (for messages, -help, -version) and the boards it can build. */
struct coremu_binary {
    const char *name;                                  /* "coremu-system-arm" */
    const struct coremu_machine_class *const *classes; /* NULL-terminated; the first is the
                                                        * default machine */
};

/* The class named name among bin's classes, or NULL. */
const struct coremu_machine_class *coremu_machine_class_find(const struct coremu_binary *bin,
                                                             const char *name);

/* Checks the command line against what coremu and class support, printing one line per
 * problem (coremu_error), and answers -cpu help on stdout. Returns 0 to go on, the number of
 * problems printed, or -1 when -cpu help was answered (exit 0). Exposed for the tests. */
int coremu_machine_check_options(const struct coremu_options *o,
                                 const struct coremu_machine_class *class);

/* The whole life of a binary, from argv to the exit status that main() returns: 0 when the
 * guest powered off or an informational request was answered, 1 after an error (each one a
 * line on stderr). */
int coremu_main(int argc, char **argv, const struct coremu_binary *bin);

#endif /* COREMU_MACHINE_H */
