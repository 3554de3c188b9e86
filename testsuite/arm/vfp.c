/*
 * VFPv3-D32 + VFPv4: access control (CPACR, FPEXC.EN: a VFP instruction with the unit disabled
 * is UNDEFINED, and the lazy-enable pattern of an OS -- enable in the handler, retry -- works),
 * exact results of VADD/VSUB/VMUL/VDIV/VSQRT/VFMA/VFMS/VMLA in f32 and f64 under the four
 * rounding modes, ties to even, overflow and division by zero, flush-to-zero (input and output),
 * default NaN, NaN propagation order (signalling before quiet, then operand order), the
 * cumulative exception flags of FPSCR, VCMP/VCMPE with VMRS APSR_nzcv, conversions (float to
 * integer with saturation and rounding, fixed-point, half precision, f32/f64), VLDM/VSTM/
 * VPUSH/VPOP, and the VMOV forms including D16-D31.
 *
 * Expected values come from the ARM ARM pseudocode (A2.7, FPRound, FPProcessNaNs*, FPToFixed)
 * and IEEE 754. Built with -mfpu=vfpv4 -mfloat-abi=softfp: the compiler's own code never touches
 * the VFP, which is off until access() turns it on (so no asm here clobbers the callee-saved
 * d8-d15, which would make main() save them with VPUSH first).
 */
#include "test.h"

#define IOC 0x01u
#define DZC 0x02u
#define OFC 0x04u
#define UFC 0x08u
#define IXC 0x10u
#define IDC 0x80u
#define EXC_FLAGS 0x9fu
#define RN 0u
#define RP (1u << 22)
#define RM (2u << 22)
#define RZ (3u << 22)
#define FZ (1u << 24)
#define DN (1u << 25)

static inline uint32_t fpscr_read(void)
{
    uint32_t v;
    __asm__ volatile("vmrs %0, fpscr" : "=r"(v));
    return v;
}

static void check(const char *name, uint32_t r, uint32_t flags, uint32_t want_r,
                  uint32_t want_flags)
{
    flags &= EXC_FLAGS;
    test_check(r == want_r && flags == want_flags, name,
               "0x%08x flags 0x%x, expected 0x%08x flags 0x%x", r, flags, want_r, want_flags);
}
static void check64(const char *name, uint64_t r, uint32_t flags, uint64_t want_r,
                    uint32_t want_flags)
{
    flags &= EXC_FLAGS;
    test_check(r == want_r && flags == want_flags, name,
               "0x%08x%08x flags 0x%x, expected 0x%08x%08x flags 0x%x", (uint32_t)(r >> 32),
               (uint32_t)r, flags, (uint32_t)(want_r >> 32), (uint32_t)want_r, want_flags);
}

/* One f32 operation on s0 = a, s1 = b, s2 = c (the accumulator) into s2, FPSCR = fpscr first. */
#define F32(name, insn, a, b, c, fpscr, want, want_flags)                                          \
    do {                                                                                           \
        uint32_t r_, f_;                                                                           \
        __asm__ volatile("vmsr fpscr, %[fi]\n\tvmov s0, %[va]\n\tvmov s1, %[vb]\n\t"               \
                         "vmov s2, %[vc]\n\t" insn "\n\tvmov %[r], s2\n\tvmrs %[fo], fpscr"        \
                         : [r] "=r"(r_), [fo] "=r"(f_)                                             \
                         : [va] "r"((uint32_t)(a)), [vb] "r"((uint32_t)(b)),                       \
                           [vc] "r"((uint32_t)(c)), [fi] "r"((uint32_t)(fpscr))                    \
                         : "s0", "s1", "s2");                                                      \
        check(name, r_, f_, (want), (want_flags));                                                 \
    } while (0)

