/*
 * The shared part of the standalone decoder tests: see decode_check.h.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_check.h"
#include "stub_cpu.h"

/* ==== the objdump cross-check =============================================================== */

const char *const dc_conds[16] = {"eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc",
                                  "hi", "ls", "ge", "lt", "gt", "le", "",   ""};

/* The mnemonics whose handlers are the same in A32 and T32 (each program's map has the rest). */
static const struct dc_name common_names[] = {
    {"mov", "MOV_imm MOV_reg"},
    {"movs", "MOV_imm MOV_reg"},
    {"lsl", "MOV_reg MOV_rsr"},
    {"lsls", "MOV_reg MOV_rsr"},
    {"lsr", "MOV_reg MOV_rsr"},
    {"lsrs", "MOV_reg MOV_rsr"},
    {"asr", "MOV_reg MOV_rsr"},
    {"asrs", "MOV_reg MOV_rsr"},
    {"ror", "MOV_reg MOV_rsr"},
    {"rors", "MOV_reg MOV_rsr"},
    {"rrx", "MOV_reg"},
    {"rrxs", "MOV_reg"},
    {"movw", "MOVW"},
    {"movt", "MOVT"},
    {"bfc", "BFC"},
    {"bfi", "BFI"},
    {"sbfx", "SBFX"},
    {"ubfx", "UBFX"},
    {"clz", "CLZ"},
    {"rev", "REV"},
    {"rev16", "REV16"},
    {"revsh", "REVSH"},
    {"rbit", "RBIT"},
    {"sxtb", "SXTB"},
    {"sxth", "SXTH"},
    {"sxtb16", "SXTB16"},
    {"uxtb", "UXTB"},
    {"uxth", "UXTH"},
    {"uxtb16", "UXTB16"},
    {"sxtab", "SXTAB"},
    {"sxtah", "SXTAH"},
    {"sxtab16", "SXTAB16"},
    {"uxtab", "UXTAB"},
    {"uxtah", "UXTAH"},
    {"uxtab16", "UXTAB16"},
    {"pkhbt", "PKHBT"},
    {"pkhtb", "PKHTB"},
    {"sel", "SEL"},
    {"usad8", "USAD8"},
    {"usada8", "USADA8"},
    {"mul", "MUL"},
    {"muls", "MUL"},
    {"mla", "MLA"},
    {"mls", "MLS"},
    {"umull", "UMULL"},
    {"umlal", "UMLAL"},
    {"smull", "SMULL"},
    {"smlal", "SMLAL"},
    {"umaal", "UMAAL"},
    {"smulbb", "SMULxy"},
    {"smulbt", "SMULxy"},
    {"smultb", "SMULxy"},
    {"smultt", "SMULxy"},
    {"smlabb", "SMLAxy"},
    {"smlabt", "SMLAxy"},
    {"smlatb", "SMLAxy"},
    {"smlatt", "SMLAxy"},
    {"smlalbb", "SMLALxy"},
    {"smlalbt", "SMLALxy"},
    {"smlaltb", "SMLALxy"},
    {"smlaltt", "SMLALxy"},
    {"smulwb", "SMULWy"},
    {"smulwt", "SMULWy"},
    {"smlawb", "SMLAWy"},
    {"smlawt", "SMLAWy"},
    {"smuad", "SMUAD"},
    {"smuadx", "SMUAD"},
    {"smusd", "SMUSD"},
    {"smusdx", "SMUSD"},
    {"smlad", "SMLAD"},
    {"smladx", "SMLAD"},
    {"smlsd", "SMLSD"},
    {"smlsdx", "SMLSD"},
    {"smlald", "SMLALD"},
    {"smlaldx", "SMLALD"},
    {"smlsld", "SMLSLD"},
    {"smlsldx", "SMLSLD"},
    {"smmul", "SMMUL"},
    {"smmulr", "SMMUL"},
    {"smmla", "SMMLA"},
    {"smmlar", "SMMLA"},
    {"smmls", "SMMLS"},
    {"smmlsr", "SMMLS"},
    {"sdiv", "SDIV"},
    {"udiv", "UDIV"},
#define PAR6(p, P)                                                                          \
    {p "add16", P "ADD16"}, {p "asx", P "ASX"}, {p "sax", P "SAX"}, {p "sub16", P "SUB16"}, \
        {p "add8", P "ADD8"},                                                               \
    {                                                                                       \
        p "sub8", P "SUB8"                                                                  \
    }
    PAR6("s", "S"),
    PAR6("q", "Q"),
    PAR6("sh", "SH"),
    PAR6("u", "U"),
    PAR6("uq", "UQ"),
    PAR6("uh", "UH"),
    {"qadd", "QADD"},
    {"qsub", "QSUB"},
    {"qdadd", "QDADD"},
    {"qdsub", "QDSUB"},
    {"ssat", "SSAT"},
    {"usat", "USAT"},
    {"ssat16", "SSAT16"},
    {"usat16", "USAT16"},
    {"ldr", "LDR_imm LDR_reg LDR_lit"},
    {"ldrb", "LDRB_imm LDRB_reg LDRB_lit"},
    {"ldrh", "LDRH_imm LDRH_reg LDRH_lit"},
    {"ldrsb", "LDRSB_imm LDRSB_reg LDRSB_lit"},
    {"ldrsh", "LDRSH_imm LDRSH_reg LDRSH_lit"},
    {"str", "STR_imm STR_reg"},
    {"strb", "STRB_imm STRB_reg"},
    {"strh", "STRH_imm STRH_reg"},
    {"ldm", "LDM"},
    {"ldmia", "LDM"},
    {"ldmfd", "LDM"},
    {"ldmdb", "LDMDB"},
    {"ldmea", "LDMDB"},
    {"stm", "STM"},
    {"stmia", "STM"},
    {"stmea", "STM"},
    {"stmdb", "STMDB"},
    {"stmfd", "STMDB"},
    {"push", "STMDB STR_imm"},
    {"pop", "LDM LDR_imm"},
    {"ldrex", "LDREX"},
    {"ldrexb", "LDREXB"},
    {"ldrexh", "LDREXH"},
    {"ldrexd", "LDREXD"},
    {"strex", "STREX"},
    {"strexb", "STREXB"},
    {"strexh", "STREXH"},
    {"strexd", "STREXD"},
    {"clrex", "CLREX"},
    {"b", "B"},
    {"bl", "BL"},
    {"blx", "BLX_imm BLX_reg"},
    {"bx", "BX"},
    {"bxj", "BX"},
    {"svc", "SVC"},
    {"bkpt", "BKPT"},
    {"udf", "UDF"},
    {"hvc", "HVC"},
    {"smc", "SMC"},
    {"cps", "CPS"},
    {"cpsie", "CPS"},
    {"cpsid", "CPS"},
    {"setend", "SETEND"},
    {"mrs", "MRS"},
    {"dmb", "DMB"},
    {"dsb", "DSB"},
    {"isb", "ISB"},
    {"nop", "NOP MOV_reg"},
    {"yield", "YIELD"},
    {"wfe", "WFE"},
    {"wfi", "WFI"},
    {"sev", "SEV"},
    {"dbg", "DBG"},
    {"pld", "PLD"},
    {"pldw", "PLD"},
    {"pli", "PLI"},
    /* ARMv8 hints and DSB options: unallocated hints (NOP) and DSB SY on ARMv7 */
    {"sevl", "NOP"},
    {"csdb", "NOP"},
    {"esb", "NOP"},
    {"ssbb", "DSB"},
    {"pssbb", "DSB"},
    {"dfb", "DSB"},
    /* ARMv8 additions: UNDEFINED */
    {"hlt", "UNDEFINED"},
    {"crc32b", "UNDEFINED"},
    {"crc32h", "UNDEFINED"},
    {"crc32w", "UNDEFINED"},
    {"crc32cb", "UNDEFINED"},
    {"crc32ch", "UNDEFINED"},
    {"crc32cw", "UNDEFINED"},
    {"sb", "UNDEFINED"},
};

