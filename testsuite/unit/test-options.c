/*
 * The command-line parser: every option in both dash styles, sizes, -smp, key=value lists, and
 * the rule that every rejection is exactly one line on stderr naming what is wrong.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coremu/coremu.h>

#include "unit.h"

static const char *const machines[] = {"virt", "tiny", NULL};
static const char *const machine_help[] = {"ARM virtual machine", "a small test board", NULL};
static const struct coremu_binary_info bin = {
    .name = "coremu-system-arm",
    .default_machine = "virt",
    .machines = machines,
    .machine_help = machine_help,
    .max_cpus = 8,
};

static char out_text[65536];
static char err_text[8192];

static void slurp(FILE *f, char *buf, size_t cap)
{
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static const struct coremu_binary *main_bin; /* run_main's binary */
static int main_status;                      /* what coremu_main returned */

/* Runs the parser (or with o NULL, coremu_main with main_bin) on argc/argv with stdout and
 * stderr captured. */
static enum coremu_parse_result run_argv(struct coremu_options *o, int argc, char **argv)
{

    FILE *fo = tmpfile(), *fe = tmpfile();
    UNIT_REQUIRE(fo && fe, "setup: tmpfile", "failed");
    fflush(stdout);
    int save_out = dup(STDOUT_FILENO), save_err = dup(STDERR_FILENO);
    dup2(fileno(fo), STDOUT_FILENO);
    dup2(fileno(fe), STDERR_FILENO);
    enum coremu_parse_result r = COREMU_PARSE_OK;
    if (o != NULL) {
        r = coremu_options_parse(o, &bin, argc, argv);
    } else {
        main_status = coremu_main(argc, argv, main_bin);
    }
    fflush(stdout);
    fflush(stderr);
    dup2(save_out, STDOUT_FILENO);
    dup2(save_err, STDERR_FILENO);
    close(save_out);
    close(save_err);
    slurp(fo, out_text, sizeof(out_text));
    slurp(fe, err_text, sizeof(err_text));
    return r;
}

#define COLLECT_ARGS(argv, argc, first)                                                           \
    do {                                                                                          \
        va_list ap_;                                                                              \
        va_start(ap_, first);                                                                     \
        for (const char *a_ = first; a_ != NULL && argc < 63; a_ = va_arg(ap_, const char *)) {   \
            argv[argc++] = (char *)a_;                                                            \
        }                                                                                         \
        va_end(ap_);                                                                              \
        argv[argc] = NULL;                                                                        \
    } while (0)

/* Runs the parser on the NULL-terminated arguments with stdout and stderr captured. */
static enum coremu_parse_result run(struct coremu_options *o, const char *first, ...)
{
    char *argv[64] = {"coremu-system-arm"};
    int argc = 1;
    COLLECT_ARGS(argv, argc, first);
    return run_argv(o, argc, argv);
}

/* Runs coremu_main(main_bin) the same way; its exit status is in main_status. */
static void run_main(const char *first, ...)
{
    char *argv[64] = {"coremu-system-test"};
    int argc = 1;
    COLLECT_ARGS(argv, argc, first);
    run_argv(NULL, argc, argv);
}