/* The same in f64: d0 = a, d1 = b, d2 = c, result d2. */
#define F64(name, insn, a, b, c, fpscr, want, want_flags)                                          \
    do {                                                                                           \
        uint64_t a_ = (a), b_ = (b), c_ = (c), r_;                                                 \
        uint32_t f_;                                                                               \
        __asm__ volatile("vmsr fpscr, %[fi]\n\tvmov d0, %Q[va], %R[va]\n\t"                        \
                         "vmov d1, %Q[vb], %R[vb]\n\tvmov d2, %Q[vc], %R[vc]\n\t" insn             \
                         "\n\tvmov %Q[r], %R[r], d2\n\tvmrs %[fo], fpscr"                          \
                         : [r] "=&r"(r_), [fo] "=r"(f_)                                            \
                         : [va] "r"(a_), [vb] "r"(b_), [vc] "r"(c_), [fi] "r"((uint32_t)(fpscr))   \
                         : "d0", "d1", "d2");                                                      \
        check64(name, r_, f_, (want), (want_flags));                                               \
    } while (0)

/* ---- access control ----------------------------------------------------------------------- */

static volatile uint32_t n_undef;
static volatile bool lazy_enable;

static bool hook(enum exc_kind kind, struct exc_frame *f)
{
    if (kind != EXC_UNDEF) {
        return false;
    }
    n_undef++;
    if (lazy_enable) {
        /* What an OS does on first use: turn the unit on and retry the instruction. */
        __asm__ volatile("vmsr fpexc, %0" : : "r"(1u << 30));
        lazy_enable = false;
    } else {
        f->pc += 4;
    }
    return true;
}

static void access(void)
{
    set_exception_hook(hook);
    uint32_t v = 0;

    /* CPACR grants no access to cp10/cp11: even VMRS FPSID is UNDEFINED. */
    __asm__ volatile("mcr p15, 0, %0, c1, c0, 2\n\tisb" : : "r"(0u));
    uint32_t n = n_undef;
    __asm__ volatile("vmrs %0, fpsid" : "+r"(v));
    test_check_eq("vfp: CPACR without cp10/cp11: VMRS is undefined", n_undef - n, 1);

    __asm__ volatile("mcr p15, 0, %0, c1, c0, 2\n\tisb" : : "r"(0xfu << 20));
    uint32_t cpacr;
    __asm__ volatile("mrc p15, 0, %0, c1, c0, 2" : "=r"(cpacr));
    test_check_eq("vfp: CPACR cp10/cp11 full access", cpacr & (0xfu << 20), 0xfu << 20);

    /* FPEXC.EN=0: FPSID, FPEXC, MVFR* stay readable; data processing is UNDEFINED. */
    __asm__ volatile("vmsr fpexc, %0" : : "r"(0u));
    n = n_undef;
    uint32_t fpsid, mvfr0;
    __asm__ volatile("vmrs %0, fpsid\n\tvmrs %1, mvfr0" : "=r"(fpsid), "=r"(mvfr0));
    test_check(n_undef == n && (fpsid >> 24) == 0x41 && (mvfr0 & 0xf) == 2,
               "vfp: FPSID and MVFR0 with FPEXC.EN=0 (ARM, 32 D registers)",
               "%u undefined, FPSID 0x%x MVFR0 0x%x", n_undef - n, fpsid, mvfr0);
    n = n_undef;
    __asm__ volatile("vmov s0, %0\n\tvadd.f32 s0, s0, s0" : : "r"(0u) : "s0");
    test_check_eq("vfp: FPEXC.EN=0: VMOV and VADD are undefined", n_undef - n, 2);

    /* Lazy enable: the first VADD traps, the handler sets FPEXC.EN, the retry computes. */
    n = n_undef;
    lazy_enable = true;
    uint32_t r;
    __asm__ volatile("vmov s0, %1\n\tvadd.f32 s0, s0, s0\n\tvmov %0, s0"
                     : "=r"(r)
                     : "r"(0x3f800000u)
                     : "s0");
    uint32_t fpexc;
    __asm__ volatile("vmrs %0, fpexc" : "=r"(fpexc));
    test_check(n_undef == n + 1 && r == 0x40000000 && (fpexc & (1u << 30)),
               "vfp: lazy enable in the undefined-instruction handler, then retry",
               "%u undefined, 1+1 = 0x%x, FPEXC 0x%x", n_undef - n, r, fpexc);
}

/* ---- arithmetic ---------------------------------------------------------------------------- */

#define ONE 0x3f800000u
#define TWO_M24 0x33800000u /* 2^-24: half an ulp of 1.0 */

