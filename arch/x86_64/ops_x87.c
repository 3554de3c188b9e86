/*
 * coremu x86_64 — the x87 floating-point unit: its instructions (the D8-DF escapes and FWAIT)
 * over the software floating point of softfloat.c. Written from the Intel SDM Vol. 1 chapter 8
 * and the instruction pages of Vol. 2.
 *
 * Dispatch. decode.c gives every escape one row ("ESC", ModRM always present, undefined
 * register forms already #UD). x87_esc finds the form in a table: per escape byte by ModRM.reg
 * for memory forms, by ModRM.reg and ModRM.rm for register forms. Each form says whether it is
 * a control instruction (it leaves FIP/FDP/FOP alone: FLDCW, FLDENV, FRSTOR and the no-wait
 * forms; the SDM's list also has FFREE, FNOP, FINCSTP and FDECSTP, which the hardware records
 * like any other) and whether it is one of the no-wait forms (FNINIT, FNCLEX, FNSTCW, FNSTSW,
 * FNSTENV, FNSAVE, and the 287's FENI/FDISI/FSETPM no-ops) that do not look for a pending
 * unmasked exception first.
 *
 * Exceptions. softfloat returns masked responses and the flags it raised; x87_commit turns them
 * into what the instruction does: an unmasked invalid-operation, denormal-operand or
 * divide-by-zero exception keeps the destination (and TOP) unchanged and records only that
 * flag; any unmasked flag sets ES and B, and the next waiting x87 instruction (or FWAIT) then
 * raises #MF when CR0.NE is set. With CR0.NE clear a PC signals FERR# to the interrupt
 * controller (IRQ 13): that legacy path is not modelled, the instruction simply runs.
 *
 * Unmasked overflow and underflow: softfloat computes the biased register result the SDM
 * gives (status.unmasked); a memory destination is left as it was.
 *
 * Faults: every memory access that may fault happens before any register is written.
 */
#include "config.h"

#include "cpu.h"
#include "ops.h"
#include "softfloat.h"

/* Status word bits. */
#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 X86_FSW_C0
#define FSW_C1 X86_FSW_C1
#define FSW_C2 X86_FSW_C2
#define FSW_C3 X86_FSW_C3
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
#define FSW_TOP_SHIFT 11
#define FSW_TOP (7u << FSW_TOP_SHIFT)
#define FSW_B 0x8000u
#define FSW_EXC 0x003fu

#define TAG_VALID 0u
#define TAG_ZERO 1u
#define TAG_SPECIAL 2u
#define TAG_EMPTY 3u

/* The QNaN floating-point indefinite in each format, and the integer and BCD indefinites. */
static const floatx80 x87_indefinite = {0xc000000000000000ull, 0xffff};
#define F32_INDEFINITE 0xffc00000u
#define F64_INDEFINITE 0xfff8000000000000ull

/* ---- the register stack --------------------------------------------------------------------- */

static inline unsigned x87_top(const struct x86_cpu *cpu)
{
    return (cpu->fsw >> FSW_TOP_SHIFT) & 7;
}

static inline void x87_set_top(struct x86_cpu *cpu, unsigned top)
{
    cpu->fsw = (uint16_t)((cpu->fsw & ~FSW_TOP) | ((top & 7) << FSW_TOP_SHIFT));
}

/* The physical register of ST(i). */
static inline unsigned x87_phys(const struct x86_cpu *cpu, unsigned i)
{
    return (x87_top(cpu) + i) & 7;
}

static inline unsigned x87_tag(const struct x86_cpu *cpu, unsigned phys)
{
    return (cpu->ftw >> (2 * phys)) & 3;
}

static inline void x87_set_tag(struct x86_cpu *cpu, unsigned phys, unsigned tag)
{
    cpu->ftw = (uint16_t)((cpu->ftw & ~(3u << (2 * phys))) | (tag << (2 * phys)));
}

/* The tag a value gets when it is written: valid, zero or special (NaN, infinity, denormal,
 * unsupported encodings). */
static unsigned x87_tag_of(floatx80 v)
{
    unsigned exp = v.sign_exp & 0x7fff;
    if (exp == 0x7fff) {
        return TAG_SPECIAL;
    }
    if (exp == 0) {
        return v.mant == 0 ? TAG_ZERO : TAG_SPECIAL;
    }
    return (v.mant >> 63) ? TAG_VALID : TAG_SPECIAL;
}

static inline bool x87_empty(const struct x86_cpu *cpu, unsigned i)
{
    return x87_tag(cpu, x87_phys(cpu, i)) == TAG_EMPTY;
}

static inline floatx80 x87_get(const struct x86_cpu *cpu, unsigned i)
{
    const struct x86_f80 *r = &cpu->st[x87_phys(cpu, i)];
    return (floatx80){r->mant, r->sign_exp};
}

static inline void x87_put_phys(struct x86_cpu *cpu, unsigned phys, floatx80 v)
{
    cpu->st[phys].mant = v.mant;
    cpu->st[phys].sign_exp = v.sign_exp;
    x87_set_tag(cpu, phys, x87_tag_of(v));
}

static inline void x87_put(struct x86_cpu *cpu, unsigned i, floatx80 v)
{
    x87_put_phys(cpu, x87_phys(cpu, i), v);
}

static void x87_push(struct x86_cpu *cpu, floatx80 v)
{
    unsigned top = (x87_top(cpu) - 1) & 7;
    x87_set_top(cpu, top);
    x87_put_phys(cpu, top, v);
}

static void x87_pop(struct x86_cpu *cpu)
{
    unsigned top = x87_top(cpu);
    x87_set_tag(cpu, top, TAG_EMPTY);
    x87_set_top(cpu, top + 1);
}

static inline void x87_set_cc(struct x86_cpu *cpu, uint16_t mask, uint16_t bits)
{
    cpu->fsw = (uint16_t)((cpu->fsw & ~mask) | (bits & mask));
}

/* ES and B follow the unmasked exception flags (after FLDCW, FLDENV, FRSTOR as after any
 * exception). */
static void x87_update_es(struct x86_cpu *cpu)
{
    if (cpu->fsw & ~cpu->fcw & FSW_EXC) {
        cpu->fsw |= FSW_ES | FSW_B;
    } else {
        cpu->fsw &= (uint16_t)~(FSW_ES | FSW_B);
    }
}

/* ---- exceptions ----------------------------------------------------------------------------- */

static struct x86_fpstatus x87_status(const struct x86_cpu *cpu)
{
    unsigned pc = (cpu->fcw >> 8) & 3;
    return (struct x86_fpstatus){
        .rounding = (uint8_t)((cpu->fcw >> 10) & 3),
        .precision = (uint8_t)(pc == 1 ? X86_PREC_64 : pc), /* 1 is reserved: as 64 bits */
        /* unmasked overflow and underflow: softfloat gives the biased register result */
        .unmasked = (uint8_t)(~cpu->fcw & (X86_FLAG_OE | X86_FLAG_UE)),
    };
}

/* Whether an unmasked invalid-operation, denormal or divide-by-zero exception among flags
 * keeps the destination as it is. */
static bool x87_blocked(const struct x86_cpu *cpu, unsigned flags)
{
    return (flags & ~cpu->fcw & (X86_FLAG_IE | X86_FLAG_DE | X86_FLAG_ZE)) != 0;
}

/* Records the flags an operation raised. false when an unmasked invalid-operation, denormal or
 * divide-by-zero exception means the destination must stay as it is (then only that flag is
 * recorded, in that order of priority). C1 is the caller's. */
