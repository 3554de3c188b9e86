/*
 * Standalone test of the T32 decoder (decode_t32.c) with the integer handlers (ops_*.c), with
 * stubs for everything the rest of the CPU provides (the same as test_decode_a32.c's). Built
 * and run by run-test-decode-t32.sh.
 *
 *   test_decode_t32 --objdump FILE [--strict]
 *       FILE is `arm-none-eabi-objdump -d` output of Thumb code. Every instruction line is
 *       decoded with the IT state the block builder would pass (tracked through the IT
 *       instructions, as objdump tracks it); the handler chosen must be one the objdump
 *       mnemonic allows (table below), the condition must be the one objdump shows, flag
 *       setting (S) must match the mnemonic's "s" for data processing, and branch targets and
 *       modified immediates must be the values objdump prints. With --strict (the hand-written
 *       corpus) an UNDEFINED decode of an instruction objdump accepts is an error; without it
 *       (random encodings) such cases are counted and listed, because the decoder deliberately
 *       rejects some UNPREDICTABLE encodings that objdump prints.
 *   test_decode_t32 --random N SEED
 *       prints N random 16-bit and 32-bit encodings (and valid IT instructions among them) as
 *       `.inst.n`/`.inst.w` lines, for the random cross-check.
 *   test_decode_t32 --semantics
 *       runs Thumb-specific semantic checks through the real handlers on a stub CPU.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_check.h"
#include "ops.h"
#include "stub_cpu.h"

/* ==== decoder cross-check against objdump =================================================== */

/* objdump mnemonic (condition and .w/.n stripped) -> handlers that may implement it, where they
 * differ from A32 (decode_check.c has the mnemonics both share). */
static const struct dc_name name_map[] = {
#define DP2(m, H) {m, H "_imm " H "_reg"}, {m "s", H "_imm " H "_reg"}
    DP2("and", "AND"), DP2("eor", "EOR"), DP2("rsb", "RSB"), DP2("adc", "ADC"),
    DP2("sbc", "SBC"), DP2("orr", "ORR"), DP2("orn", "ORN"), DP2("bic", "BIC"),
    DP2("mvn", "MVN"),
    {"add", "ADD_imm ADD_reg ADR"}, {"adds", "ADD_imm ADD_reg"}, {"addw", "ADD_imm ADR"},
    {"sub", "SUB_imm SUB_reg ADR"}, {"subs", "SUB_imm SUB_reg"}, {"subw", "SUB_imm ADR"},
    {"adr", "ADR"}, {"neg", "RSB_imm"}, {"negs", "RSB_imm"},
    {"tst", "TST_imm TST_reg"}, {"teq", "TEQ_imm TEQ_reg"}, {"cmp", "CMP_imm CMP_reg"},
    {"cmn", "CMN_imm CMN_reg"},
    {"ldrd", "LDRD_imm LDRD_lit"}, {"strd", "STRD_imm"},
    {"ldrt", "LDRT_imm"}, {"ldrbt", "LDRBT_imm"}, {"ldrht", "LDRHT_imm"},
    {"ldrsbt", "LDRSBT_imm"}, {"ldrsht", "LDRSHT_imm"}, {"strt", "STRT_imm"},
    {"strbt", "STRBT_imm"}, {"strht", "STRHT_imm"},
    {"tbb", "TBB"}, {"tbh", "TBH"}, {"cbz", "CBZ"}, {"cbnz", "CBNZ"},
    {"srsdb", "SRS"}, {"srsia", "SRS"}, {"srs", "SRS"}, {"srsea", "SRS"}, {"srsfd", "SRS"},
    {"rfedb", "RFE"}, {"rfeia", "RFE"}, {"rfe", "RFE"}, {"rfeea", "RFE"}, {"rfefd", "RFE"},
    {"msr", "MSR_reg"},
    {"subs pc, lr", "SUB_imm"}, {"eret", "SUB_imm"},
    {"it", "IT"},
    /* ARMv8 and ThumbEE additions: UNDEFINED here */
    {"setpan", "UNDEFINED"},
    {"dcps1", "UNDEFINED"}, {"dcps2", "UNDEFINED"}, {"dcps3", "UNDEFINED"},
    {"enterx", "UNDEFINED"}, {"leavex", "UNDEFINED"},
    {"lda", "UNDEFINED"}, {"ldab", "UNDEFINED"}, {"ldah", "UNDEFINED"},
    {"ldaex", "UNDEFINED"}, {"ldaexb", "UNDEFINED"}, {"ldaexh", "UNDEFINED"},
    {"ldaexd", "UNDEFINED"}, {"stl", "UNDEFINED"}, {"stlb", "UNDEFINED"},
    {"stlh", "UNDEFINED"}, {"stlex", "UNDEFINED"}, {"stlexb", "UNDEFINED"},
    {"stlexh", "UNDEFINED"}, {"stlexd", "UNDEFINED"},
    /* objdump's rendering of the unallocated load/store size */
    {"ldr??", "UNDEFINED"}, {"str??", "UNDEFINED"}, {"ldr??t", "UNDEFINED"},
    {"str??t", "UNDEFINED"},
};

/* ARMv8-M instructions, which objdump decodes whatever the object's architecture says: their
 * encodings mean something else (or nothing) on ARMv7-A, and objdump is no oracle there. */
static const char *const m_profile[] = {
    "bf", "bfl", "bfx", "bflx", "bfcsel", "wls", "wlstp", "dls", "dlstp", "le", "letp", "lctp",
    "clrm", "vscclrm", "csel", "csinc", "csinv", "csneg", "cset", "csetm", "cinc", "cinv",
    "cneg", "sg", "tt", "ttt", "tta", "ttat", "blxns", "bxns", "vlldm", "vlstm", "asrl", "lsll",
    "lsrl", "sqrshr", "sqrshrl", "sqshl", "sqshll", "srshr", "srshrl", "uqrshl", "uqrshll",
    "uqshl", "uqshll", "urshr", "urshrl", "autg", "bxaut", "pac", "pacbti", "pacg", "aut",
    "bti",
};

static bool is_m_profile(const char *key)
{
    char base[80];
    snprintf(base, sizeof base, "%s", key);
    base[strcspn(base, ".")] = '\0';
    for (size_t i = 0; i < sizeof m_profile / sizeof m_profile[0]; i++) {
        size_t n = strlen(m_profile[i]);
        /* with or without a condition suffix */
        if (strncmp(base, m_profile[i], n) == 0 && (base[n] == '\0' || strlen(base) == n + 2)) {
            return true;
        }
    }
    return false;
}

/* Mnemonics whose trailing "s" means "sets the flags" (the S bit, or !InITBlock()). */
static const char *const s_mnemonics[] = {
    "and", "eor", "sub", "rsb", "add", "adc", "sbc", "orr", "orn", "bic", "mvn", "mov",
    "lsl", "lsr", "asr", "ror", "rrx", "mul", "neg", "mla", "umull", "smull", "umlal", "smlal",
};

static const char *lookup_handlers(const char *mnemonic)
{
    return dc_lookup(name_map, sizeof name_map / sizeof name_map[0], mnemonic);
}

static uint8_t it_advance(uint8_t it)
{
    return (it & 7) ? (uint8_t)((it & 0xe0) | ((it << 1) & 0x1f)) : 0;
}

static bool is_it(uint32_t insn, unsigned len)
{
    return len == 2 && (insn & 0xff00) == 0xbf00 && (insn & 0xf) != 0;
}

/*
 * Parts of the encoding space judged by encoding rather than by objdump's mnemonic: the
 * coprocessor space (CP10/11 and Advanced SIMD go to the VFP decoder, CP15 and CP14 debug
 * reads to MCR/MRC/MCRR/MRRC, everything else is UNDEFINED), and the unallocated memory hints
 * of the load halfword space (NOP, whatever objdump calls them). NULL for everything else.
 */