static unsigned count_lines(const char *s)
{
    unsigned n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

/* The parse failed with exactly one line "coremu-system-arm: ..." containing every needle. */
static bool one_error(enum coremu_parse_result r, const char *needle1, const char *needle2)
{
    return r == COREMU_PARSE_ERROR && count_lines(err_text) == 1 &&
           err_text[strlen(err_text) - 1] == '\n' &&
           strncmp(err_text, "coremu-system-arm: ", 19) == 0 &&
           (needle1 == NULL || strstr(err_text, needle1) != NULL) &&
           (needle2 == NULL || strstr(err_text, needle2) != NULL) && out_text[0] == '\0';
}

#define EXPECT_ERROR(name, n1, n2, ...)                                                           \
    do {                                                                                          \
        struct coremu_options o_;                                                                 \
        enum coremu_parse_result r_ = run(&o_, __VA_ARGS__, NULL);                                \
        UNIT_CHECK(one_error(r_, n1, n2), name, "result %d, stderr '%s'", r_, err_text);          \
        coremu_options_free(&o_);                                                                 \
    } while (0)

static void test_defaults(void)
{
    struct coremu_options o;
    enum coremu_parse_result r = run(&o, NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && err_text[0] == '\0' && strcmp(o.machine, "virt") == 0 &&
                   o.smp_cpus == 1 && o.smp_sockets == 1 && o.smp_cores == 1 &&
                   o.smp_threads == 1 && o.smp_maxcpus == 1 && !o.smp_given && o.ram_size == 0 &&
                   !o.m_given && o.kernel == NULL && o.nserials == 0 && !o.nographic &&
                   o.xmon_mode == NULL && !o.accel_pin,
               "defaults", "r=%d", r);
    UNIT_CHECK(strcmp(o.argv0, "coremu-system-arm") == 0, "argv0 kept", "argv0 %s", o.argv0);
    coremu_options_free(&o);
}

static void test_each_option(void)
{
    struct coremu_options o;
    enum coremu_parse_result r;

    r = run(&o, "-M", "tiny", "-cpu", "cortex-a15", "-kernel", "k.img", "-initrd", "i.gz",
            "-append", "console=ttyAMA0 root=/dev/vda", "-dtb", "b.dtb", "-bios", "fw.bin",
            "-monitor", "none", "-nographic", "-display", "none", "-no-reboot", "-no-shutdown",
            "-S", "-gdb", "tcp::2345", "-D", "/tmp/coremu-test.log", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && strcmp(o.machine, "tiny") == 0 &&
                   strcmp(o.cpu_model, "cortex-a15") == 0 && strcmp(o.kernel, "k.img") == 0 &&
                   strcmp(o.initrd, "i.gz") == 0 &&
                   strcmp(o.append, "console=ttyAMA0 root=/dev/vda") == 0 &&
                   strcmp(o.dtb, "b.dtb") == 0 && strcmp(o.bios, "fw.bin") == 0 &&
                   strcmp(o.monitor, "none") == 0 && o.nographic &&
                   strcmp(o.display, "none") == 0 && o.no_reboot && o.no_shutdown &&
                   o.start_paused && strcmp(o.gdb, "tcp::2345") == 0 &&
                   strcmp(o.log_file, "/tmp/coremu-test.log") == 0,
               "single-dash options", "r=%d err=%s", r, err_text);
    coremu_options_free(&o);

    r = run(&o, "--machine", "virt", "--cpu=max", "--kernel=k2", "--append=", "--nographic",
            "--smp=2", "--m", "256", "--s", "--d=int,mmu", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && strcmp(o.machine, "virt") == 0 &&
                   strcmp(o.cpu_model, "max") == 0 && strcmp(o.kernel, "k2") == 0 &&
                   strcmp(o.append, "") == 0 && o.nographic && o.smp_cpus == 2 &&
                   o.ram_size == 256ull << 20 && strcmp(o.gdb, "tcp::1234") == 0 &&
                   strcmp(o.log_items, "int,mmu") == 0 &&
                   coremu_log_enabled(COREMU_LOG_INT) && coremu_log_enabled(COREMU_LOG_MMU) &&
                   !coremu_log_enabled(COREMU_LOG_GUEST_ERRORS),
               "double-dash options and --opt=value", "r=%d err=%s", r, err_text);
    coremu_options_free(&o);

    r = run(&o, "-kernel", "a", "-kernel", "b", "-m", "1G", "-m", "2G", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && strcmp(o.kernel, "b") == 0 && o.ram_size == 2ull << 30,
               "repeated scalar options: last wins", "r=%d", r);
    coremu_options_free(&o);

    r = run(&o, "-s", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && strcmp(o.gdb, "tcp::1234") == 0, "-s is -gdb tcp::1234",
               "gdb %s", o.gdb ? o.gdb : "(null)");
    coremu_options_free(&o);

    r = run(&o, "-serial", "mon:stdio", "-serial", "null", "-serial", "tcp::4444,server=on",
            NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && o.nserials == 3 && strcmp(o.serials[0], "mon:stdio") == 0 &&
                   strcmp(o.serials[2], "tcp::4444,server=on") == 0,
               "-serial repeatable, in order", "r=%d n=%u", r, o.nserials);
    coremu_options_free(&o);

    r = run(&o, "-drive", "file=disk.img,if=virtio,format=raw", "-drive", "file=b,,c.img",
            "-device", "virtio-net-device,netdev=n0", "-netdev", "user,id=n0", "-chardev",
            "socket,id=c0,path=/tmp/s,server=on", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && o.ndrives == 2 &&
                   strcmp(coremu_kv_get(&o.drives[0], "file"), "disk.img") == 0 &&
                   strcmp(coremu_kv_get(&o.drives[0], "if"), "virtio") == 0 &&
                   strcmp(coremu_kv_get(&o.drives[1], "file"), "b,c.img") == 0 &&
                   o.ndevices == 1 &&
                   strcmp(coremu_kv_get(&o.devices[0], "driver"), "virtio-net-device") == 0 &&
                   strcmp(coremu_kv_get(&o.devices[0], "netdev"), "n0") == 0 &&
                   o.nnetdevs == 1 && strcmp(coremu_kv_get(&o.netdevs[0], "type"), "user") == 0 &&
                   o.nchardevs == 1 &&
                   strcmp(coremu_kv_get(&o.chardevs[0], "backend"), "socket") == 0 &&
                   strcmp(coremu_kv_get(&o.chardevs[0], "path"), "/tmp/s") == 0,
               "-drive, -device, -netdev, -chardev lists", "r=%d err=%s", r, err_text);
    coremu_options_free(&o);

    r = run(&o, "-machine", "virt,dumpdtb=x.dtb,highmem=off", "-machine", "highmem=on", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && strcmp(o.machine, "virt") == 0 &&
                   o.machine_props.n == 2 &&
                   strcmp(coremu_kv_get(&o.machine_props, "dumpdtb"), "x.dtb") == 0 &&
                   strcmp(coremu_kv_get(&o.machine_props, "highmem"), "on") == 0,
               "-machine properties merge, later wins", "r=%d n=%u", r, o.machine_props.n);
    coremu_options_free(&o);

    r = run(&o, "-machine", "type=tiny", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && strcmp(o.machine, "tiny") == 0, "-machine type=",
               "r=%d", r);
    coremu_options_free(&o);

    r = run(&o, "-accel", "tcg,thread=multi,pin=on,llsc=value", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && o.accel_pin && strcmp(o.xmon_mode, "value") == 0,
               "-accel tcg with every parameter", "r=%d err=%s", r, err_text);
    coremu_options_free(&o);
    r = run(&o, "-accel", "tcg,thread=single", "-accel", "tcg", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && !o.accel_pin && o.xmon_mode == NULL,
               "-accel tcg,thread=single accepted", "r=%d err=%s", r, err_text);
    coremu_options_free(&o);

    r = run(&o, "-display", "sdl", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && strcmp(o.display, "sdl") == 0, "-display sdl", "r=%d", r);
    coremu_options_free(&o);

    r = run(&o, "-d", "guest_errors,unimp,int,exec,in_asm,mmu,cpu,cpu_reset,pcall,trace_dev",
            NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && coremu_log_mask == 0x3ff, "-d every category",
               "mask %#x", (unsigned)coremu_log_mask);
    coremu_options_free(&o);
    run(&o, "-d", "guest_errors", NULL);
    UNIT_CHECK(coremu_log_enabled(COREMU_LOG_GUEST_ERRORS) && !coremu_log_enabled(COREMU_LOG_INT),
               "-d replaces the mask", "mask %#x", (unsigned)coremu_log_mask);
    coremu_options_free(&o);
}

static void test_sizes(void)
{
    static const struct {
        const char *s;
        char unit;
        uint64_t want;
    } good[] = {
        {"512", 'M', 512ull << 20},  {"512M", 0, 512ull << 20},   {"512m", 'M', 512ull << 20},
        {"1G", 'M', 1ull << 30},     {"2G", 'M', 2ull << 30},     {"2g", 0, 2ull << 30},
        {"4096k", 'M', 4ull << 20},  {"4096K", 0, 4ull << 20},    {"1T", 0, 1ull << 40},
        {"1.5G", 'M', 3ull << 29},   {"0.5M", 0, 1ull << 19},     {"4096", 0, 4096},
        {"4096B", 'M', 4096},        {"0x1000", 0, 0x1000},       {"0", 'M', 0},
        {"16E", 0, 0},               {"15E", 0, 15ull << 60},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 1;
        int r = coremu_parse_size(good[i].s, good[i].unit, &v);
        char name[80];
        snprintf(name, sizeof(name), "size: '%s' (default unit %c)", good[i].s,
                 good[i].unit ? good[i].unit : 'B');
        if (strcmp(good[i].s, "16E") == 0) {
            UNIT_CHECK(r < 0, name, "2^64 accepted as %llu", (unsigned long long)v);
        } else {
            UNIT_CHECK(r == 0 && v == good[i].want, name, "r=%d v=%llu want %llu", r,
                       (unsigned long long)v, (unsigned long long)good[i].want);
        }
    }
    static const char *const bad[] = {"12X", "-1", "", " 1", "1 ", "M", "1MM", "1.M", ".5G",
                                      "0x", "1.5", "+5", "99999999999999999999",
                                      "18446744073709551616", "1e9", "1,5G"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0;
        char name[80];
        snprintf(name, sizeof(name), "size: '%s' rejected", bad[i]);
        UNIT_CHECK(coremu_parse_size(bad[i], 0, &v) < 0, name, "accepted as %llu",
                   (unsigned long long)v);
    }

    struct coremu_options o;
    static const struct {
        const char *arg;
        uint64_t want;
    } m[] = {{"512", 512ull << 20}, {"512M", 512ull << 20}, {"1G", 1ull << 30},
             {"2G", 2ull << 30},    {"4096k", 4ull << 20},  {"size=1G", 1ull << 30}};
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        char name[80];
        snprintf(name, sizeof(name), "-m %s", m[i].arg);
        enum coremu_parse_result r = run(&o, "-m", m[i].arg, NULL);
        UNIT_CHECK(r == COREMU_PARSE_OK && o.m_given && o.ram_size == m[i].want, name,
                   "r=%d size=%llu err=%s", r, (unsigned long long)o.ram_size, err_text);
        coremu_options_free(&o);
    }
    EXPECT_ERROR("-m 12X: one line naming option and value", "-m", "12X", "-m", "12X");
    EXPECT_ERROR("-m -1 rejected", "-m", "-1", "-m", "-1");
    EXPECT_ERROR("-m 0 rejected", "-m 0", "greater than 0", "-m", "0");
    EXPECT_ERROR("-m maxmem= rejected by name", "maxmem", NULL, "-m", "1G,maxmem=4G");
    EXPECT_ERROR("-m empty rejected", "-m", NULL, "-m", "");

    bool b = false;
    UNIT_CHECK(coremu_parse_bool("on", &b) == 0 && b && coremu_parse_bool("off", &b) == 0 && !b &&
                   coremu_parse_bool("yes", &b) == 0 && b && coremu_parse_bool("no", &b) == 0 &&
                   !b && coremu_parse_bool("true", &b) == 0 && b &&
                   coremu_parse_bool("false", &b) == 0 && !b &&
                   coremu_parse_bool("maybe", &b) < 0 && coremu_parse_bool("", &b) < 0 &&
                   coremu_parse_bool("ON ", &b) < 0,
               "bools", "wrong");
}

