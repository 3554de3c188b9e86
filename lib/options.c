/*
 * coremu — the command line, in QEMU's syntax.
 *
 * Options are rows of one table (name, whether it takes an argument, handler, help text); the
 * parser only splits argv and dispatches. Every rejection is one line on stderr that names the
 * option and, for a bad value, the value, because a distribution's CI log is all a user may get.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <coremu/coremu.h>
#include <coremu/util.h>

#include "internal.h"

/* ---- messages ------------------------------------------------------------------------------ */

/* Set at start-up by coremu_options_parse (release); read by any thread that reports an error
 * (acquire), so a message never sees a half-published name. */
static _Atomic(const char *) progname = "coremu";

void coremu_set_progname(const char *name)
{
    atomic_store_explicit(&progname, name ? name : "coremu", memory_order_release);
}

/*
 * Formats "PROGNAME: [kind]message\n" into one buffer and writes it with one write loop, so
 * that messages from different threads do not interleave. Newlines inside the message (a
 * user's value may hold one) become spaces: the message stays one line.
 */
static void __attribute__((format(printf, 2, 0))) emit(const char *kind, const char *fmt,
                                                       va_list ap)
{
    char stack[1024];
    char *buf = stack;
    const char *name = atomic_load_explicit(&progname, memory_order_acquire);
    int h = snprintf(stack, sizeof(stack), "%s: %s", name, kind);
    size_t head = h < 0 ? 0 : (size_t)h;
    if (head > sizeof(stack) / 2) {
        head = sizeof(stack) / 2;
    }
    va_list ap2;
    va_copy(ap2, ap);
    int b = vsnprintf(stack + head, sizeof(stack) - head, fmt, ap);
    size_t body = b < 0 ? 0 : (size_t)b;
    if (head + body + 2 > sizeof(stack)) {
        char *big = malloc(head + body + 2);
        if (big != NULL) {
            memcpy(big, stack, head);
            vsnprintf(big + head, body + 1, fmt, ap2);
            buf = big;
        } else {
            body = sizeof(stack) - head - 2;
        }
    }
    va_end(ap2);
    size_t len = head + body;
    for (size_t i = head; i < len; i++) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            buf[i] = ' ';
        }
    }
    buf[len++] = '\n';
    rt_write_all(STDERR_FILENO, buf, len);
    if (buf != stack) {
        free(buf);
    }
}

void coremu_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}

void coremu_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("warning: ", fmt, ap);
    va_end(ap);
}

/* ---- values -------------------------------------------------------------------------------- */

static char *kv_value(const char **pp)
{
    const char *p = *pp;
    size_t n = 0;
    /* ",," is a literal comma; a single comma ends the value. */
    for (const char *q = p; *q != '\0'; q++, n++) {
        if (*q == ',') {
            if (q[1] != ',') {
                break;
            }
            q++;
        }
    }
    char *v = malloc(n + 1);
    if (v == NULL) {
        return NULL;
    }
    size_t i = 0;
    while (*p != '\0') {
        if (*p == ',') {
            if (p[1] != ',') {
                break;
            }
            p++;
        }
        v[i++] = *p++;
    }
    v[i] = '\0';
    *pp = p;
    return v;
}

void coremu_kv_free(struct coremu_kv *kv)
{
    for (unsigned i = 0; i < kv->n; i++) {
        free(kv->key[i]);
        free(kv->value[i]);
    }
    memset(kv, 0, sizeof(*kv));
}

int coremu_kv_parse(struct coremu_kv *kv, const char *s, const char *implied_key, char *err,
                    size_t errlen)
{
    const unsigned max = COREMU_ARRAY_SIZE(kv->key);
    const char *p = s ? s : "";
    bool first = true;

    memset(kv, 0, sizeof(*kv));
    while (*p != '\0') {
        size_t klen = strcspn(p, "=,");
        char *key, *value;
        if (p[klen] == '=') {
            key = strndup(p, klen);
            p += klen + 1;
            value = kv_value(&p);
        } else if (first && implied_key != NULL) {
            key = strdup(implied_key);
            value = kv_value(&p);
        } else {
            /* A bare name is a boolean switched on, as in QEMU (-drive ...,readonly). */
            key = strndup(p, klen);
            value = strdup("on");
            p += klen;
        }
        first = false;
        const char *why = NULL;
        if (key == NULL || value == NULL) {
            why = "out of memory";
        } else if (key[0] == '\0') {
            why = "parameter name missing";
        } else if (kv->n == max) {
            why = "too many parameters";
        }
        if (why != NULL) {
            snprintf(err, errlen, "%s", why);
            free(key);
            free(value);
            coremu_kv_free(kv);
            return -1;
        }
        kv->key[kv->n] = key;
        kv->value[kv->n] = value;
        kv->n++;
        if (*p == ',') {
            p++;
        }
    }
    return 0;
}

const char *coremu_kv_get(const struct coremu_kv *kv, const char *key)
{
    for (unsigned i = kv->n; i-- > 0;) {
        if (strcmp(kv->key[i], key) == 0) {
            return kv->value[i];
        }
    }
    return NULL;
}

int coremu_kv_check(const struct coremu_kv *kv, const char *const *allowed, char *err,
                    size_t errlen)
{
    for (unsigned i = 0; i < kv->n; i++) {
        bool ok = false;
        for (const char *const *a = allowed; *a != NULL && !ok; a++) {
            ok = strcmp(*a, kv->key[i]) == 0;
        }
        if (!ok) {
            snprintf(err, errlen, "unsupported parameter '%s'", kv->key[i]);
            return -1;
        }
    }
    return 0;
}