static const char *space_expectation(uint32_t insn, unsigned len)
{
    if (len == 2) {
        return NULL;
    }
    if ((insn & 0xef000000u) == 0xef000000u || (insn & 0xff100000u) == 0xf9000000u) {
        return "VFP";
    }
    if ((insn & 0xff70f000u) == 0xf930f000u) { /* LDRSH-space hints, Rt = 15 */
        unsigned op2 = (insn >> 6) & 0x3f;
        if (((insn >> 16) & 0xf) == 15 || (insn & 0x00800000u) || (op2 & 0x3c) == 0x30 ||
            op2 == 0) {
            return "NOP";
        }
        return "UNDEFINED";
    }
    if ((insn & 0xec000000u) != 0xec000000u) {
        return NULL;
    }
    unsigned op1 = (insn >> 20) & 0x3f, cp = (insn >> 8) & 0xf;
    bool t = (insn >> 28) & 1;
    if ((op1 & 0x3e) == 0) {
        return "UNDEFINED";
    }
    if (cp == 10 || cp == 11) {
        return "VFP";
    }
    if (t) {
        return "UNDEFINED";
    }
    if ((op1 & 0x30) == 0x20 && (insn & 0x10)) {
        bool read = op1 & 1;
        if (cp == 15 || (cp == 14 && read && ((insn >> 21) & 7) == 0)) {
            return read ? "MRC" : "MCR";
        }
        return "UNDEFINED";
    }
    if (op1 == 4 || op1 == 5) {
        return cp == 15 ? (op1 == 4 ? "MCRR" : "MRRC") : "UNDEFINED";
    }
    return "UNDEFINED";
}

/* Handlers whose S flag objdump's mnemonic shows. */
static bool shows_s(const char *handler)
{
    if (strcmp(handler, "ADR") == 0 || strncmp(handler, "TST", 3) == 0 ||
        strncmp(handler, "TEQ", 3) == 0 || strncmp(handler, "CMP", 3) == 0 ||
        strncmp(handler, "CMN", 3) == 0) {
        return false;
    }
    return dc_ends_with(handler, "_imm") || dc_ends_with(handler, "_reg") ||
           dc_ends_with(handler, "_rsr") || strcmp(handler, "MUL") == 0;
}

/*
 * Register operands as objdump lists them, per handler: d = rd, n = rn, m = rm, a = ra,
 * s = rs. An upper-case letter is a field that the short (two-operand) forms leave out, where
 * it equals rd ("ands r0, r1" is r0 = r0 AND r1).
 */
static const struct {
    const char *handlers;
    const char *order;
} operand_order[] = {
    {"AND_reg EOR_reg SUB_reg RSB_reg ADD_reg ADC_reg SBC_reg ORR_reg ORN_reg BIC_reg", "dNm"},
    {"AND_imm EOR_imm SUB_imm RSB_imm ADD_imm ADC_imm SBC_imm ORR_imm ORN_imm BIC_imm", "dN"},
    {"TST_reg TEQ_reg CMP_reg CMN_reg TBB TBH", "nm"},
    {"TST_imm TEQ_imm CMP_imm CMN_imm CBZ CBNZ MSR_reg RFE", "n"},
    {"MOV_reg MVN_reg CLZ REV REV16 REVSH RBIT SXTB SXTH SXTB16 UXTB UXTH UXTB16", "dm"},
    {"MOV_imm MVN_imm ADR MOVW MOVT BFC MRS MCR MRC", "d"},
    {"MOV_rsr", "dMs"},
    {"BFI SBFX UBFX SSAT USAT SSAT16 USAT16 LDREX LDREXB LDREXH", "dn"},
    {"SXTAB SXTAH SXTAB16 UXTAB UXTAH UXTAB16 PKHBT PKHTB SEL USAD8 SMULxy SMULWy SMUAD "
     "SMUSD SMMUL SDIV UDIV", "dnm"},
    {"SADD16 SASX SSAX SSUB16 SADD8 SSUB8 QADD16 QASX QSAX QSUB16 QADD8 QSUB8 SHADD16 SHASX "
     "SHSAX SHSUB16 SHADD8 SHSUB8 UADD16 UASX USAX USUB16 UADD8 USUB8 UQADD16 UQASX UQSAX "
     "UQSUB16 UQADD8 UQSUB8 UHADD16 UHASX UHSAX UHSUB16 UHADD8 UHSUB8", "dnm"},
    {"QADD QSUB QDADD QDSUB", "dmn"},
    {"USADA8 MLA MLS SMLAxy SMLAWy SMLAD SMLSD SMMLA SMMLS", "dnma"},
    {"MUL", "dnM"},
    {"UMULL UMLAL SMULL SMLAL UMAAL SMLALxy SMLALD SMLSLD", "danm"},
    {"LDR_imm LDRB_imm LDRH_imm LDRSB_imm LDRSH_imm STR_imm STRB_imm STRH_imm LDRT_imm "
     "LDRBT_imm LDRHT_imm LDRSBT_imm LDRSHT_imm STRT_imm STRBT_imm STRHT_imm", "dn"},
    {"LDR_lit LDRB_lit LDRH_lit LDRSB_lit LDRSH_lit", "d"},
    {"LDR_reg LDRB_reg LDRH_reg LDRSB_reg LDRSH_reg STR_reg STRB_reg STRH_reg", "dnm"},
    {"LDRD_imm STRD_imm LDREXD", "dan"},
    {"LDRD_lit MCRR MRRC", "da"},
    {"STREX STREXB STREXH", "dmn"},
    {"STREXD", "dman"},
    {"BX BLX_reg", "m"},
    {"LDM LDMDB STM STMDB", "n"},
};