static bool x87_commit(struct x86_cpu *cpu, unsigned flags)
{
    unsigned unmasked = flags & ~cpu->fcw & FSW_EXC;
    bool write = true;

    if (unmasked & X86_FLAG_IE) {
        flags = X86_FLAG_IE;
        write = false;
    } else if (unmasked & X86_FLAG_DE) {
        flags = X86_FLAG_DE;
        write = false;
    } else if (unmasked & X86_FLAG_ZE) {
        flags = X86_FLAG_ZE;
        write = false;
    }
    cpu->fsw |= (uint16_t)flags;
    if (flags & ~cpu->fcw & FSW_EXC) {
        cpu->fsw |= FSW_ES | FSW_B;
    }
    return write;
}

/* A stack overflow (push onto a full register) or underflow (an empty source): IE with SF, C1
 * telling which. true when IE is masked, so the instruction goes on with the indefinite. */
static bool x87_stack_fault(struct x86_cpu *cpu, bool overflow)
{
    x87_set_cc(cpu, FSW_C1, overflow ? FSW_C1 : 0);
    cpu->fsw |= FSW_IE | FSW_SF;
    if (!(cpu->fcw & FSW_IE)) {
        cpu->fsw |= FSW_ES | FSW_B;
        return false;
    }
    return true;
}

/* The result of an operation into ST(i): C1 from its rounding, unless an unmasked exception
 * holds it back. Returns whether it was written. */
static bool x87_result(struct x86_cpu *cpu, unsigned i, floatx80 v, struct x86_fpstatus *st)
{
    bool write = x87_commit(cpu, st->flags);
    x87_set_cc(cpu, FSW_C1, write && st->c1 ? FSW_C1 : 0);
    if (write) {
        x87_put(cpu, i, v);
    }
    return write;
}

/* Pushing a value computed with st (the stack must have room: the caller checked). */
static bool x87_push_result(struct x86_cpu *cpu, floatx80 v, struct x86_fpstatus *st)
{
    bool write = x87_commit(cpu, st->flags);
    x87_set_cc(cpu, FSW_C1, write && st->c1 ? FSW_C1 : 0);
    if (write) {
        x87_push(cpu, v);
    }
    return write;
}

/* Before a push: the register that becomes ST(0) must be empty. false: overflow, handled (the
 * masked response pushed the indefinite). */
static bool x87_room_for_push(struct x86_cpu *cpu)
{
    if (x87_empty(cpu, 7)) {
        return true;
    }
    if (x87_stack_fault(cpu, true)) {
        x87_push(cpu, x87_indefinite);
    }
    return false;
}

/* ---- memory operands ------------------------------------------------------------------------ */

static uint64_t x87_load(struct x86_cpu *cpu, const struct x86_uop *op, unsigned extra,
                         unsigned size)
{
    uint64_t lin = x86_op_linear(cpu, op, extra, size, X86_ACC_READ);
    return x86_load_lin(cpu, lin, size, X86_ACC_READ);
}

static floatx80 x87_load_m80(struct x86_cpu *cpu, const struct x86_uop *op)
{
    (void)x86_op_linear(cpu, op, 0, 10, X86_ACC_READ); /* the whole operand's segment checks */
    uint64_t mant = x87_load(cpu, op, 0, 8);
    uint16_t se = (uint16_t)x87_load(cpu, op, 8, 2);
    return (floatx80){mant, se};
}

/* Stores of several parts: every part is checked for writing before the first is written. */
struct x87_part {
    unsigned offset, size;
    uint64_t value;
};

static void x87_store_parts(struct x86_cpu *cpu, const struct x86_uop *op,
                            const struct x87_part *parts, unsigned n, unsigned total)
{
    (void)x86_op_linear(cpu, op, 0, total, X86_ACC_WRITE);
    for (unsigned i = 0; i < n; i++) {
        uint64_t lin = x86_op_linear(cpu, op, parts[i].offset, parts[i].size, X86_ACC_WRITE);
        x86_probe_write_lin(cpu, lin, parts[i].size, X86_ACC_WRITE);
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t lin = x86_op_linear(cpu, op, parts[i].offset, parts[i].size, X86_ACC_WRITE);
        x86_store_lin(cpu, lin, parts[i].size, parts[i].value, X86_ACC_WRITE);
    }
}

/* Checks that the memory operand may be written (faulting if not) without writing it: stores
 * fault on their destination even when an unmasked exception then keeps them from storing. */
static void x87_probe_dest(struct x86_cpu *cpu, const struct x86_uop *op, unsigned size)
{
    (void)x86_op_linear(cpu, op, 0, size, X86_ACC_WRITE);
    for (unsigned off = 0; off < size; off += 8) {
        unsigned part = size - off < 8 ? size - off : 8;
        uint64_t lin = x86_op_linear(cpu, op, off, part, X86_ACC_WRITE);
        x86_probe_write_lin(cpu, lin, part, X86_ACC_WRITE);
    }
}

static void x87_store(struct x86_cpu *cpu, const struct x86_uop *op, unsigned size,
                      uint64_t value)
{
    uint64_t lin = x86_op_linear(cpu, op, 0, size, X86_ACC_WRITE);
    x86_store_lin(cpu, lin, size, value, X86_ACC_WRITE);
}

static void x87_store_m80(struct x86_cpu *cpu, const struct x86_uop *op, floatx80 v)
{
    const struct x87_part parts[2] = {{0, 8, v.mant}, {8, 2, v.sign_exp}};
    x87_store_parts(cpu, op, parts, 2, 10);
}

/* Memory operand formats (the arg of memory forms). */
enum x87_format { FMT_F32, FMT_F64, FMT_F80, FMT_I16, FMT_I32, FMT_I64, FMT_BCD };

static const uint8_t format_size[] = {4, 8, 10, 2, 4, 8, 10};

/* ---- form table types ----------------------------------------------------------------------- */

typedef void (*x87_handler)(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg);

struct x87_form {
    x87_handler fn;
    uint8_t arg;
    uint8_t flags;
};
#define X87_CONTROL 0x01u /* leaves FIP, FDP and FOP as they are */
#define X87_NOWAIT 0x02u  /* does not raise a pending #MF first */

static inline unsigned modrm_rm(const struct x86_uop *op)
{
    return op->modrm & 7;
}

static inline unsigned modrm_reg(const struct x86_uop *op)
{
    return (op->modrm >> 3) & 7;
}

/* ---- loads and stores ----------------------------------------------------------------------- */

/* FLD / FILD / FBLD from memory. */
static void fld_mem(struct x86_cpu *cpu, const struct x86_uop *op, unsigned fmt)
{
    struct x86_fpstatus st = x87_status(cpu);
    floatx80 v;
    uint64_t raw = 0;
    floatx80 raw80 = {0, 0};

    /* the access first: it may fault */
    if (fmt == FMT_F80 || fmt == FMT_BCD) {
        raw80 = x87_load_m80(cpu, op);
    } else {
        raw = x87_load(cpu, op, 0, format_size[fmt]);
    }
    if (!x87_room_for_push(cpu)) {
        return;
    }
    switch (fmt) {
    case FMT_F32:
        v = float32_to_floatx80((float32)raw, &st);
        break;
    case FMT_F64:
        v = float64_to_floatx80(raw, &st);
        break;
    case FMT_F80:
        v = raw80;
        break;
    case FMT_BCD: {
        /* 18 digits, the sign in bit 79; invalid digits give an undefined result (here: as
         * if they were their binary value) */
        int64_t n = 0;
        for (int d = 8; d >= 0; d--) {
            unsigned byte = d == 8 ? (raw80.sign_exp & 0xffu)
                                   : (unsigned)((raw80.mant >> (8 * d)) & 0xff);
            n = n * 100 + (byte >> 4) * 10 + (byte & 15);
        }
        v = int64_to_floatx80(n);
        if (raw80.sign_exp & 0x8000) {
            v.sign_exp |= 0x8000;
        }
        break;
    }
    default:
        v = int64_to_floatx80(x86_sext(raw, format_size[fmt]));
        break;
    }
    /* the conversion is exact: an unmasked denormal exception still loads the value (only an
     * unmasked invalid operation, from an SNaN, keeps the stack as it was) */
    if ((st.flags & X86_FLAG_DE) && !(cpu->fcw & X86_FLAG_DE)) {
        cpu->fsw |= X86_FLAG_DE | FSW_ES | FSW_B;
        st.flags &= (uint8_t)~X86_FLAG_DE;
    }
    x87_push_result(cpu, v, &st);
}