static void arithmetic(void)
{
    F32("vfp: 1 + 2^-24, RN (tie to even)", "vadd.f32 s2, s0, s1", ONE, TWO_M24, 0, RN, ONE,
        IXC);
    F32("vfp: 1 + 2^-24, RP", "vadd.f32 s2, s0, s1", ONE, TWO_M24, 0, RP, 0x3f800001, IXC);
    F32("vfp: 1 + 2^-24, RM", "vadd.f32 s2, s0, s1", ONE, TWO_M24, 0, RM, ONE, IXC);
    F32("vfp: 1 + 2^-24, RZ", "vadd.f32 s2, s0, s1", ONE, TWO_M24, 0, RZ, ONE, IXC);
    F32("vfp: (1 + 2^-23) + 2^-24, RN rounds up to even", "vadd.f32 s2, s0, s1", 0x3f800001,
        TWO_M24, 0, RN, 0x3f800002, IXC);
    F32("vfp: -1 - 2^-24, RP", "vsub.f32 s2, s0, s1", 0xbf800000, TWO_M24, 0, RP, 0xbf800000,
        IXC);
    F32("vfp: -1 - 2^-24, RM", "vsub.f32 s2, s0, s1", 0xbf800000, TWO_M24, 0, RM, 0xbf800001,
        IXC);
    F32("vfp: exact VADD raises nothing", "vadd.f32 s2, s0, s1", ONE, ONE, 0, RN, 0x40000000, 0);
    F32("vfp: x - x is +0 in RN", "vsub.f32 s2, s0, s1", ONE, ONE, 0, RN, 0, 0);
    F32("vfp: x - x is -0 in RM", "vsub.f32 s2, s0, s1", ONE, ONE, 0, RM, 0x80000000, 0);
    F32("vfp: VMUL overflow, RN", "vmul.f32 s2, s0, s1", 0x7f000000, 0x40800000, 0, RN,
        0x7f800000, OFC | IXC);
    F32("vfp: VMUL overflow, RZ", "vmul.f32 s2, s0, s1", 0x7f000000, 0x40800000, 0, RZ,
        0x7f7fffff, OFC | IXC);
    F32("vfp: VMUL overflow negative, RP", "vmul.f32 s2, s0, s1", 0xff000000, 0x40800000, 0, RP,
        0xff7fffff, OFC | IXC);
    F32("vfp: VDIV 1/3, RN", "vdiv.f32 s2, s0, s1", ONE, 0x40400000, 0, RN, 0x3eaaaaab, IXC);
    F32("vfp: VDIV 1/3, RZ", "vdiv.f32 s2, s0, s1", ONE, 0x40400000, 0, RZ, 0x3eaaaaaa, IXC);
    F32("vfp: VDIV 1/3, RP", "vdiv.f32 s2, s0, s1", ONE, 0x40400000, 0, RP, 0x3eaaaaab, IXC);
    F32("vfp: VDIV -1/3, RM", "vdiv.f32 s2, s0, s1", 0xbf800000, 0x40400000, 0, RM, 0xbeaaaaab,
        IXC);
    F32("vfp: VDIV by zero", "vdiv.f32 s2, s0, s1", ONE, 0, 0, RN, 0x7f800000, DZC);
    F32("vfp: VDIV 0/0 is the default NaN", "vdiv.f32 s2, s0, s1", 0, 0, 0, RN, 0x7fc00000, IOC);
    F32("vfp: VSQRT 2, RN", "vsqrt.f32 s2, s0", 0x40000000, 0, 0, RN, 0x3fb504f3, IXC);
    F32("vfp: VSQRT 2, RP", "vsqrt.f32 s2, s0", 0x40000000, 0, 0, RP, 0x3fb504f4, IXC);
    F32("vfp: VSQRT -1", "vsqrt.f32 s2, s0", 0xbf800000, 0, 0, RN, 0x7fc00000, IOC);
    F32("vfp: VSQRT -0 is -0", "vsqrt.f32 s2, s0", 0x80000000, 0, 0, RN, 0x80000000, 0);
    F32("vfp: VABS/VNEG touch only the sign", "vneg.f32 s2, s0\n\tvabs.f32 s2, s2", 0x7f812345,
        0, 0, RN, 0x7f812345, 0);

    /* (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: fused, the 2^-24 survives; VMLA rounds it away. */
    F32("vfp: VFMA is fused", "vfma.f32 s2, s0, s1", 0x3f800800, 0x3f800800, 0xbf801000, RN,
        TWO_M24, 0);
    F32("vfp: VMLA rounds twice", "vmla.f32 s2, s0, s1", 0x3f800800, 0x3f800800, 0xbf801000, RN,
        0, IXC);
    F32("vfp: VFMS", "vfms.f32 s2, s0, s1", 0x3f800800, 0x3f800800, 0x3f801000, RN,
        0x80000000 | TWO_M24, 0);
    F32("vfp: VFNMA", "vfnma.f32 s2, s0, s1", 0x40000000, 0x40400000, ONE, RN, 0xc0e00000, 0);

    F64("vfp: f64 VDIV 1/3", "vdiv.f64 d2, d0, d1", 0x3ff0000000000000ull,
        0x4008000000000000ull, 0, RN, 0x3fd5555555555555ull, IXC);
    F64("vfp: f64 VDIV 1/3, RP", "vdiv.f64 d2, d0, d1", 0x3ff0000000000000ull,
        0x4008000000000000ull, 0, RP, 0x3fd5555555555556ull, IXC);
    F64("vfp: f64 0.1 + 0.2", "vadd.f64 d2, d0, d1", 0x3fb999999999999aull,
        0x3fc999999999999aull, 0, RN, 0x3fd3333333333334ull, IXC);
    F64("vfp: f64 VSQRT 2", "vsqrt.f64 d2, d0", 0x4000000000000000ull, 0, 0, RN,
        0x3ff6a09e667f3bcdull, IXC);
    F64("vfp: f64 VMUL underflow to a denormal", "vmul.f64 d2, d0, d1", 0x0010000000000000ull,
        0x3fe0000000000000ull, 0, RN, 0x0008000000000000ull, 0);
    /* (1 + 2^-27)^2 - (1 + 2^-26) = 2^-54, a quarter ulp of 1 that only a fused FMA keeps. */
    F64("vfp: f64 VFMA is fused", "vfma.f64 d2, d0, d1", 0x3ff0000002000000ull,
        0x3ff0000002000000ull, 0xbff0000004000000ull, RN, 0x3c90000000000000ull, 0);
    F64("vfp: f64 VMLA rounds twice", "vmla.f64 d2, d0, d1", 0x3ff0000002000000ull,
        0x3ff0000002000000ull, 0xbff0000004000000ull, RN, 0, IXC);

    /* The flags accumulate until written. */
    F32("vfp: cumulative flags", "vdiv.f32 s2, s0, s2\n\tvadd.f32 s2, s0, s1", ONE, TWO_M24, 0,
        RN, ONE, DZC | IXC);
    F32("vfp: flags are sticky from FPSCR", "vadd.f32 s2, s0, s0", ONE, 0, 0, OFC, 0x40000000,
        OFC);
}