const char *dc_lookup(const struct dc_name *map, size_t n, const char *mnemonic)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(map[i].mnemonic, mnemonic) == 0) {
            return map[i].handlers;
        }
    }
    for (size_t i = 0; i < sizeof common_names / sizeof common_names[0]; i++) {
        if (strcmp(common_names[i].mnemonic, mnemonic) == 0) {
            return common_names[i].handlers;
        }
    }
    return NULL;
}

bool dc_word_in(const char *word, const char *list)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) {
            return true;
        }
    }
    return false;
}

bool dc_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool dc_strip_cond(char *key, unsigned cond)
{
    const char *alias = cond == 2 ? "hs" : cond == 3 ? "lo" : NULL;
    size_t n = strlen(key);
    if (n > 2 && (dc_ends_with(key, dc_conds[cond]) || (alias && dc_ends_with(key, alias)))) {
        key[n - 2] = '\0';
        return true;
    }
    return false;
}

const char *dc_handler(struct dc_run *run, uint32_t insn, arm_uop_fn fn, const char *name)
{
    const char *got = fn == VFP_STUB ? "VFP" : name;
    if (got == NULL) {
        printf("FAIL %08x: handler with no name\n", insn);
        run->errors++;
        return NULL;
    }
    run->checked++;
    return got;
}

const char *dc_settled(const char *space, bool objdump_undef, const char *mnem)
{
    if (space != NULL) {
        return space;
    }
    if (objdump_undef) {
        return "UNDEFINED UDF";
    }
    return mnem[0] == 'v' ? "VFP" : NULL;
}

/* Mnemonics objdump prints for encodings the decoder rejects: how many, and one example. */
static struct {
    const char *mnemonic;
    unsigned count;
    uint32_t example;
} rejected[256];
static size_t nrejected;

