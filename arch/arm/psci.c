/*
 * coremu ARM — PSCI 1.0 firmware calls (ARM DEN0022), over HVC or SMC, for the virt board.
 *
 * There is no firmware: the emulator answers the SMC Calling Convention itself. A call arrives
 * on the calling core's thread with the function id in r0 and arguments in r1-r3; the result
 * goes to r0. Only the SMC32 function ids exist for an AArch32 caller; everything else (SMC64
 * ids, other SMCCC services, unknown ids) returns NOT_SUPPORTED, as SMCCC requires. The
 * immediate of HVC/SMC is not interpreted (SMCCC callers use #0).
 *
 * Cores are addressed by MPIDR: Aff0 is the core index and every core sits in cluster 0 (the
 * CPU sets MPIDR that way). Power states come from the runtime (coremu_cpu.power), which
 * serialises power changes under the machine's world_lock, so two cores racing to CPU_ON the
 * same target get one SUCCESS and one ALREADY_ON/ON_PENDING.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <coremu/coremu.h>
#include <coremu/util.h>

#include "board.h"
#include "cpu.h"

#define PSCI_VERSION_1_0 0x00010000u

/* Return codes (DEN0022 5.2.2). */
enum {
    PSCI_SUCCESS = 0,
    PSCI_NOT_SUPPORTED = -1,
    PSCI_INVALID_PARAMETERS = -2,
    PSCI_DENIED = -3,
    PSCI_ALREADY_ON = -4,
    PSCI_ON_PENDING = -5,
    PSCI_INTERNAL_FAILURE = -6,
    PSCI_NOT_PRESENT = -7,
    PSCI_DISABLED = -8,
    PSCI_INVALID_ADDRESS = -9,
};

/* AFFINITY_INFO results. */
enum { PSCI_AFF_ON = 0, PSCI_AFF_OFF = 1, PSCI_AFF_ON_PENDING = 2 };

/* MIGRATE_INFO_TYPE: "Trusted OS is either not present or does not require migration". */
#define PSCI_TOS_NOT_PRESENT_MP 2

/* MPIDR bits a target may carry: Aff2..Aff0. Bits 31..24 (the M and U flags of the MPIDR
 * register, and Aff3 which AArch32 cannot express) are ignored rather than rejected, so that a
 * caller may pass the value it read from MPIDR as it is. */
#define PSCI_MPIDR_AFF_MASK 0x00ffffffu

struct psci_call {
    struct arm_board *board;
    struct arm_cpu *cpu;
    uint32_t arg[3]; /* r1, r2, r3 */
};

typedef int32_t (*psci_fn)(struct psci_call *c);

/* The core whose MPIDR affinity is mpidr, or NULL when there is none. */
static struct coremu_cpu *psci_target(struct arm_board *board, uint32_t mpidr)
{
    uint32_t aff = mpidr & PSCI_MPIDR_AFF_MASK;
    if ((aff >> 8) != 0 || aff >= board->ncpus) {
        return NULL;
    }
    return board->machine->cpus[aff];
}

static int32_t psci_version(struct psci_call *c)
{
    return (int32_t)PSCI_VERSION_1_0;
}

static int32_t psci_cpu_suspend(struct psci_call *c)
{
    /* Every state is entered as standby (WFI), whatever power_state's StateType (bit 16)
     * asks: the core wakes on an interrupt and the call returns SUCCESS. DEN0022 lets a
     * powerdown request end that way too (the state actually entered may be shallower than the
     * one requested), and the caller's context is then intact, so its entry point is unused.
     * arm_wfi serves runtime work (events that carry interrupts to the GIC, stops) without
     * ending the standby, so the call returns only on an interrupt, or when the core must
     * leave its loop. */
    arm_wfi(c->cpu);
    return PSCI_SUCCESS;
}

static int32_t psci_cpu_off(struct psci_call *c)
{
    /* The runtime makes the core's loop leave at its next block boundary; the handler that
     * issued the HVC/SMC ends its block, so no further guest instruction runs on this core. */
    coremu_cpu_power_off_self(c->cpu->rt);
    return PSCI_SUCCESS;
}

static int32_t psci_cpu_on(struct psci_call *c)
{
    struct coremu_cpu *target = psci_target(c->board, c->arg[0]);
    uint32_t entry = c->arg[1];
    if (target == NULL) {
        return PSCI_INVALID_PARAMETERS;
    }
    /* An entry point that is not in RAM or flash cannot be executed: the spec's
     * INVALID_ADDRESS. Bit 0 selects Thumb state and is not part of the address. */
    if (coremu_as_ram_ptr(c->board->as, entry & ~1u, 2, false) == NULL) {
        return PSCI_INVALID_ADDRESS;
    }
    switch (coremu_cpu_power_on(target, entry, c->arg[2])) {
    case 0:
        return PSCI_SUCCESS;
    case -EALREADY:
        return PSCI_ALREADY_ON;
    case -EINPROGRESS:
        return PSCI_ON_PENDING;
    default:
        return PSCI_INTERNAL_FAILURE;
    }
}