static void special(void)
{
    F32("vfp: FZ flushes a denormal input", "vadd.f32 s2, s0, s1", 1, 0, 0, FZ, 0, IDC);
    F32("vfp: denormal input without FZ", "vadd.f32 s2, s0, s1", 1, 0, 0, 0, 1, 0);
    F32("vfp: FZ flushes a denormal result", "vmul.f32 s2, s0, s1", 0x00800000, 0x3f000000, 0,
        FZ, 0, UFC);
    F32("vfp: denormal result without FZ, exact", "vmul.f32 s2, s0, s1", 0x00800000, 0x3f000000,
        0, 0, 0x00400000, 0);
    F32("vfp: tiny and inexact sets UFC", "vmul.f32 s2, s0, s1", 0x00800001, 0x3f000000, 0, 0,
        0x00400000, UFC | IXC);
    F32("vfp: quiet NaN propagates", "vadd.f32 s2, s0, s1", 0x7fc12345, ONE, 0, 0, 0x7fc12345,
        0);
    F32("vfp: DN gives the default NaN", "vadd.f32 s2, s0, s1", 0x7fc12345, ONE, 0, DN,
        0x7fc00000, 0);
    F32("vfp: signalling NaN is quietened", "vadd.f32 s2, s0, s1", ONE, 0x7f812345, 0, 0,
        0x7fc12345, IOC);
    F32("vfp: signalling NaN with DN", "vadd.f32 s2, s0, s1", ONE, 0xff812345, 0, DN, 0x7fc00000,
        IOC);
    F32("vfp: NaN order: signalling before quiet", "vadd.f32 s2, s0, s1", 0x7fc00001,
        0x7f800002, 0, 0, 0x7fc00002, IOC);
    F32("vfp: NaN order: two quiet, first operand", "vadd.f32 s2, s0, s1", 0x7fc00001,
        0xffc00002, 0, 0, 0x7fc00001, 0);
    F32("vfp: NaN order: two signalling, first operand", "vmul.f32 s2, s0, s1", 0xff800001,
        0x7f800002, 0, 0, 0xffc00001, IOC);
    F32("vfp: NaN order in VFMA: signalling operand before quiet addend",
        "vfma.f32 s2, s0, s1", 0x7f8000bb, ONE, 0x7fc000aa, 0, 0x7fc000bb, IOC);
    F32("vfp: NaN order in VFMA: quiet addend before quiet operand", "vfma.f32 s2, s0, s1",
        0x7fc000bb, ONE, 0x7fc000aa, 0, 0x7fc000aa, 0);
    F32("vfp: inf * 0 is invalid", "vmul.f32 s2, s0, s1", 0x7f800000, 0, 0, 0, 0x7fc00000, IOC);
    F32("vfp: inf - inf is invalid", "vsub.f32 s2, s0, s1", 0x7f800000, 0x7f800000, 0, 0,
        0x7fc00000, IOC);
}

