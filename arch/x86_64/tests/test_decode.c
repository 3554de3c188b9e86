/*
 * coremu x86_64 decoder front end against GNU objdump: for every instruction objdump finds in
 * a byte file, x86_decode at the same offset must agree on the length and on whether the
 * encoding is defined. Disagreements fall into classes; the classes where objdump is known to
 * differ from the SDM (documented in known_difference below) are counted, not failed.
 *
 *   test_decode --random N SEED OUT.bin      writes N random instruction-like byte strings
 *   test_decode --compare BIN DIS MODE       MODE 16, 32 or 64; DIS is objdump -D output of BIN
 *                                            made with --insn-width=16; exit 1 on a mismatch
 *   test_decode --rules                      the length rules objdump cannot show (15-byte
 *                                            limit, short input) and the sizes of the SDM's
 *                                            special cases, from hand-written encodings
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

static uint64_t rng_state;

static uint32_t rng_next(void)
{
    /* xorshift64*: reproducible from the seed on every host */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

/* Random bytes shaped like instructions often enough to reach every map and prefix. */
static int write_random(long n, uint64_t seed, const char *path)
{
    static const uint8_t prefixes[] = {0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x64, 0x48, 0x41};
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    for (long i = 0; i < n; i++) {
        uint8_t buf[16];
        unsigned k = 0;
        unsigned shape = rng_next() % 8;
        if (shape >= 3 && rng_next() % 2) {
            buf[k++] = prefixes[rng_next() % sizeof(prefixes)];
        }
        if (shape >= 3) {
            buf[k++] = 0x0f;
            if (shape >= 6) {
                buf[k++] = shape == 6 ? 0x38 : 0x3a;
            }
        }
        while (k < 8) {
            buf[k++] = (uint8_t)rng_next();
        }
        fwrite(buf, 1, k, f);
    }
    return fclose(f) != 0;
}

