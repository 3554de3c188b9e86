/*
 * coremu ARM — loads and stores: single (word, byte, halfword, signed, doubleword, the
 * unprivileged T forms, literal forms), multiple (LDM/STM in four addressing modes, the
 * User-register and exception-return forms), SWP/SWPB and the exclusives.
 *
 * Every memory access may escape through cpu->fault_jmp, so each handler performs all of its
 * accesses before it writes any register (LDM loads into a temporary array first).
 */
#include "config.h"

#include <coremu/util.h>

#include "ops.h"

/* ---- single loads and stores ------------------------------------------------------------ */

static inline uint32_t reg_offset(const struct arm_cpu *cpu, const struct arm_uop *op)
{
    return arm_shift(arm_reg(cpu, op, op->rm), op->shift_type, op->shift_n, arm_flag_c(cpu));
}

/* The address an access uses and the one written back. */
static inline uint32_t ls_address(const struct arm_cpu *cpu, const struct arm_uop *op,
                                  uint32_t offset, uint32_t *offset_addr)
{
    uint32_t base = arm_reg(cpu, op, op->rn);
    uint32_t oa = (op->flags & ARM_UOP_U) ? base + offset : base - offset;
    *offset_addr = oa;
    return (op->flags & ARM_UOP_P) ? oa : base;
}

static inline bool ls_wback(const struct arm_cpu *cpu, const struct arm_uop *op)
{
    (void)cpu;
    return !(op->flags & ARM_UOP_P) || (op->flags & ARM_UOP_W);
}

static inline uint32_t lit_address(const struct arm_uop *op)
{
    uint32_t base = arm_pc_operand(op) & ~3u;
    return (op->flags & ARM_UOP_U) ? base + op->imm : base - op->imm;
}

static inline uint32_t extend(uint32_t data, unsigned size, bool sign)
{
    if (!sign) {
        return data;
    }
    return size == 1 ? (uint32_t)(int32_t)(int8_t)(uint8_t)data
                     : (uint32_t)(int32_t)(int16_t)(uint16_t)data;
}

static inline __attribute__((always_inline)) enum arm_uop_result
load_finish(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t data)
{
    if (op->rd == 15) {
        return arm_load_write_pc(cpu, data);
    }
    cpu->r[op->rd] = data;
    return ARM_NEXT;
}

static inline __attribute__((always_inline)) enum arm_uop_result
load_common(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t offset, unsigned size,
            bool sign, bool user)
{
    uint32_t oa;
    uint32_t addr = ls_address(cpu, op, offset, &oa);
    uint32_t raw =
        user ? arm_load(cpu, addr, size, true, false) : arm_load_fast(cpu, addr, size, false);
    uint32_t data = extend(raw, size, sign);
    if (ls_wback(cpu, op)) {
        cpu->r[op->rn] = oa;
    }
    return load_finish(cpu, op, data);
}

static inline __attribute__((always_inline)) enum arm_uop_result
store_common(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t offset, unsigned size,
             bool user)
{
    uint32_t oa;
    uint32_t addr = ls_address(cpu, op, offset, &oa);
    uint32_t data = arm_reg(cpu, op, op->rd);
    data = size == 4 ? data : data & ((1u << (8 * size)) - 1);
    if (user) {
        arm_store(cpu, addr, size, data, true, false);
    } else {
        arm_store_fast(cpu, addr, size, data, false);
    }
    if (ls_wback(cpu, op)) {
        cpu->r[op->rn] = oa;
    }
    return ARM_NEXT;
}