/* VCMP(E) s0, s1 and VMRS APSR_nzcv: returns NZCV | exception flags. */
static uint32_t vcmp(bool e, uint32_t a, uint32_t b)
{
    uint32_t apsr, f;
    if (e) {
        __asm__ volatile("vmsr fpscr, %[z]\n\tvmov s0, %[a]\n\tvmov s1, %[b]\n\t"
                         "vcmpe.f32 s0, s1\n\tvmrs APSR_nzcv, fpscr\n\tmrs %[apsr], APSR\n\t"
                         "vmrs %[f], fpscr"
                         : [apsr] "=r"(apsr), [f] "=r"(f)
                         : [a] "r"(a), [b] "r"(b), [z] "r"(0)
                         : "s0", "s1", "cc");
    } else {
        __asm__ volatile("vmsr fpscr, %[z]\n\tvmov s0, %[a]\n\tvmov s1, %[b]\n\t"
                         "vcmp.f32 s0, s1\n\tvmrs APSR_nzcv, fpscr\n\tmrs %[apsr], APSR\n\t"
                         "vmrs %[f], fpscr"
                         : [apsr] "=r"(apsr), [f] "=r"(f)
                         : [a] "r"(a), [b] "r"(b), [z] "r"(0)
                         : "s0", "s1", "cc");
    }
    return (apsr & 0xf0000000u) | (f & EXC_FLAGS);
}

static void compare(void)
{
    test_check_eq("vfp: VCMP less: N", vcmp(false, ONE, 0x40000000), 0x80000000);
    test_check_eq("vfp: VCMP equal: ZC", vcmp(false, ONE, ONE), 0x60000000);
    test_check_eq("vfp: VCMP greater: C", vcmp(false, 0x40000000, ONE), 0x20000000);
    test_check_eq("vfp: VCMP -0 == +0", vcmp(false, 0x80000000, 0), 0x60000000);
    test_check_eq("vfp: VCMP unordered: CV, quiet NaN raises nothing",
                  vcmp(false, 0x7fc00000, ONE), 0x30000000);
    test_check_eq("vfp: VCMPE unordered raises IOC", vcmp(true, 0x7fc00000, ONE),
                  0x30000000 | IOC);
    test_check_eq("vfp: VCMP with a signalling NaN raises IOC", vcmp(false, ONE, 0x7f800001),
                  0x30000000 | IOC);
    test_check_eq("vfp: VCMP -inf < denormal", vcmp(false, 0xff800000, 1), 0x80000000);
    uint32_t apsr;
    __asm__ volatile("vmov s0, %1\n\tvcmp.f32 s0, #0\n\tvmrs APSR_nzcv, fpscr\n\tmrs %0, APSR"
                     : "=r"(apsr)
                     : "r"(0x80000000u)
                     : "s0", "cc");
    test_check_eq("vfp: VCMP #0.0 with -0", apsr & 0xf0000000u, 0x60000000);
}