static int is_prefix_name(const char *text, size_t len)
{
    static const char *const names[] = {"data16",  "data32",   "addr16",   "addr32", "cs",
                                        "ds",      "es",       "fs",       "gs",     "ss",
                                        "lock",    "repz",     "repnz",    "rep",    "bnd",
                                        "notrack", "xacquire", "xrelease", NULL};
    if (len >= 3 && strncmp(text, "rex", 3) == 0) {
        return 1;
    }
    for (const char *const *n = names; *n; n++) {
        if (strlen(*n) == len && strncmp(text, *n, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The text after the prefix names objdump puts before a mnemonic; "" if only prefixes. */
static const char *after_prefixes(const char *text)
{
    for (;;) {
        size_t len = strcspn(text, " ");
        if (len == 0 || !is_prefix_name(text, len)) {
            return text;
        }
        text += len;
        text += strspn(text, " ");
    }
}

/*
 * Extensions objdump knows and coremu does not advertise in CPUID (so they are #UD), named by
 * objdump's mnemonic prefix.
 */
static int unadvertised_extension(const char *text)
{
    static const char *const names[] = {
        "movdir",      "enqcmd",      "aadd",        "aand",        "aor",        "axor",
        "gf2p8",       "bnd",         "vmrun",       "vmload",      "vmsave",     "vmmcall",
        "stgi",        "clgi",        "skinit",      "invlpga",     "invlpgb",    "tlbsync",
        "clzero",      "monitorx",    "mwaitx",      "rdpru",       "encl",       "pconfig",
        "wbnoinvd",    "serialize",   "xsusldtrk",   "xresldtrk",   "uiret",      "testui",
        "clui",        "stui",        "senduipi",    "tpause",      "umonitor",   "umwait",
        "ptwrite",     "incssp",      "rdssp",       "saveprevssp", "rstorssp",   "wrss",
        "wruss",       "setssbsy",    "clrssbsy",    "hreset",      "prefetchit", "cmpccxadd",
        "femms",       "prefetch ",   "erets",       "eretu",       "lkgs",       "rmpadjust",
        "rmpupdate",   "psmash",      "pvalidate",   "rmpquery",    "clrsscsp",   "vmgexit",
        "wrmsrns",     "rdmsrlist",   "wrmsrlist",   "pbndkb",      "loadiwkey",  "aesenc128kl",
        "aesdec128kl", "aesenc256kl", "aesdec256kl", "aesencwide",  "aesdecwide", "encodekey",
        "rdpkru",      "wrpkru",      "jmpabs",      "cldemote",    "movnts",     "extrq",
        "insertq",     "xstore",      "xcrypt",      "montmul",     "xsha",       "seamcall",
        "seamret",     "seamops",     "tdcall",      NULL};
    for (const char *const *n = names; *n; n++) {
        if (strncmp(text, *n, strlen(*n)) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Classes where objdump and the SDM (or coremu's stated CPUID) disagree, so a disagreement
 * is not a decoder bug. Each is a rule, never a list of failures:
 *   vex:      objdump decodes VEX/EVEX (AVX...); coremu advertises no AVX, so they are #UD;
 *   lock:     objdump prints LOCK before any instruction; the SDM makes LOCK #UD unless the
 *             instruction is a lockable read-modify-write of memory (the lengths must
 *             agree, or the bytes without LOCK must agree with objdump);
 *   ext:      objdump decodes extensions coremu does not advertise (list above, 3DNow! 0F 0F,
 *             VIA PadLock, AMD XOP in 8F /1-7): #UD here; and MPX (bnd*) in 0F 1A/1B,
 *             which without MPX are the SDM's reserved-NOP space;
 *   np:       objdump accepts 66/F2/F3 on instructions the SDM marks NP (MMX, XRSTORS...);
 *             the SDM makes them #UD or another instruction; the bytes without those
 *             prefixes must agree with objdump;
 *   i386:     objdump decodes, outside 64-bit mode, the 0F-map rows the SDM marks o64
 *             (SYSCALL/SYSRET, which AMD allows there; RDFSBASE family; SWAPGS), and the
 *             386/486 test-register moves 0F 24/0F 26 (reserved since the Pentium: #UD);
 *   x87old:   objdump decodes 8087/287-only x87 forms and says so ("(287 only)"): #UD here,
 *             except FENI/FDISI/FSETPM, which later processors execute as no-ops;
 *   fence:    the SDM defines LFENCE/MFENCE/SFENCE for every ModRM.rm (0F AE E8-FF, "the
 *             processor ignores the r/m field"); objdump only knows rm = 0;
 *   rexsplit: a REX not directly before the opcode is ignored (SDM 2.2.1), but the prefixes
 *             before it still apply; objdump ends a pseudo-instruction at the ignored REX
 *             and decodes the rest without them: decoding from after the REX must agree;
 *   fwait:    objdump shows FWAIT (9B) and a following x87 instruction as one (FSTCW...);
 *             they are two instructions: the lengths must add up; and it gives prefixes
 *             that follow a FWAIT to the FWAIT ("ds fwait" for 9B 3E).
 */
static const char *known_difference(const struct x86_insn *in, int objdump_valid, const char *text,
                                    const uint8_t *bytes, size_t avail, size_t objdump_length,
                                    int mode);

/*
 * Whether bytes, decoded afresh, agree with objdump's verdict, directly or through one of
 * the classes: the rules that re-decode part of an instruction use it, as several classes
 * can apply to one instruction (LOCK and an NP prefix...).
 */
static int agrees(const uint8_t *bytes, size_t avail, int objdump_valid, const char *text,
                  size_t objdump_length, int mode)
{
    struct x86_insn again;
    x86_decode(bytes, avail, (enum x86_mode)mode, &again);
    int valid = again.status == X86_DECODE_OK;
    if (valid == objdump_valid && (!valid || again.length == objdump_length)) {
        return 1;
    }
    return known_difference(&again, objdump_valid, text, bytes, avail, objdump_length, mode) !=
           NULL;
}

/* agrees() on bytes without the prefix bytes (among the first prefix_count) in drop. */
static int agrees_without(const uint8_t *bytes, size_t avail, size_t prefix_count, const char *drop,
                          int objdump_valid, const char *text, size_t objdump_length, int mode)
{
    uint8_t stripped[16];
    size_t n = 0, dropped = 0;
    for (size_t i = 0; i < avail && n < sizeof(stripped); i++) {
        if (i < prefix_count && bytes[i] != 0 && strchr(drop, bytes[i]) != NULL) {
            dropped++;
        } else {
            stripped[n++] = bytes[i];
        }
    }
    return dropped != 0 && objdump_length > dropped &&
           agrees(stripped, n, objdump_valid, text, objdump_length - dropped, mode);
}

static const char *known_difference(const struct x86_insn *in, int objdump_valid, const char *text,
                                    const uint8_t *bytes, size_t avail, size_t objdump_length,
                                    int mode)
{
    if (in->status == X86_DECODE_UD && objdump_valid) {
        if (in->ud_reason == X86_UD_VEX) {
            return "vex";
        }
        if (in->ud_reason == X86_UD_LOCK &&
            (in->length == objdump_length ||
             agrees_without(bytes, avail, in->prefix_count, "\xf0", objdump_valid, text,
                            objdump_length, mode))) {
            return "lock";
        }
        if (strstr(text, "87 only)") != NULL) {
            return "x87old";
        }
        if (unadvertised_extension(text) || (in->map == X86_MAP_0F && in->opcode == 0x0f) ||
            (in->map == X86_MAP_1BYTE && in->opcode == 0x8f && text[0] == 'v')) {
            return "ext";
        }
        if (in->map == X86_MAP_0F && mode != 64 &&
            (in->opcode == 0x24 || in->opcode == 0x26 || in->ud_reason == X86_UD_MODE)) {
            return "i386";
        }
        /* the NP rule: drop every 66/F2/F3 prefix byte and decode again */
        if (agrees_without(bytes, avail, in->prefix_count, "\x66\xf2\xf3", objdump_valid, text,
                           objdump_length, mode)) {
            return "np";
        }
    }
    if (in->status == X86_DECODE_OK && !objdump_valid && strncmp(text, "bnd", 3) == 0) {
        return "ext";
    }
    if (in->status == X86_DECODE_OK && !objdump_valid && in->map == X86_MAP_0F &&
        in->opcode == 0xae && in->modrm >= 0xe8 && in->rep == 0 && !in->opsize_prefix) {
        return "fence";
    }
    if (mode == 64) {
        size_t prefix_bytes = in->prefix_count, cut = 0;
        for (size_t i = 0; i + 1 < prefix_bytes && i + 1 < avail; i++) {
            if ((bytes[i] & 0xf0) == 0x40) {
                cut = i + 1; /* an ignored REX: not directly before the opcode */
            }
        }
        if (cut != 0) {
            if (objdump_length > cut &&
                agrees(bytes + cut, avail - cut, objdump_valid, text, objdump_length - cut, mode)) {
                return "rexsplit";
            }
        }
    }
    if (in->status == X86_DECODE_OK && in->map == X86_MAP_1BYTE && in->opcode == 0x9b &&
        in->prefix_count == 0 && objdump_valid && strcmp(text, "fwait") == 0) {
        return "fwait"; /* objdump gave the prefixes after a FWAIT to the FWAIT */
    }
    if (in->status == X86_DECODE_OK && in->map == X86_MAP_1BYTE && in->opcode == 0x9b &&
        objdump_length > in->length) {
        if (agrees(bytes + in->length, avail - in->length, objdump_valid, text,
                   objdump_length - in->length, mode)) {
            return "fwait";
        }
    }
    return NULL;
}

static const char *const class_names[] = {"vex",    "lock",  "ext",      "np",   "i386",
                                          "x87old", "fence", "rexsplit", "fwait"};
#define NCLASSES (sizeof(class_names) / sizeof(class_names[0]))

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "test_decode: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static int compare(const char *bin_path, const char *dis_path, int mode)
{
    size_t size;
    uint8_t *bin = read_all(bin_path, &size);
    FILE *dis = fopen(dis_path, "r");
    if (dis == NULL) {
        perror(dis_path);
        return 1;
    }
    long checked = 0, valid = 0, invalid = 0, mismatches = 0, excused[NCLASSES] = {0};
    char line[512];
    long start = -1; /* a bare prefix line waits for the instruction it belongs to */
    while (fgets(line, sizeof(line), dis)) {
        unsigned long offset;
        char *p = line;
        while (*p == ' ') {
            p++;
        }
        char *colon = strchr(p, ':');
        if (colon == NULL || colon[1] != '\t') {
            continue;
        }
        char *endp;
        offset = strtoul(p, &endp, 16);
        if (endp != colon) {
            continue;
        }
        char *bytes = colon + 2;
        char *tab = strchr(bytes, '\t');
        if (tab == NULL) {
            continue;
        }
        size_t nbytes = 0;
        for (char *b = bytes; b < tab; b++) {
            if (b[0] != ' ' && (b == bytes || b[-1] == ' ')) {
                nbytes++;
            }
        }
        char *text = tab + 1;
        text[strcspn(text, "\n")] = 0;
        while (*text == ' ') {
            text++;
        }
        /* objdump shows a prefix it thinks unused as its own line: join it to what follows */
        const char *insn_text = after_prefixes(text);
        if (*insn_text == 0) {
            if (start < 0) {
                start = (long)offset;
            }
            continue;
        }
        unsigned long first = start >= 0 ? (unsigned long)start : offset;
        size_t length = offset + nbytes - first;
        start = -1;
        /* objdump marks an invalid ModRM form with "(bad)" in place of the operand */
        int objdump_valid = strstr(insn_text, "(bad)") == NULL;

        struct x86_insn in;
        x86_decode(bin + first, size - first, (enum x86_mode)mode, &in);
        if (in.status == X86_DECODE_NEED_MORE) {
            continue; /* the end of the file cut the instruction */
        }
        checked++;
        int ours_valid = in.status == X86_DECODE_OK;
        ours_valid ? valid++ : invalid++;
        if (ours_valid == objdump_valid && (!ours_valid || in.length == length)) {
            continue;
        }
        const char *why = known_difference(&in, objdump_valid, insn_text, bin + first, size - first,
                                           length, mode);
        if (why != NULL) {
            for (size_t c = 0; c < NCLASSES; c++) {
                if (strcmp(why, class_names[c]) == 0) {
                    excused[c]++;
                }
            }
            continue;
        }
        if (mismatches < 40) {
            printf("MISMATCH mode %d at %lx: objdump %zu \"%s\" [", mode, first, length, text);
            for (size_t i = 0; i < 15 && first + i < size; i++) {
                printf("%s%02x", i ? " " : "", bin[first + i]);
            }
            printf("]: coremu status %d length %u reason %u %s\n", in.status, in.length,
                   in.ud_reason, in.mnemonic ? in.mnemonic : "-");
        }
        mismatches++;
    }
    fclose(dis);
    free(bin);
    printf("%s mode %d: %ld instructions checked (%ld valid, %ld undefined), %ld mismatches; "
           "known objdump differences:",
           bin_path, mode, checked, valid, invalid, mismatches);
    for (size_t c = 0; c < NCLASSES; c++) {
        printf(" %s %ld", class_names[c], excused[c]);
    }
    printf("\n");
    return mismatches != 0;
}

struct rule_case {
    const char *what;
    int mode;
    const char *hex;
    size_t avail; /* 0: all the bytes */
    enum x86_decode_status status;
    unsigned length;
};

static const struct rule_case rule_cases[] = {
    {"NOP after 14 prefixes is 15 bytes", 64, "6666666666666666666666666666 90", 0, X86_DECODE_OK,
     15},
    {"NOP after 15 prefixes is #GP", 64, "666666666666666666666666666666 90", 0, X86_DECODE_GP, 15},
    {"16 bytes of MOV r/m, imm in 16 bytes is #GP", 64,
     "66 66 66 66 66 66 66 c7 84 24 00 00 00 00 11 22", 0, X86_DECODE_GP, 15},
    {"short input asks for more", 64, "48 8b 05 00 00", 0, X86_DECODE_NEED_MORE, 7},
    {"short prefix run asks for more", 32, "66 67", 0, X86_DECODE_NEED_MORE, 3},
    {"MOV r64, imm64", 64, "48 b8 01 02 03 04 05 06 07 08", 0, X86_DECODE_OK, 10},
    {"MOV r32, imm32 in 64-bit mode", 64, "b8 01 02 03 04", 0, X86_DECODE_OK, 5},
    {"MOV r16, imm16", 64, "66 b8 01 02", 0, X86_DECODE_OK, 4},
    {"MOV rAX, moffs64", 64, "a1 01 02 03 04 05 06 07 08", 0, X86_DECODE_OK, 9},
    {"MOV eAX, moffs32 with 67", 64, "67 a1 01 02 03 04", 0, X86_DECODE_OK, 6},
    {"MOV AL, moffs16 in 16-bit mode", 16, "a0 01 02", 0, X86_DECODE_OK, 3},
    {"CALL rel32 ignores 66 in 64-bit mode", 64, "66 e8 01 02 03 04", 0, X86_DECODE_OK, 6},
    {"CALL rel16 with 66 in 32-bit mode", 32, "66 e8 01 02", 0, X86_DECODE_OK, 4},
    {"Jcc rel32", 64, "0f 84 01 02 03 04", 0, X86_DECODE_OK, 6},
    {"PUSH imm32 (Iz) with REX.W", 64, "48 68 01 02 03 04", 0, X86_DECODE_OK, 6},
    {"ENTER imm16, imm8", 64, "c8 10 00 01", 0, X86_DECODE_OK, 4},
    {"RET imm16", 32, "c2 08 00", 0, X86_DECODE_OK, 3},
    {"far JMP ptr16:32", 32, "ea 01 02 03 04 05 06", 0, X86_DECODE_OK, 7},
    {"far JMP ptr16:16", 16, "ea 01 02 03 04", 0, X86_DECODE_OK, 5},
    {"far JMP is #UD in 64-bit mode", 64, "ea 01 02 03 04 05 06", 0, X86_DECODE_UD, 1},
    {"PUSH ES is #UD in 64-bit mode", 64, "06", 0, X86_DECODE_UD, 1},
    {"AAA is #UD in 64-bit mode", 64, "37", 0, X86_DECODE_UD, 1},
    {"40 is REX in 64-bit mode", 64, "40 90", 0, X86_DECODE_OK, 2},
    {"40 is INC in 32-bit mode", 32, "40", 0, X86_DECODE_OK, 1},
    {"C4 is VEX in 64-bit mode", 64, "c4 e2 79 18 00", 0, X86_DECODE_UD, 1},
    {"C5 with mod 3 is VEX in 32-bit mode", 32, "c5 f8 77", 0, X86_DECODE_UD, 1},
    {"C4 with a memory ModRM is LES in 32-bit mode", 32, "c4 00", 0, X86_DECODE_OK, 2},
    {"62 is EVEX in 64-bit mode", 64, "62 f1 7c 48 10 00", 0, X86_DECODE_UD, 1},
    {"SIB with no base takes disp32", 64, "8b 04 25 00 00 00 00", 0, X86_DECODE_OK, 7},
    {"RIP-relative disp32", 64, "8b 05 00 00 00 00", 0, X86_DECODE_OK, 6},
    {"16-bit ModRM disp16", 16, "8b 06 34 12", 0, X86_DECODE_OK, 4},
    {"67 gives 16-bit ModRM in 32-bit mode", 32, "67 8b 46 01", 0, X86_DECODE_OK, 4},
    {"TEST r/m32, imm32 (group 3)", 32, "f7 c0 01 02 03 04", 0, X86_DECODE_OK, 6},
    {"NOT r/m32 (group 3) has no immediate", 32, "f7 d0", 0, X86_DECODE_OK, 2},
    {"XBEGIN rel32", 64, "c7 f8 01 02 03 04", 0, X86_DECODE_OK, 6},
    {"XBEGIN rel16 with 66 in 64-bit mode", 64, "66 c7 f8 01 02", 0, X86_DECODE_OK, 5},
    {"67 still applies across an ignored REX: moffs32", 64, "67 45 43 a3 01 02 03 04", 0,
     X86_DECODE_OK, 8},
    {"MOV CR ignores mod: no displacement", 64, "0f 20 40", 0, X86_DECODE_OK, 3},
    {"LEA with a register operand is #UD", 64, "8d c0", 0, X86_DECODE_UD, 2},
    {"LOCK on a register destination is #UD", 64, "f0 01 c0", 0, X86_DECODE_UD, 3},
    {"LOCK ADD to memory", 64, "f0 01 00", 0, X86_DECODE_OK, 3},
    {"F3 0F B8 is POPCNT", 64, "f3 0f b8 c0", 0, X86_DECODE_OK, 4},
    {"0F B8 without F3 is #UD after the opcode", 64, "0f b8 c0", 0, X86_DECODE_UD, 2},
    {"PSHUFD takes an imm8", 64, "66 0f 70 c0 1b", 0, X86_DECODE_OK, 5},
    {"0F 3A ROUNDSD", 64, "66 0f 3a 0b c1 04", 0, X86_DECODE_OK, 6},
    {"F2 0F 38 F1 is CRC32", 64, "f2 48 0f 38 f1 c1", 0, X86_DECODE_OK, 6},
};

static size_t parse_hex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static int check_rules(void)
{
    int failures = 0;
    size_t count = sizeof(rule_cases) / sizeof(rule_cases[0]);
    for (size_t i = 0; i < count; i++) {
        const struct rule_case *c = &rule_cases[i];
        uint8_t bytes[32];
        size_t n = parse_hex(c->hex, bytes);
        struct x86_insn in;
        x86_decode(bytes, c->avail ? c->avail : n, (enum x86_mode)c->mode, &in);
        if (in.status != c->status || in.length != c->length) {
            printf("FAIL %s: status %d length %u, want status %d length %u\n", c->what, in.status,
                   in.length, c->status, c->length);
            failures++;
        }
    }
    printf("rules: %zu cases, %d failures\n", count, failures);
    return failures != 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--rules") == 0) {
        return check_rules();
    }
    if (argc == 5 && strcmp(argv[1], "--random") == 0) {
        return write_random(atol(argv[2]), strtoull(argv[3], NULL, 0), argv[4]);
    }
    if (argc == 5 && strcmp(argv[1], "--compare") == 0) {
        int mode = atoi(argv[4]);
        if (mode != 16 && mode != 32 && mode != 64) {
            fprintf(stderr, "test_decode: mode must be 16, 32 or 64\n");
            return 1;
        }
        return compare(argv[2], argv[3], mode);
    }
    fprintf(stderr, "usage: %s --random N SEED OUT.bin | --compare BIN DIS 16|32|64 | --rules\n",
            argv[0]);
    return 1;
}