static void test_smp(void)
{
    static const struct {
        const char *arg;
        unsigned cpus, sockets, cores, threads;
    } good[] = {
        {"4", 4, 1, 4, 1},
        {"cpus=4", 4, 1, 4, 1},
        {"8,sockets=2", 8, 2, 4, 1},
        {"8,cores=2", 8, 4, 2, 1},
        {"8,threads=2", 8, 1, 4, 2},
        {"8,sockets=2,cores=2,threads=2", 8, 2, 2, 2},
        {"sockets=2,cores=3", 6, 2, 3, 1},
        {"4,maxcpus=4", 4, 1, 4, 1},
        {"1", 1, 1, 1, 1},
    };
    struct coremu_options o;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char name[80];
        snprintf(name, sizeof(name), "-smp %s", good[i].arg);
        enum coremu_parse_result r = run(&o, "-smp", good[i].arg, NULL);
        UNIT_CHECK(r == COREMU_PARSE_OK && o.smp_given && o.smp_cpus == good[i].cpus &&
                       o.smp_sockets == good[i].sockets && o.smp_cores == good[i].cores &&
                       o.smp_threads == good[i].threads && o.smp_maxcpus == good[i].cpus,
                   name, "r=%d cpus=%u sockets=%u cores=%u threads=%u err=%s", r, o.smp_cpus,
                   o.smp_sockets, o.smp_cores, o.smp_threads, err_text);
        coremu_options_free(&o);
    }
    EXPECT_ERROR("-smp 0", "-smp 0", "at least 1", "-smp", "0");
    EXPECT_ERROR("-smp 9 over the binary's limit names it", "-smp 9", "8", "-smp", "9");
    EXPECT_ERROR("-smp 4,cores=3 inconsistent", "-smp 4,cores=3", "cores=3", "-smp",
                 "4,cores=3");
    EXPECT_ERROR("-smp 4,sockets=2,cores=2,threads=2 inconsistent", "-smp", "equal", "-smp",
                 "4,sockets=2,cores=2,threads=2");
    EXPECT_ERROR("-smp 2,sockets=4", "-smp 2,sockets=4", NULL, "-smp", "2,sockets=4");
    EXPECT_ERROR("-smp sockets=4,cores=4 over the limit", "-smp", "8", "-smp",
                 "sockets=4,cores=4");
    EXPECT_ERROR("-smp x", "-smp x", "x", "-smp", "x");
    EXPECT_ERROR("-smp -2", "-smp -2", NULL, "-smp", "-2");
    EXPECT_ERROR("-smp 4,cores=0", "cores", NULL, "-smp", "4,cores=0");
    EXPECT_ERROR("-smp 4,dies=2 unsupported", "dies", NULL, "-smp", "4,dies=2");
    EXPECT_ERROR("-smp 2,maxcpus=4 (no hot-plug)", "maxcpus", NULL, "-smp", "2,maxcpus=4");
    EXPECT_ERROR("-smp huge", "-smp", NULL, "-smp", "sockets=65536,cores=65536,threads=65536");
    EXPECT_ERROR("-smp empty", "-smp", NULL, "-smp", "");
}

static void test_errors(void)
{
    EXPECT_ERROR("unknown option", "-foo: invalid option", NULL, "-foo");
    {
        struct coremu_options o;
        enum coremu_parse_result r = run(&o, "-frobnicate", NULL);
        UNIT_CHECK(r == COREMU_PARSE_ERROR &&
                       strcmp(err_text, "coremu-system-arm: -frobnicate: invalid option\n") == 0,
                   "unknown option: exact message", "got '%s'", err_text);
        coremu_options_free(&o);
    }
    EXPECT_ERROR("unknown --option", "--foo", "invalid option", "--foo=bar");
    EXPECT_ERROR("known QEMU option coremu lacks", "-enable-kvm", "not supported",
                 "-enable-kvm");
    EXPECT_ERROR("-hda not supported", "-hda", "not supported", "-hda", "x.img");
    {
        struct coremu_options o;
        enum coremu_parse_result r = run(&o, "-m", NULL);
        UNIT_CHECK(r == COREMU_PARSE_ERROR &&
                       strcmp(err_text, "coremu-system-arm: -m: requires an argument\n") == 0,
                   "missing argument: exact message", "got '%s'", err_text);
        coremu_options_free(&o);
    }
    EXPECT_ERROR("missing argument after others", "-kernel: requires an argument", NULL,
                 "-nographic", "-kernel");
    EXPECT_ERROR("--opt=value on a flag", "-nographic", "argument", "--nographic=1");
    EXPECT_ERROR("positional argument", "disk.img", NULL, "disk.img");
    EXPECT_ERROR("lone dash", "-", NULL, "-");
    EXPECT_ERROR("unknown machine", "pc-i440fx", "-M help", "-M", "pc-i440fx");
    EXPECT_ERROR("empty machine", "-machine", "missing", "-machine", "");
    EXPECT_ERROR("non-tcg accelerator", "kvm", "tcg", "-accel", "kvm");
    EXPECT_ERROR("-accel thread=bogus", "thread=bogus", NULL, "-accel", "tcg,thread=bogus");
    EXPECT_ERROR("-accel pin=maybe", "pin=maybe", NULL, "-accel", "tcg,pin=maybe");
    EXPECT_ERROR("-accel llsc=fast", "llsc=fast", NULL, "-accel", "tcg,llsc=fast");
    EXPECT_ERROR("-accel tb-size unsupported", "tb-size", NULL, "-accel", "tcg,tb-size=64");
    EXPECT_ERROR("-display gtk unsupported", "-display gtk", "none", "-display", "gtk");
    EXPECT_ERROR("unknown -d category", "nosuchthing", "-d", "-d", "int,nosuchthing");
    EXPECT_ERROR("-netdev without id", "-netdev user", "'id'", "-netdev", "user");
    EXPECT_ERROR("-chardev duplicate id", "duplicate", "c0", "-chardev", "null,id=c0",
                 "-chardev", "stdio,id=c0");
    EXPECT_ERROR("-device without driver", "-device", "driver", "-device", "netdev=x");
    EXPECT_ERROR("-kernel empty", "-kernel", "empty", "-kernel", "");
    EXPECT_ERROR("-serial empty", "-serial", NULL, "-serial", "");
    EXPECT_ERROR("-drive bad list", "-drive", "parameter name", "-drive", "file=a,=x");
    EXPECT_ERROR("-serial 17 times", "-serial", "at most 16", "-serial", "null", "-serial",
                 "null", "-serial", "null", "-serial", "null", "-serial", "null", "-serial",
                 "null", "-serial", "null", "-serial", "null", "-serial", "null", "-serial",
                 "null", "-serial", "null", "-serial", "null", "-serial", "null", "-serial",
                 "null", "-serial", "null", "-serial", "null", "-serial", "null");
    EXPECT_ERROR("newline in a value stays one line", "-m", "a b", "-m", "a\nb");

    /* A message longer than any fixed buffer is still one whole line. */
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    EXPECT_ERROR("long value: one whole line", big, NULL, big);
}