static int unit_shift(char c, unsigned *shift)
{
    static const char units[] = "BKMGTPE";
    const char *u = strchr(units, c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    if (c == '\0' || u == NULL) {
        return -1;
    }
    *shift = 10 * (unsigned)(u - units);
    return 0;
}

int coremu_parse_size(const char *s, char default_unit, uint64_t *out)
{
    unsigned __int128 whole = 0;
    uint64_t frac = 0, frac_den = 1;
    const char *p = s;
    unsigned shift;

    if (p == NULL || !(*p >= '0' && *p <= '9')) {
        return -1; /* also rejects signs and leading blanks */
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        const char *start = p;
        for (;; p++) {
            unsigned d;
            if (*p >= '0' && *p <= '9') {
                d = (unsigned)(*p - '0');
            } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
                d = (unsigned)((*p | 0x20) - 'a' + 10);
            } else {
                break;
            }
            whole = whole * 16 + d;
            if (whole > UINT64_MAX) {
                return -1;
            }
        }
        if (p == start) {
            return -1;
        }
    } else {
        for (; *p >= '0' && *p <= '9'; p++) {
            whole = whole * 10 + (unsigned)(*p - '0');
            if (whole > UINT64_MAX) {
                return -1;
            }
        }
        if (*p == '.') {
            p++;
            if (!(*p >= '0' && *p <= '9')) {
                return -1;
            }
            /* Digits beyond the 18th cannot change a 64-bit byte count's integer part
             * noticeably; they are read and dropped. */
            for (; *p >= '0' && *p <= '9'; p++) {
                if (frac_den < UINT64_C(1000000000000000000)) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    frac_den *= 10;
                }
            }
        }
    }
    if (*p == '\0') {
        if (unit_shift(default_unit ? default_unit : 'B', &shift) < 0) {
            return -1;
        }
    } else if (unit_shift(*p, &shift) < 0 || p[1] != '\0') {
        return -1;
    }
    if (frac != 0 && shift == 0) {
        return -1; /* a fraction of a byte */
    }
    unsigned __int128 bytes = (whole << shift) + (((unsigned __int128)frac << shift) / frac_den);
    if (whole > (UINT64_MAX >> shift) || bytes > UINT64_MAX) {
        return -1;
    }
    *out = (uint64_t)bytes;
    return 0;
}

int coremu_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "yes", "true"}, *const no[] = {"off", "no", "false"};
    for (size_t i = 0; s != NULL && i < 3; i++) {
        if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
            *out = strcmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

/* A decimal count for -smp: digits only, at most UINT32_MAX. */
static int parse_count(const char *s, unsigned *out)
{
    uint64_t v = 0;
    if (s == NULL || *s == '\0') {
        return -1;
    }
    for (; *s != '\0'; s++) {
        if (!(*s >= '0' && *s <= '9')) {
            return -1;
        }
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX) {
            return -1;
        }
    }
    *out = (unsigned)v;
    return 0;
}

/* ---- the option table ---------------------------------------------------------------------- */

typedef enum coremu_parse_result parse_result;

struct parse_ctx;

struct opt_def {
    const char *name; /* without the dash */
    bool has_arg;
    parse_result (*fn)(struct parse_ctx *c, const char *arg);
    /* For the generic handlers: the field in struct coremu_options, the counter of a list, the
     * key of a leading bare value, a key that must be present, whether "" is a valid value. */
    size_t off, count_off;
    const char *implied, *required;
    bool empty_ok;
    /* opt_kv: checks the parsed list (keys allowed, value forms); 0 or -1 with err. */
    int (*check)(const struct coremu_kv *kv, char *err, size_t errlen);
    /* -help: left column and text; a NULL usage hides the row (an alias documented with its
     * main spelling). */
    const char *usage, *help;
    /* Non-NULL for an option that is syntax only so far: why it cannot be honoured yet. It is
     * parsed (its value checked) and recorded in o->not_yet; -help marks it "(not yet)". */
    const char *not_yet;
};

struct parse_ctx {
    struct coremu_options *o;
    const struct coremu_binary_info *bin;
    const struct opt_def *def;
    char opt[32]; /* "-" + def->name, for messages */
};

static parse_result __attribute__((format(printf, 3, 4))) bad_value(struct parse_ctx *c,
                                                                    const char *arg,
                                                                    const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    coremu_error("%s %s: %s", c->opt, arg, why);
    return COREMU_PARSE_ERROR;
}

static void *field(struct parse_ctx *c, size_t off)
{
    return (char *)c->o + off;
}

static bool set_str(char **dst, const char *v)
{
    char *copy = strdup(v);
    if (copy == NULL) {
        coremu_error("out of memory");
        return false;
    }
    free(*dst);
    *dst = copy;
    return true;
}

static parse_result opt_str(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0' && !c->def->empty_ok) {
        coremu_error("%s: empty argument", c->opt);
        return COREMU_PARSE_ERROR;
    }
    return set_str(field(c, c->def->off), arg) ? COREMU_PARSE_OK : COREMU_PARSE_ERROR;
}

static parse_result opt_flag(struct parse_ctx *c, const char *arg)
{
    *(bool *)field(c, c->def->off) = true;
    return COREMU_PARSE_OK;
}

static parse_result opt_serial(struct parse_ctx *c, const char *arg)
{
    struct coremu_options *o = c->o;
    if (arg[0] == '\0') {
        coremu_error("%s: empty argument", c->opt);
        return COREMU_PARSE_ERROR;
    }
    if (o->nserials == COREMU_MAX_LIST) {
        coremu_error("%s %s: too many serial ports (at most %u)", c->opt, arg, COREMU_MAX_LIST);
        return COREMU_PARSE_ERROR;
    }
    if (!set_str(&o->serials[o->nserials], arg)) {
        return COREMU_PARSE_ERROR;
    }
    o->nserials++;
    return COREMU_PARSE_OK;
}

/* -drive, -device, -netdev, -chardev: a key=value list appended to an array. */
static parse_result opt_kvlist(struct parse_ctx *c, const char *arg)
{
    const struct opt_def *d = c->def;
    struct coremu_kv *list = field(c, d->off);
    unsigned *count = field(c, d->count_off);
    char err[256];

    if (*count == COREMU_MAX_LIST) {
        return bad_value(c, arg, "too many %s options (at most %u)", c->opt, COREMU_MAX_LIST);
    }
    struct coremu_kv kv;
    if (coremu_kv_parse(&kv, arg, d->implied, err, sizeof(err)) < 0) {
        return bad_value(c, arg, "%s", err);
    }
    const char *implied = d->implied ? coremu_kv_get(&kv, d->implied) : NULL;
    if (kv.n == 0 || (d->implied != NULL && (implied == NULL || implied[0] == '\0'))) {
        coremu_kv_free(&kv);
        return bad_value(c, arg, "%s missing", d->implied ? d->implied : "parameters");
    }
    if (d->required != NULL) {
        const char *v = coremu_kv_get(&kv, d->required);
        if (v == NULL || v[0] == '\0') {
            coremu_kv_free(&kv);
            return bad_value(c, arg, "'%s' is required", d->required);
        }
        for (unsigned i = 0; i < *count; i++) {
            const char *prev = coremu_kv_get(&list[i], d->required);
            if (prev != NULL && strcmp(prev, v) == 0) {
                parse_result r = bad_value(c, arg, "duplicate %s '%s'", d->required, v);
                coremu_kv_free(&kv);
                return r;
            }
        }
    }
    list[(*count)++] = kv;
    return COREMU_PARSE_OK;
}