static void conversions(void)
{
    /* VCVT to integer rounds toward zero; VCVTR uses FPSCR.RMode. */
    F32("vfp: VCVT.S32 2.5", "vcvt.s32.f32 s2, s0", 0x40200000, 0, 0, RN, 2, IXC);
    F32("vfp: VCVT.S32 -2.5", "vcvt.s32.f32 s2, s0", 0xc0200000, 0, 0, RN, 0xfffffffe, IXC);
    F32("vfp: VCVTR.S32 2.5, RN", "vcvtr.s32.f32 s2, s0", 0x40200000, 0, 0, RN, 2, IXC);
    F32("vfp: VCVTR.S32 3.5, RN", "vcvtr.s32.f32 s2, s0", 0x40600000, 0, 0, RN, 4, IXC);
    F32("vfp: VCVTR.S32 -2.5, RM", "vcvtr.s32.f32 s2, s0", 0xc0200000, 0, 0, RM, 0xfffffffd,
        IXC);
    F32("vfp: VCVT.S32 saturates high", "vcvt.s32.f32 s2, s0", 0x4f32d05e, 0, 0, RN, 0x7fffffff,
        IOC);
    F32("vfp: VCVT.S32 saturates low", "vcvt.s32.f32 s2, s0", 0xcf32d05e, 0, 0, RN, 0x80000000,
        IOC);
    F32("vfp: VCVT.S32 of -2^31 is exact", "vcvt.s32.f32 s2, s0", 0xcf000000, 0, 0, RN,
        0x80000000, 0);
    F32("vfp: VCVT.S32 of NaN is 0", "vcvt.s32.f32 s2, s0", 0x7fc00000, 0, 0, RN, 0, IOC);
    F32("vfp: VCVT.U32 of -1 is 0", "vcvt.u32.f32 s2, s0", 0xbf800000, 0, 0, RN, 0, IOC);
    F32("vfp: VCVT.U32 of -0.5 is 0, inexact", "vcvt.u32.f32 s2, s0", 0xbf000000, 0, 0, RN, 0,
        IXC);
    F32("vfp: VCVT.U32 saturates", "vcvt.u32.f32 s2, s0", 0x4f9502f9, 0, 0, RN, 0xffffffff, IOC);
    F32("vfp: VCVT.F32.S32 2^31-1", "vcvt.f32.s32 s2, s0", 0x7fffffff, 0, 0, RN, 0x4f000000,
        IXC);
    F32("vfp: VCVT.F32.U32 2^32-1", "vcvt.f32.u32 s2, s0", 0xffffffff, 0, 0, RN, 0x4f800000,
        IXC);
    F32("vfp: VCVT.F32.S32 2^24+1 ties to even", "vcvt.f32.s32 s2, s0", 0x01000001, 0, 0, RN,
        0x4b800000, IXC);
    F32("vfp: VCVT.F32.S32 2^24+1, RP", "vcvt.f32.s32 s2, s0", 0x01000001, 0, 0, RP, 0x4b800001,
        IXC);
    /* Fixed point (in place: source and destination are one register). */
    F32("vfp: VCVT.S32.F32 #16", "vcvt.s32.f32 s0, s0, #16\n\tvmov s2, s0", 0x3fc00000, 0, 0, RN,
        0x00018000, 0);
    F32("vfp: VCVT.S32.F32 #16 negative", "vcvt.s32.f32 s0, s0, #16\n\tvmov s2, s0", 0xbfc00000,
        0, 0, RN, 0xfffe8000, 0);
    F32("vfp: VCVT.F32.U16 #8", "vcvt.f32.u16 s0, s0, #8\n\tvmov s2, s0", 0xffff0180, 0, 0, RN,
        0x3fc00000, 0);
    F32("vfp: VCVT.F32.S16 #8 sign-extends", "vcvt.f32.s16 s0, s0, #8\n\tvmov s2, s0",
        0x0000ff80, 0, 0, RN, 0xbf000000, 0);
    F32("vfp: VCVT.U16.F32 #4 saturates", "vcvt.u16.f32 s0, s0, #4\n\tvmov s2, s0", 0x47800000,
        0, 0, RN, 0x0000ffff, IOC);
    /* Half precision: VCVTB/VCVTT write one half of the destination, keep the other. */
    F32("vfp: VCVTB.F16.F32 1.0", "vcvtb.f16.f32 s2, s0", ONE, 0, 0xabcd0000, RN, 0xabcd3c00, 0);
    F32("vfp: VCVTT.F16.F32 -2.0", "vcvtt.f16.f32 s2, s0", 0xc0000000, 0, 0x1234abcd, RN,
        0xc000abcd, 0);
    F32("vfp: VCVTB.F16.F32 65520 overflows", "vcvtb.f16.f32 s2, s0", 0x477ff000, 0, 0, RN,
        0x7c00, OFC | IXC);
    F32("vfp: VCVTB.F16.F32 2^-24 is the smallest denormal", "vcvtb.f16.f32 s2, s0", TWO_M24, 0,
        0, RN, 0x0001, 0);
    F32("vfp: VCVTB.F32.F16 65504", "vcvtb.f32.f16 s2, s0", 0xffff7bff, 0, 0, RN, 0x477fe000, 0);
    F32("vfp: VCVTT.F32.F16 -2", "vcvtt.f32.f16 s2, s0", 0xc0001234, 0, 0, RN, 0xc0000000, 0);
    F32("vfp: VCVTB.F32.F16 signalling NaN", "vcvtb.f32.f16 s2, s0", 0x00007d00, 0, 0, RN,
        0x7fe00000, IOC);
    /* f64 <-> f32 */
    {
        uint32_t r, f;
        __asm__ volatile("vmsr fpscr, %[z]\n\tvmov d0, %Q[a], %R[a]\n\tvcvt.f32.f64 s2, d0\n\t"
                         "vmov %[r], s2\n\tvmrs %[f], fpscr"
                         : [r] "=r"(r), [f] "=r"(f)
                         : [a] "r"(0x3fb999999999999aull), [z] "r"(0)
                         : "d0", "s2");
        check("vfp: VCVT.F32.F64 0.1", r, f, 0x3dcccccd, IXC);
        __asm__ volatile("vmsr fpscr, %[z]\n\tvmov d0, %Q[a], %R[a]\n\tvcvt.f32.f64 s2, d0\n\t"
                         "vmov %[r], s2\n\tvmrs %[f], fpscr"
                         : [r] "=r"(r), [f] "=r"(f)
                         : [a] "r"(0x483d6329f1c35ca5ull), [z] "r"(0)
                         : "d0", "s2");
        check("vfp: VCVT.F32.F64 1e40 overflows", r, f, 0x7f800000, OFC | IXC);
    }
    F64("vfp: VCVT.F64.F32", "vcvt.f64.f32 d2, s0", 0x3dcccccdull, 0, 0, RN,
        0x3fb99999a0000000ull, 0);
}