static void test_exit(void)
{
    struct coremu_options o;
    enum coremu_parse_result r;

    r = run(&o, "-version", NULL);
    char want[128];
    snprintf(want, sizeof(want), "coremu-system-arm version %s (coremu)\n", coremu_version());
    UNIT_CHECK(r == COREMU_PARSE_EXIT && strncmp(out_text, want, strlen(want)) == 0 &&
                   err_text[0] == '\0',
               "-version", "r=%d out='%s'", r, out_text);
    r = run(&o, "--version", NULL);
    UNIT_CHECK(r == COREMU_PARSE_EXIT && strncmp(out_text, want, strlen(want)) == 0, "--version",
               "r=%d", r);

    static const char *const helps[] = {"-help", "--help", "-h"};
    for (size_t i = 0; i < 3; i++) {
        r = run(&o, helps[i], NULL);
        static const char *const opts[] = {
            "-machine", "-M", "-cpu", "-smp", "-m ", "-kernel", "-initrd", "-append", "-dtb",
            "-bios", "-drive", "-device", "-netdev", "-serial", "-chardev", "-monitor",
            "-nographic", "-display", "-no-reboot", "-no-shutdown", "-S ", "-s ", "-gdb",
            "-d ", "-D ", "-accel", "-version", "-help", "virt", "tiny", "thread=single",
            "parallel"};
        bool all = r == COREMU_PARSE_EXIT;
        const char *missing = "";
        for (size_t j = 0; j < sizeof(opts) / sizeof(opts[0]); j++) {
            if (strstr(out_text, opts[j]) == NULL) {
                all = false;
                missing = opts[j];
            }
        }
        unsigned long_lines = 0, col = 0;
        for (const char *p = out_text; *p; p++) {
            col = *p == '\n' ? 0 : col + 1;
            long_lines += col == 101;
        }
        char name[40];
        snprintf(name, sizeof(name), "%s lists every option and machine", helps[i]);
        UNIT_CHECK(all && long_lines == 0, name, "r=%d missing '%s', %u lines over 100 columns",
                   r, missing, long_lines);
    }

    r = run(&o, "-M", "help", NULL);
    UNIT_CHECK(r == COREMU_PARSE_EXIT && strstr(out_text, "virt") && strstr(out_text, "tiny") &&
                   strstr(out_text, "ARM virtual machine"),
               "-M help", "r=%d out='%s'", r, out_text);
    r = run(&o, "-machine", "help", NULL);
    UNIT_CHECK(r == COREMU_PARSE_EXIT && strstr(out_text, "virt"), "-machine help", "r=%d", r);
    r = run(&o, "-d", "help", NULL);
    UNIT_CHECK(r == COREMU_PARSE_EXIT && strstr(out_text, "guest_errors") &&
                   strstr(out_text, "trace_dev") && strstr(out_text, "cpu_reset"),
               "-d help", "r=%d out='%s'", r, out_text);
    /* Whatever came before, -help wins over running and frees what was parsed. */
    r = run(&o, "-kernel", "k", "-help", NULL);
    UNIT_CHECK(r == COREMU_PARSE_EXIT && o.kernel == NULL, "-help after other options",
               "r=%d", r);
    coremu_options_free(&o);
}