/* FLD ST(i). */
static void fld_sti(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)arg;
    unsigned i = modrm_rm(op);
    floatx80 v = x87_get(cpu, i);

    /* an empty source is reported (as underflow) before a full stack */
    if (x87_empty(cpu, i)) {
        if (x87_stack_fault(cpu, false)) {
            x87_push(cpu, x87_indefinite);
        }
        return;
    }
    if (!x87_room_for_push(cpu)) {
        return;
    }
    x87_set_cc(cpu, FSW_C1, 0);
    x87_push(cpu, v);
}

/* FST/FSTP to memory (arg: format, bit 7: pop). */
#define POP 0x80u
#define TRUNC 0x40u
static void fst_mem(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    enum x87_format fmt = (enum x87_format)(arg & 0x3f);
    bool pop = arg & POP;
    struct x86_fpstatus st = x87_status(cpu);
    uint64_t bits;
    floatx80 v = x87_get(cpu, 0);

    x87_probe_dest(cpu, op, format_size[fmt]);
    if (x87_empty(cpu, 0)) {
        if (!(cpu->fcw & FSW_IE)) {
            x87_stack_fault(cpu, false);
            return;
        }
        /* the indefinite stores as each format's indefinite */
        switch (fmt) {
        case FMT_F32:
            bits = F32_INDEFINITE;
            break;
        case FMT_F64:
            bits = F64_INDEFINITE;
            break;
        case FMT_I16:
            bits = 0x8000;
            break;
        case FMT_I32:
            bits = 0x80000000u;
            break;
        default:
            bits = 0x8000000000000000ull;
            break;
        }
        if (fmt == FMT_F80) {
            x87_store_m80(cpu, op, x87_indefinite);
        } else if (fmt == FMT_BCD) {
            const struct x87_part parts[2] = {{0, 8, 0xc000000000000000ull}, {8, 2, 0xffff}};
            x87_store_parts(cpu, op, parts, 2, 10);
        } else {
            x87_store(cpu, op, format_size[fmt], bits);
        }
        x87_stack_fault(cpu, false);
        if (pop) {
            x87_pop(cpu);
        }
        return;
    }
    switch (fmt) {
    case FMT_F32:
        bits = floatx80_to_float32(v, &st);
        break;
    case FMT_F64:
        bits = floatx80_to_float64(v, &st);
        break;
    case FMT_I16:
        bits = (uint16_t)(((arg & TRUNC) ? floatx80_to_int16_trunc : floatx80_to_int16)(v, &st));
        break;
    case FMT_I32:
        bits = (uint32_t)(((arg & TRUNC) ? floatx80_to_int32_trunc : floatx80_to_int32)(v, &st));
        break;
    case FMT_I64:
        bits = (uint64_t)(((arg & TRUNC) ? floatx80_to_int64_trunc : floatx80_to_int64)(v, &st));
        break;
    default:
        bits = 0;
        break;
    }
    if (fmt == FMT_BCD) {
        /* FBSTP: the integer (current rounding) in 18 BCD digits; outside +-(10^18 - 1), NaN
         * or infinity: invalid, the BCD indefinite */
        int64_t n = floatx80_to_int64(v, &st);
        bool neg = v.sign_exp & 0x8000;
        uint64_t mag = neg ? 0 - (uint64_t)n : (uint64_t)n;
        uint64_t digits = 0;
        uint16_t high;
        if ((st.flags & X86_FLAG_IE) || mag > 999999999999999999ull) {
            st.flags = (uint8_t)((st.flags & ~X86_FLAG_PE) | X86_FLAG_IE);
            st.c1 = false;
            digits = 0xc000000000000000ull;
            high = 0xffff;
        } else {
            for (int d = 0; d < 16; d++) {
                digits |= (mag % 10) << (4 * d);
                mag /= 10;
            }
            high = (uint16_t)((mag % 10) | ((mag / 10) << 4) | (neg ? 0x8000 : 0));
        }
        bool store = !x87_blocked(cpu, st.flags);
        if (store) {
            const struct x87_part parts[2] = {{0, 8, digits}, {8, 2, high}};
            x87_store_parts(cpu, op, parts, 2, 10);
        }
        x87_commit(cpu, st.flags);
        x87_set_cc(cpu, FSW_C1, st.c1 ? FSW_C1 : 0);
        if (store) {
            x87_pop(cpu);
        }
        return;
    }
    if (fmt == FMT_F80) {
        x87_store_m80(cpu, op, v);
        x87_set_cc(cpu, FSW_C1, 0);
        if (pop) {
            x87_pop(cpu);
        }
        return;
    }
    /* unmasked IE, DE or ZE keep memory as it was; so does unmasked OE or UE with a memory
     * destination */
    unsigned unmasked = st.flags & ~cpu->fcw & FSW_EXC;
    bool store = !(unmasked & (X86_FLAG_IE | X86_FLAG_DE | X86_FLAG_ZE | X86_FLAG_OE |
                               X86_FLAG_UE));
    if (store) {
        x87_store(cpu, op, format_size[fmt], bits);
    }
    x87_commit(cpu, st.flags);
    x87_set_cc(cpu, FSW_C1, st.c1 ? FSW_C1 : 0);
    if (store && pop) {
        x87_pop(cpu);
    }
}

/* FST/FSTP ST(i) (arg: pop); FSTP ST(0) just pops. */
static void fst_sti(struct x86_cpu *cpu, const struct x86_uop *op, unsigned pop)
{
    unsigned i = modrm_rm(op);
    floatx80 v = x87_get(cpu, 0);

    if (x87_empty(cpu, 0)) {
        if (!x87_stack_fault(cpu, false)) {
            return;
        }
        v = x87_indefinite;
    } else {
        x87_set_cc(cpu, FSW_C1, 0);
    }
    x87_put(cpu, i, v);
    if (pop) {
        x87_pop(cpu);
    }
}

/* FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (arg: ModRM.rm). The constants are held
 * with more bits than the format has; each is the value rounded to nearest, and the last bit
 * drops by one under round down and toward zero when the value was rounded up (every constant
 * but log2(10), whose nearest rounds down and which rises by one under round up). */
