/*
 * Standalone test of the A32 decoder and the integer handlers (decode_a32.c, ops_*.c), with
 * stubs for everything the rest of the CPU provides. Built and run by run-test-decode-a32.sh.
 *
 *   test_decode_a32 --objdump FILE [--strict]
 *       FILE is `arm-none-eabi-objdump -d` output. Every instruction line is decoded; the
 *       handler chosen must be one the objdump mnemonic allows (table below). With --strict
 *       (the hand-written corpus) an UNDEFINED decode of an instruction objdump accepts is an
 *       error; without it (random encodings) such cases are counted and listed, because the
 *       decoder deliberately rejects some UNPREDICTABLE encodings that objdump prints.
 *   test_decode_a32 --random N SEED
 *       prints N random encodings as `.inst` lines, for the random cross-check.
 *   test_decode_a32 --semantics
 *       runs handler semantics checks on a stub CPU.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_check.h"
#include "ops.h"
#include "stub_cpu.h"

/* ==== decoder cross-check against objdump =================================================== */

/* objdump mnemonic (condition stripped; "^" appended for the LDM/STM User/exception-return
 * forms) -> handlers that may implement it, where they differ from T32 (decode_check.c has the
 * mnemonics both share). */
static const struct dc_name name_map[] = {
#define DP3(m, H) {m, H "_imm " H "_reg " H "_rsr"}, {m "s", H "_imm " H "_reg " H "_rsr"}
    DP3("and", "AND"), DP3("eor", "EOR"), {"subs", "SUB_imm SUB_reg SUB_rsr"}, DP3("rsb", "RSB"),
    DP3("adc", "ADC"), DP3("sbc", "SBC"), DP3("rsc", "RSC"), DP3("orr", "ORR"),
    DP3("bic", "BIC"), DP3("mvn", "MVN"),
    {"add", "ADD_imm ADD_reg ADD_rsr ADR"}, {"adds", "ADD_imm ADD_reg ADD_rsr"},
    {"sub", "SUB_imm SUB_reg SUB_rsr ADR"},
    {"adr", "ADR"},
    {"tst", "TST_imm TST_reg TST_rsr"}, {"teq", "TEQ_imm TEQ_reg TEQ_rsr"},
    {"cmp", "CMP_imm CMP_reg CMP_rsr"}, {"cmn", "CMN_imm CMN_reg CMN_rsr"},
    {"mlas", "MLA"}, {"umulls", "UMULL"}, {"umlals", "UMLAL"}, {"smulls", "SMULL"},
    {"smlals", "SMLAL"},
    {"ldrd", "LDRD_imm LDRD_reg LDRD_lit"}, {"strd", "STRD_imm STRD_reg"},
    {"ldrt", "LDRT_imm LDRT_reg"}, {"ldrbt", "LDRBT_imm LDRBT_reg"},
    {"ldrht", "LDRHT_imm LDRHT_reg"}, {"ldrsbt", "LDRSBT_imm LDRSBT_reg"},
    {"ldrsht", "LDRSHT_imm LDRSHT_reg"}, {"strt", "STRT_imm STRT_reg"},
    {"strbt", "STRBT_imm STRBT_reg"}, {"strht", "STRHT_imm STRHT_reg"},
    {"ldmfa", "LDMDA"}, {"ldmed", "LDMIB"}, {"stmfa", "STMIB"}, {"stmed", "STMDA"},
    {"ldmfd^", "LDM_user LDM_eret"}, {"ldmda", "LDMDA"}, {"ldmib", "LDMIB"}, {"stmda", "STMDA"},
    {"stmib", "STMIB"},
    {"ldm^", "LDM_user LDM_eret"}, {"ldmia^", "LDM_user LDM_eret"},
    {"ldmda^", "LDM_user LDM_eret"}, {"ldmdb^", "LDM_user LDM_eret"},
    {"ldmib^", "LDM_user LDM_eret"}, {"stm^", "STM_user"}, {"stmia^", "STM_user"},
    {"stmda^", "STM_user"}, {"stmdb^", "STM_user"}, {"stmib^", "STM_user"},
    {"swp", "SWP"}, {"swpb", "SWPB"},
    {"srsda", "SRS"}, {"srsdb", "SRS"}, {"srsia", "SRS"}, {"srsib", "SRS"},
    {"rfeda", "RFE"}, {"rfedb", "RFE"}, {"rfeia", "RFE"}, {"rfeib", "RFE"},
    {"msr", "MSR_imm MSR_reg"},
    /* ARMv7 Virtualization Extensions (not on this core): UNDEFINED */
    {"eret", "UNDEFINED"},
};

static const char *lookup_handlers(const char *mnemonic)
{
    return dc_lookup(name_map, sizeof name_map / sizeof name_map[0], mnemonic);
}

/*
 * Parts of the encoding space judged by encoding rather than by objdump's mnemonic:
 *   - the coprocessor space (objdump names other coprocessors' operations after Maverick/FPA
 *     instructions): CP10/11 go to the VFP decoder, CP15 (and CP14 debug reads) to MCR/MRC/
 *     MCRR/MRRC, everything else is UNDEFINED;
 *   - the Advanced SIMD spaces, which belong to the VFP decoder whatever objdump says;
 *   - the unallocated memory hints, which the ARM ARM (A5.7.1) executes as NOP and objdump
 *     calls UNDEFINED.
 * NULL for everything else.
 */