static void test_kv(void)
{
    struct coremu_kv kv;
    char err[256];

    int r = coremu_kv_parse(&kv, "virt,dumpdtb=x.dtb", "type", err, sizeof(err));
    UNIT_CHECK(r == 0 && kv.n == 2 && strcmp(kv.key[0], "type") == 0 &&
                   strcmp(kv.value[0], "virt") == 0 &&
                   strcmp(coremu_kv_get(&kv, "dumpdtb"), "x.dtb") == 0,
               "kv: implied key", "r=%d n=%u", r, kv.n);
    coremu_kv_free(&kv);

    r = coremu_kv_parse(&kv, "a=1,b=2,a=3", NULL, err, sizeof(err));
    UNIT_CHECK(r == 0 && kv.n == 3 && strcmp(coremu_kv_get(&kv, "a"), "3") == 0 &&
                   strcmp(kv.value[0], "1") == 0,
               "kv: repeated keys kept, get returns the last", "r=%d n=%u", r, kv.n);
    coremu_kv_free(&kv);

    r = coremu_kv_parse(&kv, "a=,b=x", NULL, err, sizeof(err));
    UNIT_CHECK(r == 0 && kv.n == 2 && strcmp(coremu_kv_get(&kv, "a"), "") == 0,
               "kv: empty value", "r=%d", r);
    coremu_kv_free(&kv);

    r = coremu_kv_parse(&kv, "file=a,,b,,,,c.img,if=virtio", NULL, err, sizeof(err));
    UNIT_CHECK(r == 0 && kv.n == 2 && strcmp(coremu_kv_get(&kv, "file"), "a,b,,c.img") == 0 &&
                   strcmp(coremu_kv_get(&kv, "if"), "virtio") == 0,
               "kv: ,, escapes a comma", "r=%d file=%s", r,
               r == 0 && coremu_kv_get(&kv, "file") ? coremu_kv_get(&kv, "file") : "?");
    coremu_kv_free(&kv);

    r = coremu_kv_parse(&kv, "x,,y,k=v", "path", err, sizeof(err));
    UNIT_CHECK(r == 0 && kv.n == 2 && strcmp(coremu_kv_get(&kv, "path"), "x,y") == 0,
               "kv: ,, in the implied value", "r=%d", r);
    coremu_kv_free(&kv);

    r = coremu_kv_parse(&kv, "file=a,readonly", NULL, err, sizeof(err));
    UNIT_CHECK(r == 0 && strcmp(coremu_kv_get(&kv, "readonly"), "on") == 0,
               "kv: bare name means on", "r=%d", r);
    coremu_kv_free(&kv);

    r = coremu_kv_parse(&kv, "virt", NULL, err, sizeof(err));
    UNIT_CHECK(r == 0 && strcmp(coremu_kv_get(&kv, "virt"), "on") == 0,
               "kv: no implied key: bare first name means on", "r=%d", r);
    coremu_kv_free(&kv);

    r = coremu_kv_parse(&kv, "a=1,", NULL, err, sizeof(err));
    UNIT_CHECK(r == 0 && kv.n == 1, "kv: trailing comma ignored", "r=%d n=%u", r, kv.n);
    coremu_kv_free(&kv);

    r = coremu_kv_parse(&kv, "", "type", err, sizeof(err));
    UNIT_CHECK(r == 0 && kv.n == 0, "kv: empty string", "r=%d", r);

    r = coremu_kv_parse(&kv, "a=1,=2", NULL, err, sizeof(err));
    UNIT_CHECK(r < 0 && kv.n == 0 && err[0] != '\0' && strchr(err, '\n') == NULL,
               "kv: empty key is an error", "r=%d", r);

    r = coremu_kv_parse(&kv, "a=1,,", NULL, err, sizeof(err));
    UNIT_CHECK(r == 0 && strcmp(coremu_kv_get(&kv, "a"), "1,") == 0, "kv: trailing ,, is a comma",
               "r=%d", r);
    coremu_kv_free(&kv);

    char many[400] = "";
    for (int i = 0; i < 33; i++) {
        char item[16];
        snprintf(item, sizeof(item), "%sk%d=v", i ? "," : "", i);
        strcat(many, item);
    }
    r = coremu_kv_parse(&kv, many, NULL, err, sizeof(err));
    UNIT_CHECK(r < 0 && kv.n == 0, "kv: more than 32 items is an error", "r=%d", r);

    static const char *const allowed[] = {"a", "b", NULL};
    r = coremu_kv_parse(&kv, "a=1,c=2", NULL, err, sizeof(err));
    UNIT_CHECK(r == 0 && coremu_kv_check(&kv, allowed, err, sizeof(err)) < 0 &&
                   strstr(err, "'c'") != NULL,
               "kv: check names the unknown key", "err=%s", err);
    coremu_kv_free(&kv);
}

static void test_messages(void)
{
    coremu_set_progname("coremu-system-arm");
    FILE *fe = tmpfile();
    int save = dup(STDERR_FILENO);
    dup2(fileno(fe), STDERR_FILENO);
    coremu_error("first %s", "line\nsecond line");
    coremu_warn("careful %d", 42);
    dup2(save, STDERR_FILENO);
    close(save);
    slurp(fe, err_text, sizeof(err_text));
    UNIT_CHECK(strcmp(err_text, "coremu-system-arm: first line second line\n"
                                "coremu-system-arm: warning: careful 42\n") == 0,
               "coremu_error/coremu_warn: one line each", "got '%s'", err_text);
}

/* ---- the log (-d, -D) ----------------------------------------------------------------------- */

#define LOG_THREADS 4
#define LOG_LINES 2000

static void *log_writer(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    char pad[700];
    for (unsigned i = 0; i < LOG_LINES; i++) {
        /* Every 10th line is longer than the logger's stack buffer. */
        size_t n = i % 10 == 0 ? 600 : 20 + i % 50;
        memset(pad, 'a' + id, n);
        pad[n] = '\0';
        coremu_log(COREMU_LOG_INT, "T%u %u %s end", id, i, pad);
    }
    return NULL;
}

static void test_log(void)
{
    char path[] = "/tmp/coremu-test-log-XXXXXX";
    int fd = mkstemp(path);
    UNIT_REQUIRE(fd >= 0, "log: mkstemp", "failed");
    close(fd);
    char err[256];
    UNIT_REQUIRE(coremu_log_parse("int,mmu", err, sizeof(err)) == 0, "log: parse", "%s", err);
    UNIT_CHECK(coremu_log_parse("int,bogus", err, sizeof(err)) < 0 && strstr(err, "bogus") &&
                   coremu_log_enabled(COREMU_LOG_MMU),
               "log: unknown item rejected, mask unchanged", "err=%s", err);
    UNIT_REQUIRE(coremu_log_set_file(path) == 0, "log: -D file", "failed");
    UNIT_CHECK(coremu_log_set_file("/nonexistent-dir/x.log") < 0, "log: unopenable -D file",
               "accepted");

    coremu_log(COREMU_LOG_EXEC, "disabled category %d", 1);
    COREMU_LOG(COREMU_LOG_CPU, "disabled too");
    coremu_log(0, "always");
    COREMU_LOG(COREMU_LOG_MMU, "with newline\n");
    pthread_t th[LOG_THREADS];
    for (unsigned i = 0; i < LOG_THREADS; i++) {
        pthread_create(&th[i], NULL, log_writer, (void *)(uintptr_t)i);
    }
    for (unsigned i = 0; i < LOG_THREADS; i++) {
        pthread_join(th[i], NULL);
    }
    coremu_log_set_file(NULL);
    coremu_log_parse("", err, sizeof(err));

    FILE *f = fopen(path, "r");
    UNIT_REQUIRE(f != NULL, "log: reopen", "failed");
    static char line[2048];
    unsigned next[LOG_THREADS] = {0}, bad = 0, other = 0;
    bool saw_always = false, saw_nl = false, saw_disabled = false;
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned id, seq;
        int pos = 0;
        if (sscanf(line, "T%u %u %n", &id, &seq, &pos) == 2 && id < LOG_THREADS) {
            /* The line must be whole: its own padding only, then " end". */
            size_t n = seq % 10 == 0 ? 600 : 20 + seq % 50;
            bool whole = seq == next[id] && strlen(line) == (size_t)pos + n + 5 &&
                         strcmp(line + pos + n, " end\n") == 0;
            for (size_t k = 0; whole && k < n; k++) {
                whole = line[pos + k] == (char)('a' + id);
            }
            bad += !whole;
            next[id] = seq + 1;
        } else if (strcmp(line, "always\n") == 0) {
            saw_always = true;
        } else if (strcmp(line, "with newline\n") == 0) {
            saw_nl = true;
        } else if (strstr(line, "disabled") != NULL) {
            saw_disabled = true;
        } else {
            other++;
        }
    }
    fclose(f);
    unlink(path);
    bool complete = true;
    for (unsigned i = 0; i < LOG_THREADS; i++) {
        complete &= next[i] == LOG_LINES;
    }
    UNIT_CHECK(bad == 0 && other == 0 && complete,
               "log: lines from 4 threads never interleave", "%u torn, %u stray, complete %d",
               bad, other, complete);
    UNIT_CHECK(saw_always && saw_nl && !saw_disabled,
               "log: category filter, cat 0 always, one newline", "always %d nl %d disabled %d",
               saw_always, saw_nl, saw_disabled);
}

