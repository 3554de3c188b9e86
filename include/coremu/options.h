/*
 * coremu — the command line, in QEMU's syntax, shared by every coremu-system-* binary.
 *
 * Options take one dash or two (-smp 4, --smp=4). Suboption lists use QEMU's key=value
 * syntax with an implied first key (-machine virt,dumpdtb=x.dtb; -smp 4,cores=4; -m 512M;
 * -accel tcg,thread=multi,pin=on). An unknown option, a missing argument or a malformed value
 * is one error line on stderr naming it, and exit status 1.
 *
 * The parser checks what it can know: option names, sizes, counts, -accel, -display types,
 * -d items and the machine name against the binary's list. The consumers of the key=value
 * lists (the board for machine_props, the device code for -drive/-device/-netdev/-chardev, the
 * binary for "-cpu help") must reject what they do not know, with coremu_kv_check and
 * coremu_error, so that nothing is silently ignored.
 *
 * The options are filled on the main thread before any other thread exists and are read-only
 * afterwards; no field needs a lock.
 */
#ifndef COREMU_OPTIONS_H
#define COREMU_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define COREMU_MAX_LIST 16 /* -drive, -device, -netdev, -serial, -chardev each */
#define COREMU_MAX_NOT_YET 16 /* distinct options that exist only as syntax so far */

/* A key=value list as given (e.g. -drive file=a.img,if=virtio), in order; a repeated key keeps
 * every occurrence (coremu_kv_get returns the last). Keys and values are malloc'd and owned by
 * the list. */
struct coremu_kv {
    unsigned n;
    char *key[32];
    char *value[32];
};

/* Every char * and list is malloc'd and owned by the struct (coremu_options_free). */
struct coremu_options {
    const char *argv0;    /* argv[0], not copied */
    char *machine;        /* -M/-machine type; after a successful parse the binary's default
                           * when none was given (NULL only if the binary has no default) */
    struct coremu_kv machine_props; /* the rest of every -machine, merged (later wins) */
    char *cpu_model;      /* -cpu */
    /* -smp N[,cpus=][,sockets=][,cores=][,threads=][,maxcpus=]: all >= 1 after a successful
     * parse (1 without -smp); sockets * cores * threads == cpus == maxcpus. */
    unsigned smp_cpus;
    unsigned smp_sockets, smp_cores, smp_threads, smp_maxcpus;
    uint64_t ram_size;    /* -m, bytes; 0: the board's default */
    char *ram_arg;        /* -m as typed ("1G"), for messages; NULL without -m */
    char *kernel, *initrd, *append, *dtb, *bios; /* NULL when not given */
    unsigned ndrives, ndevices, nnetdevs, nserials, nchardevs, nobjects;
    struct coremu_kv drives[COREMU_MAX_LIST];   /* no implied key */
    struct coremu_kv devices[COREMU_MAX_LIST];  /* implied key "driver" */
    struct coremu_kv netdevs[COREMU_MAX_LIST];  /* implied "type"; "id" present and unique */
    char *serials[COREMU_MAX_LIST];             /* as given, in order */
    struct coremu_kv chardevs[COREMU_MAX_LIST]; /* implied "backend"; "id" present, unique */
    struct coremu_kv objects[COREMU_MAX_LIST];  /* implied "qom-type"; "id" present, unique */
    char *monitor;        /* -monitor */
    /* -mon [chardev=]ID[,mode=readline|control][,pretty=on|off], in order; checked by the
     * board's device code (there is no monitor yet). */
    unsigned nmons;
    struct coremu_kv mons[COREMU_MAX_LIST];
    bool snapshot;        /* -snapshot: every drive snapshot=on */
    bool nographic;       /* -nographic */
    char *display;        /* -display, as given; its type is none or sdl */
    bool no_reboot;       /* -no-reboot */
    bool no_shutdown;     /* -no-shutdown */
    bool start_paused;    /* -S */
    char *gdb;            /* -gdb dev, -s = tcp::1234 */
    char *log_items;      /* -d; already applied to coremu_log_mask by the parser */
    char *log_file;       /* -D; the binary opens it with coremu_log_set_file */
    bool nodefaults;      /* -nodefaults: no default back ends (the serial port is
                           * unconnected unless -serial says otherwise) */
    bool no_user_config;  /* -no-user-config: coremu reads no configuration files at all */
    struct coremu_kv name; /* -name [guest=]NAME[,process=P][,debug-threads=on|off] */
    char *pidfile;        /* -pidfile FILE */
    bool daemonize;       /* -daemonize */
    /* -rtc [base=utc|localtime|DATE][,clock=host|rt|vm][,driftfix=none|slew]: keys and
     * values checked by the parser; what a board supports is its own to check. */
    struct coremu_kv rtc;
    /* -nic TYPE[,...] and -net TYPE[,...] (implied key "type"), in order; checked by the
     * board's device code (hw/virtio_cmdline.c). */
    unsigned nnics, nnets;
    struct coremu_kv nics[COREMU_MAX_LIST];
    struct coremu_kv nets[COREMU_MAX_LIST];
    char *vga;            /* -vga TYPE */
    bool accel_pin;       /* -accel tcg,thread=multi,pin=on */
    char *xmon_mode;      /* -accel tcg,llsc=exact|value; NULL: the default (exact) */
    bool smp_given, m_given;
    /* The options given that coremu understands but cannot honour yet (-drive, -S...), each
     * once, in the order given; the strings are static. coremu_options_report_not_yet names
     * them all. */
    struct coremu_not_yet {
        const char *option; /* without the dash: "drive" */
        const char *why;    /* "no block devices yet" */
    } not_yet[COREMU_MAX_NOT_YET];
    unsigned nnot_yet;
};