static const char *space_expectation(uint32_t insn)
{
    unsigned cond = insn >> 28, op1 = (insn >> 20) & 0x3f, cp = (insn >> 8) & 0xf;
    if (cond == 0xf && ((insn & 0xfe000000u) == 0xf2000000u ||
                        (insn & 0xff100000u) == 0xf4000000u)) {
        return "VFP";
    }
    if (cond == 0xf && ((insn & 0xff700000u) == 0xf4100000u ||
                        (insn & 0xff700010u) == 0xf6100000u)) {
        return "NOP";
    }
    if (((insn >> 26) & 3) != 3 || (insn >> 24 & 0xf) == 0xf) {
        return NULL; /* not coprocessor (SVC) */
    }
    if (cond == 0xf) {
        return "UNDEFINED"; /* LDC2 MCR2 ... */
    }
    if ((op1 & 0x3e) == 0) {
        return "UNDEFINED";
    }
    if (cp == 10 || cp == 11) {
        return "VFP";
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

/* Encodings where objdump shows pre-ARMv6 forms, which are no oracle. */
static unsigned legacy;

static void check_line(struct dc_run *run, const char *line)
{
    unsigned addr, insn;
    char mnem[64] = "", rest[400] = "";
    int consumed = 0;
    if (sscanf(line, " %x: %8x %n", &addr, &insn, &consumed) != 2 || consumed == 0) {
        return;
    }
    const char *p = line + consumed;
    sscanf(p, "%63s %399[^\n]", mnem, rest);
    bool objdump_undef = strstr(line, "<UNDEFINED>") != NULL;
    bool unpredictable = strstr(line, "UNPREDICTABLE") != NULL;
    if (objdump_undef) {
        strcpy(mnem, "<UNDEFINED>");
    }

    struct arm_uop op;
    arm_decode_a32(addr, insn, &op);
    const char *got = dc_handler(run, insn, op.fn, arm_a32_handler_name(op.fn));
    if (got == NULL) {
        return;
    }

    /* What the handler should be. */
    char key[80];
    snprintf(key, sizeof key, "%s", mnem);
    unsigned cond = insn >> 28;
    const char *expected = dc_settled(space_expectation(insn), objdump_undef, mnem);
    if (expected == NULL) {
        /* Strip the condition, then mark the ^ forms of LDM/STM. */
        if (cond < 0xe) {
            dc_strip_cond(key, cond);
        }
        if (strstr(rest, "}^") != NULL) {
            strcat(key, "^");
        }
        /* objdump's table has pre-ARMv6 TSTP/TEQP/CMPP/CMNP forms (S = 0), which are the
         * MSR/miscellaneous/halfword-multiply space on ARMv7: not an oracle there. */
        if ((insn & 0x0d900000u) == 0x01000000u &&
            (strcmp(key, "tst") == 0 || strcmp(key, "teq") == 0 || strcmp(key, "cmp") == 0 ||
             strcmp(key, "cmn") == 0)) {
            legacy++;
            return;
        }
        expected = lookup_handlers(key);
        if (expected == NULL) {
            printf("FAIL %08x: objdump mnemonic \"%s\" (%s) is not in the map; "
                   "decoded as %s\n",
                   insn, mnem, key, got);
            run->errors++;
            return;
        }
    }
    dc_judge(run, got, expected, key, insn, unpredictable, "", mnem, rest);
}

static void note(char *buf, size_t size)
{
    snprintf(buf, size, "%u where objdump shows pre-ARMv6 forms", legacy);
}

static void random_line(unsigned i)
{
    uint32_t insn = dc_rng();
    /* Mostly "always" and the unconditional space, some other conditions. */
    switch (i % 4) {
    case 0:
    case 1:
        insn = (insn & 0x0fffffffu) | 0xe0000000u;
        break;
    case 2:
        insn = (insn & 0x0fffffffu) | 0xf0000000u;
        break;
    default:
        break;
    }
    /* objdump insists on should-be-zero/one bits, which the decoder ignores: show it the
     * canonical form of what the decoder recognised. */
    printf("\t.inst 0x%08x\n", arm_a32_canonical(insn));
}

/* ==== handler semantics ===================================================================== */

#define PC0 0x8000u

/* Decodes insn at PC0 and runs it (condition ignored). Returns the handler's result or -1 if
 * it escaped (fault or UNDEFINED). */
static int run(uint32_t insn)
{
    struct arm_uop op;
    arm_decode_a32(PC0, insn, &op);
    cpu.r[15] = PC0;
    return dc_call(&op);
}

/* Decodes insn at PC0 into *op; the handler's name. */
static const char *decode_at(uint32_t insn, struct arm_uop *op)
{
    arm_decode_a32(PC0, insn, op);
    const char *n = arm_a32_handler_name(op->fn);
    return n ? n : "?";
}

static void reset_cpu(void)
{
    dc_reset_cpu(ARM_MODE_SVC | ARM_CPSR_I | ARM_CPSR_F);
}

/* Encoders for the tests (cond = AL). */
static uint32_t dp_imm(unsigned opc, unsigned s, unsigned rd, unsigned rn, unsigned rot,
                       unsigned imm8)
{
    return 0xe2000000u | (opc << 21) | (s << 20) | (rn << 16) | (rd << 12) | (rot << 8) | imm8;
}
static uint32_t dp_reg(unsigned opc, unsigned s, unsigned rd, unsigned rn, unsigned rm,
                       unsigned type, unsigned imm5)
{
    return 0xe0000000u | (opc << 21) | (s << 20) | (rn << 16) | (rd << 12) | (imm5 << 7) |
           (type << 5) | rm;
}
static uint32_t dp_rsr(unsigned opc, unsigned s, unsigned rd, unsigned rn, unsigned rm,
                       unsigned type, unsigned rs)
{
    return 0xe0000010u | (opc << 21) | (s << 20) | (rn << 16) | (rd << 12) | (rs << 8) |
           (type << 5) | rm;
}
enum { AND, EOR, SUB, RSB, ADD, ADC, SBC, RSC, TST, TEQ, CMP, CMN, ORR, MOV, BIC, MVN };

static void test_flags(void)
{
    /* ADDS: 0x7fffffff + 1 -> N V */
    reset_cpu();
    cpu.r[1] = 0x7fffffff;
    run(dp_imm(ADD, 1, 0, 1, 0, 1));
    check_eq("adds overflow result", cpu.r[0], 0x80000000u);
    check_eq("adds overflow flags", nzcv(), FN | FV);
    /* ADDS: 0xffffffff + 1 -> Z C */
    cpu.r[1] = 0xffffffff;
    run(dp_imm(ADD, 1, 0, 1, 0, 1));
    check_eq("adds carry flags", nzcv(), FZ | FC);
    /* SUBS: 0 - 1 -> N, no carry (borrow) */
    cpu.r[1] = 0;
    run(dp_imm(SUB, 1, 0, 1, 0, 1));
    check_eq("subs borrow", nzcv(), FN);
    /* SUBS: 5 - 5 -> Z C */
    cpu.r[1] = 5;
    cpu.r[2] = 5;
    run(dp_reg(SUB, 1, 0, 1, 2, 0, 0));
    check_eq("subs equal", nzcv(), FZ | FC);
    /* SUBS: 0x80000000 - 1 -> V C */
    cpu.r[1] = 0x80000000u;
    run(dp_imm(SUB, 1, 0, 1, 0, 1));
    check_eq("subs overflow", nzcv(), FC | FV);
    /* ADCS with C=1: 0xffffffff + 0 + 1 = 0, Z C */
    set_nzcv(FC);
    cpu.r[1] = 0xffffffff;
    cpu.r[2] = 0;
    run(dp_reg(ADC, 1, 0, 1, 2, 0, 0));
    check_eq("adcs result", cpu.r[0], 0);
    check_eq("adcs flags", nzcv(), FZ | FC);
    /* ADCS with C=0: 1 + 2 = 3 */
    set_nzcv(0);
    cpu.r[1] = 1;
    cpu.r[2] = 2;
    run(dp_reg(ADC, 1, 0, 1, 2, 0, 0));
    check_eq("adcs c=0", cpu.r[0], 3);
    /* SBCS with C=0: 5 - 3 - 1 = 1, C set */
    set_nzcv(0);
    cpu.r[1] = 5;
    cpu.r[2] = 3;
    run(dp_reg(SBC, 1, 0, 1, 2, 0, 0));
    check_eq("sbcs result", cpu.r[0], 1);
    check_eq("sbcs flags", nzcv(), FC);
    /* RSCS with C=1: r2 - r1 = 3 - 5 = -2: N, no C */
    set_nzcv(FC);
    run(dp_reg(RSC, 1, 0, 1, 2, 0, 0));
    check_eq("rscs result", cpu.r[0], 0xfffffffeu);
    check_eq("rscs flags", nzcv(), FN);
    /* RSCS with C=0: 3 - 5 - 1 = -3 */
    set_nzcv(0);
    run(dp_reg(RSC, 1, 0, 1, 2, 0, 0));
    check_eq("rscs c=0", cpu.r[0], 0xfffffffdu);
    /* RSCS with C=0: 0 - 0 - 1: C clear, N */
    cpu.r[1] = 0;
    cpu.r[2] = 0;
    set_nzcv(FV);
    run(dp_reg(RSC, 1, 0, 1, 2, 0, 0));
    check_eq("rscs 0-0-1 flags", nzcv(), FN);
    /* CMP / CMN / TST / TEQ don't write Rd */
    cpu.r[0] = 0x1234;
    cpu.r[1] = 3;
    run(dp_imm(CMP, 1, 0, 1, 0, 3));
    check_eq("cmp flags", nzcv(), FZ | FC);
    check_eq("cmp no write", cpu.r[0], 0x1234);
    run(dp_imm(CMN, 1, 0, 1, 0, 3));
    check_eq("cmn flags", nzcv(), 0);
    /* TST with a rotated immediate: carry from bit 31 of the immediate */
    set_nzcv(FV);
    cpu.r[1] = 0x80000000u;
    run(dp_imm(TST, 1, 0, 1, 1, 2)); /* #0x80000000 (2 ror 2) */
    check_eq("tst rotated imm carry", nzcv(), FN | FC | FV);
    set_nzcv(FC);
    run(dp_imm(TEQ, 1, 0, 1, 0, 0)); /* unrotated: C kept */
    check_eq("teq unrotated keeps C", nzcv(), FN | FC);
    /* MOVS with an unrotated immediate keeps C and V */
    set_nzcv(FC | FV);
    run(dp_imm(MOV, 1, 0, 0, 0, 0));
    check_eq("movs #0 flags", nzcv(), FZ | FC | FV);
    /* MVN */
    run(dp_imm(MVN, 0, 3, 0, 0, 0));
    check_eq("mvn #0", cpu.r[3], 0xffffffffu);
    /* S = 0 leaves the flags */
    set_nzcv(FV);
    cpu.r[1] = 0xffffffff;
    run(dp_imm(ADD, 0, 0, 1, 0, 1));
    check_eq("add without S", nzcv(), FV);
    /* PC as an operand reads pc + 8 */
    run(dp_imm(ADD, 0, 0, 15, 0, 0));
    check_eq("add r0, pc, #0", cpu.r[0], PC0 + 8);
}

static void test_shifts(void)
{
    reset_cpu();
    /* LSL #0 keeps C; LSR #32 (imm5 = 0) gives 0 and C = bit 31; ASR #32; ROR; RRX */
    cpu.r[2] = 0x80000001u;
    set_nzcv(FC);
    run(dp_reg(MOV, 1, 0, 0, 2, 0, 0));
    check_eq("lsl #0 value", cpu.r[0], 0x80000001u);
    check_eq("lsl #0 keeps C", nzcv(), FN | FC);
    set_nzcv(0);
    run(dp_reg(MOV, 1, 0, 0, 2, 1, 0));
    check_eq("lsr #32 value", cpu.r[0], 0);
    check_eq("lsr #32 C", nzcv(), FZ | FC);
    run(dp_reg(MOV, 1, 0, 0, 2, 2, 0));
    check_eq("asr #32 value", cpu.r[0], 0xffffffffu);
    check_eq("asr #32 C", nzcv(), FN | FC);
    run(dp_reg(MOV, 1, 0, 0, 2, 3, 1));
    check_eq("ror #1 value", cpu.r[0], 0xc0000000u);
    check_eq("ror #1 C", nzcv(), FN | FC);
    set_nzcv(0);
    run(dp_reg(MOV, 1, 0, 0, 2, 3, 0)); /* RRX with C = 0 */
    check_eq("rrx value", cpu.r[0], 0x40000000u);
    check_eq("rrx C", nzcv(), FC);
    set_nzcv(FC);
    cpu.r[2] = 2;
    run(dp_reg(MOV, 1, 0, 0, 2, 3, 0)); /* RRX with C = 1 */
    check_eq("rrx C in", cpu.r[0], 0x80000001u);
    check_eq("rrx C out", nzcv(), FN);
    /* register shifts: by 0, 32, 33, 255, 256 (only the bottom byte counts) */
    cpu.r[2] = 0x80000001u;
    const struct {
        unsigned type, amount;
        uint32_t value;
        unsigned c;
    } cases[] = {
        {0, 0, 0x80000001u, 1},   {0, 1, 0x00000002u, 1},  {0, 31, 0x80000000u, 0},
        {0, 32, 0, 1},            {0, 33, 0, 0},           {0, 255, 0, 0},
        {0, 256, 0x80000001u, 1}, {1, 32, 0, 1},           {1, 33, 0, 0},
        {1, 1, 0x40000000u, 1},   {2, 32, 0xffffffffu, 1}, {2, 200, 0xffffffffu, 1},
        {2, 31, 0xffffffffu, 0},  {3, 32, 0x80000001u, 1}, {3, 64, 0x80000001u, 1},
        {3, 33, 0xc0000000u, 1},  {3, 0, 0x80000001u, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        set_nzcv(FC);
        cpu.r[3] = cases[i].amount;
        run(dp_rsr(MOV, 1, 0, 0, 2, cases[i].type, 3));
        snprintf(what, sizeof what, "rsr type %u by %u value", cases[i].type, cases[i].amount);
        check_eq(what, cpu.r[0], cases[i].value);
        snprintf(what, sizeof what, "rsr type %u by %u carry", cases[i].type, cases[i].amount);
        check_eq(what, (nzcv() >> 1) & 1, cases[i].c);
    }
    /* arithmetic ops take C from the adder, not the shifter */
    set_nzcv(0);
    cpu.r[1] = 1;
    cpu.r[2] = 0x80000000u;
    run(dp_reg(ADD, 1, 0, 1, 2, 0, 1)); /* 1 + (0x80000000 << 1) = 1, shifter carry 1 */
    check_eq("adds shifter carry ignored", nzcv(), 0);
}

static void test_pc_writes(void)
{
    reset_cpu();
    cpu.r[14] = 0x2001;
    check_eq("mov pc, lr (thumb) result", run(dp_reg(MOV, 0, 15, 0, 14, 0, 0)), ARM_BRANCH);
    check_eq("mov pc, lr next_pc", cpu.next_pc, 0x2000);
    check_eq("mov pc, lr T", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 1);
    cpu.cpsr_rest &= ~ARM_CPSR_T;
    /* SUBS pc, lr, #4 in SVC: CPSR <- SPSR */
    cpu.r[14] = 0x3004;
    cpu.banked_spsr[ARM_BANK_SVC] = ARM_MODE_USR | 0x20000000u;
    check_eq("subs pc, lr, #4", run(dp_imm(SUB, 1, 15, 14, 0, 4)), ARM_BRANCH);
    check_eq("subs pc next_pc", cpu.next_pc, 0x3000);
    check_eq("subs pc mode", arm_cpu_mode(&cpu), ARM_MODE_USR);
    check_eq("subs pc flags", nzcv(), FC);
    /* LDR pc interworks */
    reset_cpu();
    cpu.r[1] = MEM_BASE;
    arm_store(&cpu, MEM_BASE, 4, 0x4001, false, false);
    check_eq("ldr pc", run(0xe591f000u), ARM_BRANCH); /* ldr pc, [r1] */
    check_eq("ldr pc next", cpu.next_pc, 0x4000);
    check_eq("ldr pc T", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 1);
    /* BL and BLX */
    reset_cpu();
    run(0xeb000001u); /* bl .+12 */
    check_eq("bl target", cpu.next_pc, PC0 + 12);
    check_eq("bl lr", cpu.r[14], PC0 + 4);
    run(0xfb000001u); /* blx .+14 (H=1) */
    check_eq("blx imm target", cpu.next_pc, PC0 + 14);
    check_eq("blx imm T", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 1);
    cpu.cpsr_rest &= ~ARM_CPSR_T;
    run(0xeafffffe); /* b . */
    check_eq("b .", cpu.next_pc, PC0);
}

static void test_sat(void)
{
    reset_cpu();
    /* SSAT r0, #8, r1 */
    cpu.r[1] = 200;
    run(0xe6a70011u);
    check_eq("ssat #8 200", cpu.r[0], 127);
    check_eq("ssat Q", cpu.cpsr_q, ARM_CPSR_Q);
    cpu.cpsr_q = 0;
    cpu.r[1] = (uint32_t)-5;
    run(0xe6a70011u);
    check_eq("ssat #8 -5", cpu.r[0], (uint32_t)-5);
    check_eq("ssat no Q", cpu.cpsr_q, 0);
    cpu.r[1] = (uint32_t)-300;
    run(0xe6a70011u);
    check_eq("ssat #8 -300", cpu.r[0], (uint32_t)-128);
    /* SSAT r0, #32, r1, lsl #4: the shift is 32-bit, and 32-bit saturation never happens */
    cpu.cpsr_q = 0;
    cpu.r[1] = 0x18000000u;
    run(0xe6bf0211u);
    check_eq("ssat #32 lsl 4", cpu.r[0], 0x80000000u);
    check_eq("ssat #32 no Q", cpu.cpsr_q, 0);
    /* USAT r0, #8, r1 / with asr #32 (imm5 = 0, sh = 1) */
    cpu.cpsr_q = 0;
    cpu.r[1] = (uint32_t)-1;
    run(0xe6e80011u);
    check_eq("usat #8 -1", cpu.r[0], 0);
    check_eq("usat Q", cpu.cpsr_q, ARM_CPSR_Q);
    cpu.cpsr_q = 0;
    cpu.r[1] = 300;
    run(0xe6e80011u);
    check_eq("usat #8 300", cpu.r[0], 255);
    cpu.cpsr_q = 0;
    cpu.r[1] = 0x40000000u;
    run(0xe6e80051u); /* usat r0, #8, r1, asr #32 -> 0 */
    check_eq("usat asr #32", cpu.r[0], 0);
    check_eq("usat asr #32 no Q", cpu.cpsr_q, 0);
    /* SSAT16 r0, #4, r1 ; USAT16 r0, #4, r1 */
    cpu.r[1] = 0x8000007fu;
    run(0xe6a30f31u);
    check_eq("ssat16 #4", cpu.r[0], 0xfff80007u);
    cpu.r[1] = 0xfff00003u;
    cpu.cpsr_q = 0;
    run(0xe6e40f31u);
    check_eq("usat16 #4", cpu.r[0], 0x00000003u);
    check_eq("usat16 Q", cpu.cpsr_q, ARM_CPSR_Q);
    /* QADD r0, r1, r2 = sat(r1 + r2); QDSUB r0, r1, r2 = sat(r1 - sat(2 * r2)) */
    cpu.cpsr_q = 0;
    cpu.r[1] = 0x7fffffffu;
    cpu.r[2] = 1;
    run(0xe1020051u);
    check_eq("qadd sat", cpu.r[0], 0x7fffffffu);
    check_eq("qadd Q", cpu.cpsr_q, ARM_CPSR_Q);
    cpu.cpsr_q = 0;
    cpu.r[1] = 0;
    cpu.r[2] = 0x40000000u;
    run(0xe1620051u);
    check_eq("qdsub", cpu.r[0], 0x80000001u);
    check_eq("qdsub Q", cpu.cpsr_q, ARM_CPSR_Q);
}

static void test_mul(void)
{
    reset_cpu();
    /* UMAAL r0, r1, r2, r3: r1:r0 = r2 * r3 + r0 + r1 */
    cpu.r[0] = 0xffffffffu;
    cpu.r[1] = 0xffffffffu;
    cpu.r[2] = 0xffffffffu;
    cpu.r[3] = 0xffffffffu;
    run(0xe0410392u);
    check_eq("umaal lo", cpu.r[0], 0xffffffffu);
    check_eq("umaal hi", cpu.r[1], 0xffffffffu);
    /* SMLALBT r0, r1, r2, r3: r1:r0 += r2.lo * r3.hi */
    cpu.r[0] = 0xfffffffeu;
    cpu.r[1] = 0;
    cpu.r[2] = 0x0000ffffu; /* -1 */
    cpu.r[3] = 0x00050000u; /* hi = 5 */
    run(0xe14103c2u);
    check_eq("smlalbt lo", cpu.r[0], 0xfffffff9u);
    check_eq("smlalbt hi", cpu.r[1], 0);
    /* SMLALTT with a negative product crossing zero */
    cpu.r[0] = 2;
    cpu.r[1] = 0;
    cpu.r[2] = 0xfffd0000u; /* -3 */
    cpu.r[3] = 0x00010000u; /* 1 */
    run(0xe14103e2u);
    check_eq("smlaltt lo", cpu.r[0], 0xffffffffu);
    check_eq("smlaltt hi", cpu.r[1], 0xffffffffu);
    /* SMULL / UMULL with S */
    cpu.r[2] = 0xffffffffu;
    cpu.r[3] = 2;
    run(0xe0d10392u); /* smulls r0, r1, r2, r3 */
    check_eq("smulls lo", cpu.r[0], 0xfffffffeu);
    check_eq("smulls hi", cpu.r[1], 0xffffffffu);
    check_eq("smulls N", nzcv() & FN, FN);
    run(0xe0810392u); /* umull r0, r1, r2, r3 */
    check_eq("umull hi", cpu.r[1], 1);
    /* SMLABB Q on overflow */
    cpu.cpsr_q = 0;
    cpu.r[1] = 0x8000;
    cpu.r[2] = 0x8000; /* -32768 * -32768 = 2^30 */
    cpu.r[3] = 0x40000000u;
    run(0xe1003281u); /* smlabb r0, r1, r2, r3 */
    check_eq("smlabb", cpu.r[0], 0x80000000u);
    check_eq("smlabb Q", cpu.cpsr_q, ARM_CPSR_Q);
    /* SMLAWT r0, r1, r2, r3: (r1 * r2.hi) >> 16 + r3 */
    cpu.r[1] = 0x00030000u;
    cpu.r[2] = 0xfffe0000u; /* -2 */
    cpu.r[3] = 10;
    run(0xe12032c1u);
    check_eq("smlawt", cpu.r[0], (uint32_t)(10 - 6));
    /* SMMULR / SMMLS */
    cpu.r[1] = 0x40000000u;
    cpu.r[2] = 0x40000000u;
    run(0xe750f211u); /* smmul r0, r1, r2 */
    check_eq("smmul", cpu.r[0], 0x10000000u);
    cpu.r[3] = 0x20000000u;
    run(0xe75032d1u); /* smmls r0, r1, r2, r3 */
    check_eq("smmls", cpu.r[0], 0x10000000u);
    /* SMUADX r0, r1, r2 */
    cpu.r[1] = 0x00020003u;
    cpu.r[2] = 0x00050007u;
    run(0xe700f231u);
    check_eq("smuadx", cpu.r[0], 3 * 5 + 2 * 7);
    /* SDIV / UDIV, including /0 and INT_MIN / -1 */
    cpu.r[1] = (uint32_t)-7;
    cpu.r[2] = 2;
    run(0xe710f211u);
    check_eq("sdiv -7/2", cpu.r[0], (uint32_t)-3);
    cpu.r[2] = 0;
    run(0xe710f211u);
    check_eq("sdiv /0", cpu.r[0], 0);
    cpu.r[1] = 0x80000000u;
    cpu.r[2] = (uint32_t)-1;
    run(0xe710f211u);
    check_eq("sdiv INT_MIN/-1", cpu.r[0], 0x80000000u);
    run(0xe730f211u);
    check_eq("udiv", cpu.r[0], 0);
    cpu.r[2] = 0;
    run(0xe730f211u);
    check_eq("udiv /0", cpu.r[0], 0);
    /* MLS */
    cpu.r[1] = 3;
    cpu.r[2] = 4;
    cpu.r[3] = 20;
    run(0xe0603291u);
    check_eq("mls", cpu.r[0], 8);
}

static void test_parallel(void)
{
    reset_cpu();
    /* SADD16 r0, r1, r2 */
    cpu.r[1] = 0x7fff0001u;
    cpu.r[2] = 0x0001fffeu;
    run(0xe6110f12u);
    check_eq("sadd16", cpu.r[0], 0x8000ffffu);
    check_eq("sadd16 GE", cpu.cpsr_ge, 0xc); /* hi: 0x7fff + 1 = +32768 >= 0 */
    /* UADD8 r0, r1, r2 */
    cpu.r[1] = 0xff80017fu;
    cpu.r[2] = 0x01800101u;
    run(0xe6510f92u);
    check_eq("uadd8", cpu.r[0], 0x00000280u);
    check_eq("uadd8 GE", cpu.cpsr_ge, 0xc);
    /* USUB16 */
    cpu.r[1] = 0x00050003u;
    cpu.r[2] = 0x00030005u;
    run(0xe6510f72u);
    check_eq("usub16", cpu.r[0], 0x0002fffeu);
    check_eq("usub16 GE", cpu.cpsr_ge, 0xc);
    /* SASX: lo = n.lo - m.hi, hi = n.hi + m.lo */
    cpu.r[1] = 0x00010002u;
    cpu.r[2] = 0x00050003u;
    run(0xe6110f32u);
    check_eq("sasx", cpu.r[0], 0x0004fffdu);
    check_eq("sasx GE", cpu.cpsr_ge, 0xc);
    /* UQSUB8, QADD16, SHADD8, UHSUB16 */
    cpu.r[1] = 0x10203040u;
    cpu.r[2] = 0x20102050u;
    run(0xe6610ff2u);
    check_eq("uqsub8", cpu.r[0], 0x00101000u);
    cpu.r[1] = 0x7ff08000u;
    cpu.r[2] = 0x0020ffffu;
    run(0xe6210f12u);
    check_eq("qadd16", cpu.r[0], 0x7fff8000u);
    cpu.r[1] = 0x80017f03u;
    cpu.r[2] = 0x80037f01u;
    run(0xe6310f92u);
    check_eq("shadd8", cpu.r[0], 0x80027f02u);
    cpu.r[1] = 0x00000001u;
    cpu.r[2] = 0x00020003u;
    run(0xe6710f72u);
    check_eq("uhsub16", cpu.r[0], 0xffffffffu);
    /* SEL with GE = 0b0101 */
    cpu.cpsr_ge = 0x5;
    cpu.r[1] = 0x11223344u;
    cpu.r[2] = 0xaabbccddu;
    run(0xe6810fb2u);
    check_eq("sel", cpu.r[0], 0xaa22cc44u);
    /* USADA8 r0, r1, r2, r3 */
    cpu.r[1] = 0x01020304u;
    cpu.r[2] = 0x04030201u;
    cpu.r[3] = 100;
    run(0xe7803211u);
    check_eq("usada8", cpu.r[0], 108);
}

static void test_misc_dp(void)
{
    reset_cpu();
    cpu.r[1] = 0x12345678u;
    run(0xe6ff0f31u); /* rbit r0, r1 */
    check_eq("rbit", cpu.r[0], 0x1e6a2c48u);
    run(0xe6bf0f31u); /* rev */
    check_eq("rev", cpu.r[0], 0x78563412u);
    run(0xe6bf0fb1u); /* rev16 */
    check_eq("rev16", cpu.r[0], 0x34127856u);
    cpu.r[1] = 0x000080ffu;
    run(0xe6ff0fb1u); /* revsh */
    check_eq("revsh", cpu.r[0], 0xffffff80u);
    cpu.r[1] = 0x1000;
    run(0xe16f0f11u); /* clz */
    check_eq("clz", cpu.r[0], 19);
    cpu.r[1] = 0;
    run(0xe16f0f11u);
    check_eq("clz 0", cpu.r[0], 32);
    /* SXTAB16 r0, r1, r2, ror #8 */
    cpu.r[1] = 0x00010002u;
    cpu.r[2] = 0x80ff7f01u;
    run(0xe6810472u);
    check_eq("sxtab16 ror 8", cpu.r[0], 0xff810081u); /* 2 + 0x7f, 1 + -0x80 */
    /* UXTAH r0, r1, r2, ror #16 */
    cpu.r[1] = 1;
    cpu.r[2] = 0xffff0000u;
    run(0xe6f10872u);
    check_eq("uxtah", cpu.r[0], 0x10000u);
    /* SXTB r0, r1 */
    cpu.r[1] = 0x180;
    run(0xe6af0071u);
    check_eq("sxtb", cpu.r[0], 0xffffff80u);
    /* BFI r0, r1, #4, #8 ; BFC r0, #0, #32 ; SBFX/UBFX */
    cpu.r[0] = 0xffffffffu;
    cpu.r[1] = 0x12345678u;
    run(0xe7cb0211u);
    check_eq("bfi", cpu.r[0], 0xfffff78fu);
    run(0xe7df001fu);
    check_eq("bfc all", cpu.r[0], 0);
    cpu.r[1] = 0x00000f80u;
    run(0xe7a403d1u); /* sbfx r0, r1, #7, #5 */
    check_eq("sbfx", cpu.r[0], 0xffffffffu);
    run(0xe7e403d1u); /* ubfx r0, r1, #7, #5 */
    check_eq("ubfx", cpu.r[0], 0x1f);
    cpu.r[1] = 0x87654321u;
    run(0xe7ff0051u); /* ubfx r0, r1, #0, #32 */
    check_eq("ubfx 32", cpu.r[0], 0x87654321u);
    /* PKHTB r0, r1, r2, asr #32 */
    cpu.r[1] = 0x12345678u;
    cpu.r[2] = 0x80000000u;
    run(0xe6810052u);
    check_eq("pkhtb asr 32", cpu.r[0], 0x1234ffffu);
    /* MOVW / MOVT */
    run(0xe3050678u);
    run(0xe3410234u);
    check_eq("movw/movt", cpu.r[0], 0x12345678u);
}

static void test_ldst(void)
{
    reset_cpu();
    for (unsigned i = 0; i < 16; i++) {
        arm_store(&cpu, MEM_BASE + 0x100 + 4 * i, 4, 0x1000 + i, false, false);
    }
    /* LDM r0, {r1, r3, r5}: ascending registers from ascending addresses */
    cpu.r[0] = MEM_BASE + 0x100;
    run(0xe890002au);
    check_eq("ldm r1", cpu.r[1], 0x1000);
    check_eq("ldm r3", cpu.r[3], 0x1001);
    check_eq("ldm r5", cpu.r[5], 0x1002);
    check_eq("ldm no wb", cpu.r[0], MEM_BASE + 0x100);
    /* LDMDB r0!, {r1, r2} */
    cpu.r[0] = MEM_BASE + 0x110;
    run(0xe9300006u);
    check_eq("ldmdb r1", cpu.r[1], 0x1002);
    check_eq("ldmdb r2", cpu.r[2], 0x1003);
    check_eq("ldmdb wb", cpu.r[0], MEM_BASE + 0x108);
    /* LDMIB / LDMDA */
    cpu.r[0] = MEM_BASE + 0x100;
    run(0xe9b00006u); /* ldmib r0!, {r1, r2} */
    check_eq("ldmib r1", cpu.r[1], 0x1001);
    check_eq("ldmib wb", cpu.r[0], MEM_BASE + 0x108);
    run(0xe8300006u); /* ldmda r0!, {r1, r2} */
    check_eq("ldmda r1", cpu.r[1], 0x1001);
    check_eq("ldmda r2", cpu.r[2], 0x1002);
    check_eq("ldmda wb", cpu.r[0], MEM_BASE + 0x100);
    /* PUSH {r4, r5, lr}: stmdb sp! */
    cpu.r[13] = MEM_BASE + 0x200;
    cpu.r[4] = 4;
    cpu.r[5] = 5;
    cpu.r[14] = 14;
    run(0xe92d4030u);
    check_eq("push sp", cpu.r[13], MEM_BASE + 0x200 - 12);
    check_eq("push [sp]", arm_load(&cpu, MEM_BASE + 0x200 - 12, 4, false, false), 4);
    check_eq("push [sp+8]", arm_load(&cpu, MEM_BASE + 0x200 - 4, 4, false, false), 14);
    /* STMIA with PC stores pc + 8 */
    cpu.r[0] = MEM_BASE + 0x300;
    run(0xe8808000u);
    check_eq("stm pc", arm_load(&cpu, MEM_BASE + 0x300, 4, false, false), PC0 + 8);
    /* POP {r4, pc}: interworking */
    arm_store(&cpu, MEM_BASE + 0x200 - 8, 4, 0x5001, false, false);
    cpu.r[13] = MEM_BASE + 0x200 - 12;
    check_eq("pop pc result", run(0xe8bd8010u), ARM_BRANCH);
    check_eq("pop pc", cpu.next_pc, 0x5000);
    check_eq("pop T", (cpu.cpsr_rest & ARM_CPSR_T) != 0, 1);
    cpu.cpsr_rest &= ~ARM_CPSR_T;
    /* LDM that faults on its last word changes no register */
    cpu.r[0] = MEM_BASE + MEM_SIZE - 8;
    cpu.r[1] = cpu.r[2] = cpu.r[3] = 0xdead;
    faults = 0;
    check_eq("ldm fault escapes", (uint32_t)run(0xe8b0000eu), (uint32_t)-1);
    check_eq("ldm fault count", faults, 1);
    check_eq("ldm fault r1", cpu.r[1], 0xdead);
    check_eq("ldm fault base", cpu.r[0], MEM_BASE + MEM_SIZE - 8);
    /* LDR with post-index and writeback; pre-index with negative register offset */
    cpu.r[1] = MEM_BASE + 0x100;
    run(0xe4910004u); /* ldr r0, [r1], #4 */
    check_eq("ldr post", cpu.r[0], 0x1000);
    check_eq("ldr post wb", cpu.r[1], MEM_BASE + 0x104);
    cpu.r[2] = 1;
    run(0xe7310102u); /* ldr r0, [r1, -r2, lsl #2]! */
    check_eq("ldr pre reg", cpu.r[0], 0x1000);
    check_eq("ldr pre reg wb", cpu.r[1], MEM_BASE + 0x100);
    /* LDRSH / LDRSB / STRH / LDRD / STRD */
    arm_store(&cpu, MEM_BASE + 0x400, 4, 0x8081fffeu, false, false);
    cpu.r[1] = MEM_BASE + 0x400;
    run(0xe1d100f2u); /* ldrsh r0, [r1, #2] */
    check_eq("ldrsh", cpu.r[0], 0xffff8081u);
    run(0xe1d100d3u); /* ldrsb r0, [r1, #3] */
    check_eq("ldrsb", cpu.r[0], 0xffffff80u);
    cpu.r[0] = 0x12345678u;
    run(0xe1c100b4u); /* strh r0, [r1, #4] */
    check_eq("strh", arm_load(&cpu, MEM_BASE + 0x404, 4, false, false), 0x5678);
    run(0xe1c120d0u); /* ldrd r2, r3, [r1] */
    check_eq("ldrd lo", cpu.r[2], 0x8081fffeu);
    check_eq("ldrd hi", cpu.r[3], 0x5678);
    cpu.r[1] = MEM_BASE + 0x404; /* not doubleword-aligned */
    run(0xe1c120fcu);            /* strd r2, r3, [r1, #12] */
    check_eq("strd lo", arm_load(&cpu, MEM_BASE + 0x410, 4, false, false), 0x8081fffeu);
    check_eq("strd hi", arm_load(&cpu, MEM_BASE + 0x414, 4, false, false), 0x5678);
    /* LDR literal: Align(PC, 4) + imm */
    arm_store(&cpu, MEM_BASE + 0x500, 4, 0xfeedu, false, false);
    {
        struct arm_uop op;
        arm_decode_a32(MEM_BASE + 0x500 - 8 - 4, 0xe59f0004u, &op); /* ldr r0, [pc, #4] */
        if (sigsetjmp(cpu.fault_jmp, 0) == 0) {
            op.fn(&cpu, &op);
        }
        check_eq("ldr literal", cpu.r[0], 0xfeedu);
    }
    /* SWP (UNDEFINED unless SCTLR.SW), LDREX/STREX, STREXD failure */
    undefs = 0;
    run(0xe1020091u);
    check_eq("swp with SCTLR.SW = 0", undefs, 1);
    cpu.cp15.sctlr |= ARM_SCTLR_SW;
    cpu.r[2] = MEM_BASE + 0x600;
    arm_store(&cpu, MEM_BASE + 0x600, 4, 77, false, false);
    cpu.r[1] = 88;
    run(0xe1020091u); /* swp r0, r1, [r2] */
    check_eq("swp old", cpu.r[0], 77);
    check_eq("swp new", arm_load(&cpu, MEM_BASE + 0x600, 4, false, false), 88);
    run(0xe1920f9fu); /* ldrex r0, [r2] */
    check_eq("ldrex", cpu.r[0], 88);
    cpu.r[1] = 99;
    run(0xe1823f91u); /* strex r3, r1, [r2] */
    check_eq("strex status", cpu.r[3], 0);
    check_eq("strex value", excl_value, 99);
    cpu.r[4] = 1;
    cpu.r[5] = 2;
    run(0xe1a23f94u); /* strexd r3, r4, r5, [r2] */
    check_eq("strexd status", cpu.r[3], 1);
    run(0xe1b24f9fu); /* ldrexd r4, r5, [r2] */
    check_eq("ldrexd lo", cpu.r[4], 1);
    check_eq("ldrexd hi", cpu.r[5], 2);
    /* STM^ stores the User-mode r13/r14 while in SVC */
    cpu.banked_r13[ARM_BANK_USR] = 0x1313;
    cpu.banked_r14[ARM_BANK_USR] = 0x1414;
    cpu.r[13] = 0xaaaa;
    cpu.r[0] = MEM_BASE + 0x700;
    run(0xe8c06000u); /* stmia r0, {sp, lr}^ */
    check_eq("stm^ sp", arm_load(&cpu, MEM_BASE + 0x700, 4, false, false), 0x1313);
    check_eq("stm^ lr", arm_load(&cpu, MEM_BASE + 0x704, 4, false, false), 0x1414);
    /* LDM^ with PC: exception return */
    cpu.banked_spsr[ARM_BANK_SVC] = ARM_MODE_USR | 0x40000000u;
    arm_store(&cpu, MEM_BASE + 0x700, 4, 0x6000, false, false);
    cpu.r[0] = MEM_BASE + 0x700;
    check_eq("ldm^ pc", run(0xe8d08000u), ARM_BRANCH);
    check_eq("ldm^ next", cpu.next_pc, 0x6000);
    check_eq("ldm^ mode", arm_cpu_mode(&cpu), ARM_MODE_USR);
    check_eq("ldm^ flags", nzcv(), FZ);
}

static void test_system(void)
{
    reset_cpu();
    /* SVC: exception with the next instruction as return address */
    exceptions = 0;
    check_eq("svc result", run(0xef000000u), ARM_BRANCH);
    check_eq("svc exc", last_exc, ARM_EXC_SVC);
    check_eq("svc ret", last_exc_ret, PC0 + 4);
    /* UDF and a banked MRS are UNDEFINED */
    undefs = 0;
    run(0xe7f000f0u);
    run(0xe1000200u);
    check_eq("udf + mrs banked undef", undefs, 2);
    /* MSR in User mode writes only the flags */
    cpu.cpsr_rest = ARM_MODE_USR;
    cpu.r[0] = 0xf00000d3u;
    run(0xe12ff000u); /* msr cpsr_fsxc, r0 */
    check_eq("msr usr flags", nzcv(), 0xf);
    check_eq("msr usr mode", arm_cpu_mode(&cpu), ARM_MODE_USR);
    /* CPS in User mode is a NOP */
    run(0xf10c0080u); /* cpsid i */
    check_eq("cps usr", cpu.cpsr_rest & ARM_CPSR_I, 0);
    /* In SVC: CPSID if, #0x12 */
    cpu.cpsr_rest = ARM_MODE_SVC;
    run(0xf10e00d2u);
    check_eq("cpsid mode", arm_cpu_mode(&cpu), ARM_MODE_IRQ);
    check_eq("cpsid bits", cpu.cpsr_rest & (ARM_CPSR_I | ARM_CPSR_F), ARM_CPSR_I | ARM_CPSR_F);
    run(0xf1080080u); /* cpsie i */
    check_eq("cpsie", cpu.cpsr_rest & ARM_CPSR_I, 0);
    /* MRS r0, cpsr masks execution state */
    cpu.cpsr_rest |= ARM_CPSR_T;
    run(0xe10f0000u);
    check_eq("mrs T masked", cpu.r[0] & ARM_CPSR_T, 0);
    check_eq("mrs mode", cpu.r[0] & 0x1f, ARM_MODE_IRQ);
    cpu.cpsr_rest &= ~ARM_CPSR_T;
    /* MSR spsr_fsxc, r0 / MRS r1, spsr */
    cpu.r[0] = 0x600001d3u;
    run(0xe16ff000u);
    run(0xe14f1000u);
    check_eq("msr/mrs spsr", cpu.r[1], 0x600001d3u);
    /* MRC p15 reaches cp15 with the fields; APSR_nzcv form */
    run(0xee120f30u); /* mrc p15, 0, r0, c2, c0, 1 */
    check_eq("mrc fields", cpu.r[0], 0x00020001u);
    run(0xee17ff7au); /* mrc p15, 0, APSR_nzcv, c7, c10, 3 */
    check_eq("mrc apsr", nzcv(), 0);
    run(0xec510f1eu); /* mrrc p15, 1, r0, r1, c14 */
    check_eq("mrrc lo", cpu.r[0], 0x55667788u);
    check_eq("mrrc hi", cpu.r[1], 0x11223344u);
    run(0xee100e10u); /* mrc p14, 0, r0, c0, c0, 0: DBGDIDR */
    check_eq("mrc p14", cpu.r[0], 0);
    /* SRSDB sp!, #0x13 from IRQ: LR and SPSR onto the SVC stack */
    cpu.banked_r13[ARM_BANK_SVC] = MEM_BASE + 0x800;
    cpu.r[14] = 0x7777;
    cpu.banked_spsr[ARM_BANK_IRQ] = 0x1f;
    run(0xf96d0513u);
    check_eq("srs lr", arm_load(&cpu, MEM_BASE + 0x7f8, 4, false, false), 0x7777);
    check_eq("srs spsr", arm_load(&cpu, MEM_BASE + 0x7fc, 4, false, false), 0x1f);
    check_eq("srs wb", cpu.banked_r13[ARM_BANK_SVC], MEM_BASE + 0x7f8);
    /* RFEIA r0! */
    cpu.r[0] = MEM_BASE + 0x7f8;
    check_eq("rfe", run(0xf8b00a00u), ARM_BRANCH);
    check_eq("rfe pc", cpu.next_pc, 0x7777);
    check_eq("rfe mode", arm_cpu_mode(&cpu), ARM_MODE_SYS);
    /* ENDS_BLOCK on the instructions that need it */
    const uint32_t ends[] = {0xe12fff1eu, 0xeafffffeu, 0xef000000u, 0xe12ff000u, 0xf10c0080u,
                             0xee010f10u, 0xe320f003u, 0xf57ff06fu, 0xe8bd8000u, 0xe1a0f00eu,
                             0xe49df004u, 0xf1010200u, 0xe1400070u};
    dc_check_ends_block(ends, sizeof ends / sizeof ends[0], true, decode_at);
    const uint32_t not_ends[] = {0xe0810002u, 0xe5910000u, 0xe8bd0010u, 0xf57ff05bu};
    dc_check_ends_block(not_ends, sizeof not_ends / sizeof not_ends[0], false, decode_at);
}

static void semantics(void)
{
    test_flags();
    test_shifts();
    test_pc_writes();
    test_sat();
    test_mul();
    test_parallel();
    test_misc_dp();
    test_ldst();
    test_system();
}

int main(int argc, char **argv)
{
    static const struct dc_program prog = {
        .check_line = check_line,
        .note = note,
        .state = "arm",
        .random_line = random_line,
        .semantics = semantics,
    };
    return dc_main(argc, argv, &prog);
}