/* The QEMU options a distribution's CI passes besides the machine's own: -nodefaults,
 * -no-user-config, -name, -pidfile, -rtc, -nic/-net none, -vga none. */
static void test_host_options(void)
{
    struct coremu_options o;
    enum coremu_parse_result r;

    r = run(&o, "-nodefaults", "-no-user-config", "-name", "ci-guest,process=coremu-ci",
            "-pidfile", "/run/x.pid", "-rtc", "base=localtime,clock=host,driftfix=none", "-nic",
            "none", "-vga", "none", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && o.nodefaults && o.no_user_config &&
                   strcmp(coremu_kv_get(&o.name, "guest"), "ci-guest") == 0 &&
                   strcmp(coremu_kv_get(&o.name, "process"), "coremu-ci") == 0 &&
                   strcmp(o.pidfile, "/run/x.pid") == 0 &&
                   strcmp(coremu_kv_get(&o.rtc, "base"), "localtime") == 0 &&
                   o.nnics == 1 && strcmp(coremu_kv_get(&o.nics[0], "type"), "none") == 0 &&
                   o.nnot_yet == 0 && strcmp(o.vga, "none") == 0,
               "host options parsed", "r=%d err=%s", r, err_text);
    coremu_options_free(&o);

    r = run(&o, "-rtc", "base=2006-06-17", "-rtc", "base=2006-06-17T16:01:21", "-net", "none",
            NULL);
    int64_t off = 1;
    char err[256] = "";
    int rc = r == COREMU_PARSE_OK ? coremu_rtc_base_offset(&o.rtc, 1150560000, &off, err,
                                                           sizeof err)
                                  : -2;
    UNIT_CHECK(rc == 0 && off == 81 && o.nnets == 1 &&
                   strcmp(coremu_kv_get(&o.nets[0], "type"), "none") == 0,
               "-rtc: the last base wins, a date is UTC", "rc %d offset %lld err '%s'", rc,
               (long long)off, err);
    coremu_options_free(&o);

    r = run(&o, "-rtc", "base=2006-06-17", NULL);
    rc = r == COREMU_PARSE_OK ? coremu_rtc_base_offset(&o.rtc, 1150560081, &off, err, sizeof err)
                              : -2;
    UNIT_CHECK(rc == 0 && off == -(16 * 3600 + 81), "-rtc base=DATE: midnight UTC",
               "rc %d offset %lld", rc, (long long)off);
    coremu_options_free(&o);

    rc = coremu_rtc_base_offset(NULL, 1150560081, &off, err, sizeof err);
    UNIT_CHECK(rc == 0 && off == 0, "no -rtc: UTC", "rc %d offset %lld", rc, (long long)off);

    EXPECT_ERROR("-rtc base=tomorrow", "-rtc base=tomorrow", "expected utc, localtime", "-rtc",
                 "base=tomorrow");
    EXPECT_ERROR("-rtc base=2006-13-45", "-rtc base=2006-13-45", "a date", "-rtc",
                 "base=2006-13-45");
    EXPECT_ERROR("-rtc clock=wall", "clock", "host, rt or vm", "-rtc", "clock=wall");
    EXPECT_ERROR("-rtc unknown key", "-rtc", "'speed'", "-rtc", "speed=2");
    EXPECT_ERROR("-name unknown key", "-name", "'colour'", "-name", "g,colour=red");
    EXPECT_ERROR("-name empty process", "-name", "process: empty name", "-name", "g,process=");
    EXPECT_ERROR("-pidfile empty", "-pidfile", "empty argument", "-pidfile", "");
    EXPECT_ERROR("-qmp still unsupported", "-qmp", "not supported", "-qmp", "unix:/tmp/q");
    r = run(&o, "-daemonize", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && o.daemonize, "-daemonize parsed", "r=%d", r);
    coremu_options_free(&o);
}


/* Several options coremu does not implement (QEMU's, and its own not-yet ones) are all named
 * in one run, one line each, and the arguments of the skipped ones are not taken for options. */
static void test_unsupported_all_named(void)
{
    struct coremu_options o;
    enum coremu_parse_result r =
        run(&o, "-hda", "disk.img", "-enable-kvm", "-vnc", ":1", "-drive", "file=a.img", "-S",
            "-kernel", "k", NULL);
    UNIT_CHECK(r == COREMU_PARSE_ERROR && count_lines(err_text) == 5 &&
                   strstr(err_text, "-hda: option not supported") != NULL &&
                   strstr(err_text, "-enable-kvm: option not supported") != NULL &&
                   strstr(err_text, "-vnc: option not supported") != NULL &&
                   strstr(err_text, "-drive is not supported yet") != NULL &&
                   strstr(err_text, "-S is not supported yet") != NULL &&
                   strstr(err_text, "disk.img") == NULL && strstr(err_text, ":1") == NULL,
               "several unsupported options named in one run", "r=%d err='%s'", r, err_text);
    coremu_options_free(&o);

    /* Bad values do not stop the parse either: each is named, and so are the not-yet options
     * given with them (except one whose own value was wrong: its line names it already). */
    r = run(&o, "-drive", "file=a", "-smp", "0", "-S", "-m", "12X", "-chardev", "null,id=c0",
            "-chardev", "stdio,id=c0", NULL);
    UNIT_CHECK(r == COREMU_PARSE_ERROR && count_lines(err_text) == 5 &&
                   strstr(err_text, "-smp 0:") != NULL && strstr(err_text, "-m 12X:") != NULL &&
                   strstr(err_text, "duplicate id 'c0'") != NULL &&
                   strstr(err_text, "-drive is not supported yet") != NULL &&
                   strstr(err_text, "-S is not supported yet") != NULL &&
                   strstr(err_text, "-chardev is not supported yet") == NULL,
               "bad values and not-yet options named in one run", "r=%d err='%s'", r, err_text);
    coremu_options_free(&o);

    /* The not-yet options parse (their syntax is checked) and are recorded, each once. */
    r = run(&o, "-drive", "file=a", "-S", "-s", "-gdb", "tcp::1", "-no-shutdown", "-netdev",
            "user,id=n0", "-device", "virtio-net-device", "-chardev", "null,id=c0", "-bios", "b",
            "-drive", "file=b", NULL);
    static const char *const want[] = {"drive", "S", "s", "gdb", "no-shutdown", "netdev",
                                       "device", "chardev", "bios"};
    bool same = r == COREMU_PARSE_OK && o.nnot_yet == 9;
    for (unsigned i = 0; same && i < 9; i++) {
        same = strcmp(o.not_yet[i].option, want[i]) == 0 && o.not_yet[i].why != NULL;
    }
    UNIT_CHECK(same, "not-yet options recorded once each, in order", "r=%d n=%u", r, o.nnot_yet);
    coremu_options_free(&o);

    /* -nic none and -net none work everywhere; a real NIC is the board's to implement. */
    r = run(&o, "-nic", "none", "-net", "none", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && o.nnot_yet == 0, "-nic none, -net none are not not-yet",
               "r=%d n=%u", r, o.nnot_yet);
    coremu_options_free(&o);
    r = run(&o, "-nic", "user,hostfwd=tcp::5555-:22", "-net", "nic", "-net", "user", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && o.nnot_yet == 2 && o.nnics == 1 && o.nnets == 2 &&
                   strcmp(o.not_yet[0].option, "nic") == 0 &&
                   strcmp(o.not_yet[1].option, "net") == 0 &&
                   strcmp(coremu_kv_get(&o.nics[0], "hostfwd"), "tcp::5555-:22") == 0,
               "-nic user and -net nic are lists, not yet without a board", "r=%d n=%u", r,
               o.nnot_yet);
    coremu_options_free(&o);
}

