/*
 * coremu ARM — creation and reset of a core, the CPSR and the banked registers.
 *
 * The core is a Cortex-A15-class ARMv7-A processor as far as software can tell from its ID
 * registers, minus what coremu does not implement: no Security or Virtualization extensions,
 * no LPAE (short-descriptor translation tables only), no ThumbEE, no Advanced SIMD. The ID
 * values below say exactly that, so that a kernel probing them never relies on a feature that
 * would then be UNDEFINED.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <coremu/log.h>

#include "board.h"
#include "cpu.h"

/* VFP identification: VFPv3-D32 with the VFPv4 fused multiply-accumulate, no Advanced SIMD.
 * FPSID: implementer ARM, subarchitecture "VFPv3 or later, common subarchitecture v3",
 * the Cortex-A15 part and variant numbers. */
#define ARM_FPSID 0x410430f0u
/* MVFR0: rounding modes, sqrt, divide, double and single precision (VFPv3 and later),
 * 32 x 64-bit registers; no short vectors, no trapping. */
#define ARM_MVFR0 0x10110222u
/* MVFR1: FMAC (VFPv4: Linux reports "vfpv4" from bits 31:28), half-precision conversion in
 * VFP, default NaN and flush-to-zero; every Advanced SIMD field 0 (no NEON). */
#define ARM_MVFR1 0x11000011u

int arm_mode_bank(unsigned mode)
{
    switch (mode) {
    case ARM_MODE_USR:
    case ARM_MODE_SYS:
        return ARM_BANK_USR;
    case ARM_MODE_FIQ:
        return ARM_BANK_FIQ;
    case ARM_MODE_IRQ:
        return ARM_BANK_IRQ;
    case ARM_MODE_SVC:
        return ARM_BANK_SVC;
    case ARM_MODE_ABT:
        return ARM_BANK_ABT;
    case ARM_MODE_UND:
        return ARM_BANK_UND;
    default:
        return -1;
    }
}

bool arm_mode_valid(unsigned mode)
{
    return arm_mode_bank(mode) >= 0;
}

uint32_t arm_cpsr_read(const struct arm_cpu *cpu)
{
    uint32_t it = cpu->cpsr_it;

    return (cpu->cpsr_nzcv & 0xf0000000u) | (cpu->cpsr_q & ARM_CPSR_Q) | ((it & 3u) << 25) |
           ((cpu->cpsr_ge & 0xfu) << 16) | ((it >> 2) << 10) | (cpu->cpsr_rest & 0x3ffu);
}

void arm_cpsr_write(struct arm_cpu *cpu, uint32_t value, uint32_t mask)
{
    value &= mask;
    if (mask & 0xf0000000u) {
        cpu->cpsr_nzcv = (cpu->cpsr_nzcv & ~mask & 0xf0000000u) | (value & 0xf0000000u);
    }
    if (mask & ARM_CPSR_Q) {
        cpu->cpsr_q = value & ARM_CPSR_Q;
    }
    if (mask & 0x000f0000u) {
        uint32_t m = (mask >> 16) & 0xfu;
        cpu->cpsr_ge = (cpu->cpsr_ge & ~m) | ((value >> 16) & m);
    }
    if (mask & 0x0600fc00u) {
        uint32_t itmask = ((mask >> 25) & 3u) | (((mask >> 10) & 0x3fu) << 2);
        uint32_t itval = ((value >> 25) & 3u) | (((value >> 10) & 0x3fu) << 2);
        cpu->cpsr_it = (cpu->cpsr_it & ~itmask) | itval;
    }
    /* E, A, I, F, T; M through arm_switch_mode so that the banks follow. */
    uint32_t rmask = mask & 0x3e0u;
    cpu->cpsr_rest = (cpu->cpsr_rest & ~rmask) | (value & rmask);
    if (mask & 0x1fu) {
        unsigned mode = (arm_cpu_mode(cpu) & ~mask & 0x1fu) | (value & 0x1fu);
        /* A write of a mode this core does not have (Monitor, Hyp, reserved values) is
         * UNPREDICTABLE; keeping the current mode is the safe choice among the allowed
         * behaviours. */
        if (arm_mode_valid(mode)) {
            arm_switch_mode(cpu, (enum arm_mode)mode);
        } else {
            COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "cpu%u: CPSR write of invalid mode %#x ignored\n",
                       cpu->rt ? cpu->rt->index : 0u, mode);
        }
    }
}

void arm_switch_mode(struct arm_cpu *cpu, enum arm_mode mode)
{
    unsigned old = arm_cpu_mode(cpu);
    int ob = arm_mode_bank(old);
    int nb = arm_mode_bank(mode);

    if (nb < 0) {
        return;
    }
    if (ob != nb) {
        if (ob >= 0) {
            cpu->banked_r13[ob] = cpu->r[13];
            cpu->banked_r14[ob] = cpu->r[14];
        }
        cpu->r[13] = cpu->banked_r13[nb];
        cpu->r[14] = cpu->banked_r14[nb];
    }
    if (old == ARM_MODE_FIQ && mode != ARM_MODE_FIQ) {
        memcpy(cpu->fiq_r8_12, &cpu->r[8], sizeof(cpu->fiq_r8_12));
        memcpy(&cpu->r[8], cpu->usr_r8_12, sizeof(cpu->usr_r8_12));
    } else if (old != ARM_MODE_FIQ && mode == ARM_MODE_FIQ) {
        memcpy(cpu->usr_r8_12, &cpu->r[8], sizeof(cpu->usr_r8_12));
        memcpy(&cpu->r[8], cpu->fiq_r8_12, sizeof(cpu->fiq_r8_12));
    }
    cpu->cpsr_rest = (cpu->cpsr_rest & ~0x1fu) | (uint32_t)mode;
}