#define LOAD_HANDLERS(NAME, SIZE, SIGN, USER)                                                  \
    ARM_OP(NAME##_imm)                                                                         \
    {                                                                                          \
        return load_common(cpu, op, op->imm, SIZE, SIGN, USER);                                \
    }                                                                                          \
    ARM_OP(NAME##_reg)                                                                         \
    {                                                                                          \
        return load_common(cpu, op, reg_offset(cpu, op), SIZE, SIGN, USER);                    \
    }

#define LOAD_LITERAL(NAME, SIZE, SIGN)                                                         \
    ARM_OP(NAME##_lit)                                                                         \
    {                                                                                          \
        return load_finish(cpu, op,                                                            \
                           extend(arm_load_fast(cpu, lit_address(op), SIZE, false), SIZE,     \
                                  SIGN));                                                      \
    }

#define STORE_HANDLERS(NAME, SIZE, USER)                                                       \
    ARM_OP(NAME##_imm)                                                                         \
    {                                                                                          \
        return store_common(cpu, op, op->imm, SIZE, USER);                                     \
    }                                                                                          \
    ARM_OP(NAME##_reg)                                                                         \
    {                                                                                          \
        return store_common(cpu, op, reg_offset(cpu, op), SIZE, USER);                         \
    }

LOAD_HANDLERS(LDR, 4, false, false)
LOAD_HANDLERS(LDRB, 1, false, false)
LOAD_HANDLERS(LDRH, 2, false, false)
LOAD_HANDLERS(LDRSB, 1, true, false)
LOAD_HANDLERS(LDRSH, 2, true, false)
LOAD_LITERAL(LDR, 4, false)
LOAD_LITERAL(LDRB, 1, false)
LOAD_LITERAL(LDRH, 2, false)
LOAD_LITERAL(LDRSB, 1, true)
LOAD_LITERAL(LDRSH, 2, true)
LOAD_HANDLERS(LDRT, 4, false, true)
LOAD_HANDLERS(LDRBT, 1, false, true)
LOAD_HANDLERS(LDRHT, 2, false, true)
LOAD_HANDLERS(LDRSBT, 1, true, true)
LOAD_HANDLERS(LDRSHT, 2, true, true)
STORE_HANDLERS(STR, 4, false)
STORE_HANDLERS(STRB, 1, false)
STORE_HANDLERS(STRH, 2, false)
STORE_HANDLERS(STRT, 4, true)
STORE_HANDLERS(STRBT, 1, true)
STORE_HANDLERS(STRHT, 2, true)

/* ---- doubleword ------------------------------------------------------------------------- */

/*
 * LDRD/STRD need word alignment. With LPAE (Cortex-A15) a doubleword-aligned access is single-
 * copy atomic: do it as one 64-bit access. Rt is the word at addr and Rt2 the word at addr + 4
 * whatever CPSR.E says (R[t] = MemA[address,4]; R[t2] = MemA[address+4,4]): big-endian
 * reverses the bytes within each word, never the two words. arm_load64/arm_store64 keep the
 * word at addr in bits 31:0 in both endiannesses, so no swap here. (These used to swap the
 * halves when big-endian, which differed from their own unaligned path and from
 * qemu-system-arm; found by testsuite/difftest.)
 */
static inline void load_pair(struct arm_cpu *cpu, uint32_t addr, uint32_t *lo, uint32_t *hi)
{
    if ((addr & 7) == 0) {
        uint64_t data = arm_load64(cpu, addr, true);
        *lo = (uint32_t)data;
        *hi = (uint32_t)(data >> 32);
    } else {
        *lo = arm_load(cpu, addr, 4, false, true);
        *hi = arm_load(cpu, addr + 4, 4, false, true);
    }
}

static inline void store_pair(struct arm_cpu *cpu, uint32_t addr, uint32_t lo, uint32_t hi)
{
    if ((addr & 7) == 0) {
        arm_store64(cpu, addr, ((uint64_t)hi << 32) | lo, true);
    } else {
        arm_store(cpu, addr, 4, lo, false, true);
        arm_store(cpu, addr + 4, 4, hi, false, true);
    }
}

static inline enum arm_uop_result ldrd_common(struct arm_cpu *cpu, const struct arm_uop *op,
                                              uint32_t offset)
{
    uint32_t oa, lo, hi;
    uint32_t addr = ls_address(cpu, op, offset, &oa);
    load_pair(cpu, addr, &lo, &hi);
    if (ls_wback(cpu, op)) {
        cpu->r[op->rn] = oa;
    }
    cpu->r[op->rd] = lo;
    cpu->r[op->ra] = hi;
    return ARM_NEXT;
}

static inline enum arm_uop_result strd_common(struct arm_cpu *cpu, const struct arm_uop *op,
                                              uint32_t offset)
{
    uint32_t oa;
    uint32_t addr = ls_address(cpu, op, offset, &oa);
    store_pair(cpu, addr, arm_reg(cpu, op, op->rd), arm_reg(cpu, op, op->ra));
    if (ls_wback(cpu, op)) {
        cpu->r[op->rn] = oa;
    }
    return ARM_NEXT;
}

ARM_OP(LDRD_imm)
{
    return ldrd_common(cpu, op, op->imm);
}

ARM_OP(LDRD_reg)
{
    return ldrd_common(cpu, op, arm_reg(cpu, op, op->rm));
}

ARM_OP(LDRD_lit)
{
    uint32_t lo, hi;
    load_pair(cpu, lit_address(op), &lo, &hi);
    cpu->r[op->rd] = lo;
    cpu->r[op->ra] = hi;
    return ARM_NEXT;
}

ARM_OP(STRD_imm)
{
    return strd_common(cpu, op, op->imm);
}

ARM_OP(STRD_reg)
{
    return strd_common(cpu, op, arm_reg(cpu, op, op->rm));
}

/* ---- load/store multiple ---------------------------------------------------------------- */

enum amode { AM_DA, AM_IA, AM_DB, AM_IB }; /* bit 0 = U (increment), bit 1 = P (before) */

static inline enum amode op_amode(const struct arm_uop *op)
{
    return (enum amode)(((op->flags & ARM_UOP_U) ? 1 : 0) | ((op->flags & ARM_UOP_P) ? 2 : 0));
}

/* Number of registers in a list: the host may have no population count instruction (the
 * default x86-64 target has none, and __builtin_popcount then becomes a library call). */
static inline unsigned count16(uint32_t list)
{
    uint32_t x = list & 0xffffu;
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0f0fu;
    return (x + (x >> 8)) & 0x1fu;
}

/* Lowest address accessed, and the base's write-back value. */
static inline uint32_t multi_start(uint32_t base, unsigned count, enum amode mode,
                                   uint32_t *wback)
{
    switch (mode) {
    case AM_IA:
        *wback = base + 4 * count;
        return base;
    case AM_IB:
        *wback = base + 4 * count;
        return base + 4;
    case AM_DA:
        *wback = base - 4 * count;
        return base - 4 * count + 4;
    case AM_DB:
    default:
        *wback = base - 4 * count;
        return base - 4 * count;
    }
}

/* Loads every listed register into v[] (indexed by register number). */
static inline uint32_t ldm_load(struct arm_cpu *cpu, const struct arm_uop *op, enum amode mode,
                                uint32_t v[16])
{
    uint32_t list = op->imm, wback;
    uint32_t addr = multi_start(arm_reg(cpu, op, op->rn), count16(list), mode, &wback);
    for (uint32_t l = list; l != 0; l &= l - 1) {
        unsigned i = (unsigned)__builtin_ctz(l);
        v[i] = arm_load_fast(cpu, addr, 4, true);
        addr += 4;
    }
    return wback;
}

static inline __attribute__((always_inline)) enum arm_uop_result
ldm_common(struct arm_cpu *cpu, const struct arm_uop *op, enum amode mode)
{
    uint32_t v[16];
    uint32_t wback = ldm_load(cpu, op, mode, v);
    /* With Rn in the list and write-back (UNPREDICTABLE) the loaded value wins. */
    if (op->flags & ARM_UOP_W) {
        cpu->r[op->rn] = wback;
    }
    for (uint32_t l = op->imm & 0x7fffu; l != 0; l &= l - 1) {
        unsigned i = (unsigned)__builtin_ctz(l);
        cpu->r[i] = v[i];
    }
    if (op->imm & 0x8000u) {
        return arm_load_write_pc(cpu, v[15]);
    }
    return ARM_NEXT;
}

static inline __attribute__((always_inline)) enum arm_uop_result
stm_common(struct arm_cpu *cpu, const struct arm_uop *op, enum amode mode, bool user)
{
    uint32_t list = op->imm, wback;
    uint32_t addr = multi_start(arm_reg(cpu, op, op->rn), count16(list), mode, &wback);
    /* With Rn in the list and write-back, the original base is stored: what the ARM ARM
     * specifies when Rn is the lowest register, and a sane choice otherwise. */
    for (uint32_t l = list; l != 0; l &= l - 1) {
        unsigned i = (unsigned)__builtin_ctz(l);
        uint32_t value = (user && i >= 8 && i <= 14) ? arm_get_user_reg(cpu, i)
                                                     : arm_reg(cpu, op, i);
        arm_store_fast(cpu, addr, 4, value, true);
        addr += 4;
    }
    if (op->flags & ARM_UOP_W) {
        cpu->r[op->rn] = wback;
    }
    return ARM_NEXT;
}

ARM_OP(LDM)
{
    return ldm_common(cpu, op, AM_IA);
}

ARM_OP(LDMDA)
{
    return ldm_common(cpu, op, AM_DA);
}

ARM_OP(LDMDB)
{
    return ldm_common(cpu, op, AM_DB);
}

ARM_OP(LDMIB)
{
    return ldm_common(cpu, op, AM_IB);
}

ARM_OP(STM)
{
    return stm_common(cpu, op, AM_IA, false);
}

ARM_OP(STMDA)
{
    return stm_common(cpu, op, AM_DA, false);
}

ARM_OP(STMDB)
{
    return stm_common(cpu, op, AM_DB, false);
}

ARM_OP(STMIB)
{
    return stm_common(cpu, op, AM_IB, false);
}

/* STM (User registers): r8-r14 of User mode whatever the current mode (UNPREDICTABLE in User
 * and System modes, where they are the current ones anyway). */
ARM_OP(STM_user)
{
    return stm_common(cpu, op, op_amode(op), true);
}

/* LDM (User registers): never lists the PC. Write-back (UNPREDICTABLE) updates the current
 * mode's base before the User registers are written. */
ARM_OP(LDM_user)
{
    uint32_t v[16];
    uint32_t wback = ldm_load(cpu, op, op_amode(op), v);
    if (op->flags & ARM_UOP_W) {
        cpu->r[op->rn] = wback;
    }
    for (uint32_t l = op->imm & 0x7fffu; l != 0; l &= l - 1) {
        unsigned i = (unsigned)__builtin_ctz(l);
        if (i < 8) {
            cpu->r[i] = v[i];
        } else {
            arm_set_user_reg(cpu, i, v[i]);
        }
    }
    return ARM_NEXT;
}

/* LDM (exception return): registers are written in the current mode, then CPSR <- SPSR and
 * the branch. In User and System modes (UNPREDICTABLE: no SPSR) it runs as a plain LDM. */
ARM_OP(LDM_eret)
{
    uint32_t *spsr = arm_current_spsr(cpu);
    if (spsr == NULL) {
        return ldm_common(cpu, op, op_amode(op));
    }
    uint32_t v[16];
    uint32_t wback = ldm_load(cpu, op, op_amode(op), v);
    if (op->flags & ARM_UOP_W) {
        cpu->r[op->rn] = wback;
    }
    for (uint32_t l = op->imm & 0x7fffu; l != 0; l &= l - 1) {
        unsigned i = (unsigned)__builtin_ctz(l);
        cpu->r[i] = v[i];
    }
    arm_exception_return(cpu, v[15], *spsr);
    return ARM_BRANCH;
}

/* ---- swap and exclusives ----------------------------------------------------------------
 *
 * Through the core's atomic table (atomic_arm.c), the one path guest atomics take: the runtime's
 * torture test drives the same entry points.
 */

/* SWP and SWPB exist only while SCTLR.SW enables them (Multiprocessing Extensions). */
ARM_OP(SWP)
{
    if (!(cpu->cp15.sctlr & ARM_SCTLR_SW)) {
        arm_undefined(cpu, op);
    }
    uint32_t old = (uint32_t)cpu->atomic->swap(cpu, arm_reg(cpu, op, op->rn), 4,
                                               arm_reg(cpu, op, op->rm));
    cpu->r[op->rd] = old;
    return ARM_NEXT;
}

ARM_OP(SWPB)
{
    if (!(cpu->cp15.sctlr & ARM_SCTLR_SW)) {
        arm_undefined(cpu, op);
    }
    uint32_t old = (uint32_t)cpu->atomic->swap(cpu, arm_reg(cpu, op, op->rn), 1,
                                               arm_reg(cpu, op, op->rm) & 0xffu);
    cpu->r[op->rd] = old & 0xffu;
    return ARM_NEXT;
}

static inline enum arm_uop_result ldrex_common(struct arm_cpu *cpu, const struct arm_uop *op,
                                               unsigned size)
{
    uint32_t value =
        (uint32_t)cpu->atomic->load_exclusive(cpu, arm_reg(cpu, op, op->rn) + op->imm, size);
    cpu->r[op->rd] = value;
    return ARM_NEXT;
}

static inline enum arm_uop_result strex_common(struct arm_cpu *cpu, const struct arm_uop *op,
                                               unsigned size)
{
    uint32_t value = arm_reg(cpu, op, op->rm);
    if (size < 4) {
        value &= (1u << (8 * size)) - 1;
    }
    bool ok = cpu->atomic->store_exclusive(cpu, arm_reg(cpu, op, op->rn) + op->imm, size, value);
    cpu->r[op->rd] = ok ? 0 : 1;
    return ARM_NEXT;
}

ARM_OP(LDREX)
{
    return ldrex_common(cpu, op, 4);
}

ARM_OP(LDREXB)
{
    return ldrex_common(cpu, op, 1);
}

ARM_OP(LDREXH)
{
    return ldrex_common(cpu, op, 2);
}

ARM_OP(STREX)
{
    return strex_common(cpu, op, 4);
}

ARM_OP(STREXB)
{
    return strex_common(cpu, op, 1);
}

ARM_OP(STREXH)
{
    return strex_common(cpu, op, 2);
}

/* Rt is the word at the address, Rt2 the word after it, in either endianness: the ARM ARM's
 * MemA[address,8] takes R[t] from value<63:32> when big-endian, which are the bytes at the
 * address. The table's 8-byte exclusives keep the word at the address in bits 31:0
 * (byte-reversing each word when big-endian), so no swap here. (These used to swap the words
 * when big-endian; found by testsuite/difftest against qemu-system-arm.) */
ARM_OP(LDREXD)
{
    uint64_t value = cpu->atomic->load_exclusive(cpu, arm_reg(cpu, op, op->rn) + op->imm, 8);
    cpu->r[op->rd] = (uint32_t)value;
    cpu->r[op->ra] = (uint32_t)(value >> 32);
    return ARM_NEXT;
}

ARM_OP(STREXD)
{
    uint32_t t = arm_reg(cpu, op, op->rm), t2 = arm_reg(cpu, op, op->ra);
    uint64_t value = ((uint64_t)t2 << 32) | t;
    bool ok = cpu->atomic->store_exclusive(cpu, arm_reg(cpu, op, op->rn) + op->imm, 8, value);
    cpu->r[op->rd] = ok ? 0 : 1;
    return ARM_NEXT;
}

/* ---- specialised forms -------------------------------------------------------------------
 *
 * arm_ldst_specialise (called by the block builder) swaps the general single load/store
 * handlers for these when neither Rt nor Rn (nor Rm) is the PC, a register offset is shifted
 * left by a constant (LSL #0-31, by far the common case), and a load with write-back does not
 * also load into its base (UNPREDICTABLE; left to the general handler). What they save is the
 * PC tests of arm_reg, the LoadWritePC path and the general shifter.
 */

static inline __attribute__((always_inline)) enum arm_uop_result
fast_load(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t offset, unsigned size,
          bool sign)
{
    uint32_t base = cpu->r[op->rn];
    uint32_t oa = (op->flags & ARM_UOP_U) ? base + offset : base - offset;
    uint32_t addr = (op->flags & ARM_UOP_P) ? oa : base;
    uint32_t data = extend(arm_load_fast(cpu, addr, size, false), size, sign);
    if (ls_wback(cpu, op)) {
        cpu->r[op->rn] = oa;
    }
    cpu->r[op->rd] = data;
    return ARM_NEXT;
}

static inline __attribute__((always_inline)) enum arm_uop_result
fast_store(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t offset, unsigned size)
{
    uint32_t base = cpu->r[op->rn];
    uint32_t oa = (op->flags & ARM_UOP_U) ? base + offset : base - offset;
    uint32_t addr = (op->flags & ARM_UOP_P) ? oa : base;
    uint32_t data = cpu->r[op->rd];
    arm_store_fast(cpu, addr, size, size == 4 ? data : data & ((1u << (8 * size)) - 1), false);
    if (ls_wback(cpu, op)) {
        cpu->r[op->rn] = oa;
    }
    return ARM_NEXT;
}

/* The threaded forms (ops.h): the fast path only; anything else goes to the handler above
 * through arm_thread_general, before any register was written. Keeping the slow path out of
 * line leaves these without a stack frame. */
static inline __attribute__((always_inline)) const struct arm_uop *
thread_load(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t offset, unsigned size,
            bool sign)
{
    uint32_t base = cpu->r[op->rn];
    uint32_t oa = (op->flags & ARM_UOP_U) ? base + offset : base - offset;
    uint32_t addr = (op->flags & ARM_UOP_P) ? oa : base;
    uint32_t data;
    if (!arm_load_try(cpu, addr, size, &data)) {
        return arm_thread_general(cpu, op);
    }
    if (ls_wback(cpu, op)) {
        cpu->r[op->rn] = oa;
    }
    cpu->r[op->rd] = extend(data, size, sign);
    ARM_THREAD_NEXT(cpu, op);
}

static inline __attribute__((always_inline)) const struct arm_uop *
thread_store(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t offset, unsigned size)
{
    uint32_t base = cpu->r[op->rn];
    uint32_t oa = (op->flags & ARM_UOP_U) ? base + offset : base - offset;
    uint32_t addr = (op->flags & ARM_UOP_P) ? oa : base;
    uint32_t data = cpu->r[op->rd];
    if (!arm_store_try(cpu, addr, size, size == 4 ? data : data & ((1u << (8 * size)) - 1))) {
        return arm_thread_general(cpu, op);
    }
    if (ls_wback(cpu, op)) {
        cpu->r[op->rn] = oa;
    }
    ARM_THREAD_NEXT(cpu, op);
}

#define LDST_FAST_PAIR(NAME, SUFFIX, KIND, OFFSET, ...)                                         \
    static ARM_OP(fast_##NAME##_##SUFFIX)                                                       \
    {                                                                                           \
        return fast_##KIND(cpu, op, (OFFSET), __VA_ARGS__);                                     \
    }                                                                                           \
    static ARM_THREAD_OP(fast_##NAME##_##SUFFIX)                                                \
    {                                                                                           \
        return thread_##KIND(cpu, op, (OFFSET), __VA_ARGS__);                                   \
    }                                                                                           \
    static ARM_THREAD_COND(fast_##NAME##_##SUFFIX##_cc, fast_##NAME##_##SUFFIX)

#define LOAD_FAST(NAME, SIZE, SIGN)                                                             \
    LDST_FAST_PAIR(NAME, imm, load, op->imm, SIZE, SIGN)                                        \
    LDST_FAST_PAIR(NAME, reg, load, cpu->r[op->rm] << op->shift_n, SIZE, SIGN)

#define STORE_FAST(NAME, SIZE)                                                                  \
    LDST_FAST_PAIR(NAME, imm, store, op->imm, SIZE)                                             \
    LDST_FAST_PAIR(NAME, reg, store, cpu->r[op->rm] << op->shift_n, SIZE)

LOAD_FAST(LDR, 4, false)
LOAD_FAST(LDRB, 1, false)
LOAD_FAST(LDRH, 2, false)
LOAD_FAST(LDRSB, 1, true)
LOAD_FAST(LDRSH, 2, true)
STORE_FAST(STR, 4)
STORE_FAST(STRB, 1)
STORE_FAST(STRH, 2)

struct ldst_fast {
    arm_uop_fn imm_fn, reg_fn; /* the general handlers */
    arm_uop_fn imm, reg;       /* their fast forms */
    arm_uop_tfn imm_t, reg_t;  /* and threaded ones */
    arm_uop_tfn imm_tc, reg_tc; /* threaded, for conditional instructions */
    bool load;
};

#define LDST_FAST_ROW(NAME, LOAD)                                                               \
    {arm_op_##NAME##_imm,      arm_op_##NAME##_reg,      arm_op_fast_##NAME##_imm,              \
     arm_op_fast_##NAME##_reg, arm_thr_fast_##NAME##_imm, arm_thr_fast_##NAME##_reg,            \
     arm_thr_fast_##NAME##_imm_cc, arm_thr_fast_##NAME##_reg_cc, LOAD}

static const struct ldst_fast ldst_fast_table[] = {
    LDST_FAST_ROW(LDR, true),   LDST_FAST_ROW(LDRB, true), LDST_FAST_ROW(LDRH, true),
    LDST_FAST_ROW(LDRSB, true), LDST_FAST_ROW(LDRSH, true), LDST_FAST_ROW(STR, false),
    LDST_FAST_ROW(STRB, false), LDST_FAST_ROW(STRH, false),
};

bool arm_ldst_specialise(struct arm_uop *op)
{
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(ldst_fast_table); i++) {
        const struct ldst_fast *f = &ldst_fast_table[i];
        if (op->fn != f->imm_fn && op->fn != f->reg_fn) {
            continue;
        }
        bool wback = !(op->flags & ARM_UOP_P) || (op->flags & ARM_UOP_W);
        if (op->rn == 15 || op->rd == 15 || (f->load && wback && op->rn == op->rd)) {
            return false;
        }
        if (op->fn == f->imm_fn) {
            op->fn = f->imm;
            op->tfn = op->cond < 0xe ? f->imm_tc : f->imm_t;
            return true;
        }
        if (op->rm == 15 || op->shift_type != ARM_SHIFT_LSL || op->shift_n > 31) {
            return false;
        }
        op->fn = f->reg;
        op->tfn = op->cond < 0xe ? f->reg_tc : f->reg_t;
        return true;
    }
    return false;
}