static void record_not_yet(struct coremu_options *o, const struct opt_def *d);

/* -nic, -net: a list of their own. "none" (no NIC) works on every machine; anything else is the
 * board's to implement (coremu_options_implement), and not yet where it does not. */
static parse_result opt_nic(struct parse_ctx *c, const char *arg)
{
    static const struct opt_def nic_not_yet[] = {
        {.name = "nic", .not_yet = "this machine has no network device yet (none is the only "
                                   "choice)"},
        {.name = "net", .not_yet = "this machine has no network device yet (none is the only "
                                   "choice)"},
    };
    parse_result r = opt_kvlist(c, arg);
    unsigned n = *(unsigned *)field(c, c->def->count_off);
    const struct coremu_kv *list = field(c, c->def->off);
    if (r == COREMU_PARSE_OK && strcmp(coremu_kv_get(&list[n - 1], "type"), "none") != 0) {
        record_not_yet(c->o, &nic_not_yet[strcmp(c->def->name, "nic") == 0 ? 0 : 1]);
    }
    return r;
}

/* A key=value list kept whole in one field (-name, -rtc); a repeated option replaces the
 * earlier one, as QEMU's last-wins merge does for these. The keys allowed and each value's
 * form are checked by check_name / check_rtc. */
static parse_result opt_kv(struct parse_ctx *c, const char *arg)
{
    const struct opt_def *d = c->def;
    struct coremu_kv *dst = field(c, d->off);
    struct coremu_kv kv;
    char err[256];

    if (coremu_kv_parse(&kv, arg, d->implied, err, sizeof(err)) < 0) {
        return bad_value(c, arg, "%s", err);
    }
    if (kv.n == 0) {
        coremu_kv_free(&kv);
        return bad_value(c, arg, "parameters missing");
    }
    if (d->check != NULL && d->check(&kv, err, sizeof(err)) < 0) {
        coremu_kv_free(&kv);
        return bad_value(c, arg, "%s", err);
    }
    coremu_kv_free(dst);
    *dst = kv;
    return COREMU_PARSE_OK;
}

static int check_name(const struct coremu_kv *kv, char *err, size_t errlen)
{
    static const char *const keys[] = {"guest", "process", "debug-threads", NULL};
    if (coremu_kv_check(kv, keys, err, errlen) < 0) {
        return -1;
    }
    const char *dt = coremu_kv_get(kv, "debug-threads");
    bool on;
    if (dt != NULL && coremu_parse_bool(dt, &on) < 0) {
        snprintf(err, errlen, "debug-threads: expected on or off");
        return -1;
    }
    const char *process = coremu_kv_get(kv, "process");
    if (process != NULL && process[0] == '\0') {
        snprintf(err, errlen, "process: empty name");
        return -1;
    }
    return 0;
}

/* A -rtc base date: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, in UTC. 0 and *t, or -1. */
static int parse_rtc_date(const char *s, int64_t *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL || *end != '\0') {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%d", &tm);
        if (end == NULL || *end != '\0') {
            return -1;
        }
    }
    time_t v = timegm(&tm);
    if (v == (time_t)-1) {
        return -1;
    }
    *t = (int64_t)v;
    return 0;
}

static int check_rtc(const struct coremu_kv *kv, char *err, size_t errlen)
{
    static const char *const keys[] = {"base", "clock", "driftfix", NULL};
    if (coremu_kv_check(kv, keys, err, errlen) < 0) {
        return -1;
    }
    const char *base = coremu_kv_get(kv, "base");
    int64_t t;
    if (base != NULL && strcmp(base, "utc") != 0 && strcmp(base, "localtime") != 0 &&
        parse_rtc_date(base, &t) < 0) {
        snprintf(err, errlen, "base: expected utc, localtime or a date like 2006-06-17T16:01:21");
        return -1;
    }
    const char *clock = coremu_kv_get(kv, "clock");
    if (clock != NULL && strcmp(clock, "host") != 0 && strcmp(clock, "rt") != 0 &&
        strcmp(clock, "vm") != 0) {
        snprintf(err, errlen, "clock: expected host, rt or vm");
        return -1;
    }
    const char *drift = coremu_kv_get(kv, "driftfix");
    if (drift != NULL && strcmp(drift, "none") != 0 && strcmp(drift, "slew") != 0) {
        snprintf(err, errlen, "driftfix: expected none or slew");
        return -1;
    }
    return 0;
}

int coremu_rtc_base_offset(const struct coremu_kv *rtc, int64_t now_s, int64_t *offset_s,
                           char *err, size_t errlen)
{
    const char *base = rtc != NULL ? coremu_kv_get(rtc, "base") : NULL;
    int64_t t;

    if (base == NULL || strcmp(base, "utc") == 0) {
        *offset_s = 0;
    } else if (strcmp(base, "localtime") == 0) {
        /* The guest's clock reads local time: the zone's offset from UTC now. */
        time_t now = (time_t)now_s;
        struct tm local;
        if (localtime_r(&now, &local) == NULL) {
            snprintf(err, errlen, "-rtc base=localtime: cannot read the local time zone");
            return -1;
        }
        *offset_s = (int64_t)local.tm_gmtoff;
    } else if (parse_rtc_date(base, &t) == 0) {
        *offset_s = t - now_s;
    } else {
        snprintf(err, errlen, "-rtc base=%s: expected utc, localtime or a date", base);
        return -1;
    }
    return 0;
}