static int reg_number(const char *tok)
{
    static const char *const names[16] = {"r0", "r1", "r2",  "r3", "r4", "r5", "r6", "r7",
                                          "r8", "r9", "sl", "fp", "ip", "sp", "lr", "pc"};
    for (int i = 0; i < 16; i++) {
        if (strcmp(tok, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* The registers of objdump's operands, in order (the register list of LDM/STM apart), up to
 * the comment. *list gets the register list's bits. */
static unsigned operand_regs(const char *rest, int regs[8], uint32_t *list)
{
    char buf[400];
    unsigned n = 0;
    bool in_list = false;
    snprintf(buf, sizeof buf, "%s", rest);
    buf[strcspn(buf, "@;")] = '\0';
    *list = 0;
    for (char *p = buf; *p != '\0';) {
        if (*p == '{') {
            in_list = true;
        } else if (*p == '}') {
            in_list = false;
        }
        size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (len == 0) {
            p++;
            continue;
        }
        char tok[16] = "";
        if (len < sizeof tok) {
            memcpy(tok, p, len);
        }
        int r = reg_number(tok);
        if (r >= 0 && in_list) {
            *list |= 1u << r;
        } else if (r >= 0 && n < 8) {
            regs[n++] = r;
        }
        p += len;
    }
    return n;
}

static const char *order_of(const char *handler)
{
    for (size_t i = 0; i < sizeof operand_order / sizeof operand_order[0]; i++) {
        if (dc_word_in(handler, operand_order[i].handlers)) {
            return operand_order[i].order;
        }
    }
    return NULL;
}

static unsigned field_of(const struct arm_uop *op, char letter)
{
    switch (letter | 0x20) {
    case 'd':
        return op->rd;
    case 'n':
        return op->rn;
    case 'm':
        return op->rm;
    case 'a':
        return op->ra;
    default:
        return op->rs;
    }
}

/* Whether the decoded register fields are the registers objdump shows. */
static bool operands_match(const char *handler, const char *key, const char *rest,
                           const struct arm_uop *op)
{
    const char *order = order_of(handler);
    /* "nop" is objdump's name for MOV r8, r8; MRC to APSR_nzcv names no register */
    if (order == NULL || strstr(rest, "APSR_nzcv") != NULL || strcmp(key, "nop") == 0) {
        return true;
    }
    int regs[8];
    uint32_t list;
    unsigned n = operand_regs(rest, regs, &list);
    bool push_pop = strcmp(key, "push") == 0 || strcmp(key, "pop") == 0;
    if (list != 0 && list != op->imm && !(push_pop && op->fn != arm_op_LDM &&
                                          op->fn != arm_op_STMDB)) {
        return false;
    }
    if (push_pop) {
        return n == 0 || (op->fn != arm_op_LDM && op->fn != arm_op_STMDB);
    }
    size_t full = strlen(order), optional = 0;
    for (const char *c = order; *c != '\0'; c++) {
        optional += (*c >= 'A' && *c <= 'Z');
    }
    bool short_form = n < full;
    if (short_form && n != full - optional) {
        return false;
    }
    unsigned i = 0;
    for (const char *c = order; *c != '\0'; c++) {
        bool upper = *c >= 'A' && *c <= 'Z';
        if (upper && short_form) {
            if (field_of(op, *c) != op->rd) {
                return false;
            }
            continue;
        }
        if (field_of(op, *c) != (unsigned)regs[i++]) {
            return false;
        }
    }
    return true;
}

/* The first hexadecimal address in objdump's operands (branch targets). */
static bool operand_target(const char *rest, uint32_t *target)
{
    const char *p = rest;
    if (strncmp(p, "r", 1) == 0 || strncmp(p, "sl", 2) == 0 || strncmp(p, "fp", 2) == 0 ||
        strncmp(p, "ip", 2) == 0) {
        p = strchr(p, ',');
        if (p == NULL) {
            return false;
        }
        p++;
    }
    char *end;
    unsigned long v = strtoul(p, &end, 16);
    if (end == p) {
        return false;
    }
    *target = (uint32_t)v;
    return true;
}

/* Instructions decoded in IT blocks, and ARMv8-M mnemonics, which objdump is no oracle of. */
static unsigned in_it, m_skipped;
/* The IT state in force, as objdump tracks it. */
static uint8_t objdump_it;

static void check_line(struct dc_run *run, const char *line)
{
    /* "  addr:\thw1 [hw2] \tmnemonic\toperands" */
    unsigned addr;
    const char *tab1 = strchr(line, '\t');
    if (sscanf(line, " %x:", &addr) != 1 || tab1 == NULL || strchr(line, ':') > tab1) {
        return;
    }
    const char *tab2 = strchr(tab1 + 1, '\t');
    if (tab2 == NULL) {
        return;
    }
    unsigned hw1, hw2;
    int nhex = sscanf(tab1 + 1, "%x %x", &hw1, &hw2);
    size_t hexlen = strcspn(tab1 + 1, " \t");
    if (nhex < 1 || hexlen != 4) {
        objdump_it = 0; /* data (.word) or ARM code */
        return;
    }
    unsigned len = (hw1 >> 11) >= 0x1d ? 4 : 2;
    if (len == 4 && (nhex != 2 || tab2 - tab1 < 10)) {
        return;
    }
    uint32_t insn = len == 4 ? (hw1 << 16) | hw2 : hw1;
    char mnem[64] = "", rest[400] = "";
    sscanf(tab2 + 1, "%63s %399[^\n]", mnem, rest);
    bool objdump_undef = strstr(line, "UNDEFINED") != NULL || strstr(line, "undefined") ||
                         strcmp(mnem, ".inst.w") == 0 || strcmp(mnem, ".inst.n") == 0 ||
                         strcmp(mnem, ".inst") == 0;
    bool unpredictable = strstr(line, "UNPREDICTABLE") != NULL;

    uint8_t it_here = objdump_it;
    struct arm_uop op;
    arm_decode_t32(addr, insn, len, it_here, &op);
    objdump_it = is_it(insn, len) && it_here == 0 ? (uint8_t)(insn & 0xff) : it_advance(it_here);
    if (it_here & 0xf) {
        in_it++;
    }
    const char *got = dc_handler(run, insn, op.fn, arm_t32_handler_name(op.fn));
    if (got == NULL) {
        return;
    }
    if ((op.flags & ARM_UOP_THUMB) == 0 || op.len != len || op.pc != addr ||
        op.itstate != it_here) {
        printf("FAIL %08x: pc/len/itstate/THUMB not filled\n", insn);
        run->errors++;
    }

    const char *expected = space_expectation(insn, len);
    char key[80];
    snprintf(key, sizeof key, "%s", mnem);
    if (dc_ends_with(key, ".w") || dc_ends_with(key, ".n")) {
        key[strlen(key) - 2] = '\0';
    }
    bool cond_ok = true;
    if (expected == NULL && !objdump_undef && is_m_profile(key)) {
        m_skipped++;
        return;
    }
    expected = dc_settled(expected, objdump_undef, mnem);
    if (expected == NULL) {
        if (strncmp(key, "it", 2) == 0 && strspn(key + 2, "te") == strlen(key + 2) &&
            strlen(key) <= 5) {
            key[2] = '\0';
        } else if (op.cond < 0xe && strcmp(got, "UNDEFINED") != 0) {
            cond_ok = dc_strip_cond(key, op.cond);
        } else if ((it_here & 0xf) && op.cond < 0xe) {
            /* rejected in an IT block: objdump shows the condition, unless the mnemonic
             * is an unconditional one (HLT) */
            char bare[80];
            snprintf(bare, sizeof bare, "%s", key);
            if (dc_strip_cond(bare, op.cond) && lookup_handlers(bare) != NULL) {
                strcpy(key, bare);
            }
        } else if ((it_here & 0xf) && lookup_handlers(key) == NULL && dc_ends_with(key, "al")) {
            key[strlen(key) - 2] = '\0';
        }
        if (strcmp(key, "subs") == 0 && strncmp(rest, "pc, lr", 6) == 0) {
            strcpy(key, "subs pc, lr");
        }
        expected = lookup_handlers(key);
        /* LDRT and friends with Rn = PC are the literal loads (objdump shows the T form) */
        if (expected != NULL && dc_ends_with(key, "t") && strstr(rest, "[pc") != NULL &&
            strncmp(key, "ldr", 3) == 0) {
            expected = strstr(expected, "LDRSB")   ? "LDRSB_lit"
                       : strstr(expected, "LDRSH") ? "LDRSH_lit"
                       : strstr(expected, "LDRB")  ? "LDRB_lit"
                       : strstr(expected, "LDRH")  ? "LDRH_lit"
                                                   : "LDR_lit";
        }
        if (expected == NULL) {
            printf("FAIL %04x%s%04x: objdump mnemonic \"%s\" (%s) is not in the map; "
                   "decoded as %s\n",
                   len == 4 ? insn >> 16 : insn, len == 4 ? " " : "", len == 4 ? insn & 0xffff : 0,
                   mnem, key, got);
            run->errors++;
            return;
        }
    }
    char where[16];
    snprintf(where, sizeof where, " (it %02x)", it_here);
    if (!dc_judge(run, got, expected, key, insn, unpredictable, where, mnem, rest)) {
        return;
    }
    if (strcmp(got, "UNDEFINED") == 0 || strcmp(got, "VFP") == 0) {
        return;
    }
    /* The condition objdump shows, the flag setting, targets and immediates. */
    if (!cond_ok) {
        printf("FAIL %08x (it %02x): %s: decoded condition %s not shown\n", insn, it_here, mnem,
               dc_conds[op.cond]);
        run->errors++;
    }
    if (shows_s(got) && strcmp(key, "subs pc, lr") != 0) {
        for (size_t i = 0; i < sizeof s_mnemonics / sizeof s_mnemonics[0]; i++) {
            size_t n = strlen(s_mnemonics[i]);
            if (strncmp(key, s_mnemonics[i], n) != 0 || strlen(key) > n + 1 ||
                (key[n] != '\0' && key[n] != 's')) {
                continue;
            }
            bool want = key[n] == 's';
            if (want != ((op.flags & ARM_UOP_S) != 0)) {
                printf("FAIL %08x (it %02x): %s: S = %d\n", insn, it_here, mnem, !want);
                run->errors++;
            }
            break;
        }
    }
    if (!operands_match(got, key, rest, &op)) {
        printf("FAIL %08x: %s %s: registers d%u n%u m%u a%u s%u list %#x\n", insn, mnem, rest,
               op.rd, op.rn, op.rm, op.ra, op.rs, op.imm);
        run->errors++;
    }
    uint32_t target;
    if ((strcmp(got, "B") == 0 || strcmp(got, "BL") == 0 || strcmp(got, "BLX_imm") == 0 ||
         strcmp(got, "CBZ") == 0 || strcmp(got, "CBNZ") == 0) &&
        operand_target(rest, &target) && target != op.imm) {
        printf("FAIL %08x: %s %s: target %08x\n", insn, mnem, rest, op.imm);
        run->errors++;
    }
    const char *hash = strchr(rest, '#');
    if (len == 4 && (insn & 0xfa008000u) == 0xf0000000u && dc_ends_with(got, "_imm") &&
        hash != NULL && strtoul(hash + 1, NULL, 0) != op.imm) {
        printf("FAIL %08x: %s %s: immediate %#x\n", insn, mnem, rest, op.imm);
        run->errors++;
    }
}

static void note(char *buf, size_t size)
{
    snprintf(buf, size, "%u in IT blocks; %u ARMv8-M mnemonics not judged", in_it, m_skipped);
}

static void random_line(unsigned i)
{
    uint32_t r = dc_rng();
    if (i % 16 == 0) {
        /* A valid IT (conditions EQ..LE), so that IT blocks get their share. */
        unsigned firstcond = r % 14, mask = 1 + (r >> 8) % 15;
        printf("\t.inst.n 0x%04x\n", 0xbf00u | (firstcond << 4) | mask);
    } else if (i % 3 == 0) {
        uint32_t hw = r & 0xffff;
        while ((hw >> 11) >= 0x1d || is_it(hw, 2)) {
            hw = dc_rng() & 0xffff;
        }
        printf("\t.inst.n 0x%04x\n", arm_t32_canonical(hw, 2));
    } else {
        uint32_t insn = r | 0xe0000000u;
        if ((insn >> 27) == 0x1c) {
            insn |= 0x08000000u;
        }
        /* Setting the should-be bits may move an encoding into another row (LDRD
         * (literal) with W = 1 becomes an exclusive): iterate to a fixed point. */
        for (uint32_t prev = 0; prev != insn;) {
            prev = insn;
            insn = arm_t32_canonical(insn, 4);
        }
        printf("\t.inst.w 0x%08x\n", insn);
    }
}

/* ==== handler semantics ===================================================================== */

#define CODE (MEM_BASE + 0x4000u) /* word-aligned */

static void reset_cpu(void)
{
    dc_reset_cpu(ARM_MODE_SVC | ARM_CPSR_I | ARM_CPSR_F | ARM_CPSR_T);
}

static bool cond_passed(uint32_t flags, unsigned cond)
{
    bool n = flags & FN, z = flags & FZ, c = flags & FC, v = flags & FV;
    bool r;
    switch (cond >> 1) {
    case 0: r = z; break;
    case 1: r = c; break;
    case 2: r = n; break;
    case 3: r = v; break;
    case 4: r = c && !z; break;
    case 5: r = n == v; break;
    case 6: r = n == v && !z; break;
    default: return true;
    }
    return (cond & 1) ? !r : r;
}

/* The length of the instruction whose first halfword is hw1. */
static unsigned t32_len(uint32_t hw1)
{
    return (hw1 >> 11) >= 0x1d ? 4 : 2;
}

/* Writes halfwords (a 32-bit instruction as its two halfwords, first first) at addr. */
static uint32_t emit(uint32_t addr, const uint16_t *hw, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        arm_store(&cpu, addr + 2 * (uint32_t)i, 2, hw[i], false, false);
    }
    return addr + 2 * (uint32_t)n;
}

/*
 * Runs Thumb code from pc as exec.c does (IT state tracked by the builder's rule, ITSTATE
 * advanced in the CPSR before each instruction, conditions checked) until pc reaches end, a
 * branch is taken (its target is returned) or an instruction escapes (~0 returned).
 */
static uint32_t run_thumb(uint32_t pc, uint32_t end)
{
    struct arm_uop op;
    uint32_t vpc = pc;
    uint8_t it = (uint8_t)cpu.cpsr_it;
    for (int steps = 0; steps < 64 && vpc != end; steps++) {
        uint32_t hw1 = arm_load(&cpu, vpc, 2, false, false), insn = hw1;
        unsigned len = t32_len(hw1);
        if (len == 4) {
            insn = (hw1 << 16) | arm_load(&cpu, vpc + 2, 2, false, false);
        }
        uint8_t it_here = it;
        arm_decode_t32(vpc, insn, len, it_here, &op);
        it = is_it(insn, len) && it_here == 0 ? (uint8_t)(insn & 0xff) : it_advance(it_here);
        cpu.r[15] = vpc;
        cpu.cpsr_it = it_advance(op.itstate);
        if (op.cond < 0xe && !cond_passed(nzcv(), op.cond)) {
            vpc += len;
            continue;
        }
        int r = dc_call(&op);
        if (r < 0) {
            return ~0u;
        }
        if (r == ARM_BRANCH) {
            return cpu.next_pc;
        }
        if (op.flags & ARM_UOP_ENDS_BLOCK) {
            it = (uint8_t)cpu.cpsr_it; /* the next block starts from the CPSR */
        }
        vpc += len;
    }
    return vpc;
}

/* Decodes and runs one instruction at pc with the IT state it (condition ignored). Returns
 * the handler's result, or -1 if it escaped (fault or UNDEFINED). */
static int run1(uint32_t pc, uint32_t insn, uint8_t it)
{
    struct arm_uop op;
    arm_decode_t32(pc, insn, insn > 0xffff ? 4 : 2, it, &op);
    cpu.r[15] = pc;
    cpu.cpsr_it = it_advance(it);
    return dc_call(&op);
}

static int run(uint32_t insn)
{
    return run1(CODE, insn, 0);
}

static const char *name_at(uint32_t insn, uint8_t it, struct arm_uop *op)
{
    arm_decode_t32(CODE, insn, insn > 0xffff ? 4 : 2, it, op);
    const char *n = arm_t32_handler_name(op->fn);
    return n ? n : "?";
}

/* Decodes insn outside an IT block into *op; the handler's name. */
static const char *decode_at(uint32_t insn, struct arm_uop *op)
{
    return name_at(insn, 0, op);
}

/* MOV{S}.W Rd, #<ThumbExpandImm(imm12)> */
static uint32_t mov_w_imm(unsigned s, unsigned rd, uint32_t imm12)
{
    return 0xf04f0000u | (s << 20) | ((imm12 >> 11) << 26) | (((imm12 >> 8) & 7) << 12) |
           (rd << 8) | (imm12 & 0xff);
}

/* ThumbExpandImm_C as the ARM ARM's pseudocode reads, step by step. */
static uint32_t ref_expand(uint32_t imm12, unsigned carry_in, unsigned *carry_out)
{
    uint32_t imm8 = imm12 & 0xff;
    *carry_out = carry_in;
    if (((imm12 >> 10) & 3) == 0) {
        switch ((imm12 >> 8) & 3) {
        case 0:
            return imm8;
        case 1:
            return (imm8 << 16) | imm8;
        case 2:
            return (imm8 << 24) | (imm8 << 8);
        default:
            return (imm8 << 24) | (imm8 << 16) | (imm8 << 8) | imm8;
        }
    }
    uint32_t unrotated = 0x80 | (imm12 & 0x7f), result = unrotated;
    for (unsigned i = 0; i < ((imm12 >> 7) & 0x1f); i++) {
        result = (result >> 1) | ((result & 1) << 31);
    }
    *carry_out = result >> 31;
    return result;
}

static void test_expand_imm(void)
{
    reset_cpu();
    static const struct {
        uint32_t imm12, value;
        int carry; /* -1: unchanged */
    } cases[] = {
        {0x0ab, 0x000000abu, -1}, {0x1ab, 0x00ab00abu, -1}, {0x2ab, 0xab00ab00u, -1},
        {0x3ab, 0xababababu, -1}, {0x400, 0x80000000u, 1},  {0x47f, 0xff000000u, 1},
        {0x4ff, 0x7f800000u, 0},  {0x780, 0x01000000u, 0},  {0xf80, 0x00000100u, 0},
        {0xfff, 0x000001feu, 0},  {0x000, 0, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (unsigned cin = 0; cin < 2; cin++) {
            char what[64];
            set_nzcv(cin ? FC | FV : FV);
            run(mov_w_imm(1, 3, cases[i].imm12));
            snprintf(what, sizeof what, "movs.w #imm12 %03x value", cases[i].imm12);
            check_eq(what, cpu.r[3], cases[i].value);
            snprintf(what, sizeof what, "movs.w #imm12 %03x carry (in %u)", cases[i].imm12,
                     cin);
            check_eq(what, (nzcv() >> 1) & 1, cases[i].carry < 0 ? cin : (unsigned)cases[i].carry);
            snprintf(what, sizeof what, "movs.w #imm12 %03x keeps V", cases[i].imm12);
            check_eq(what, nzcv() & FV, FV);
        }
    }
    /* Every imm12 against the pseudocode, through ANDS.W (carry) and ADDS.W (adder carry). */
    unsigned bad = 0;
    for (uint32_t imm12 = 0; imm12 < 4096; imm12++) {
        unsigned c;
        uint32_t want = ref_expand(imm12, 1, &c);
        cpu.r[1] = 0xffffffffu;
        set_nzcv(FC);
        run(0xf0110000u | ((imm12 >> 11) << 26) | (((imm12 >> 8) & 7) << 12) | (imm12 & 0xff));
        if (cpu.r[0] != want || ((nzcv() >> 1) & 1) != c) {
            bad++;
        }
    }
    check_eq("ands.w: every ThumbExpandImm value and carry", bad, 0);
    /* ADDS takes C from the adder, not the immediate's rotation */
    cpu.r[1] = 1;
    set_nzcv(0);
    run(0xf1114000u); /* adds.w r0, r1, #0x80000000 */
    check_eq("adds.w rotated imm", cpu.r[0], 0x80000001u);
    check_eq("adds.w rotated imm flags", nzcv(), FN);
    /* the plain binary immediates */
    run(0xf64f76ffu); /* movw r6, #0xffff */
    run(0xf2c12634u); /* movt r6, #0x1234 */
    check_eq("movw/movt", cpu.r[6], 0x1234ffffu);
    cpu.r[1] = 10;
    run(0xf60170ffu); /* addw r0, r1, #4095 */
    check_eq("addw", cpu.r[0], 4105);
    run(0xf2a140d2u); /* subw r0, r1, #1234 */
    check_eq("subw", cpu.r[0], (uint32_t)(10 - 1234));
}

static void test_it(void)
{
    reset_cpu();
    const uint16_t code[] = {
        0x2805, /* cmp r0, #5 */
        0xbf06, /* itte eq */
        0x2107, /* moveq r1, #7 (no flags) */
        0x3201, /* addeq r2, #1 (no flags) */
        0x2309, /* movne r3, #9 */
        0x2400, /* movs r4, #0 (outside: flags) */
    };
    uint32_t end = emit(CODE, code, 6);
    cpu.r[0] = 5;
    cpu.r[2] = 40;
    run_thumb(CODE, end - 2);
    check_eq("it: moveq ran", cpu.r[1], 7);
    check_eq("it: addeq ran", cpu.r[2], 41);
    check_eq("it: movne skipped", cpu.r[3], 0);
    check_eq("it: 16-bit ops in the block keep the flags", nzcv(), FZ | FC);
    check_eq("it: state left after the block", cpu.cpsr_it, 0);
    cpu.r[0] = 6;
    run_thumb(CODE, end);
    check_eq("it: ne path moveq skipped", cpu.r[1], 7);
    check_eq("it: ne path movne ran", cpu.r[3], 9);
    check_eq("it: movs outside the block sets flags", nzcv(), FZ | FC);
    /* A block that ends right after the IT: the IT handler leaves the state in the CPSR */
    cpu.cpsr_it = 0;
    run_thumb(CODE + 2, CODE + 4);
    check_eq("it: ITSTATE after IT alone", cpu.cpsr_it, 0x06);
    /* and the next block, starting from that state, runs the rest of the block */
    cpu.r[1] = 0;
    set_nzcv(0);
    run_thumb(CODE + 4, CODE + 10);
    check_eq("it: continued block, eq fails", cpu.r[1], 0);
    check_eq("it: continued block, ne passes", cpu.r[3], 9);

    /* Flag setting: 16-bit DP sets flags outside IT blocks only; 32-bit follows S */
    struct arm_uop op;
    static const struct {
        uint32_t insn;
        const char *name;
    } s16[] = {
        {0x1888, "adds"}, {0x3501, "adds imm8"}, {0x4008, "ands"}, {0x4088, "lsls reg"},
        {0x0048, "lsls imm"}, {0x4351, "muls"}, {0x425a, "negs"}, {0x43f5, "mvns"},
        {0x2001, "movs imm"}, {0x0008, "movs reg (lsl #0)"}, {0x1e08, "subs imm3"},
    };
    for (size_t i = 0; i < sizeof s16 / sizeof s16[0]; i++) {
        char what[64];
        name_at(s16[i].insn, 0, &op);
        snprintf(what, sizeof what, "%s outside IT sets flags", s16[i].name);
        check_eq(what, (op.flags & ARM_UOP_S) != 0, 1);
        name_at(s16[i].insn, 0x18, &op); /* IT NE, last */
        snprintf(what, sizeof what, "%s in IT: no S", s16[i].name);
        check_eq(what, (op.flags & ARM_UOP_S) != 0, 0);
        snprintf(what, sizeof what, "%s in IT: cond NE", s16[i].name);
        check_eq(what, op.cond, 1);
    }
    name_at(0x4288, 0x08, &op); /* cmpeq r0, r1 */
    check_eq("cmp in IT is conditional", op.cond, 0);
    name_at(0xeb110002u, 0x1c, &op); /* adds.w in IT keeps its S */
    check_eq("adds.w in IT: S", (op.flags & ARM_UOP_S) != 0, 1);
    check_eq("adds.w in IT: cond NE", op.cond, 1);
    name_at(0x1888, 0x1c, &op); /* in an ITT NE, first: cond NE */
    check_eq("itstate 1c: cond", op.cond, 1);
    check_eq("itstate 1c: handler", op.fn == arm_op_ADD_reg, 1);
    /* the else slot: ITE EQ (bf0c) second instruction has state 0x18 -> NE */
    check_eq("it advance", it_advance(0x0c), 0x18);
    name_at(0xbe01, 0x08, &op); /* bkpt in an IT block stays unconditional */
    check_eq("bkpt in IT is unconditional", op.cond, 0xe);
    name_at(0xdf01, 0x08, &op);
    check_eq("svc in IT is conditional", op.cond, 0);

    /* UNPREDICTABLE in IT blocks: UNDEFINED; branches only as the last instruction */
    static const struct {
        uint32_t insn;
        uint8_t it;
        bool undefined;
        const char *what;
    } rules[] = {
        {0xd0fe, 0x08, true, "b<cond> in IT"},         {0xf43fafea, 0x08, true, "beq.w in IT"},
        {0xb108, 0x08, true, "cbz in IT"},             {0xbf08, 0x08, true, "it in IT"},
        {0xb662, 0x08, true, "cpsie in IT"},           {0xb658, 0x08, true, "setend in IT"},
        {0x4770, 0x04, true, "bx lr not last"},        {0x4770, 0x08, false, "bx lr last"},
        {0xe7fe, 0x04, true, "b not last"},            {0xe7fe, 0x08, false, "b last"},
        {0xbd10, 0x0c, true, "pop {pc} not last"},     {0xbd10, 0x18, false, "pop {pc} last"},
        {0xbc10, 0x0c, false, "pop {r4} not last"},    {0x46f7, 0x04, true, "mov pc not last"},
        {0x4487, 0x04, true, "add pc not last"},       {0xf8d0f004u, 0x04, true, "ldr pc"},
        {0xe8d0f001u, 0x04, true, "tbb not last"},     {0xe8d0f001u, 0x08, false, "tbb last"},
        {0xf3de8f04u, 0x04, true, "subs pc not last"}, {0xf7fffffeu, 0x08, false, "bl last"},
        {0xbf0c, 0x00, false, "ite eq"},               {0xbfe8, 0x00, false, "it al"},
        {0xbfe4, 0x00, false, "itt al"},                {0xbff8, 0x00, true, "it 1111"},
        {0xbfec, 0x00, true, "ite al"},
        {0xf7e08000u, 0x08, true, "hvc in IT"},        {0xf7f08000u, 0x04, true, "smc in IT"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        name_at(rules[i].insn, rules[i].it, &op);
        check_eq(rules[i].what, op.fn == arm_op_UNDEFINED, rules[i].undefined);
    }
}

static void test_branches(void)
{
    reset_cpu();
    struct arm_uop op;
    /* CBZ/CBNZ: PC + 4 + i:imm5:'0', forward only; not taken falls through */
    cpu.r[0] = 0;
    check_eq("cbz taken", run(0xb100 | (1u << 9) | (31u << 3)), ARM_BRANCH);
    check_eq("cbz target (max)", cpu.next_pc, CODE + 4 + 126);
    check_eq("cbnz not taken", run(0xb900 | (2u << 3)), ARM_NEXT);
    cpu.r[3] = 1;
    check_eq("cbnz taken", run(0xb900 | (2u << 3) | 3), ARM_BRANCH);
    check_eq("cbnz target", cpu.next_pc, CODE + 4 + 4);
    check_eq("cbz ends block", (name_at(0xb108, 0, &op), op.flags & ARM_UOP_ENDS_BLOCK) != 0, 1);
    /* TBB [pc, r1]: the table follows the instruction (PC = insn + 4) */
    const uint16_t tbb[] = {0xe8df, 0xf001};
    emit(CODE, tbb, 2);
    arm_store(&cpu, CODE + 4, 1, 3, false, false);
    arm_store(&cpu, CODE + 5, 1, 0x80, false, false);
    cpu.r[1] = 1;
    check_eq("tbb [pc, r1]", run_thumb(CODE, 0), CODE + 4 + 0x100);
    cpu.r[1] = 0;
    check_eq("tbb [pc, r1] 0", run_thumb(CODE, 0), CODE + 4 + 6);
    /* TBH [r0, r1, lsl #1] */
    cpu.r[0] = MEM_BASE + 0x800;
    cpu.r[1] = 2;
    arm_store(&cpu, MEM_BASE + 0x804, 2, 0x1234, false, false);
    run(0xe8d0f011u);
    check_eq("tbh", cpu.next_pc, CODE + 4 + 0x2468);
    /* B<cond>: the condition is its own; target PC + 4 + offset */
    name_at(0xd1fe, 0, &op); /* bne . */
    check_eq("bne. cond", op.cond, 1);
    check_eq("bne. target", op.imm, CODE);
    name_at(0xf43fadbfu, 0, &op); /* beq.w with a negative offset */
    check_eq("beq.w target", op.imm, CODE + 4 - 0x482);
    check_eq("beq.w cond", op.cond, 0);
    /* B.W / BL with S, J1, J2: far forward and backward */
    name_at(0xf7ffbdb9u, 0, &op); /* b.w: from 0x48a to 0 */
    check_eq("b.w back", op.imm, CODE - 0x48a);
    name_at(0xf3ff97ffu, 0, &op); /* b.w +16 MB - 2 (S=0, J1=J2=1) */
    check_eq("b.w max forward", op.imm, CODE + 4 + 0xfffffe);
    name_at(0xf4009000u, 0, &op); /* b.w -16 MB (S=1, J1=J2=0) */
    check_eq("b.w max backward", op.imm, CODE + 4 - 0x1000000);
    /* BL: LR = next instruction | 1 */
    reset_cpu();
    check_eq("bl", run(0xf000f804u), ARM_BRANCH);
    check_eq("bl target", cpu.next_pc, CODE + 4 + 8);
    check_eq("bl lr", cpu.r[14], (CODE + 4) | 1);
    check_eq("bl stays Thumb", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 1);
    /* BLX (immediate) from a halfword-aligned address: Align(PC, 4) + offset, to ARM */
    check_eq("blx imm", run1(CODE + 2, 0xf000e944u, 0), ARM_BRANCH);
    check_eq("blx imm target", cpu.next_pc, ((CODE + 2 + 4) & ~3u) + 0x288);
    check_eq("blx imm lr", cpu.r[14], (CODE + 2 + 4) | 1);
    check_eq("blx imm to ARM", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 0);
    cpu.cpsr_rest |= ARM_CPSR_T;
    check_eq("blx imm H=1 undefined", (name_at(0xf000e945u, 0, &op), op.fn == arm_op_UNDEFINED),
             1);
    /* BLX r2 / BX lr interworking */
    cpu.r[2] = 0x3000;
    run1(CODE + 6, 0x4790, 0);
    check_eq("blx reg lr", cpu.r[14], (CODE + 8) | 1);
    check_eq("blx reg to ARM", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 0);
    cpu.r[14] = 0x5001;
    run(0x4770);
    check_eq("bx lr to Thumb", cpu.next_pc, 0x5000);
    check_eq("bx lr T", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 1);
    /* MOV pc, lr / ADD pc, r0: a branch within Thumb (ALUWritePC) */
    cpu.r[14] = 0x6001;
    check_eq("mov pc, lr", run(0x46f7), ARM_BRANCH);
    check_eq("mov pc, lr target", cpu.next_pc, 0x6000);
    cpu.r[0] = 0x100;
    run(0x4487);
    check_eq("add pc, r0", cpu.next_pc, CODE + 4 + 0x100);
    /* SUBS pc, lr, #4: exception return from SVC */
    cpu.r[14] = 0x7004;
    cpu.banked_spsr[ARM_BANK_SVC] = ARM_MODE_USR | ARM_CPSR_T | 0x80000000u;
    check_eq("subs pc, lr, #4", run(0xf3de8f04u), ARM_BRANCH);
    check_eq("subs pc, lr target", cpu.next_pc, 0x7000);
    check_eq("subs pc, lr mode", arm_cpu_mode(&cpu), ARM_MODE_USR);
    check_eq("subs pc, lr flags", nzcv(), FN);
    cpu.cpsr_rest = ARM_MODE_SVC | ARM_CPSR_T;
    /* SVC: return address past the instruction */
    exceptions = 0;
    check_eq("svc", run(0xdf05), ARM_BRANCH);
    check_eq("svc return", last_exc_ret, CODE + 2);
}

static void test_pc_relative(void)
{
    reset_cpu();
    struct arm_uop op;
    /* ADR / LDR (literal) at a halfword-aligned address use Align(PC, 4) */
    run1(CODE + 2, 0xa002, 0); /* adr r0, #8 */
    check_eq("adr at +2", cpu.r[0], CODE + 4 + 8);
    run1(CODE, 0xa002, 0);
    check_eq("adr at +0", cpu.r[0], CODE + 4 + 8);
    run1(CODE + 2, 0xf2af0008u, 0); /* subw r0, pc, #8 (adr.w) */
    check_eq("adr.w sub", cpu.r[0], CODE + 4 - 8);
    run1(CODE + 2, 0xf20f0008u, 0); /* addw r0, pc, #8 */
    check_eq("adr.w add", cpu.r[0], CODE + 4 + 8);
    arm_store(&cpu, CODE + 8, 4, 0xcafef00du, false, false);
    arm_store(&cpu, CODE + 12, 4, 0x0badbeefu, false, false);
    run1(CODE + 2, 0x4801, 0); /* ldr r0, [pc, #4] */
    check_eq("ldr literal at +2", cpu.r[0], 0xcafef00du);
    run1(CODE + 6, 0xf85f0000u, 0); /* ldr.w r0, [pc, #-0] */
    check_eq("ldr.w literal", cpu.r[0], 0xcafef00du);
    run1(CODE + 0x16, 0xf85f000cu, 0); /* ldr.w r0, [pc, #-12] */
    check_eq("ldr.w literal negative", cpu.r[0], 0x0badbeefu);
    run1(CODE + 2, 0xe9df2301u, 0); /* ldrd r2, r3, [pc, #4] */
    check_eq("ldrd literal lo", cpu.r[2], 0xcafef00du);
    check_eq("ldrd literal hi", cpu.r[3], 0x0badbeefu);
    run1(CODE + 2, 0xf8bf0006u, 0); /* ldrh.w r0, [pc, #6] */
    check_eq("ldrh.w literal", cpu.r[0], 0xcafeu);
    /* PC as a plain operand reads the instruction's address + 4, unaligned */
    run1(CODE + 2, 0x4678, 0); /* mov r0, pc */
    check_eq("mov r0, pc", cpu.r[0], CODE + 6);
    cpu.r[3] = 1;
    run1(CODE + 2, 0x447b, 0); /* add r3, pc */
    check_eq("add r3, pc", cpu.r[3], CODE + 7);
    name_at(0xf20f0008u, 0, &op);
    check_eq("adr.w is ADR", op.fn == arm_op_ADR, 1);
}

static void test_stack(void)
{
    reset_cpu();
    cpu.r[13] = MEM_BASE + 0x1000;
    cpu.r[4] = 0x44;
    cpu.r[14] = 0x1235;
    run(0xb510); /* push {r4, lr} */
    check_eq("push sp", cpu.r[13], MEM_BASE + 0x1000 - 8);
    check_eq("push r4", arm_load(&cpu, MEM_BASE + 0x1000 - 8, 4, false, false), 0x44);
    check_eq("push lr", arm_load(&cpu, MEM_BASE + 0x1000 - 4, 4, false, false), 0x1235);
    cpu.r[4] = 0;
    check_eq("pop {r4, pc}", run(0xbd10), ARM_BRANCH);
    check_eq("pop r4", cpu.r[4], 0x44);
    check_eq("pop pc Thumb target", cpu.next_pc, 0x1234);
    check_eq("pop pc stays Thumb", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 1);
    check_eq("pop sp", cpu.r[13], MEM_BASE + 0x1000);
    /* POP to an ARM address interworks */
    cpu.r[14] = 0x2000;
    run(0xb500); /* push {lr} */
    run(0xbd00); /* pop {pc} */
    check_eq("pop pc ARM target", cpu.next_pc, 0x2000);
    check_eq("pop pc to ARM", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 0);
    cpu.cpsr_rest |= ARM_CPSR_T;
    /* PUSH.W / POP.W with LR and PC */
    for (unsigned i = 4; i <= 11; i++) {
        cpu.r[i] = 0x100 + i;
    }
    cpu.r[14] = 0x3001;
    run(0xe92d4ff0u); /* push.w {r4-r11, lr} */
    check_eq("push.w sp", cpu.r[13], MEM_BASE + 0x1000 - 36);
    check_eq("push.w lr slot", arm_load(&cpu, MEM_BASE + 0x1000 - 4, 4, false, false), 0x3001);
    for (unsigned i = 4; i <= 11; i++) {
        cpu.r[i] = 0;
    }
    check_eq("pop.w {r4-r11, pc}", run(0xe8bd8ff0u), ARM_BRANCH);
    check_eq("pop.w r11", cpu.r[11], 0x10b);
    check_eq("pop.w pc", cpu.next_pc, 0x3000);
    check_eq("pop.w sp", cpu.r[13], MEM_BASE + 0x1000);
    /* 16-bit LDM: write-back only when Rn is not in the list */
    arm_store(&cpu, MEM_BASE + 0x200, 4, 11, false, false);
    arm_store(&cpu, MEM_BASE + 0x204, 4, 22, false, false);
    cpu.r[1] = MEM_BASE + 0x200;
    run(0xc905); /* ldmia r1!, {r0, r2} */
    check_eq("ldmia! r2", cpu.r[2], 22);
    check_eq("ldmia! wb", cpu.r[1], MEM_BASE + 0x208);
    cpu.r[1] = MEM_BASE + 0x200;
    run(0xc903); /* ldmia r1, {r0, r1} */
    check_eq("ldmia r1 in list", cpu.r[1], 22);
    /* STR/LDR with SP, LDR pre-indexed write-back */
    cpu.r[13] = MEM_BASE + 0x300;
    cpu.r[7] = 77;
    run(0x9701); /* str r7, [sp, #4] */
    check_eq("str sp", arm_load(&cpu, MEM_BASE + 0x304, 4, false, false), 77);
    cpu.r[1] = MEM_BASE + 0x308;
    run(0xf8510d04u); /* ldr.w r0, [r1, #-4]! */
    check_eq("ldr pre wb value", cpu.r[0], 77);
    check_eq("ldr pre wb base", cpu.r[1], MEM_BASE + 0x304);
    run(0xf8510b04u); /* ldr.w r0, [r1], #4 */
    check_eq("ldr post base", cpu.r[1], MEM_BASE + 0x308);
    cpu.r[2] = 1;
    cpu.r[1] = MEM_BASE + 0x2fc;
    run(0xf8510022u); /* ldr.w r0, [r1, r2, lsl #2] */
    check_eq("ldr reg lsl #2", cpu.r[0], 0);
    cpu.r[0] = 0;
    cpu.r[1] = MEM_BASE + 0x300;
    run(0xf8510e04u); /* ldrt r0, [r1, #4] */
    check_eq("ldrt", cpu.r[0], 77);
    check_eq("ldrt no wb", cpu.r[1], MEM_BASE + 0x300);
    /* LDR pc interworks */
    arm_store(&cpu, MEM_BASE + 0x310, 4, 0x8001, false, false);
    cpu.r[0] = MEM_BASE + 0x30c;
    check_eq("ldr.w pc", run(0xf8d0f004u), ARM_BRANCH);
    check_eq("ldr.w pc target", cpu.next_pc, 0x8000);
    /* LDRD with non-consecutive registers and write-back; STREX/LDREXD field mapping */
    arm_store(&cpu, MEM_BASE + 0x408, 4, 0xa, false, false);
    arm_store(&cpu, MEM_BASE + 0x40c, 4, 0xb, false, false);
    cpu.r[1] = MEM_BASE + 0x400;
    run(0xe9f14702u); /* ldrd r4, r7, [r1, #8]! */
    check_eq("ldrd r4", cpu.r[4], 0xa);
    check_eq("ldrd r7", cpu.r[7], 0xb);
    check_eq("ldrd wb", cpu.r[1], MEM_BASE + 0x408);
    cpu.r[2] = MEM_BASE + 0x404;
    cpu.r[1] = 0x55;
    run(0xe8421301u); /* strex r3, r1, [r2, #4] */
    check_eq("strex status", cpu.r[3], 0);
    check_eq("strex value", arm_load(&cpu, MEM_BASE + 0x408, 4, false, false), 0x55);
    cpu.r[2] = MEM_BASE + 0x408;
    run(0xe8d2457fu); /* ldrexd r4, r5, [r2] */
    check_eq("ldrexd lo", cpu.r[4], 0x55);
    check_eq("ldrexd hi", cpu.r[5], 0xb);
    run(0xe8c24573u); /* strexd r3, r4, r5, [r2] (the stub fails it) */
    check_eq("strexd status", cpu.r[3], 1);
    /* STRH pre-indexed write-back; LDRSH with a register offset */
    cpu.r[0] = 0x8765;
    cpu.r[1] = MEM_BASE + 0x500;
    run(0xf8210f02u); /* strh.w r0, [r1, #2]! */
    check_eq("strh wb", cpu.r[1], MEM_BASE + 0x502);
    cpu.r[2] = 1;
    cpu.r[1] = MEM_BASE + 0x500;
    run(0xf9310012u); /* ldrsh.w r0, [r1, r2, lsl #1] */
    check_eq("ldrsh reg", cpu.r[0], 0xffff8765u);
    /* PLD never faults */
    cpu.r[0] = 0;
    check_eq("pld", run(0xf810fc04u), ARM_NEXT);
}

static void test_shifts(void)
{
    reset_cpu();
    static const struct {
        uint32_t insn;
        unsigned amount;
        uint32_t value;
        unsigned c;
    } cases[] = {
        {0x4088, 0, 0x80000001u, 1},   {0x4088, 1, 0x00000002u, 1},
        {0x4088, 31, 0x80000000u, 0},  {0x4088, 32, 0, 1},
        {0x4088, 33, 0, 0},            {0x4088, 255, 0, 0},
        {0x4088, 256, 0x80000001u, 1}, {0x40c8, 1, 0x40000000u, 1},
        {0x40c8, 32, 0, 1},            {0x40c8, 33, 0, 0},
        {0x4108, 31, 0xffffffffu, 0},  {0x4108, 200, 0xffffffffu, 1},
        {0x41c8, 1, 0xc0000000u, 1},   {0x41c8, 32, 0x80000001u, 1},
        {0x41c8, 33, 0xc0000000u, 1},  {0x41c8, 0, 0x80000001u, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        set_nzcv(FC);
        cpu.r[0] = 0x80000001u;
        cpu.r[1] = cases[i].amount;
        run(cases[i].insn); /* lsls/lsrs/asrs/rors r0, r1 */
        snprintf(what, sizeof what, "%04x by %u value", cases[i].insn, cases[i].amount);
        check_eq(what, cpu.r[0], cases[i].value);
        snprintf(what, sizeof what, "%04x by %u carry", cases[i].insn, cases[i].amount);
        check_eq(what, (nzcv() >> 1) & 1, cases[i].c);
        check_eq("shift amount register kept", cpu.r[1], cases[i].amount);
    }
    /* in an IT block: no flags */
    set_nzcv(FZ);
    cpu.r[0] = 1;
    cpu.r[1] = 33;
    run1(CODE, 0x4088, 0x08); /* lsleq r0, r1 */
    check_eq("lsl in IT value", cpu.r[0], 0);
    check_eq("lsl in IT flags", nzcv(), FZ);
    /* 32-bit: LSL.W r0, r1, r2 (value Rn, amount Rm) */
    cpu.r[1] = 3;
    cpu.r[2] = 4;
    run(0xfa01f002u);
    check_eq("lsl.w", cpu.r[0], 48);
    /* immediate shifts through MOV.W: lsr #4, rrx with S */
    cpu.r[1] = 0x81;
    run(0xea4f1011u);
    check_eq("mov.w lsr #4", cpu.r[0], 8);
    set_nzcv(FC);
    run(0xea5f0031u); /* movs.w r0, r1, rrx */
    check_eq("rrxs value", cpu.r[0], 0x80000040u);
    check_eq("rrxs flags", nzcv(), FN | FC);
    /* 16-bit LSRS #32 / ASRS #32 */
    cpu.r[1] = 0x80000000u;
    run(0x0808); /* lsrs r0, r1, #32 */
    check_eq("lsrs #32", cpu.r[0], 0);
    check_eq("lsrs #32 C", nzcv(), FZ | FC);
    run(0x1008); /* asrs r0, r1, #32 */
    check_eq("asrs #32", cpu.r[0], 0xffffffffu);
}

static void test_fields(void)
{
    reset_cpu();
    /* multiplies: T32 field positions (Rn 19:16, Ra 15:12, Rd 11:8, Rm 3:0, N/M bits 5:4) */
    cpu.r[1] = 0x00030002u;
    cpu.r[2] = 0x00050007u;
    run(0xfb11f022u); /* smultb r0, r1, r2: 3 * 7 */
    check_eq("smultb", cpu.r[0], 21);
    cpu.r[3] = 100;
    run(0xfb113032u); /* smlatt r0, r1, r2, r3: 3 * 5 + 100 */
    check_eq("smlatt", cpu.r[0], 115);
    run(0xfb21f012u); /* smuadx r0, r1, r2: 2 * 5 + 3 * 7 */
    check_eq("smuadx", cpu.r[0], 31);
    run(0xfb31f012u); /* smulwt r0, r1, r2: (0x30002 * 5) >> 16 */
    check_eq("smulwt", cpu.r[0], (0x30002u * 5) >> 16);
    cpu.r[0] = 1;
    cpu.r[1] = 2;
    cpu.r[2] = 0xffff0003u; /* bottom 3 */
    cpu.r[3] = 0x00040000u; /* top 4 */
    run(0xfbc20193u); /* smlalbt r0, r1, r2, r3: r1:r0 += 3 * 4 */
    check_eq("smlalbt lo", cpu.r[0], 13);
    check_eq("smlalbt hi", cpu.r[1], 2);
    cpu.r[0] = 1;
    cpu.r[1] = 2;
    cpu.r[2] = 3;
    cpu.r[3] = 4;
    run(0xfbe20163u); /* umaal r0, r1, r2, r3 */
    check_eq("umaal lo", cpu.r[0], 15);
    check_eq("umaal hi", cpu.r[1], 0);
    cpu.r[1] = 3;
    cpu.r[2] = 4;
    cpu.r[3] = 20;
    run(0xfb013012u); /* mls r0, r1, r2, r3 */
    check_eq("mls", cpu.r[0], 8);
    cpu.r[1] = 7;
    cpu.r[2] = 3;
    run(0xfb92f0f1u); /* sdiv r0, r2, r1 */
    check_eq("sdiv", cpu.r[0], 0);
    run(0xfb91f0f2u); /* sdiv r0, r1, r2 */
    check_eq("sdiv 7/3", cpu.r[0], 2);
    /* saturation and bit fields */
    cpu.r[1] = 1000;
    run(0xf3210087u); /* ssat r0, #8, r1, asr #2: 250 -> 127 */
    check_eq("ssat asr", cpu.r[0], 127);
    cpu.r[1] = 100;
    run(0xf3810004u); /* usat r0, #4, r1 */
    check_eq("usat", cpu.r[0], 15);
    cpu.r[0] = 0xffffffffu;
    cpu.r[1] = 0x12345678u;
    run(0xf361100bu); /* bfi r0, r1, #4, #8 */
    check_eq("bfi", cpu.r[0], 0xfffff78fu);
    cpu.r[1] = 0x00000f80u;
    run(0xf3c110c4u); /* ubfx r0, r1, #7, #5 */
    check_eq("ubfx", cpu.r[0], 0x1f);
    run(0xf36f001fu); /* bfc r0, #0, #32 */
    check_eq("bfc", cpu.r[0], 0);
    /* extend, saturating add, pack, ORN, REV */
    cpu.r[1] = 1;
    cpu.r[2] = 0x00ff8000u;
    run(0xfa01f092u); /* sxtah r0, r1, r2, ror #8 */
    check_eq("sxtah ror 8", cpu.r[0], 1 + 0xffffff80u);
    cpu.r[1] = 0x7fffffffu;
    cpu.r[2] = 1;
    run(0xfa82f081u); /* qadd r0, r1, r2 */
    check_eq("qadd", cpu.r[0], 0x7fffffffu);
    check_eq("qadd Q", cpu.cpsr_q, ARM_CPSR_Q);
    cpu.r[1] = 0x12345678u;
    cpu.r[2] = 0xabcd0000u;
    run(0xeac12022u); /* pkhtb r0, r1, r2, asr #8 */
    check_eq("pkhtb", cpu.r[0], 0x1234cd00u);
    cpu.r[1] = 0xf0;
    cpu.r[2] = 0xf;
    run(0xea611002u); /* orn r0, r1, r2, lsl #4 */
    check_eq("orn", cpu.r[0], 0xffffffffu);
    cpu.r[1] = 0x11223344u;
    run(0xba08); /* rev r0, r1 */
    check_eq("rev", cpu.r[0], 0x44332211u);
    /* MRS with T masked */
    run(0xf3ef8000u);
    check_eq("mrs T masked", cpu.r[0] & ARM_CPSR_T, 0);
}

static void test_system(void)
{
    reset_cpu();
    struct arm_uop op;
    /* CPS: A/I/F bit positions of the 16-bit and 32-bit forms */
    run(0xb662); /* cpsie i */
    check_eq("cpsie i", cpu.cpsr_rest & ARM_CPSR_I, 0);
    run(0xb677); /* cpsid aif */
    check_eq("cpsid aif", cpu.cpsr_rest & (ARM_CPSR_A | ARM_CPSR_I | ARM_CPSR_F),
             ARM_CPSR_A | ARM_CPSR_I | ARM_CPSR_F);
    run(0xf3af8440u); /* cpsie.w i */
    check_eq("cpsie.w i", cpu.cpsr_rest & ARM_CPSR_I, 0);
    run(0xf3af8773u); /* cpsid if, #0x13 */
    check_eq("cpsid if, #19 mode", arm_cpu_mode(&cpu), ARM_MODE_SVC);
    run(0xf3af8112u); /* cps #0x12 */
    check_eq("cps #18", arm_cpu_mode(&cpu), ARM_MODE_IRQ);
    run(0xb658); /* setend be */
    check_eq("setend be", (cpu.cpsr_rest & ARM_CPSR_E) != 0, 1);
    run(0xb650);
    check_eq("setend le", (cpu.cpsr_rest & ARM_CPSR_E) != 0, 0);
    /* MSR CPSR_c / APSR_nzcvq, MRS */
    cpu.r[0] = 0x13;
    run(0xf3808100u); /* msr cpsr_c, r0 */
    check_eq("msr cpsr_c", arm_cpu_mode(&cpu), ARM_MODE_SVC);
    cpu.r[1] = 0xa0000000u;
    run(0xf3818800u); /* msr apsr_nzcvq, r1 */
    check_eq("msr apsr", nzcv(), FN | FC);
    /* MRC p15 fields (same as A32), MCR ends the block */
    run(0xee100fb0u); /* mrc p15, 0, r0, c0, c0, 5 */
    check_eq("mrc fields", cpu.r[0], 0x00000005u);
    run(0xec510f1eu); /* mrrc p15, 1, r0, r1, c14 */
    check_eq("mrrc hi", cpu.r[1], 0x11223344u);
    /* the IT handler */
    run(0xbf0c);
    check_eq("IT writes ITSTATE", cpu.cpsr_it, 0x0c);
    /* BKPT, UDF, HVC (handler), banked MRS (UNDEFINED) */
    undefs = 0;
    run(0xde00);
    run(0xf7f0a000u);
    run(0xf3e08020u); /* mrs r0, r8_usr */
    check_eq("udf + udf.w + mrs banked", undefs, 3);
    check_eq("hvc", name_at(0xf7e18234u, 0, &op)[0] == 'H' && op.imm == 0x1234, 1);
    check_eq("smc imm", (name_at(0xf7f38000u, 0, &op), op.imm), 3);
    /* ENDS_BLOCK */
    static const uint32_t ends[] = {
        0x4770,      0xbd10,      0x46f7,      0x4487,      0xe7fe,      0xd0fe,
        0xdf00,      0xb108,      0xb662,      0xbf30,      0xde00,      0xf8d0f004u,
        0xf000f804u, 0xf3808100u, 0xee010f10u, 0xf3bf8f6fu, 0xe8d0f001u, 0xf3de8f04u,
        0xe8bd8010u, 0xe990c000u, 0xf85dfb04u, 0xf3c48f00u,
    };
    dc_check_ends_block(ends, sizeof ends / sizeof ends[0], true, decode_at);
    static const uint32_t not_ends[] = {0x1888, 0x6808, 0xbf08, 0xbc10, 0xf3bf8f5fu,
                                        0xe8bd0ff0u, 0x4608, 0xfb01f002u};
    dc_check_ends_block(not_ends, sizeof not_ends / sizeof not_ends[0], false, decode_at);
}

static void semantics(void)
{
    test_expand_imm();
    test_it();
    test_branches();
    test_pc_relative();
    test_stack();
    test_shifts();
    test_fields();
    test_system();
}

int main(int argc, char **argv)
{
    static const struct dc_program prog = {
        .check_line = check_line,
        .note = note,
        .state = "thumb",
        .random_line = random_line,
        .semantics = semantics,
    };
    return dc_main(argc, argv, &prog);
}