static void fld_const(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    static const struct {
        floatx80 nearest;
        int8_t down, up; /* adjustment of the last bit under RC = down/zero, up */
    } consts[7] = {
        {{0x8000000000000000ull, 0x3fff}, 0, 0},  /* 1 */
        {{0xd49a784bcd1b8afeull, 0x4000}, 0, 1},  /* log2(10) */
        {{0xb8aa3b295c17f0bcull, 0x3fff}, -1, 0}, /* log2(e) */
        {{0xc90fdaa22168c235ull, 0x4000}, -1, 0}, /* pi */
        {{0x9a209a84fbcff799ull, 0x3ffd}, -1, 0}, /* log10(2) */
        {{0xb17217f7d1cf79acull, 0x3ffe}, -1, 0}, /* ln(2) */
        {{0, 0}, 0, 0},                           /* +0 */
    };
    (void)arg;
    unsigned k = modrm_rm(op);
    unsigned rc = (cpu->fcw >> 10) & 3;
    floatx80 v = consts[k].nearest;

    if (!x87_room_for_push(cpu)) {
        return;
    }
    if (rc == X86_ROUND_DOWN || rc == X86_ROUND_ZERO) {
        v.mant += (uint64_t)(int64_t)consts[k].down;
    } else if (rc == X86_ROUND_UP) {
        v.mant += (uint64_t)(int64_t)consts[k].up;
    }
    x87_set_cc(cpu, FSW_C1, 0);
    x87_push(cpu, v);
}

/* ---- arithmetic ----------------------------------------------------------------------------- */

/* ModRM.reg of the arithmetic rows: 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr. */
static const uint8_t arith_kind[8] = {X87_ADD, X87_MUL, 0, 0, X87_SUB, X87_SUB, X87_DIV,
                                      X87_DIV};

static floatx80 arith(enum x87_arith kind, floatx80 a, floatx80 b, struct x86_fpstatus *st)
{
    switch (kind) {
    case X87_ADD:
        return floatx80_add(a, b, st);
    case X87_SUB:
        return floatx80_sub(a, b, st);
    case X87_MUL:
        return floatx80_mul(a, b, st);
    default:
        return floatx80_div(a, b, st);
    }
}

/* FADD/FMUL/FSUB/FSUBR/FDIV/FDIVR m32fp/m64fp/m32int/m16int: ST(0) = ST(0) op m. */
static void arith_mem(struct x86_cpu *cpu, const struct x86_uop *op, unsigned fmt)
{
    unsigned reg = modrm_reg(op);
    enum x87_arith kind = (enum x87_arith)arith_kind[reg];
    bool reverse = reg >= 4 && (reg & 1);
    struct x86_fpstatus st = x87_status(cpu);
    uint64_t raw = x87_load(cpu, op, 0, format_size[fmt]);
    floatx80 r;

    if (x87_empty(cpu, 0)) {
        if (x87_stack_fault(cpu, false)) {
            x87_put(cpu, 0, x87_indefinite);
        }
        return;
    }
    floatx80 a = x87_get(cpu, 0);
    if (fmt == FMT_F32) {
        r = floatx80_arith_f32(kind, a, (float32)raw, reverse, &st);
    } else if (fmt == FMT_F64) {
        r = floatx80_arith_f64(kind, a, raw, reverse, &st);
    } else {
        floatx80 m = int64_to_floatx80(x86_sext(raw, format_size[fmt]));
        r = reverse ? arith(kind, m, a, &st) : arith(kind, a, m, &st);
    }
    x87_result(cpu, 0, r, &st);
}

/* The register forms: arg bit 0 = the destination is ST(i) (DC, DE), bit 1 = pop (DE). */
#define DEST_STI 1u
#define ARITH_POP 2u
static void arith_reg(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    unsigned reg = modrm_reg(op), i = modrm_rm(op);
    enum x87_arith kind = (enum x87_arith)arith_kind[reg];
    unsigned dst = (arg & DEST_STI) ? i : 0, src = (arg & DEST_STI) ? 0 : i;
    /* D8 E0+i is ST(0) - ST(i) and D8 E8+i ST(i) - ST(0); with ST(i) the destination (DC, DE)
     * the SDM pairs the encodings the other way: DC E8+i is ST(i) - ST(0) */
    bool reverse = reg >= 4 && (((reg & 1) != 0) != ((arg & DEST_STI) != 0));
    struct x86_fpstatus st = x87_status(cpu);
    bool written;

    if (x87_empty(cpu, dst) || x87_empty(cpu, src)) {
        written = x87_stack_fault(cpu, false);
        if (written) {
            x87_put(cpu, dst, x87_indefinite);
        }
    } else {
        floatx80 a = x87_get(cpu, dst), b = x87_get(cpu, src);
        floatx80 r = reverse ? arith(kind, b, a, &st) : arith(kind, a, b, &st);
        written = x87_result(cpu, dst, r, &st);
    }
    if ((arg & ARITH_POP) && written) {
        x87_pop(cpu);
    }
}

/* ---- comparisons ---------------------------------------------------------------------------- */

/* The outcome of a comparison into C0/C2/C3 (C1 clear): even when an unmasked invalid
 * operation stops the instruction, as the hardware does. Returns whether the instruction
 * completes (and may pop). */
static bool x87_compare_result(struct x86_cpu *cpu, enum x86_relation rel,
                               struct x86_fpstatus *st)
{
    bool ok = x87_commit(cpu, st->flags);
    x87_set_cc(cpu, FSW_CC, x86_relation_fsw(rel));
    return ok;
}

/* An empty operand of a comparison: unordered (whether or not IE is masked). */
static bool x87_compare_underflow(struct x86_cpu *cpu)
{
    bool masked = x87_stack_fault(cpu, false);
    x87_set_cc(cpu, FSW_CC, FSW_C0 | FSW_C2 | FSW_C3);
    return masked;
}

/* FCOM/FCOMP m32fp/m64fp, FICOM/FICOMP m16int/m32int (pop: ModRM.reg 3). */
static void compare_mem(struct x86_cpu *cpu, const struct x86_uop *op, unsigned fmt)
{
    bool pop = modrm_reg(op) & 1;
    struct x86_fpstatus st = x87_status(cpu);
    uint64_t raw = x87_load(cpu, op, 0, format_size[fmt]);
    enum x86_relation rel;
    bool ok;

    if (x87_empty(cpu, 0)) {
        ok = x87_compare_underflow(cpu);
    } else {
        floatx80 a = x87_get(cpu, 0);
        if (fmt == FMT_F32) {
            rel = floatx80_compare_f32(a, (float32)raw, true, &st);
        } else if (fmt == FMT_F64) {
            rel = floatx80_compare_f64(a, raw, true, &st);
        } else {
            rel = floatx80_compare(a, int64_to_floatx80(x86_sext(raw, format_size[fmt])), true,
                                   &st);
        }
        ok = x87_compare_result(cpu, rel, &st);
    }
    if (pop && ok) {
        x87_pop(cpu);
    }
}

/* FCOM/FCOMP/FUCOM/FUCOMP ST(i), FCOMPP, FUCOMPP: arg = pops | (quiet << 2). FCOMPP and
 * FUCOMPP compare with ST(1) (their rm is 1). */
#define CMP_QUIET 4u
static void compare_reg(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    unsigned i = modrm_rm(op), pops = arg & 3;
    struct x86_fpstatus st = x87_status(cpu);
    bool ok;

    if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
        ok = x87_compare_underflow(cpu);
    } else {
        enum x86_relation rel =
            floatx80_compare(x87_get(cpu, 0), x87_get(cpu, i), !(arg & CMP_QUIET), &st);
        ok = x87_compare_result(cpu, rel, &st);
    }
    for (unsigned p = 0; ok && p < pops; p++) {
        x87_pop(cpu);
    }
}