static void print_machines(const struct coremu_binary_info *bin, FILE *out)
{
    fprintf(out, "Supported machines are:\n");
    for (unsigned i = 0; bin->machines != NULL && bin->machines[i] != NULL; i++) {
        const char *help = bin->machine_help ? bin->machine_help[i] : NULL;
        bool dflt = bin->default_machine && strcmp(bin->default_machine, bin->machines[i]) == 0;
        fprintf(out, "  %-20s %s%s\n", bin->machines[i], help ? help : "",
                dflt ? " (default)" : "");
    }
}

static bool machine_known(const struct coremu_binary_info *bin, const char *type)
{
    if (bin->machines == NULL) {
        return true; /* the binary did not say: its board code decides */
    }
    for (unsigned i = 0; bin->machines[i] != NULL; i++) {
        if (strcmp(bin->machines[i], type) == 0) {
            return true;
        }
    }
    return false;
}

static parse_result opt_machine(struct parse_ctx *c, const char *arg)
{
    struct coremu_options *o = c->o;
    struct coremu_kv kv;
    char err[256];

    if (coremu_kv_parse(&kv, arg, "type", err, sizeof(err)) < 0) {
        return bad_value(c, arg, "%s", err);
    }
    const char *type = coremu_kv_get(&kv, "type");
    parse_result r = COREMU_PARSE_OK;
    if (type != NULL && (strcmp(type, "help") == 0 || strcmp(type, "?") == 0)) {
        print_machines(c->bin, stdout);
        fflush(stdout);
        r = COREMU_PARSE_EXIT;
    } else if (kv.n == 0 || (type != NULL && type[0] == '\0')) {
        r = bad_value(c, arg, "machine type missing");
    } else if (type != NULL && !machine_known(c->bin, type)) {
        r = bad_value(c, arg, "unsupported machine type '%s' (-M help lists them)", type);
    } else if (type != NULL && !set_str(&o->machine, type)) {
        r = COREMU_PARSE_ERROR;
    }
    /* Repeated -machine options merge, the later value of a property winning (QEMU does the
     * same); the board checks the property names. */
    for (unsigned i = 0; r == COREMU_PARSE_OK && i < kv.n; i++) {
        struct coremu_kv *p = &o->machine_props;
        unsigned j;
        if (strcmp(kv.key[i], "type") == 0) {
            continue;
        }
        for (j = 0; j < p->n && strcmp(p->key[j], kv.key[i]) != 0; j++) {
        }
        if (j == p->n) {
            if (p->n == COREMU_ARRAY_SIZE(p->key)) {
                r = bad_value(c, arg, "too many machine properties");
                break;
            }
            p->key[j] = kv.key[i];
            p->n++;
        } else {
            free(p->value[j]);
            free(kv.key[i]);
        }
        p->value[j] = kv.value[i];
        kv.key[i] = kv.value[i] = NULL;
    }
    for (unsigned i = 0; i < kv.n; i++) {
        free(kv.key[i]);
        free(kv.value[i]);
    }
    return r;
}

static parse_result opt_smp(struct parse_ctx *c, const char *arg)
{
    static const char *const keys[] = {"cpus", "sockets", "cores", "threads", "maxcpus", NULL};
    static const char *const names[] = {"cpus", "sockets", "cores", "threads", "maxcpus"};
    struct coremu_options *o = c->o;
    struct coremu_kv kv;
    char err[256];
    unsigned v[5] = {0};
    bool given[5] = {false};

    if (coremu_kv_parse(&kv, arg, "cpus", err, sizeof(err)) < 0) {
        return bad_value(c, arg, "%s", err);
    }
    if (coremu_kv_check(&kv, keys, err, sizeof(err)) < 0) {
        coremu_kv_free(&kv);
        return bad_value(c, arg, "%s", err);
    }
    for (unsigned i = 0; i < 5; i++) {
        const char *s = coremu_kv_get(&kv, names[i]);
        if (s == NULL) {
            continue;
        }
        if (parse_count(s, &v[i]) < 0) {
            parse_result r = bad_value(c, arg, "invalid %s '%s' (a number)", names[i], s);
            coremu_kv_free(&kv);
            return r;
        }
        if (v[i] == 0) {
            coremu_kv_free(&kv);
            return bad_value(c, arg, "the number of %s must be at least 1", names[i]);
        }
        given[i] = true;
    }
    unsigned n = kv.n;
    coremu_kv_free(&kv);
    if (n == 0) {
        return bad_value(c, arg, "the number of cpus is missing");
    }

    /* The factors given, as typed ("cores=4 * threads=2"), and their product: messages name
     * only what the user wrote, never a count derived from it. */
    char typed[160] = "";
    size_t tlen = 0;
    unsigned __int128 given_product = 1; /* each factor is below 2^32: no overflow */
    for (unsigned i = 1; i <= 3; i++) {
        if (given[i]) {
            int w = snprintf(typed + tlen, sizeof(typed) - tlen, "%s%s=%u", tlen ? " * " : "",
                             names[i], v[i]);
            tlen += w > 0 ? (size_t)w : 0;
            given_product *= v[i];
        }
    }
    unsigned nfactors = given[1] + given[2] + given[3];
    char product_text[48] = "";
    if (nfactors > 1) {
        snprintf(product_text, sizeof(product_text), " (= %llu)",
                 (unsigned long long)given_product);
    }

    uint64_t cpus = v[0], sockets = v[1], cores = v[2], threads = given[3] ? v[3] : 1;
    if (!given[0]) {
        /* The count is the product of the topology, each missing factor being 1. */
        if (given_product > UINT32_MAX) {
            return bad_value(c, arg, "too many cpus: %s%s", typed, product_text);
        }
        cpus = (uint64_t)given_product;
        sockets = given[1] ? sockets : 1;
        cores = given[2] ? cores : 1;
    } else if (given[1] && given[2]) {
        if (given_product != cpus) {
            return bad_value(c, arg, "%s%s does not equal cpus (%llu)", typed, product_text,
                             (unsigned long long)cpus);
        }
    } else if (nfactors > 0) {
        /* One of sockets and cores is missing: it is what the cpus leave for it, cores first
         * (as current QEMU does), so the cpus must be a multiple of what was given. */
        if (cpus % given_product != 0) {
            return bad_value(c, arg, "%llu cpus cannot be split evenly into %s%s",
                             (unsigned long long)cpus, typed, product_text);
        }
        if (!given[2]) {
            sockets = given[1] ? sockets : 1;
            cores = cpus / (sockets * threads);
        } else {
            sockets = cpus / (cores * threads);
        }
    } else {
        sockets = 1;
        cores = cpus;
    }
    if (c->bin->max_cpus != 0 && cpus > c->bin->max_cpus) {
        if (!given[0]) {
            return bad_value(c, arg, "%s means %llu cpus; %s supports at most %u", typed,
                             (unsigned long long)cpus, c->bin->name, c->bin->max_cpus);
        }
        return bad_value(c, arg, "%s supports at most %u cpus", c->bin->name, c->bin->max_cpus);
    }
    if (given[4] && v[4] != cpus) {
        if (given[0]) {
            return bad_value(c, arg, "maxcpus (%u) must equal cpus (%llu): coremu has no CPU "
                             "hot-plug", v[4], (unsigned long long)cpus);
        }
        if (nfactors > 0) {
            return bad_value(c, arg, "maxcpus (%u) must equal %s%s: coremu has no CPU hot-plug",
                             v[4], typed, product_text);
        }
        return bad_value(c, arg, "maxcpus without a number of cpus: coremu has no CPU hot-plug, "
                         "give -smp %u", v[4]);
    }
    o->smp_cpus = o->smp_maxcpus = (unsigned)cpus;
    o->smp_sockets = (unsigned)sockets;
    o->smp_cores = (unsigned)cores;
    o->smp_threads = (unsigned)threads;
    o->smp_given = true;
    return COREMU_PARSE_OK;
}