static int32_t psci_affinity_info(struct psci_call *c)
{
    uint32_t level = c->arg[1];
    if (level == 1) {
        /* The one cluster: ON if any core in it is on (DEN0022 5.7). */
        if ((c->arg[0] & PSCI_MPIDR_AFF_MASK & ~0xffu) != 0) {
            return PSCI_INVALID_PARAMETERS;
        }
        int32_t state = PSCI_AFF_OFF;
        for (unsigned i = 0; i < c->board->ncpus; i++) {
            int p = atomic_load_explicit(&c->board->machine->cpus[i]->power,
                                         memory_order_acquire);
            if (p == COREMU_CPU_ON) {
                return PSCI_AFF_ON;
            }
            if (p == COREMU_CPU_ON_PENDING) {
                state = PSCI_AFF_ON_PENDING;
            }
        }
        return state;
    }
    if (level != 0) {
        return PSCI_INVALID_PARAMETERS;
    }
    struct coremu_cpu *target = psci_target(c->board, c->arg[0]);
    if (target == NULL) {
        return PSCI_INVALID_PARAMETERS;
    }
    switch (atomic_load_explicit(&target->power, memory_order_acquire)) {
    case COREMU_CPU_ON:
        return PSCI_AFF_ON;
    case COREMU_CPU_ON_PENDING:
        return PSCI_AFF_ON_PENDING;
    default:
        return PSCI_AFF_OFF;
    }
}

static int32_t psci_migrate_info_type(struct psci_call *c)
{
    return PSCI_TOS_NOT_PRESENT_MP;
}

static int32_t psci_system_off(struct psci_call *c)
{
    coremu_machine_exit(c->board->machine, 0);
    return PSCI_SUCCESS;
}

static int32_t psci_system_reset(struct psci_call *c)
{
    /* -no-reboot: a reboot ends the emulator, as a power-off does. Otherwise the board resets
     * and core 0 boots again; this core is off when the call returns, so the firmware_call
     * path ends its run before another guest instruction (the result in r0 is never seen). */
    if (c->board->no_reboot) {
        coremu_machine_exit(c->board->machine, 0);
    } else {
        virt_system_reset(c->board);
    }
    return PSCI_SUCCESS;
}

static int32_t psci_features(struct psci_call *c);

/* The implemented functions (SMC32 ids). PSCI_FEATURES answers from this table. */
static const struct psci_function {
    uint32_t id;
    const char *name;
    psci_fn fn;
    int32_t features; /* what PSCI_FEATURES returns for the id */
} psci_functions[] = {
    {0x84000000, "PSCI_VERSION", psci_version, 0},
    /* features 0: original power_state format, platform-coordinated mode only. */
    {0x84000001, "CPU_SUSPEND", psci_cpu_suspend, 0},
    {0x84000002, "CPU_OFF", psci_cpu_off, 0},
    {0x84000003, "CPU_ON", psci_cpu_on, 0},
    {0x84000004, "AFFINITY_INFO", psci_affinity_info, 0},
    {0x84000006, "MIGRATE_INFO_TYPE", psci_migrate_info_type, 0},
    {0x84000008, "SYSTEM_OFF", psci_system_off, 0},
    {0x84000009, "SYSTEM_RESET", psci_system_reset, 0},
    {0x8400000a, "PSCI_FEATURES", psci_features, 0},
};

#define PSCI_NFUNCTIONS COREMU_ARRAY_SIZE(psci_functions)

static const struct psci_function *psci_find(uint32_t id)
{
    for (size_t i = 0; i < PSCI_NFUNCTIONS; i++) {
        if (psci_functions[i].id == id) {
            return &psci_functions[i];
        }
    }
    return NULL;
}

static int32_t psci_features(struct psci_call *c)
{
    const struct psci_function *f = psci_find(c->arg[0]);
    return f != NULL ? f->features : PSCI_NOT_SUPPORTED;
}

bool arm_psci_call(struct arm_board *board, struct arm_cpu *cpu, bool is_smc, uint32_t imm)
{
    struct psci_call c = {
        .board = board,
        .cpu = cpu,
        .arg = {cpu->r[1], cpu->r[2], cpu->r[3]},
    };
    uint32_t id = cpu->r[0];
    const struct psci_function *f = psci_find(id);
    int32_t ret = PSCI_NOT_SUPPORTED;

    if (f != NULL) {
        /* Logged before the call: SYSTEM_OFF and CPU_OFF do not come back to the guest. */
        COREMU_LOG(COREMU_LOG_PCALL, "cpu%u: %s %s(0x%x, 0x%x, 0x%x)", cpu->rt->index,
                   is_smc ? "SMC" : "HVC", f->name, c.arg[0], c.arg[1], c.arg[2]);
        ret = f->fn(&c);
        COREMU_LOG(COREMU_LOG_PCALL, "cpu%u: %s = %d", cpu->rt->index, f->name, ret);
    } else {
        COREMU_LOG(COREMU_LOG_PCALL | COREMU_LOG_UNIMP,
                   "cpu%u: %s #%u function 0x%08x not supported", cpu->rt->index,
                   is_smc ? "SMC" : "HVC", imm, id);
    }
    cpu->r[0] = (uint32_t)ret;
    return true;
}