/* FCOMI/FCOMIP/FUCOMI/FUCOMIP: the outcome in ZF, PF, CF (OF, SF, AF clear); arg as above. */
static void comparei(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    unsigned i = modrm_rm(op);
    struct x86_fpstatus st = x87_status(cpu);
    bool ok;

    /* EFLAGS are written even when an unmasked invalid operation stops the instruction, as
     * the hardware does */
    if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
        ok = x87_stack_fault(cpu, false);
        x86_flags_set(cpu, x86_relation_eflags(X86_REL_UNORDERED));
    } else {
        enum x86_relation rel =
            floatx80_compare(x87_get(cpu, 0), x87_get(cpu, i), !(arg & CMP_QUIET), &st);
        ok = x87_commit(cpu, st.flags);
        x86_flags_set(cpu, x86_relation_eflags(rel));
    }
    if ((arg & 1) && ok) {
        x87_pop(cpu);
    }
}

/* FTST: ST(0) against +0.0. */
static void ftst(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    (void)arg;
    struct x86_fpstatus st = x87_status(cpu);

    if (x87_empty(cpu, 0)) {
        x87_compare_underflow(cpu);
        return;
    }
    enum x86_relation rel = floatx80_compare(x87_get(cpu, 0), (floatx80){0, 0}, true, &st);
    x87_compare_result(cpu, rel, &st);
}

/* FXAM: the class of ST(0) in C3, C2, C0 and its sign in C1. */
static void fxam(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    (void)arg;
    floatx80 v = x87_get(cpu, 0);
    uint16_t cc;

    if (x87_empty(cpu, 0)) {
        /* empty (101), with the sign of what the register last held */
        cc = (uint16_t)(FSW_C3 | FSW_C0 | ((v.sign_exp & 0x8000) ? FSW_C1 : 0));
    } else {
        cc = floatx80_examine(v);
    }
    x87_set_cc(cpu, FSW_CC, cc);
}

/* ---- one-operand instructions on ST(0) ------------------------------------------------------ */

/* ST(0) must hold a value; an empty one is the masked underflow's indefinite (true: go on with
 * it in *v). */
static bool x87_st0(struct x86_cpu *cpu, floatx80 *v)
{
    if (!x87_empty(cpu, 0)) {
        *v = x87_get(cpu, 0);
        return true;
    }
    if (x87_stack_fault(cpu, false)) {
        x87_put(cpu, 0, x87_indefinite);
    }
    return false;
}

/* FCHS (arg 0) and FABS (arg 1): the sign only, no exception even for an SNaN. */
static void fsign(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    floatx80 v;

    if (!x87_st0(cpu, &v)) {
        return;
    }
    v.sign_exp = arg ? (uint16_t)(v.sign_exp & 0x7fff) : (uint16_t)(v.sign_exp ^ 0x8000);
    x87_set_cc(cpu, FSW_C1, 0);
    x87_put(cpu, 0, v);
}

enum { UNARY_SQRT, UNARY_RNDINT };

static void unary(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    struct x86_fpstatus st = x87_status(cpu);
    floatx80 v;

    if (!x87_st0(cpu, &v)) {
        return;
    }
    v = arg == UNARY_SQRT ? floatx80_sqrt(v, &st) : floatx80_round_to_int(v, &st);
    x87_result(cpu, 0, v, &st);
}

/* Two-operand instructions on ST(0) and ST(1) with a result in ST(0): FSCALE. */
static void fscale(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    (void)arg;
    struct x86_fpstatus st = x87_status(cpu);

    if (x87_empty(cpu, 0) || x87_empty(cpu, 1)) {
        if (x87_stack_fault(cpu, false)) {
            x87_put(cpu, 0, x87_indefinite);
        }
        return;
    }
    x87_result(cpu, 0, floatx80_scale(x87_get(cpu, 0), x87_get(cpu, 1), &st), &st);
}

/* FPREM (arg 0) and FPREM1 (arg 1): the partial remainder and C0-C3 from softfloat. */
static void fprem(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    struct x86_fpstatus st = x87_status(cpu);
    uint16_t cc = 0;

    /* C2 clear (the reduction is over) when the instruction faults */
    if (x87_empty(cpu, 0) || x87_empty(cpu, 1)) {
        x87_set_cc(cpu, FSW_C2, 0);
        if (x87_stack_fault(cpu, false)) {
            x87_put(cpu, 0, x87_indefinite);
        }
        return;
    }
    floatx80 a = x87_get(cpu, 0), b = x87_get(cpu, 1);
    floatx80 r = arg ? floatx80_prem1(a, b, &cc, &st) : floatx80_prem(a, b, &cc, &st);
    if (x87_commit(cpu, st.flags)) {
        bool nan = (r.sign_exp & 0x7fff) == 0x7fff && (r.mant << 1) != 0;
        /* a NaN result leaves C0 and C3 as they were */
        x87_set_cc(cpu, nan ? FSW_C1 | FSW_C2 : FSW_CC, cc);
        x87_put(cpu, 0, r);
    } else {
        x87_set_cc(cpu, FSW_C1 | FSW_C2, 0);
    }
}

/* FXTRACT: ST(0) becomes the exponent, then the significand is pushed. */
static void fxtract(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    (void)arg;
    struct x86_fpstatus st = x87_status(cpu);
    floatx80 e, s;

    if (x87_empty(cpu, 0)) {
        if (x87_stack_fault(cpu, false)) {
            x87_put(cpu, 0, x87_indefinite);
            x87_push(cpu, x87_indefinite); /* as the hardware: whatever ST(7) held */
        }
        return;
    }
    if (!x87_empty(cpu, 7)) {
        if (x87_stack_fault(cpu, true)) {
            x87_put(cpu, 0, x87_indefinite);
            x87_push(cpu, x87_indefinite);
        }
        return;
    }
    floatx80_extract(x87_get(cpu, 0), &e, &s, &st);
    if (x87_result(cpu, 0, e, &st)) {
        x87_push(cpu, s);
    }
}

/* ---- transcendentals ------------------------------------------------------------------------ */

/* F2XM1: ST(0) = 2^ST(0) - 1. */
static void f2xm1(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    (void)arg;
    struct x86_fpstatus st = x87_status(cpu);
    floatx80 v;

    if (!x87_st0(cpu, &v)) {
        return;
    }
    x87_result(cpu, 0, floatx80_f2xm1(v, &st), &st);
}

/* FYL2X, FYL2XP1, FPATAN: ST(1) = f(ST(0), ST(1)), then pop. */
enum { BINARY_FYL2X, BINARY_FYL2XP1, BINARY_FPATAN };

static void binary_pop(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    struct x86_fpstatus st = x87_status(cpu);
    floatx80 r;

    if (x87_empty(cpu, 0) || x87_empty(cpu, 1)) {
        if (x87_stack_fault(cpu, false)) {
            x87_put(cpu, 1, x87_indefinite);
            x87_pop(cpu);
        }
        return;
    }
    floatx80 x = x87_get(cpu, 0), y = x87_get(cpu, 1);
    switch (arg) {
    case BINARY_FYL2X:
        r = floatx80_fyl2x(x, y, &st);
        break;
    case BINARY_FYL2XP1:
        r = floatx80_fyl2xp1(x, y, &st);
        break;
    default:
        r = floatx80_fpatan(x, y, &st);
        break;
    }
    if (x87_result(cpu, 1, r, &st)) {
        x87_pop(cpu);
    }
}

/* FSIN, FCOS, FPTAN, FSINCOS: C2 set and the operand kept when |ST(0)| >= 2^63. */
enum { TRIG_SIN, TRIG_COS, TRIG_TAN, TRIG_SINCOS };