static parse_result opt_m(struct parse_ctx *c, const char *arg)
{
    static const char *const keys[] = {"size", NULL};
    struct coremu_kv kv;
    char err[256];
    uint64_t size;

    if (coremu_kv_parse(&kv, arg, "size", err, sizeof(err)) < 0) {
        return bad_value(c, arg, "%s", err);
    }
    if (coremu_kv_check(&kv, keys, err, sizeof(err)) < 0) {
        coremu_kv_free(&kv);
        return bad_value(c, arg, "%s (coremu has no memory hot-plug)", err);
    }
    const char *s = coremu_kv_get(&kv, "size");
    parse_result r = COREMU_PARSE_OK;
    if (s == NULL) {
        r = bad_value(c, arg, "size missing");
    } else if (coremu_parse_size(s, 'M', &size) < 0) {
        r = bad_value(c, arg, "invalid size '%s' (a number of MiB, or with K, M, G, T)", s);
    } else if (size == 0) {
        r = bad_value(c, arg, "the RAM size must be greater than 0");
    } else {
        c->o->ram_size = size;
        c->o->m_given = true;
        if (!set_str(&c->o->ram_arg, arg)) {
            r = COREMU_PARSE_ERROR;
        }
    }
    coremu_kv_free(&kv);
    return r;
}

static parse_result opt_accel(struct parse_ctx *c, const char *arg)
{
    static const char *const keys[] = {"accel", "thread", "pin", "llsc", NULL};
    struct coremu_kv kv;
    char err[256];
    const char *v;
    bool pin = c->o->accel_pin;
    parse_result r = COREMU_PARSE_OK;

    if (coremu_kv_parse(&kv, arg, "accel", err, sizeof(err)) < 0) {
        return bad_value(c, arg, "%s", err);
    }
    if (coremu_kv_check(&kv, keys, err, sizeof(err)) < 0) {
        r = bad_value(c, arg, "%s", err);
    } else if ((v = coremu_kv_get(&kv, "accel")) == NULL || v[0] == '\0') {
        r = bad_value(c, arg, "accelerator missing (coremu has only tcg)");
    } else if (strcmp(v, "tcg") != 0) {
        r = bad_value(c, arg, "accelerator '%s' is not supported (coremu has only tcg)", v);
    } else if ((v = coremu_kv_get(&kv, "thread")) != NULL && strcmp(v, "multi") != 0 &&
               strcmp(v, "single") != 0) {
        r = bad_value(c, arg, "invalid thread=%s (multi or single)", v);
    } else if ((v = coremu_kv_get(&kv, "pin")) != NULL && coremu_parse_bool(v, &pin) < 0) {
        r = bad_value(c, arg, "invalid pin=%s (on or off)", v);
    } else if ((v = coremu_kv_get(&kv, "llsc")) != NULL && strcmp(v, "exact") != 0 &&
               strcmp(v, "value") != 0) {
        r = bad_value(c, arg, "invalid llsc=%s (exact or value)", v);
    } else if (v != NULL && !set_str(&c->o->xmon_mode, v)) {
        r = COREMU_PARSE_ERROR;
    } else {
        c->o->accel_pin = pin;
    }
    coremu_kv_free(&kv);
    return r;
}

static parse_result opt_display(struct parse_ctx *c, const char *arg)
{
    struct coremu_kv kv;
    char err[256];
    if (coremu_kv_parse(&kv, arg, "type", err, sizeof(err)) < 0) {
        return bad_value(c, arg, "%s", err);
    }
    const char *type = coremu_kv_get(&kv, "type");
    bool ok = type != NULL && (strcmp(type, "none") == 0 || strcmp(type, "sdl") == 0);
    coremu_kv_free(&kv);
    if (!ok) {
        return bad_value(c, arg, "unsupported display (coremu has none and sdl)");
    }
    return set_str(&c->o->display, arg) ? COREMU_PARSE_OK : COREMU_PARSE_ERROR;
}

static parse_result opt_gdb_default(struct parse_ctx *c, const char *arg)
{
    return set_str(&c->o->gdb, "tcp::1234") ? COREMU_PARSE_OK : COREMU_PARSE_ERROR;
}

static parse_result opt_log(struct parse_ctx *c, const char *arg)
{
    char err[256];
    int r = coremu_log_parse(arg, err, sizeof(err));
    if (r == 1) {
        return COREMU_PARSE_EXIT;
    }
    if (r < 0) {
        return bad_value(c, arg, "%s", err);
    }
    return set_str(&c->o->log_items, arg) ? COREMU_PARSE_OK : COREMU_PARSE_ERROR;
}