/* -help marks every option that is syntax only so far. */

/* Whether the -help text in out_text says "not yet" on the line of option ("-drive "): 1 or 0,
 * -1 when it has no such line. */
static int help_marks_not_yet(const char *option)
{
    char line[64];
    snprintf(line, sizeof(line), "\n  %s", option);
    const char *p = strstr(out_text, line);
    const char *end = p != NULL ? strchr(p + 1, '\n') : NULL;
    if (end == NULL) {
        return -1;
    }
    const char *mark = strstr(p + 1, "not yet");
    return mark != NULL && mark < end;
}

static void test_help_not_yet(void)
{
    struct coremu_options o;
    enum coremu_parse_result r = run(&o, "-help", NULL);
    static const char *const marked[] = {"-drive ", "-device ", "-netdev ", "-chardev ",
                                         "-monitor ", "-S ", "-s ", "-gdb ", "-no-shutdown ",
                                         "-display ", "-bios "};
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(marked); i++) {
        char name[64];
        snprintf(name, sizeof(name), "-help marks %snot yet", marked[i]);
        UNIT_CHECK(r == COREMU_PARSE_EXIT && help_marks_not_yet(marked[i]) == 1, name, "r=%d",
                   r);
    }
    static const char *const unmarked[] = {"-smp ", "-kernel ", "-serial ", "-nographic "};
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(unmarked); i++) {
        char name[64];
        snprintf(name, sizeof(name), "-help does not mark %s", unmarked[i]);
        UNIT_CHECK(help_marks_not_yet(unmarked[i]) == 0, name, "r=%d", r);
    }
}

/* -smp errors name the counts as typed, never one derived from them. */
static void test_smp_messages(void)
{
    EXPECT_ERROR("-smp 2,cores=4 names cores=4", "-smp 2,cores=4", "cores=4", "-smp",
                 "2,cores=4");
    UNIT_CHECK(strstr(err_text, "sockets") == NULL && strstr(err_text, "(0)") == NULL,
               "-smp 2,cores=4 mentions no sockets", "'%s'", err_text);
    EXPECT_ERROR("-smp 2,sockets=4 names sockets=4", "-smp 2,sockets=4", "sockets=4", "-smp",
                 "2,sockets=4");
    UNIT_CHECK(strstr(err_text, "cores") == NULL && strstr(err_text, "(0)") == NULL,
               "-smp 2,sockets=4 mentions no cores", "'%s'", err_text);
    EXPECT_ERROR("-smp 2,threads=4", "threads=4", NULL, "-smp", "2,threads=4");
    UNIT_CHECK(strstr(err_text, "cores") == NULL && strstr(err_text, "sockets") == NULL,
               "-smp 2,threads=4 mentions only threads", "'%s'", err_text);
    EXPECT_ERROR("-smp 8,sockets=3", "sockets=3", NULL, "-smp", "8,sockets=3");
    UNIT_CHECK(strstr(err_text, "cores") == NULL, "-smp 8,sockets=3 mentions no cores", "'%s'",
               err_text);
    EXPECT_ERROR("-smp 2,cores=4,threads=2", "cores=4 * threads=2", "8", "-smp",
                 "2,cores=4,threads=2");
    EXPECT_ERROR("-smp sockets=2,cores=2,threads=3 over the limit", "12 cpus", "8", "-smp",
                 "sockets=2,cores=2,threads=3");
    EXPECT_ERROR("-smp maxcpus=4 alone", "maxcpus", "-smp 4", "-smp", "maxcpus=4");
    UNIT_CHECK(strstr(err_text, "(1)") == NULL, "-smp maxcpus=4 reports no cpus (1)", "'%s'",
               err_text);
    struct coremu_options o;
    enum coremu_parse_result r = run(&o, "-smp", "4,cores=2", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && o.smp_sockets == 2 && o.smp_cores == 2,
               "-smp 4,cores=2 derives 2 sockets", "r=%d sockets=%u", r, o.smp_sockets);
    coremu_options_free(&o);
    r = run(&o, "-smp", "4,sockets=2", NULL);
    UNIT_CHECK(r == COREMU_PARSE_OK && o.smp_sockets == 2 && o.smp_cores == 2,
               "-smp 4,sockets=2 derives 2 cores", "r=%d cores=%u", r, o.smp_cores);
    coremu_options_free(&o);
}

/* ---- the machine class and coremu_main ------------------------------------------------------ */

static struct {
    unsigned checks, inits, attaches, runs, frees;
    unsigned ncpus;
    uint64_t ram_size;
    const char *cpu_model;
} toy;

static unsigned toy_check(const struct coremu_options *o)
{
    toy.checks++;
    if (o->kernel == NULL) {
        coremu_error("toy needs -kernel");
        return 1;
    }
    return 0;
}

static enum coremu_machine_init_result toy_init(const struct coremu_machine_config *cfg,
                                                void **board, char *err, size_t errlen)
{
    toy.inits++;
    toy.ncpus = cfg->ncpus;
    toy.ram_size = cfg->ram_size;
    toy.cpu_model = cfg->cpu_model;
    *board = &toy;
    return COREMU_MACHINE_INIT_RUN;
}

static void toy_attach(void *board, unsigned index, struct coremu_chardev *chr)
{
    toy.attaches++;
}

static int toy_run(void *board, char *err, size_t errlen)
{
    toy.runs++;
    return 7;
}

static void toy_request_exit(void *board, int status)
{
}

static void toy_free(void *board)
{
    toy.frees++;
}

static const struct coremu_cpu_model_info toy_models[] = {
    {"toy-1", "the first toy core"},
    {"toy-2", "the second toy core"},
};