/* What the binary tells the parser about itself (for -help, -version, -M help). */
struct coremu_binary_info {
    const char *name;            /* "coremu-system-arm" */
    const char *default_machine; /* "virt" */
    const char *const *machines; /* NULL-terminated names; NULL: -M is not checked */
    const char *const *machine_help; /* one line each, same order (may be NULL) */
    unsigned max_cpus;           /* -smp limit; 0: none */
};

enum coremu_parse_result {
    COREMU_PARSE_OK = 0,   /* run the machine */
    COREMU_PARSE_ERROR = 1, /* message printed; exit status 1 */
    COREMU_PARSE_EXIT = 2,  /* -help/-version/-M help printed; exit status 0 */
};

/* Fills o (which it zeroes first) from argv and sets the program name for messages. On
 * COREMU_PARSE_ERROR and COREMU_PARSE_EXIT, o is already freed (freeing it again is harmless).
 * Every problem is one line, and parsing goes on past it (a QEMU option that coremu does not
 * implement, a malformed value...), so that one run names them all, with the not-yet options
 * given among them; only an unknown option or a missing argument ends the parse, since the
 * arguments that follow can then not be told from options. */
enum coremu_parse_result coremu_options_parse(struct coremu_options *o,
                                              const struct coremu_binary_info *bin, int argc,
                                              char **argv);
void coremu_options_free(struct coremu_options *o);
/* The text of -help. Options that are syntax only so far are marked "(not yet)". */
void coremu_options_print_help(const struct coremu_binary_info *bin, FILE *out);
/* Options the parser knows as not yet implemented that this binary's boards implement and
 * check themselves (coremu-system-arm: "drive", "device", "object"): they are not recorded in
 * not_yet nor marked so in -help. names is NULL-terminated and must outlive every parse; main()
 * calls this once, before coremu_options_parse and before any other thread exists. */
void coremu_options_implement(const char *const *names);
/* Prints "OPTION is not supported yet: WHY" for each of o->not_yet (coremu_error); returns how
 * many lines it printed. */
unsigned coremu_options_report_not_yet(const struct coremu_options *o);

/* Parses a QEMU key=value list into kv (which it zeroes first); implied_key names the key of a
 * leading bare value (NULL: none). ",," inside a value is a literal comma; a bare name elsewhere
 * means name=on; "key=" gives an empty value. 0, or -1 with a one-line message in err (kv is
 * then empty). */
int coremu_kv_parse(struct coremu_kv *kv, const char *s, const char *implied_key, char *err,
                    size_t errlen);
/* The value of the last occurrence of key, or NULL. */
const char *coremu_kv_get(const struct coremu_kv *kv, const char *key);
/* 0 when every key is in the NULL-terminated allowed list, else -1 with "unsupported parameter
 * 'KEY'" in err. */
int coremu_kv_check(const struct coremu_kv *kv, const char *const *allowed, char *err,
                    size_t errlen);
void coremu_kv_free(struct coremu_kv *kv);
/* Sizes as QEMU writes them: 512, 512M, 1G, 2g, 4096k, 1.5G, 0x1000 (suffixes B K M G T P E in
 * either case; a plain number is in default_unit, bytes when it is 0 or 'B' — -m passes 'M').
 * No sign, blanks or trailing text; overflow is an error. 0 or -1. */
int coremu_parse_size(const char *s, char default_unit, uint64_t *out);
/* on/off/yes/no/true/false. 0 or -1. */
int coremu_parse_bool(const char *s, bool *out);

/* The -rtc base as seconds to add to the host's UTC time: 0 for utc (or no -rtc), the local
 * zone's offset for localtime, DATE - now for a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, UTC).
 * now_s is the host's time in seconds. 0, or -1 with a one-line message in err. */
int coremu_rtc_base_offset(const struct coremu_kv *rtc, int64_t now_s, int64_t *offset_s,
                           char *err, size_t errlen);

/* Print "NAME: message" (coremu_warn: "NAME: warning: message") on stderr as one line written
 * at once; newlines inside the message become spaces. Any thread. */
void coremu_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void coremu_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The program name used in messages (set by coremu_options_parse from the binary info). */
void coremu_set_progname(const char *name);

#endif /* COREMU_OPTIONS_H */