static parse_result opt_version(struct parse_ctx *c, const char *arg)
{
    printf("%s version %s (coremu)\n", c->bin->name, coremu_version());
    printf("A parallel full-system emulator: every guest core runs on its own host thread.\n");
    fflush(stdout);
    return COREMU_PARSE_EXIT;
}

static parse_result opt_help(struct parse_ctx *c, const char *arg)
{
    coremu_options_print_help(c->bin, stdout);
    fflush(stdout);
    return COREMU_PARSE_EXIT;
}

#define OFF(f) offsetof(struct coremu_options, f)

static const struct opt_def opt_table[] = {
    {.name = "machine", .has_arg = true, .fn = opt_machine,
     .usage = "-M, -machine TYPE[,prop=value...]", .help = "board to emulate (-M help lists them)"},
    {.name = "M", .has_arg = true, .fn = opt_machine},
    {.name = "cpu", .has_arg = true, .fn = opt_str, .off = OFF(cpu_model),
     .usage = "-cpu MODEL", .help = "processor model (default: the board's)"},
    {.name = "smp", .has_arg = true, .fn = opt_smp,
     .usage = "-smp N[,sockets=S][,cores=C][,threads=T]",
     .help = "guest cores, one host thread each (default 1)"},
    {.name = "m", .has_arg = true, .fn = opt_m,
     .usage = "-m SIZE", .help = "guest RAM in MiB, or with a K, M or G suffix (1G)"},
    {.name = "kernel", .has_arg = true, .fn = opt_str, .off = OFF(kernel),
     .usage = "-kernel FILE", .help = "boot this Linux kernel (zImage, Image, gzip) or ELF"},
    {.name = "initrd", .has_arg = true, .fn = opt_str, .off = OFF(initrd),
     .usage = "-initrd FILE", .help = "initial RAM disk"},
    {.name = "append", .has_arg = true, .fn = opt_str, .off = OFF(append), .empty_ok = true,
     .usage = "-append CMDLINE", .help = "kernel command line"},
    {.name = "dtb", .has_arg = true, .fn = opt_str, .off = OFF(dtb),
     .usage = "-dtb FILE", .help = "device tree blob to use instead of the generated one"},
    {.name = "bios", .has_arg = true, .fn = opt_str, .off = OFF(bios),
     .usage = "-bios FILE", .help = "firmware image", .not_yet = "no firmware loading yet"},
    {.name = "drive", .has_arg = true, .fn = opt_kvlist, .off = OFF(drives),
     .count_off = OFF(ndrives),
     .usage = "-drive file=FILE[,if=virtio|none][,id=ID][,...]", .help = "disk image",
     .not_yet = "this machine has no disk interface yet"},
    {.name = "device", .has_arg = true, .fn = opt_kvlist, .off = OFF(devices),
     .count_off = OFF(ndevices), .implied = "driver",
     .usage = "-device DRIVER[,prop=value...]", .help = "add a device to the machine",
     .not_yet = "this machine has no pluggable devices yet"},
    {.name = "object", .has_arg = true, .fn = opt_kvlist, .off = OFF(objects),
     .count_off = OFF(nobjects), .implied = "qom-type", .required = "id",
     .usage = "-object rng-random,id=ID,filename=FILE", .help = "a back end for a device",
     .not_yet = "this machine has no device that uses one yet"},
    {.name = "netdev", .has_arg = true, .fn = opt_kvlist, .off = OFF(netdevs),
     .count_off = OFF(nnetdevs), .implied = "type", .required = "id",
     .usage = "-netdev user,id=ID[,hostfwd=...]", .help = "host network back end",
     .not_yet = "this machine has no network device yet"},
    {.name = "serial", .has_arg = true, .fn = opt_serial,
     .usage = "-serial DEV", .help = "connect the next serial port to DEV"},
    {.name = "chardev", .has_arg = true, .fn = opt_kvlist, .off = OFF(chardevs),
     .count_off = OFF(nchardevs), .implied = "backend", .required = "id",
     .usage = "-chardev BACKEND,id=ID[,...]", .help = "define a character device",
     .not_yet = "this machine has no device that uses one yet (give the back end to -serial)"},
    {.name = "mon", .has_arg = true, .fn = opt_kvlist, .off = OFF(mons), .count_off = OFF(nmons),
     .implied = "chardev",
     .usage = "-mon chardev=ID[,mode=readline]", .help = "a monitor on a chardev",
     .not_yet = "there is no monitor yet"},
    {.name = "snapshot", .fn = opt_flag, .off = OFF(snapshot),
     .usage = "-snapshot", .help = "write to temporary overlays, not the images",
     .not_yet = "this machine has no disks yet"},
    {.name = "monitor", .has_arg = true, .fn = opt_str, .off = OFF(monitor),
     .usage = "-monitor none", .help = "no monitor (-monitor DEV: not yet)"},
    {.name = "nographic", .fn = opt_flag, .off = OFF(nographic),
     .usage = "-nographic", .help = "no display window; the serial port on the terminal"},
    {.name = "display", .has_arg = true, .fn = opt_display,
     .usage = "-display none", .help = "no display window (-display sdl: not yet)"},
    {.name = "no-reboot", .fn = opt_flag, .off = OFF(no_reboot),
     .usage = "-no-reboot", .help = "exit instead of rebooting"},
    {.name = "no-shutdown", .fn = opt_flag, .off = OFF(no_shutdown),
     .usage = "-no-shutdown", .help = "stop, not exit, when the guest powers off",
     .not_yet = "a powered-off guest always ends the emulator"},
    {.name = "S", .fn = opt_flag, .off = OFF(start_paused),
     .usage = "-S", .help = "do not start the guest cores at startup",
     .not_yet = "there is no debugger or monitor yet"},
    {.name = "s", .fn = opt_gdb_default,
     .usage = "-s", .help = "shorthand for -gdb tcp::1234", .not_yet = "there is no debugger yet"},
    {.name = "gdb", .has_arg = true, .fn = opt_str, .off = OFF(gdb),
     .usage = "-gdb DEV", .help = "wait for a GDB connection on DEV",
     .not_yet = "there is no debugger yet"},
    {.name = "d", .has_arg = true, .fn = opt_log,
     .usage = "-d ITEM[,...]", .help = "enable log categories (-d help lists them)"},
    {.name = "D", .has_arg = true, .fn = opt_str, .off = OFF(log_file),
     .usage = "-D FILE", .help = "write the log to FILE instead of stderr"},
    {.name = "nodefaults", .fn = opt_flag, .off = OFF(nodefaults),
     .usage = "-nodefaults", .help = "no default back ends (serial port unconnected)"},
    {.name = "no-user-config", .fn = opt_flag, .off = OFF(no_user_config),
     .usage = "-no-user-config", .help = "read no configuration files (coremu reads none)"},
    {.name = "name", .has_arg = true, .fn = opt_kv, .off = OFF(name), .implied = "guest",
     .check = check_name,
     .usage = "-name NAME[,process=P]", .help = "guest name; process=P names the process"},
    {.name = "pidfile", .has_arg = true, .fn = opt_str, .off = OFF(pidfile),
     .usage = "-pidfile FILE", .help = "write and lock the process id in FILE"},
    {.name = "daemonize", .fn = opt_flag, .off = OFF(daemonize),
     .usage = "-daemonize", .help = "run in the background once the machine is set up"},
    {.name = "rtc", .has_arg = true, .fn = opt_kv, .off = OFF(rtc), .check = check_rtc,
     .usage = "-rtc base=utc|localtime|DATE", .help = "RTC time (DATE: 2006-06-17T16:01:21)"},
    {.name = "nic", .has_arg = true, .fn = opt_nic, .off = OFF(nics), .count_off = OFF(nnics),
     .implied = "type",
     .usage = "-nic none|user[,mac=MAC][,hostfwd=...]",
     .help = "a NIC and its back end (none: no NIC)"},
    {.name = "net", .has_arg = true, .fn = opt_nic, .off = OFF(nets), .count_off = OFF(nnets),
     .implied = "type",
     .usage = "-net nic[,model=virtio]|user[,...]|none", .help = "the same, in the older syntax"},
    {.name = "vga", .has_arg = true, .fn = opt_str, .off = OFF(vga),
     .usage = "-vga none", .help = "no display adapter"},
    {.name = "accel", .has_arg = true, .fn = opt_accel,
     .usage = "-accel tcg[,thread=multi][,pin=on|off][,llsc=exact|value]",
     .help = "software translation (see below)"},
    {.name = "version", .fn = opt_version,
     .usage = "-version", .help = "print the version and exit"},
    {.name = "help", .fn = opt_help,
     .usage = "-help", .help = "print this help and exit"},
    {.name = "h", .fn = opt_help},
};

