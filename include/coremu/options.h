/*
 * coremu — the command line, in QEMU's syntax, shared by every coremu-system-* binary.
 *
 * Options take one dash or two (-smp 4, --smp=4). Suboption lists use QEMU's key=value
 * syntax with an implied first key (-machine virt,dumpdtb=x.dtb; -smp 4,cores=4; -m 512M;
 * -accel tcg,thread=multi,pin=on). An unknown option, a missing argument or a malformed value
 * is one error line on stderr naming it, and exit status 1.
 */
#ifndef COREMU_OPTIONS_H
#define COREMU_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define COREMU_MAX_LIST 16 /* -drive, -device, -netdev, -serial, -chardev each */

/* A key=value list as given (e.g. -drive file=a.img,if=virtio). */
struct coremu_kv {
    unsigned n;
    char *key[32];
    char *value[32];
};

struct coremu_options {
    const char *argv0;
    char *machine;        /* -M/-machine type; NULL: the binary's default */
    struct coremu_kv machine_props; /* the rest of -machine (dumpdtb=, ...) */
    char *cpu_model;      /* -cpu */
    unsigned smp_cpus;    /* -smp N[,cpus=][,sockets=][,cores=][,threads=][,maxcpus=] */
    unsigned smp_sockets, smp_cores, smp_threads, smp_maxcpus;
    uint64_t ram_size;    /* -m, bytes; 0: the board's default */
    char *kernel, *initrd, *append, *dtb, *bios;
    unsigned ndrives, ndevices, nnetdevs, nserials, nchardevs;
    struct coremu_kv drives[COREMU_MAX_LIST];
    struct coremu_kv devices[COREMU_MAX_LIST];
    struct coremu_kv netdevs[COREMU_MAX_LIST];
    char *serials[COREMU_MAX_LIST];
    struct coremu_kv chardevs[COREMU_MAX_LIST];
    char *monitor;        /* -monitor */
    bool nographic;       /* -nographic */
    char *display;        /* -display none|sdl|... */
    bool no_reboot;       /* -no-reboot */
    bool no_shutdown;     /* -no-shutdown */
    bool start_paused;    /* -S */
    char *gdb;            /* -gdb dev, -s = tcp::1234 */
    char *log_items;      /* -d */
    char *log_file;       /* -D */
    bool accel_pin;       /* -accel tcg,thread=multi,pin=on */
    char *xmon_mode;      /* -accel tcg,llsc=exact|value */
    bool smp_given, m_given;
};

/* What the binary tells the parser about itself (for -help, -version, -M help). */
struct coremu_binary_info {
    const char *name;            /* "coremu-system-arm" */
    const char *default_machine; /* "virt" */
    const char *const *machines; /* NULL-terminated names */
    const char *const *machine_help; /* one line each, same order */
    unsigned max_cpus;
};

enum coremu_parse_result {
    COREMU_PARSE_OK = 0,   /* run the machine */
    COREMU_PARSE_ERROR = 1, /* message printed; exit status 1 */
    COREMU_PARSE_EXIT = 2,  /* -help/-version/-M help printed; exit status 0 */
};

/* Fills o (which it zeroes first) from argv. */
enum coremu_parse_result coremu_options_parse(struct coremu_options *o,
                                              const struct coremu_binary_info *bin, int argc,
                                              char **argv);
void coremu_options_free(struct coremu_options *o);
/* The text of -help. */
void coremu_options_print_help(const struct coremu_binary_info *bin, FILE *out);

/* Parses a QEMU key=value list; implied_key names the key of a leading bare value (NULL: none).
 * 0, or -1 with a one-line message in err. */
int coremu_kv_parse(struct coremu_kv *kv, const char *s, const char *implied_key, char *err,
                    size_t errlen);
const char *coremu_kv_get(const struct coremu_kv *kv, const char *key);
void coremu_kv_free(struct coremu_kv *kv);
/* Sizes as QEMU writes them: 512, 512M, 1G, 2g, 4096k (plain numbers in -m mean MiB when
 * default_unit is 'M'). 0 or -1. */
int coremu_parse_size(const char *s, char default_unit, uint64_t *out);
/* on/off/yes/no/true/false. 0 or -1. */
int coremu_parse_bool(const char *s, bool *out);

/* Prints "NAME: message" on stderr (one line). */
void coremu_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void coremu_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The program name used in messages (set by coremu_options_parse from the binary info). */
void coremu_set_progname(const char *name);

#endif /* COREMU_OPTIONS_H */