static void trig(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    struct x86_fpstatus st = x87_status(cpu);
    bool pushes = arg == TRIG_TAN || arg == TRIG_SINCOS;
    floatx80 r, second = {0, 0};
    bool in_range;

    if (x87_empty(cpu, 0)) {
        x87_set_cc(cpu, FSW_C2, 0);
        if (x87_stack_fault(cpu, false)) {
            x87_put(cpu, 0, x87_indefinite);
            if (pushes) {
                x87_push(cpu, x87_indefinite);
            }
        }
        return;
    }
    if (pushes && !x87_empty(cpu, 7)) {
        x87_set_cc(cpu, FSW_C2, 0);
        if (x87_stack_fault(cpu, true)) {
            x87_put(cpu, 0, x87_indefinite);
            x87_push(cpu, x87_indefinite);
        }
        return;
    }
    floatx80 v = x87_get(cpu, 0);
    switch (arg) {
    case TRIG_SIN:
        in_range = floatx80_sin(v, &r, &st);
        break;
    case TRIG_COS:
        in_range = floatx80_cos(v, &r, &st);
        break;
    case TRIG_TAN:
        in_range = floatx80_tan(v, &r, &second, &st);
        break;
    default:
        /* ST(0) becomes the sine, then the cosine is pushed */
        in_range = floatx80_sincos(v, &r, &second, &st);
        break;
    }
    if (!in_range) {
        x87_set_cc(cpu, FSW_C2, FSW_C2);
        x87_commit(cpu, st.flags);
        return;
    }
    x87_set_cc(cpu, FSW_C2, 0);
    if (x87_result(cpu, 0, r, &st) && pushes) {
        x87_push(cpu, second);
    }
}

/* ---- stack and register management ---------------------------------------------------------- */

/* FXCH ST(i): an empty register reads as the indefinite when IE is masked. */
static void fxch(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)arg;
    unsigned i = modrm_rm(op);
    floatx80 a = x87_get(cpu, 0), b = x87_get(cpu, i);

    if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
        if (!x87_stack_fault(cpu, false)) {
            return;
        }
        if (x87_empty(cpu, 0)) {
            a = x87_indefinite;
        }
        if (x87_empty(cpu, i)) {
            b = x87_indefinite;
        }
    } else {
        x87_set_cc(cpu, FSW_C1, 0);
    }
    x87_put(cpu, 0, b);
    x87_put(cpu, i, a);
}

/* FFREE ST(i) (arg 0) and FFREEP ST(i) (arg 1). The SDM lists FFREE with the control
 * instructions, but the hardware records its FIP and FOP as any other's. */
static void ffree(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    x87_set_cc(cpu, FSW_C1, 0);
    x87_set_tag(cpu, x87_phys(cpu, modrm_rm(op)), TAG_EMPTY);
    if (arg) {
        x87_pop(cpu);
    }
}

/* FINCSTP (arg 1) and FDECSTP (arg 7): TOP moves, tags stay. (Control instructions to the
 * SDM, but like FFREE and FNOP they record FIP and FOP on the hardware.) */
static void fstp_move(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    x87_set_top(cpu, x87_top(cpu) + arg);
    x87_set_cc(cpu, FSW_C1, 0);
}

/* FCMOVcc ST(0), ST(i): arg is the EFLAGS condition (as Jcc's low nibble). C1 is left alone
 * unless a register is empty; then the masked response writes the indefinite whatever the
 * condition. */
static void fcmov(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    unsigned i = modrm_rm(op);

    if (x87_empty(cpu, 0) || x87_empty(cpu, i)) {
        if (x87_stack_fault(cpu, false)) {
            x87_put(cpu, 0, x87_indefinite);
        }
        return;
    }
    if (x86_cond(cpu, arg)) {
        x87_put(cpu, 0, x87_get(cpu, i));
    }
}

static void fnop(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)cpu;
    (void)op;
    (void)arg;
}

/* ---- control ---------------------------------------------------------------------------- */

static void fninit(struct x86_cpu *cpu)
{
    cpu->fcw = 0x037f;
    cpu->fsw = 0;
    cpu->ftw = 0xffff;
    cpu->fop = 0;
    cpu->fip = cpu->fdp = 0;
    cpu->fcs = cpu->fds = 0;
}

static void fninit_op(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    (void)arg;
    fninit(cpu);
}

static void fnclex(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    (void)arg;
    cpu->fsw &= (uint16_t)~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
}

/* The control word as loaded: bit 6 reads as one, bits 7 and 13-15 as zero (bit 12, the 287's
 * infinity control, is kept), as on the hardware. */
static uint16_t x87_fcw_of(uint32_t v)
{
    return (uint16_t)((v & 0x1f3fu) | 0x0040u);
}

static void fldcw(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)arg;
    cpu->fcw = x87_fcw_of((uint32_t)x87_load(cpu, op, 0, 2));
    x87_update_es(cpu);
}

static void fnstcw(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)arg;
    x87_store(cpu, op, 2, cpu->fcw);
}

static void fnstsw(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)arg;
    x87_store(cpu, op, 2, cpu->fsw);
}

static void fnstsw_ax(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)op;
    (void)arg;
    x86_reg_write(cpu, X86_RAX, 2, cpu->fsw);
}

/* ---- environment and state images ----------------------------------------------------------- */

/* The tag word as FNSTENV stores it: each non-empty register's tag from its contents. */
static uint16_t x87_full_tags(const struct x86_cpu *cpu)
{
    uint16_t ftw = 0;
    for (unsigned p = 0; p < 8; p++) {
        const struct x86_f80 *r = &cpu->st[p];
        unsigned t = x87_tag(cpu, p) == TAG_EMPTY ? TAG_EMPTY
                                                   : x87_tag_of((floatx80){r->mant, r->sign_exp});
        ftw |= (uint16_t)(t << (2 * p));
    }
    return ftw;
}

static bool x87_real_format(const struct x86_cpu *cpu)
{
    return !(cpu->cr0 & X86_CR0_PE) || (cpu->rflags & X86_VM);
}

/* The environment as its seven fields, 2 bytes each in the 14-byte format (16-bit operand
 * size) and 4 in the 28-byte one, laid out for the mode (SDM Vol. 1 figures 8-9 to 8-12). */
struct x87_env {
    unsigned width;
    uint32_t f[7];
};

static unsigned x87_env_width(const struct x86_uop *op)
{
    return op->opsize == 2 ? 2 : 4;
}

static struct x87_env x87_env_make(const struct x86_cpu *cpu, unsigned width)
{
    struct x87_env e = {.width = width};
    uint16_t ftw = x87_full_tags(cpu);
    uint32_t fip = (uint32_t)cpu->fip, fdp = (uint32_t)cpu->fdp, fop = cpu->fop & 0x7ffu;
    /* the reserved upper halves of the 28-byte format's words read as ones */
    uint32_t ones = width == 4 ? 0xffff0000u : 0;

    e.f[0] = ones | cpu->fcw;
    e.f[1] = ones | cpu->fsw;
    e.f[2] = ones | ftw;
    if (x87_real_format(cpu)) {
        /* linear addresses (selector * 16 + offset); the high bits beside FOP */
        fip += (uint32_t)cpu->fcs << 4;
        fdp += (uint32_t)cpu->fds << 4;
        e.f[3] = ones | (fip & 0xffff);
        e.f[4] = ((fip >> 16) << 12) | fop;
        e.f[5] = ones | (fdp & 0xffff);
        e.f[6] = (fdp >> 16) << 12;
    } else if (width == 2) {
        e.f[3] = fip & 0xffff;
        e.f[4] = cpu->fcs;
        e.f[5] = fdp & 0xffff;
        e.f[6] = cpu->fds;
    } else {
        e.f[3] = fip;
        e.f[4] = cpu->fcs | (fop << 16);
        e.f[5] = fdp;
        e.f[6] = ones | cpu->fds;
    }
    if (width == 2) {
        for (unsigned i = 0; i < 7; i++) {
            e.f[i] &= 0xffff;
        }
    }
    return e;
}