static const struct coremu_machine_class toy_class = {
    .name = "toyboard",
    .description = "a board made of hooks that count",
    .max_cpus = 4,
    .default_ram_size = 64ull << 20,
    .min_ram_size = 1ull << 20,
    .max_ram_size = 256ull << 20,
    .ram_granule = 4096,
    .nserial = 1,
    .cpu_models = toy_models,
    .ncpu_models = 2,
    .check = toy_check,
    .init = toy_init,
    .attach_serial = toy_attach,
    .run = toy_run,
    .request_exit = toy_request_exit,
    .free = toy_free,
};

static const struct coremu_machine_class toy_big_class = {
    .name = "bigtoy",
    .description = "the same with more cores",
    .max_cpus = 16,
    .default_ram_size = 64ull << 20,
    .min_ram_size = 1ull << 20,
    .max_ram_size = 256ull << 20,
    .nserial = 1,
    .check = toy_check,
    .init = toy_init,
    .attach_serial = toy_attach,
    .run = toy_run,
    .request_exit = toy_request_exit,
    .free = toy_free,
};

static const struct coremu_machine_class *const toy_classes[] = {&toy_class, &toy_big_class,
                                                                 NULL};
static const struct coremu_binary toy_bin = {.name = "coremu-system-toy", .classes = toy_classes};

static void test_machine_class(void)
{
    main_bin = &toy_bin;
    run_main("-M", "help", NULL);
    UNIT_CHECK(main_status == 0 && strstr(out_text, "toyboard") != NULL &&
                   strstr(out_text, "a board made of hooks that count") != NULL &&
                   strstr(out_text, "bigtoy") != NULL && strstr(out_text, "(default)") != NULL,
               "-M help lists each class's name and description", "status %d out '%s'",
               main_status, out_text);
    run_main("-cpu", "help", NULL);
    UNIT_CHECK(main_status == 0 && strstr(out_text, "toy-1") != NULL &&
                   strstr(out_text, "the second toy core") != NULL,
               "-cpu help lists the class's models", "status %d out '%s'", main_status,
               out_text);
    run_main("-help", NULL);
    UNIT_CHECK(main_status == 0 && strstr(out_text, "Usage: coremu-system-toy") != NULL &&
                   strstr(out_text, "toyboard") != NULL,
               "-help names the binary and its machines", "status %d", main_status);
    run_main("-version", NULL);
    UNIT_CHECK(main_status == 0 && strstr(out_text, "coremu-system-toy version") != NULL,
               "-version names the binary", "status %d out '%s'", main_status, out_text);

    /* Every problem of the command line named, one line each, nothing built. */
    memset(&toy, 0, sizeof(toy));
    run_main("-cpu", "toy-9", "-smp", "6", "-m", "512M", "-serial", "null", "-serial", "null",
             "-drive", "file=x", "-gdb", "tcp::1", NULL);
    UNIT_CHECK(main_status == 1 && count_lines(err_text) == 7 &&
                   strstr(err_text, "coremu-system-toy: -cpu toy-9") != NULL &&
                   strstr(err_text, "-smp 6: the toyboard machine supports at most 4") != NULL &&
                   strstr(err_text, "-m 512M") != NULL && strstr(err_text, "-serial") != NULL &&
                   strstr(err_text, "-drive is not supported yet") != NULL &&
                   strstr(err_text, "-gdb is not supported yet") != NULL &&
                   strstr(err_text, "toy needs -kernel") != NULL && toy.checks == 1 &&
                   toy.inits == 0,
               "every problem named in one run, nothing built", "status %d err '%s'",
               main_status, err_text);
    /* The other class has its own limit; -smp 6 is fine there. */
    run_main("-M", "bigtoy", "-smp", "6", NULL);
    UNIT_CHECK(main_status == 1 && count_lines(err_text) == 1 &&
                   strstr(err_text, "toy needs -kernel") != NULL,
               "the class's own limits", "status %d err '%s'", main_status, err_text);

    /* -m 1 with a kernel larger than that: the message says so and how to fix it. */
    char kernel[] = "/tmp/coremu-test-kernel-XXXXXX";
    int fd = mkstemp(kernel);
    UNIT_REQUIRE(fd >= 0, "setup: kernel file", "mkstemp failed");
    static char block[4096];
    memset(block, 0xe1, sizeof(block));
    for (unsigned i = 0; i < (2u << 20) / sizeof(block); i++) {
        UNIT_REQUIRE(write(fd, block, sizeof(block)) == (ssize_t)sizeof(block),
                     "setup: kernel file", "write failed");
    }
    close(fd);
    run_main("-m", "1", "-kernel", kernel, NULL);
    UNIT_CHECK(main_status == 1 && count_lines(err_text) == 1 &&
                   strstr(err_text, "does not fit in RAM") != NULL &&
                   strstr(err_text, "-m 1") != NULL &&
                   strstr(err_text, "give more with -m") != NULL && toy.inits == 0,
               "-m 1: the kernel does not fit in RAM, give more with -m", "status %d err '%s'",
               main_status, err_text);
    run_main("-m", "1k", "-kernel", kernel, NULL);
    UNIT_CHECK(main_status == 1 && count_lines(err_text) == 1 &&
                   strstr(err_text, "-m 1k: the toyboard machine needs at least 1 MiB") != NULL,
               "-m below the class's minimum names the value as typed", "err '%s'", err_text);
    run_main("-m", "1G", "-kernel", kernel, NULL);
    UNIT_CHECK(main_status == 1 && count_lines(err_text) == 1 &&
                   strstr(err_text, "-m 1G: the toyboard machine has room for at most 256 MiB") !=
                       NULL,
               "-m above the class's maximum names the value as typed", "err '%s'", err_text);

    /* The whole path: check, init with the defaults, no serial port (-nodefaults), run, free;
     * run's status is the exit status. */
    memset(&toy, 0, sizeof(toy));
    run_main("-smp", "3", "-nodefaults", "-kernel", kernel, NULL);
    UNIT_CHECK(main_status == 7 && toy.inits == 1 && toy.runs == 1 && toy.frees == 1 &&
                   toy.attaches == 0 && toy.ncpus == 3 && toy.ram_size == 64ull << 20 &&
                   toy.cpu_model != NULL && strcmp(toy.cpu_model, "toy-1") == 0,
               "coremu_main runs the class: init, run, free, run's status",
               "status %d inits %u runs %u frees %u ncpus %u ram %llu err '%s'", main_status,
               toy.inits, toy.runs, toy.frees, toy.ncpus, (unsigned long long)toy.ram_size,
               err_text);
    unlink(kernel);
}
int main(void)
{
    test_defaults();
    test_each_option();
    test_sizes();
    test_smp();
    test_errors();
    test_exit();
    test_kv();
    test_messages();
    test_log();
    test_host_options();
    test_unsupported_all_named();
    test_help_not_yet();
    test_smp_messages();
    test_machine_class();
    return unit_done();
}
