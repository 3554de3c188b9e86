/*
 * coremu ARM — what a board provides to its cores, and what the cores provide to the board.
 *
 * A board (virt.c) owns the address space, the exclusive-monitor engine, the interrupt
 * controller and the firmware interface (PSCI over HVC/SMC). The CPU side (cpu.c, exec.c...)
 * reaches the board only through the function pointers below, so that the CPU knows nothing
 * of any particular board.
 */
#ifndef COREMU_ARM_BOARD_H
#define COREMU_ARM_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/atomic.h>
#include <coremu/cpu.h>
#include <coremu/physmem.h>

struct arm_cpu;

/* Generic timer outputs, as the board wires them to interrupt lines. */
enum arm_timer_output { ARM_TIMER_PHYS = 0, ARM_TIMER_VIRT = 1 };

struct arm_board {
    struct coremu_machine *machine; /* immutable after creation */
    struct coremu_as *as;           /* immutable; lookups are lock-free */
    struct coremu_xmon *xmon;       /* immutable; covers guest RAM */
    struct arm_cpu **cpus;          /* immutable array of machine->ncpus cores */
    unsigned ncpus;
    uint32_t ram_base;
    uint64_t ram_size;

    /* Where core 0 starts, and its registers at reset (the Linux boot protocol: r0 = 0,
     * r1 = ~0 or machine number, r2 = device tree address). Written before the machine starts;
     * read by core 0's thread when it is powered on. */
    struct {
        uint32_t entry;
        bool thumb;
        uint32_t r0, r1, r2;
    } boot;

    /* HVC / SMC from a core (PSCI). Runs on the calling core's thread with its registers in
     * cpu->r[]; writes results to r0... Returns false when the call is not implemented, in
     * which case the CPU treats HVC/SMC as UNDEFINED. */
    bool (*firmware_call)(struct arm_board *board, struct arm_cpu *cpu, bool is_smc,
                          uint32_t imm);
    /* A core's timer output changed level (called on that core's thread). May be NULL. */
    void (*timer_output)(struct arm_board *board, struct arm_cpu *cpu,
                         enum arm_timer_output which, bool level);
    /* The CPU's interface to the interrupt controller's CPU interface when it is accessed as
     * system registers (not used by GICv2, whose CPU interface is MMIO). May be NULL. */
    void *irq_controller;

    /* Exit status to use on PSCI SYSTEM_OFF / SYSTEM_RESET with -no-reboot. */
    bool no_reboot;
};

/* cpu.c: creates core index of board (state allocated and reset; registered as rt->arch). */
struct arm_cpu *arm_cpu_new(struct arm_board *board, struct coremu_cpu *rt, unsigned index);
void arm_cpu_free(struct arm_cpu *cpu);
/* exec.c: the coremu_cpu_ops of an ARM core. run() starts at board->boot for core 0's first
 * power-on, or at the entry point and context id given to coremu_cpu_power_on (PSCI CPU_ON:
 * arg0 = entry address (bit 0: Thumb), arg1 = context id placed in r0), in SVC mode with the
 * MMU and caches off, IRQ/FIQ masked. */
extern const struct coremu_cpu_ops arm_cpu_ops;
/* atomic_arm.c: arm's helper table for the runtime's atomic layer (registered by main). */
extern const struct coremu_atomic_table arm_atomic_table;

#endif /* COREMU_ARM_BOARD_H */