/* Loads the environment's fields; the tag word, which only says which registers are empty
 * (the rest follows from their contents), is returned for x87_retag. */
static uint16_t x87_env_apply(struct x86_cpu *cpu, const struct x87_env *e)
{
    const uint32_t *f = e->f;
    uint32_t high_mask = e->width == 2 ? 0xf : 0xffff;

    cpu->fcw = x87_fcw_of(f[0]);
    cpu->fsw = (uint16_t)f[1];
    if (x87_real_format(cpu)) {
        cpu->fip = (f[3] & 0xffff) | ((f[4] >> 12) & high_mask) << 16;
        cpu->fop = f[4] & 0x7ff;
        cpu->fdp = (f[5] & 0xffff) | ((f[6] >> 12) & high_mask) << 16;
        cpu->fcs = cpu->fds = 0; /* the pointers are linear */
    } else {
        cpu->fip = f[3];
        cpu->fcs = (uint16_t)f[4];
        cpu->fop = e->width == 2 ? 0 : (f[4] >> 16) & 0x7ff; /* the 14-byte one has no FOP */
        cpu->fdp = f[5];
        cpu->fds = (uint16_t)f[6];
    }
    x87_update_es(cpu);
    return (uint16_t)f[2];
}

/* The tags after a load: empty where the loaded tag word says so, else from the contents. */
static void x87_retag(struct x86_cpu *cpu, uint16_t loaded)
{
    for (unsigned p = 0; p < 8; p++) {
        const struct x86_f80 *r = &cpu->st[p];
        x87_set_tag(cpu, p, ((loaded >> (2 * p)) & 3) == TAG_EMPTY
                                ? TAG_EMPTY
                                : x87_tag_of((floatx80){r->mant, r->sign_exp}));
    }
}

static struct x87_env x87_env_read(struct x86_cpu *cpu, const struct x86_uop *op)
{
    struct x87_env e = {.width = x87_env_width(op)};
    for (unsigned i = 0; i < 7; i++) {
        e.f[i] = (uint32_t)x87_load(cpu, op, i * e.width, e.width);
    }
    return e;
}

/* The parts of an image: the environment, then (FNSAVE) ST(0) to ST(7), 10 bytes each. */
static unsigned x87_image_parts(const struct x86_cpu *cpu, const struct x87_env *e,
                                bool registers, struct x87_part *parts)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 7; i++) {
        parts[n++] = (struct x87_part){i * e->width, e->width, e->f[i]};
    }
    if (registers) {
        unsigned base = 7 * e->width;
        for (unsigned i = 0; i < 8; i++) {
            const struct x86_f80 *r = &cpu->st[x87_phys(cpu, i)];
            parts[n++] = (struct x87_part){base + 10 * i, 8, r->mant};
            parts[n++] = (struct x87_part){base + 10 * i + 8, 2, r->sign_exp};
        }
    }
    return n;
}

static void fldenv(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)arg;
    (void)x86_op_linear(cpu, op, 0, 7 * x87_env_width(op), X86_ACC_READ);
    struct x87_env e = x87_env_read(cpu, op);
    x87_retag(cpu, x87_env_apply(cpu, &e));
}

static void fnstenv(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)arg;
    struct x87_part parts[7];
    struct x87_env e = x87_env_make(cpu, x87_env_width(op));
    unsigned n = x87_image_parts(cpu, &e, false, parts);
    x87_store_parts(cpu, op, parts, n, 7 * e.width);
    cpu->fcw |= FSW_EXC; /* every exception masked afterwards: nothing is pending any more */
    x87_update_es(cpu);
}

static void frstor(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)arg;
    unsigned base = 7 * x87_env_width(op);
    uint64_t mant[8];
    uint16_t se[8];

    /* every read before anything changes */
    (void)x86_op_linear(cpu, op, 0, base + 80, X86_ACC_READ);
    struct x87_env e = x87_env_read(cpu, op);
    for (unsigned i = 0; i < 8; i++) {
        mant[i] = x87_load(cpu, op, base + 10 * i, 8);
        se[i] = (uint16_t)x87_load(cpu, op, base + 10 * i + 8, 2);
    }
    uint16_t tags = x87_env_apply(cpu, &e);
    for (unsigned i = 0; i < 8; i++) {
        struct x86_f80 *r = &cpu->st[x87_phys(cpu, i)]; /* ST(i) under the loaded TOP */
        r->mant = mant[i];
        r->sign_exp = se[i];
    }
    x87_retag(cpu, tags);
}

static void fnsave(struct x86_cpu *cpu, const struct x86_uop *op, unsigned arg)
{
    (void)arg;
    struct x87_part parts[7 + 16];
    struct x87_env e = x87_env_make(cpu, x87_env_width(op));
    unsigned n = x87_image_parts(cpu, &e, true, parts);
    x87_store_parts(cpu, op, parts, n, 7 * e.width + 80);
    fninit(cpu);
}

/* ---- the form tables ------------------------------------------------------------------------ */

#define F(fn, arg) {fn, (arg), 0}
#define FC(fn, arg) {fn, (arg), X87_CONTROL}
#define FN(fn, arg) {fn, (arg), X87_CONTROL | X87_NOWAIT}
#define NONE {NULL, 0, 0}
#define ROW(fn, arg) F(fn, arg), F(fn, arg), F(fn, arg), F(fn, arg), F(fn, arg), F(fn, arg), \
                     F(fn, arg), F(fn, arg)
#define ROW_NONE NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE
#define ARITH_ROWS(fmt) F(arith_mem, fmt), F(arith_mem, fmt), F(compare_mem, fmt), \
                        F(compare_mem, fmt), F(arith_mem, fmt), F(arith_mem, fmt), \
                        F(arith_mem, fmt), F(arith_mem, fmt)

/* Memory forms by escape byte (D8-DF) and ModRM.reg. */
static const struct x87_form mem_forms[8][8] = {
    /* D8: m32fp arithmetic */
    {ARITH_ROWS(FMT_F32)},
    /* D9 */
    {F(fld_mem, FMT_F32), NONE, F(fst_mem, FMT_F32), F(fst_mem, FMT_F32 | POP),
     FC(fldenv, 0), FC(fldcw, 0), FN(fnstenv, 0), FN(fnstcw, 0)},
    /* DA: m32int arithmetic */
    {ARITH_ROWS(FMT_I32)},
    /* DB */
    {F(fld_mem, FMT_I32), F(fst_mem, FMT_I32 | POP | TRUNC), F(fst_mem, FMT_I32),
     F(fst_mem, FMT_I32 | POP), NONE, F(fld_mem, FMT_F80), NONE, F(fst_mem, FMT_F80 | POP)},
    /* DC: m64fp arithmetic */
    {ARITH_ROWS(FMT_F64)},
    /* DD */
    {F(fld_mem, FMT_F64), F(fst_mem, FMT_I64 | POP | TRUNC), F(fst_mem, FMT_F64),
     F(fst_mem, FMT_F64 | POP), FC(frstor, 0), NONE, FN(fnsave, 0), FN(fnstsw, 0)},
    /* DE: m16int arithmetic */
    {ARITH_ROWS(FMT_I16)},
    /* DF */
    {F(fld_mem, FMT_I16), F(fst_mem, FMT_I16 | POP | TRUNC), F(fst_mem, FMT_I16),
     F(fst_mem, FMT_I16 | POP), F(fld_mem, FMT_BCD), F(fld_mem, FMT_I64),
     F(fst_mem, FMT_BCD | POP), F(fst_mem, FMT_I64 | POP)},
};