/* QEMU options that coremu knowingly does not implement: named as such rather than as
 * unknown, so that a user porting a script knows the option was understood. */
static const char *const unsupported[] = {
    "enable-kvm", "hda", "hdb", "hdc", "hdd", "cdrom", "fda", "fdb", "sd", "pflash",
    "mtdblock", "boot", "blockdev", "usb", "usbdevice", "vnc", "full-screen", "k",
    "audiodev", "soundhw", "icount", "global", "uuid", "qmp",
    "readconfig", "writeconfig", "numa", "mem-path", "mem-prealloc", "sandbox", "incoming",
    "loadvm", "L", "semihosting", "semihosting-config", "trace", "plugin", "overcommit",
    "fsdev", "virtfs", "watchdog-action", "action", "fw_cfg", "smbios", "add-fd", "msg",
    "parallel", "virtioconsole", "echr", "run-with", "compat",
};
/* Those of them that take no argument (QEMU's flags): the parser skips the argument of the
 * others, to go on and name every unsupported option of the command line. */
static const char *const unsupported_flags[] = {
    "enable-kvm", "usb", "full-screen", "mem-prealloc", "semihosting",
};

/* The not-yet options the binary implements after all (coremu_options_implement). Written
 * once by main() before any parse and before any other thread exists. */
static const char *const *implemented_options;

void coremu_options_implement(const char *const *names)
{
    implemented_options = names;
}

static bool is_implemented(const char *name)
{
    for (const char *const *p = implemented_options; p != NULL && *p != NULL; p++) {
        if (strcmp(*p, name) == 0) {
            return true;
        }
    }
    return false;
}

void coremu_options_print_help(const struct coremu_binary_info *bin, FILE *out)
{
    fprintf(out, "Usage: %s [options]\n\n", bin->name);
    fprintf(out, "A parallel full-system emulator with QEMU's option syntax: every guest core\n"
                 "runs on its own host thread. Options may be written with one dash or two, and\n"
                 "an option's argument may follow it after an equals sign.\n\n");
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(opt_table); i++) {
        if (opt_table[i].usage != NULL) {
            fprintf(out, "  %-40s %s%s\n", opt_table[i].usage, opt_table[i].help,
                    opt_table[i].not_yet != NULL && !is_implemented(opt_table[i].name)
                        ? " (not yet)"
                        : "");
        }
    }
    fprintf(out, "\nOptions marked \"not yet\" are understood but refused with an error, each\n"
                 "named, until coremu implements them.\n");
    fprintf(out, "\nAcceleration: tcg is the only accelerator. thread=single is accepted for\n"
                 "compatibility, but coremu always runs guest cores in parallel, one host thread\n"
                 "each. pin=on binds each core's thread to its own host processing unit;\n"
                 "llsc=value trades exact load/store-exclusive semantics for speed.\n\n");
    print_machines(bin, out);
}