static void moves(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("vmov d0, %[x], %[y]\n\tvmov %[c], %[d], s0, s1\n\t"
                     "vmov s0, s1, %[d], %[c]\n\tvmov %[a], %[b], d0"
                     : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d)
                     : [x] "r"(0x11111111u), [y] "r"(0x22222222u)
                     : "d0");
    test_check(c == 0x11111111 && d == 0x22222222 && a == 0x22222222 && b == 0x11111111,
               "vfp: VMOV between core and S/D register pairs", "0x%x 0x%x 0x%x 0x%x", a, b, c,
               d);
    __asm__ volatile("vmov d31, %[x], %[y]\n\tvmov.32 d31[1], %[z]\n\tvmov.f64 d16, d31\n\t"
                     "vmov %[a], %[b], d16\n\tvmov.32 %[c], d31[0]"
                     : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c)
                     : [x] "r"(0x33333333u), [y] "r"(0x44444444u), [z] "r"(0x55555555u)
                     : "d16", "d31");
    test_check(a == 0x33333333 && b == 0x55555555 && c == 0x33333333,
               "vfp: D16-D31 and VMOV scalar", "0x%x 0x%x 0x%x", a, b, c);
    __asm__ volatile("vmov.f32 s0, #1.5\n\tvmov.f32 s1, #-0.125\n\tvmov %[a], s0\n\t"
                     "vmov %[b], s1\n\tvmov.f64 d1, #-2.0\n\tvmov %[c], %[d], d1"
                     : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d)
                     :
                     : "s0", "s1", "d1");
    test_check(a == 0x3fc00000 && b == 0xbe000000 && c == 0 && d == 0xc0000000,
               "vfp: VMOV immediate", "0x%x 0x%x 0x%x:0x%x", a, b, d, c);

    static uint32_t mem[16] __attribute__((aligned(8)));
    uint32_t *p = &mem[4], *q = &mem[16];
    for (unsigned i = 0; i < 16; i++) {
        mem[i] = 0x100 + i;
    }
    __asm__ volatile("vldmia %[p]!, {s4-s7}\n\tvstmdb %[q]!, {d2-d3}"
                     : [p] "+r"(p), [q] "+r"(q)
                     :
                     : "s4", "s5", "s6", "s7", "memory");
    test_check(p == &mem[8] && q == &mem[12] && mem[12] == 0x104 && mem[15] == 0x107,
               "vfp: VLDMIA writeback, VSTMDB", "base moved %u words, 0x%x 0x%x",
               (uint32_t)(p - &mem[4]), mem[12], mem[15]);
    p = &mem[4];
    __asm__ volatile("vldmdb %[p]!, {d4}\n\tvmov %[a], %[b], d4"
                     : [p] "+r"(p), [a] "=&r"(a), [b] "=&r"(b)
                     :
                     : "d4", "memory");
    test_check(p == &mem[2] && a == 0x102 && b == 0x103, "vfp: VLDMDB writeback",
               "base moved %d words, 0x%x 0x%x", (uint32_t)(p - &mem[4]), a, b);
    __asm__ volatile("vldr s3, [%[m], #-4]\n\tvstr s3, [%[m], #4]\n\tvldr d5, [%[m], #8]\n\t"
                     "vmov %[a], %[b], d5"
                     : [a] "=&r"(a), [b] "=&r"(b)
                     : [m] "r"(&mem[1])
                     : "s3", "d5", "memory");
    test_check(mem[2] == 0x100 && a == 0x103 && b == 0x104, "vfp: VLDR/VSTR with offsets",
               "0x%x 0x%x 0x%x", mem[2], a, b);

    uint32_t sp0, sp1, x, y;
    __asm__ volatile("mov %[s0], sp\n\tvmov d6, %[i], %[j]\n\tvmov d7, %[j], %[i]\n\t"
                     "vpush {d6-d7}\n\tmov %[s1], sp\n\tvmov d6, %[j], %[j]\n\t"
                     "vmov d7, %[j], %[j]\n\tvpop {d6-d7}\n\tvmov %[x], %[y], d7"
                     : [s0] "=&r"(sp0), [s1] "=&r"(sp1), [x] "=&r"(x), [y] "=&r"(y)
                     : [i] "r"(0xaaaa0001u), [j] "r"(0xbbbb0002u)
                     : "d6", "d7", "memory");
    uint32_t sp2;
    __asm__ volatile("mov %0, sp" : "=r"(sp2));
    test_check(sp0 - sp1 == 16 && sp2 == sp0 && x == 0xbbbb0002 && y == 0xaaaa0001,
               "vfp: VPUSH/VPOP", "sp moved %u, restored %u, d7 0x%x:%x", sp0 - sp1, sp2 == sp0,
               y, x);
}

int main(void)
{
    access();
    arithmetic();
    special();
    compare();
    conversions();
    moves();
    __asm__ volatile("vmsr fpscr, %0" : : "r"(0u));
    set_exception_hook(NULL);
    return 0;
}