/* Register forms by escape byte and ModRM bits 5:0 (reg, rm). */
static const struct x87_form reg_forms[8][64] = {
    /* D8: ST(0) = ST(0) op ST(i), FCOM/FCOMP ST(i) */
    {ROW(arith_reg, 0), ROW(arith_reg, 0), ROW(compare_reg, 0), ROW(compare_reg, 1),
     ROW(arith_reg, 0), ROW(arith_reg, 0), ROW(arith_reg, 0), ROW(arith_reg, 0)},
    /* D9 */
    {ROW(fld_sti, 0), ROW(fxch, 0),
     /* D0: FNOP (a control instruction to the SDM; it records FIP and FOP on the hardware) */
     F(fnop, 0), NONE, NONE, NONE, NONE, NONE, NONE, NONE,
     ROW_NONE,
     /* E0-E7: FCHS, FABS, FTST, FXAM */
     F(fsign, 0), F(fsign, 1), NONE, NONE, F(ftst, 0), F(fxam, 0), NONE, NONE,
     /* E8-EF: the constants */
     F(fld_const, 0), F(fld_const, 0), F(fld_const, 0), F(fld_const, 0), F(fld_const, 0),
     F(fld_const, 0), F(fld_const, 0), NONE,
     /* F0-F7: F2XM1, FYL2X, FPTAN, FPATAN, FXTRACT, FPREM1, FDECSTP, FINCSTP */
     F(f2xm1, 0), F(binary_pop, BINARY_FYL2X), F(trig, TRIG_TAN), F(binary_pop, BINARY_FPATAN),
     F(fxtract, 0), F(fprem, 1), F(fstp_move, 7), F(fstp_move, 1),
     /* F8-FF: FPREM, FYL2XP1, FSQRT, FSINCOS, FRNDINT, FSCALE, FSIN, FCOS */
     F(fprem, 0), F(binary_pop, BINARY_FYL2XP1), F(unary, UNARY_SQRT), F(trig, TRIG_SINCOS),
     F(unary, UNARY_RNDINT), F(fscale, 0), F(trig, TRIG_SIN), F(trig, TRIG_COS)},
    /* DA: FCMOVB, FCMOVE, FCMOVBE, FCMOVU; E9: FUCOMPP */
    {ROW(fcmov, 2), ROW(fcmov, 4), ROW(fcmov, 6), ROW(fcmov, 10), ROW_NONE,
     NONE, F(compare_reg, 2 | CMP_QUIET), NONE, NONE, NONE, NONE, NONE, NONE,
     ROW_NONE, ROW_NONE},
    /* DB: FCMOVNB, FCMOVNE, FCMOVNBE, FCMOVNU; E0-E4: FENI, FDISI, FNCLEX, FNINIT, FSETPM;
     * FUCOMI, FCOMI */
    {ROW(fcmov, 3), ROW(fcmov, 5), ROW(fcmov, 7), ROW(fcmov, 11),
     FN(fnop, 0), FN(fnop, 0), FN(fnclex, 0), FN(fninit_op, 0), FN(fnop, 0), NONE, NONE, NONE,
     ROW(comparei, CMP_QUIET), ROW(comparei, 0), ROW_NONE},
    /* DC: ST(i) = ST(i) op ST(0) */
    {ROW(arith_reg, DEST_STI), ROW(arith_reg, DEST_STI), ROW_NONE, ROW_NONE,
     ROW(arith_reg, DEST_STI), ROW(arith_reg, DEST_STI), ROW(arith_reg, DEST_STI),
     ROW(arith_reg, DEST_STI)},
    /* DD: FFREE, FST, FSTP, FUCOM, FUCOMP */
    {ROW(ffree, 0), ROW_NONE, ROW(fst_sti, 0), ROW(fst_sti, 1), ROW(compare_reg, CMP_QUIET),
     ROW(compare_reg, 1 | CMP_QUIET), ROW_NONE, ROW_NONE},
    /* DE: the popping forms; D9: FCOMPP */
    {ROW(arith_reg, DEST_STI | ARITH_POP), ROW(arith_reg, DEST_STI | ARITH_POP), ROW_NONE,
     NONE, F(compare_reg, 2), NONE, NONE, NONE, NONE, NONE, NONE,
     ROW(arith_reg, DEST_STI | ARITH_POP), ROW(arith_reg, DEST_STI | ARITH_POP),
     ROW(arith_reg, DEST_STI | ARITH_POP), ROW(arith_reg, DEST_STI | ARITH_POP)},
    /* DF: FFREEP; E0: FNSTSW AX; FUCOMIP, FCOMIP */
    {ROW(ffree, 1), ROW_NONE, ROW_NONE, ROW_NONE,
     FN(fnstsw_ax, 0), NONE, NONE, NONE, NONE, NONE, NONE, NONE,
     ROW(comparei, 1 | CMP_QUIET), ROW(comparei, 1), ROW_NONE},
};

/* ---- entry points --------------------------------------------------------------------------- */

/* A pending unmasked exception is reported before a waiting instruction runs. */
static void x87_check_pending(struct x86_cpu *cpu)
{
    if ((cpu->fsw & FSW_ES) && (cpu->cr0 & X86_CR0_NE)) {
        x86_raise_noerr(cpu, X86_EXC_MF);
    }
    /* CR0.NE clear: FERR# and IRQ 13 (not modelled) */
}

static enum x86_result x87_esc(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned esc = op->opcode & 7;
    bool mem = op->flags & X86_UOP_MEM;
    const struct x87_form *f = mem ? &mem_forms[esc][modrm_reg(op)]
                                   : &reg_forms[esc][op->modrm & 0x3f];

    if (cpu->cr0 & (X86_CR0_EM | X86_CR0_TS)) {
        x86_raise_noerr(cpu, X86_EXC_NM);
    }
    if (!f->fn) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    if (!(f->flags & X87_NOWAIT)) {
        x87_check_pending(cpu);
    }
    f->fn(cpu, op, f->arg);
    if (!(f->flags & X87_CONTROL)) {
        cpu->fop = (uint16_t)((esc << 8) | op->modrm);
        cpu->fip = op->pc;
        cpu->fcs = cpu->seg[X86_CS].selector;
        if (mem) {
            cpu->fdp = x86_ea(cpu, op);
            cpu->fds = cpu->seg[op->seg].selector;
        }
    }
    return X86_NEXT;
}

/* FWAIT: #NM only when CR0.MP and CR0.TS are both set; then any pending #MF. */
static enum x86_result x87_fwait(struct x86_cpu *cpu, const struct x86_uop *op)
{
    (void)op;
    if ((cpu->cr0 & X86_CR0_MP) && (cpu->cr0 & X86_CR0_TS)) {
        x86_raise_noerr(cpu, X86_EXC_NM);
    }
    x87_check_pending(cpu);
    return X86_NEXT;
}

const struct x86_exec_entry x86_exec_table_x87[] = {
    {"ESC", x87_esc, 0, 0},
    {"FWAIT", x87_fwait, 0, 0},
};
const size_t x86_exec_table_x87_len = sizeof(x86_exec_table_x87) / sizeof(x86_exec_table_x87[0]);