uint32_t arm_get_user_reg(struct arm_cpu *cpu, unsigned n)
{
    enum arm_mode mode = arm_cpu_mode(cpu);

    if (n >= 8 && n <= 12 && mode == ARM_MODE_FIQ) {
        return cpu->usr_r8_12[n - 8];
    }
    if ((n == 13 || n == 14) && arm_mode_bank(mode) != ARM_BANK_USR) {
        return n == 13 ? cpu->banked_r13[ARM_BANK_USR] : cpu->banked_r14[ARM_BANK_USR];
    }
    return cpu->r[n & 15];
}

void arm_set_user_reg(struct arm_cpu *cpu, unsigned n, uint32_t value)
{
    enum arm_mode mode = arm_cpu_mode(cpu);

    if (n >= 8 && n <= 12 && mode == ARM_MODE_FIQ) {
        cpu->usr_r8_12[n - 8] = value;
    } else if ((n == 13 || n == 14) && arm_mode_bank(mode) != ARM_BANK_USR) {
        if (n == 13) {
            cpu->banked_r13[ARM_BANK_USR] = value;
        } else {
            cpu->banked_r14[ARM_BANK_USR] = value;
        }
    } else if (n < 15) {
        cpu->r[n] = value;
    }
}

void arm_cpu_reset(struct arm_cpu *cpu)
{
    unsigned index = cpu->rt ? cpu->rt->index : 0;

    memset(cpu->r, 0, sizeof(cpu->r));
    cpu->next_pc = 0;
    cpu->cpsr_nzcv = 0;
    cpu->cpsr_q = 0;
    cpu->cpsr_ge = 0;
    cpu->cpsr_it = 0;
    /* Reset: Supervisor mode, ARM state, A, I and F masked, little-endian (SCTLR.EE = 0). */
    cpu->cpsr_rest = ARM_MODE_SVC | ARM_CPSR_A | ARM_CPSR_I | ARM_CPSR_F;
    memset(cpu->banked_r13, 0, sizeof(cpu->banked_r13));
    memset(cpu->banked_r14, 0, sizeof(cpu->banked_r14));
    memset(cpu->banked_spsr, 0, sizeof(cpu->banked_spsr));
    memset(cpu->usr_r8_12, 0, sizeof(cpu->usr_r8_12));
    memset(cpu->fiq_r8_12, 0, sizeof(cpu->fiq_r8_12));

    memset(cpu->d, 0, sizeof(cpu->d));
    cpu->fpscr = 0;
    cpu->fpexc = 0; /* EN clear: VFP disabled until the OS enables it */
    cpu->fpsid = ARM_FPSID;
    cpu->mvfr0 = ARM_MVFR0;
    cpu->mvfr1 = ARM_MVFR1;

    memset(&cpu->cp15, 0, sizeof(cpu->cp15));
    /* Cortex-A15 r2p1. */
    cpu->cp15.midr = 0x412fc0f1u;
    /* Multiprocessing-extensions format (bit 31), part of a cluster (U = 0), Aff0 = index. */
    cpu->cp15.mpidr = 0x80000000u | (index & 0xffu);
    arm_cp15_reset(cpu);
    cpu->pmccntr_value = 0;

    /* Timer registers are UNKNOWN at reset; zero keeps them disabled. The outputs are dropped
     * (and the board told) by arm_timer_reset when the core starts running. */
    bool p_out = cpu->timer.p_out, v_out = cpu->timer.v_out;
    memset(&cpu->timer, 0, sizeof(cpu->timer));
    cpu->timer.p_out = p_out;
    cpu->timer.v_out = v_out;
    cpu->timer.cntfrq = ARM_CNT_HZ;

    coremu_xmon_clear(&cpu->xmon);
    cpu->event_register = false;
    cpu->cur_op = NULL;
    cpu->leave = false;
    arm_tlb_flush_all(cpu);

    COREMU_LOG(COREMU_LOG_CPU_RESET, "cpu%u: reset (MIDR %08x MPIDR %08x)\n", index,
               cpu->cp15.midr, cpu->cp15.mpidr);
}

struct arm_cpu *arm_cpu_new(struct arm_board *board, struct coremu_cpu *rt, unsigned index)
{
    struct arm_cpu *cpu = aligned_alloc(64, (sizeof(*cpu) + 63) & ~(size_t)63);

    if (!cpu) {
        return NULL;
    }
    memset(cpu, 0, sizeof(*cpu));
    cpu->rt = rt;
    cpu->board = board;
    cpu->atomic = &arm_atomic_table;
    if (arm_exec_init(cpu, index) != 0) {
        free(cpu);
        return NULL;
    }
    arm_cpu_reset(cpu);
    if (rt) {
        rt->arch = cpu;
    }
    return cpu;
}

void arm_cpu_free(struct arm_cpu *cpu)
{
    if (!cpu) {
        return;
    }
    arm_exec_destroy(cpu);
    free(cpu);
}