static void tally_rejected(const char *mnemonic, uint32_t insn)
{
    for (size_t i = 0; i < nrejected; i++) {
        if (strcmp(rejected[i].mnemonic, mnemonic) == 0) {
            rejected[i].count++;
            return;
        }
    }
    if (nrejected < sizeof rejected / sizeof rejected[0]) {
        rejected[nrejected].mnemonic = strdup(mnemonic);
        rejected[nrejected].count = 1;
        rejected[nrejected].example = insn;
        nrejected++;
    }
}

bool dc_judge(struct dc_run *run, const char *got, const char *expected, const char *key,
              uint32_t insn, bool unpredictable, const char *where, const char *mnem,
              const char *rest)
{
    if (dc_word_in(got, expected)) {
        return true;
    }
    if (strcmp(got, "UNDEFINED") == 0 && (unpredictable || !run->strict)) {
        /* A deliberate rejection of an UNPREDICTABLE encoding. */
        tally_rejected(key, insn);
        return false;
    }
    printf("FAIL %08x%s: %s %s -> %s, expected one of: %s\n", insn, where, mnem, rest, got,
           expected);
    run->errors++;
    return false;
}

static int check_objdump(const struct dc_program *prog, const char *path, bool strict)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return 2;
    }
    struct dc_run run = {.strict = strict};
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        prog->check_line(&run, line);
    }
    fclose(f);
    if (nrejected > 0) {
        printf("encodings objdump prints that the decoder treats as UNDEFINED "
               "(UNPREDICTABLE cases):\n");
        for (size_t i = 0; i < nrejected; i++) {
            printf("  %-12s %6u  e.g. %08x\n", rejected[i].mnemonic, rejected[i].count,
                   rejected[i].example);
        }
    }
    char note[200];
    prog->note(note, sizeof note);
    printf("%s: %u instructions checked (%s), %u errors\n", path, run.checked, note, run.errors);
    return run.errors != 0;
}

/* ==== random encodings ====================================================================== */

static uint64_t rng_state;

uint32_t dc_rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static int random_corpus(const struct dc_program *prog, unsigned n, unsigned seed)
{
    rng_state = 0x9e3779b97f4a7c15ull ^ seed;
    printf("\t.syntax unified\n\t.arch armv7ve\n\t.%s\n\t.fpu neon-vfpv4\n\t.text\n", prog->state);
    for (unsigned i = 0; i < n; i++) {
        prog->random_line(i);
    }
    return 0;
}

/* ==== semantics on the stub core ============================================================ */

struct arm_cpu cpu;
int sem_errors, sem_checks;

void check_eq(const char *what, uint64_t got, uint64_t want)
{
    sem_checks++;
    if (got != want) {
        printf("FAIL %s: got %#llx, want %#llx\n", what, (unsigned long long)got,
               (unsigned long long)want);
        sem_errors++;
    }
}

void dc_reset_cpu(uint32_t cpsr_rest)
{
    memset(&cpu, 0, sizeof cpu);
    cpu.atomic = &arm_atomic_table;
    cpu.cpsr_rest = cpsr_rest;
    memset(mem, 0, sizeof mem);
}

uint32_t nzcv(void)
{
    return cpu.cpsr_nzcv >> 28;
}

void set_nzcv(unsigned f)
{
    cpu.cpsr_nzcv = (uint32_t)f << 28;
}

int dc_call(const struct arm_uop *op)
{
    if (sigsetjmp(cpu.fault_jmp, 0) != 0) {
        return -1;
    }
    return (int)op->fn(&cpu, op);
}

void dc_check_ends_block(const uint32_t *insns, size_t n, bool want,
                         const char *(*decode)(uint32_t insn, struct arm_uop *op))
{
    for (size_t i = 0; i < n; i++) {
        struct arm_uop op;
        char what[64];
        const char *name = decode(insns[i], &op);
        snprintf(what, sizeof what, "%sENDS_BLOCK %08x (%s)", want ? "" : "no ", insns[i], name);
        check_eq(what, (op.flags & ARM_UOP_ENDS_BLOCK) != 0, want);
    }
}

/* ==== the program =========================================================================== */

int dc_main(int argc, char **argv, const struct dc_program *prog)
{
    if (argc >= 3 && strcmp(argv[1], "--objdump") == 0) {
        return check_objdump(prog, argv[2], argc >= 4 && strcmp(argv[3], "--strict") == 0);
    }
    if (argc == 4 && strcmp(argv[1], "--random") == 0) {
        return random_corpus(prog, (unsigned)strtoul(argv[2], NULL, 0),
                             (unsigned)strtoul(argv[3], NULL, 0));
    }
    if (argc == 2 && strcmp(argv[1], "--semantics") == 0) {
        prog->semantics();
        printf("semantics: %d checks, %d errors\n", sem_checks, sem_errors);
        return sem_errors != 0;
    }
    fprintf(stderr, "usage: %s --objdump FILE [--strict] | --random N SEED | --semantics\n",
            argv[0]);
    return 2;
}