void coremu_options_free(struct coremu_options *o)
{
    char **strs[] = {&o->machine, &o->cpu_model, &o->kernel, &o->initrd, &o->append, &o->dtb,
                     &o->bios, &o->monitor, &o->display, &o->gdb, &o->log_items, &o->log_file,
                     &o->xmon_mode, &o->pidfile, &o->vga, &o->ram_arg};
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(strs); i++) {
        free(*strs[i]);
    }
    coremu_kv_free(&o->machine_props);
    coremu_kv_free(&o->name);
    coremu_kv_free(&o->rtc);
    for (unsigned i = 0; i < o->ndrives; i++) {
        coremu_kv_free(&o->drives[i]);
    }
    for (unsigned i = 0; i < o->ndevices; i++) {
        coremu_kv_free(&o->devices[i]);
    }
    for (unsigned i = 0; i < o->nnics; i++) {
        coremu_kv_free(&o->nics[i]);
    }
    for (unsigned i = 0; i < o->nnets; i++) {
        coremu_kv_free(&o->nets[i]);
    }
    for (unsigned i = 0; i < o->nnetdevs; i++) {
        coremu_kv_free(&o->netdevs[i]);
    }
    for (unsigned i = 0; i < o->nobjects; i++) {
        coremu_kv_free(&o->objects[i]);
    }
    for (unsigned i = 0; i < o->nmons; i++) {
        coremu_kv_free(&o->mons[i]);
    }
    for (unsigned i = 0; i < o->nchardevs; i++) {
        coremu_kv_free(&o->chardevs[i]);
    }
    for (unsigned i = 0; i < o->nserials; i++) {
        free(o->serials[i]);
    }
    const char *argv0 = o->argv0;
    memset(o, 0, sizeof(*o));
    o->argv0 = argv0;
}

static const struct opt_def *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(opt_table); i++) {
        if (strlen(opt_table[i].name) == len && strncmp(opt_table[i].name, name, len) == 0) {
            return &opt_table[i];
        }
    }
    return NULL;
}

static bool name_in(const char *const *names, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_unsupported(const char *name, size_t len)
{
    return name_in(unsupported, COREMU_ARRAY_SIZE(unsupported), name, len);
}

static bool is_unsupported_flag(const char *name, size_t len)
{
    return name_in(unsupported_flags, COREMU_ARRAY_SIZE(unsupported_flags),
                   name, len);
}

/* Records that the not-yet option d was given (once, however often it was). */
static void record_not_yet(struct coremu_options *o, const struct opt_def *d)
{
    if (is_implemented(d->name)) {
        return;
    }
    for (unsigned i = 0; i < o->nnot_yet; i++) {
        if (strcmp(o->not_yet[i].option, d->name) == 0) {
            return;
        }
    }
    if (o->nnot_yet < COREMU_MAX_NOT_YET) {
        o->not_yet[o->nnot_yet].option = d->name;
        o->not_yet[o->nnot_yet].why = d->not_yet;
        o->nnot_yet++;
    }
}

unsigned coremu_options_report_not_yet(const struct coremu_options *o)
{
    for (unsigned i = 0; i < o->nnot_yet; i++) {
        coremu_error("-%s is not supported yet: %s", o->not_yet[i].option, o->not_yet[i].why);
    }
    return o->nnot_yet;
}

enum coremu_parse_result coremu_options_parse(struct coremu_options *o,
                                              const struct coremu_binary_info *bin, int argc,
                                              char **argv)
{
    parse_result r = COREMU_PARSE_OK;

    memset(o, 0, sizeof(*o));
    o->argv0 = argc > 0 ? argv[0] : bin->name;
    coremu_set_progname(bin->name);

    /* Every problem is named and the parse goes on, so that one run names them all (with
     * the not-yet options given among them), as long as the options' arguments are known:
     * an unknown option or a missing argument ends it. */
    unsigned errors = 0;
    const char *erred[COREMU_MAX_NOT_YET]; /* not-yet options whose value was wrong */
    unsigned nerred = 0;
    for (int i = 1; i < argc && r == COREMU_PARSE_OK; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            coremu_error("%s: unexpected argument (disk images need -drive)", a);
            errors++;
            continue;
        }
        const char *name = a + 1 + (a[1] == '-');
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt_def *d = find_opt(name, len);
        if (d == NULL) {
            int shown = (int)((size_t)(name - a) + len);
            if (!is_unsupported(name, len)) {
                coremu_error("%.*s: invalid option", shown, a);
                errors++;
                break;
            }
            coremu_error("%.*s: option not supported by coremu", shown, a);
            errors++;
            if (eq == NULL && !is_unsupported_flag(name, len) && i + 1 < argc) {
                i++;
            }
            continue;
        }
        struct parse_ctx c = {.o = o, .bin = bin, .def = d};
        snprintf(c.opt, sizeof(c.opt), "-%s", d->name);
        const char *arg = NULL;
        if (eq != NULL) {
            if (!d->has_arg) {
                coremu_error("%s: does not take an argument", c.opt);
                errors++;
                continue;
            }
            arg = eq + 1;
        } else if (d->has_arg) {
            if (i + 1 >= argc) {
                coremu_error("%s: requires an argument", c.opt);
                errors++;
                break;
            }
            arg = argv[++i];
        }
        r = d->fn(&c, arg ? arg : "");
        if (r == COREMU_PARSE_ERROR) {
            errors++;
            r = COREMU_PARSE_OK;
            /* Its own error line names it already. */
            if (d->not_yet != NULL && nerred < COREMU_ARRAY_SIZE(erred)) {
                erred[nerred++] = d->name;
            }
        } else if (r == COREMU_PARSE_OK && d->not_yet != NULL) {
            record_not_yet(o, d);
        }
    }
    if (errors > 0) {
        if (r == COREMU_PARSE_OK) {
            unsigned kept = 0;
            for (unsigned i = 0; i < o->nnot_yet; i++) {
                bool named = false;
                for (unsigned j = 0; j < nerred && !named; j++) {
                    named = strcmp(erred[j], o->not_yet[i].option) == 0;
                }
                if (!named) {
                    o->not_yet[kept++] = o->not_yet[i];
                }
            }
            o->nnot_yet = kept;
            coremu_options_report_not_yet(o);
        }
        r = COREMU_PARSE_ERROR;
    }

    if (r == COREMU_PARSE_OK && o->machine == NULL && bin->default_machine != NULL &&
        !set_str(&o->machine, bin->default_machine)) {
        r = COREMU_PARSE_ERROR;
    }
    if (r == COREMU_PARSE_OK && !o->smp_given) {
        o->smp_cpus = o->smp_sockets = o->smp_cores = o->smp_threads = o->smp_maxcpus = 1;
    }
    if (r != COREMU_PARSE_OK) {
        coremu_options_free(o);
    }
    return r;
}
