/*
 * LOCK contention between cores: the x86 counterpart of the ARM suite's ldrex4. Needs -smp 2 or
 * more; baremetal.exp runs it with -smp 4 (and 8 under coremu).
 *
 * The bootstrap processor (core 0, this program's main) finds the other cores in the ACPI MADT,
 * then starts them three times, as an operating system does (Intel SDM Vol. 3A 8.4.4, "MP
 * initialization example"), each time with a real-mode trampoline on its own page below 1 MiB:
 *   - broadcast: INIT (level assert, then the level de-assert) and two STARTUP IPIs to "all
 *     excluding self" (ICR shorthand 3), trampoline at 0x8000 (vector 0x08);
 *   - physical: the same messages to each application processor by its APIC ID (physical
 *     destination mode, ICR high bits 31:24), trampoline at 0x6000 (vector 0x06), the page at
 *     0x8000 filled with HLT first so that a core that ignored the vector does not get far. The
 *     cores are then halted with interrupts off, from the first phase: the INIT resets them;
 *   - back to back: the same messages by APIC ID with no delay at all between them (only the
 *     wait for the ICR's delivery status), as Linux sends them to processors that do not need
 *     the SDM's 10 ms after INIT; trampoline at 0x7000 (vector 0x07), the page at 0x6000 filled
 *     with HLT first. A STARTUP that arrives while the INIT is still stopping the core must
 *     still start it.
 * The trampoline goes from real mode to protected mode (this program's GDT) to long mode on the
 * bootstrap processor's page tables and IDT; each core takes the stack of its slot (its place in
 * the MADT, looked up by the APIC ID its local APIC reports) and registers itself (LOCK XADD on a
 * counter, LOCK BTS on a bit mask: twice is a failure).
 *
 * Then every core, the bootstrap processor too, runs in each phase:
 *   - INCREMENTS (10^6) LOCKed increments of one shared counter, a quarter each by LOCK INC,
 *     LOCK ADD, LOCK XADD and a LOCK CMPXCHG loop: with -smp 8, 8 x 10^6 increments, and the
 *     total must be exact;
 *   - ITERATIONS rounds of: LOCK ADD, LOCK XADD, LOCK INC on neighbouring counters of one cache
 *     line; a LOCK CMPXCHG loop; a LOCK CMPXCHG16B loop on a 16-byte aligned pair whose halves
 *     keep hi == 2 * lo (every value a failed CMPXCHG16B loads must keep it: a torn read is a
 *     failure), and a LOCK CMPXCHG8B loop on a pair of 32-bit halves that keep hi == 3 * lo;
 *     an XCHG spin lock (XCHG with memory is locked without a prefix) around a plain,
 *     non-atomic read-modify-write with an owner check; LOCK BTS / LOCK BTR bit locks (two in
 *     one word) around plain increments; LOCK ADD on a counter split across a cache line, and
 *     LOCK XADD on one split across two pages on frames that are not adjacent;
 *   - ABA_ROUNDS rounds of an ABA litmus test: a lock-free stack (a Treiber stack) of ABA_NODES
 *     nodes whose head is a 16-byte {top, tag} pair changed only by LOCK CMPXCHG16B, the tag
 *     counting every change. Each round pops two nodes and pushes them back in the same order,
 *     which is the ABA pattern: another core that read {A, tag} and A's next before this core
 *     popped A and B and pushed A back would, comparing the pointer alone, install B as the top
 *     while this core holds it. The tag makes that CMPXCHG16B fail. A popped node is claimed
 *     with XCHG on its owner word (someone else's claim there is a failure) and its use count
 *     is bumped by a plain increment. At the end the stack must hold every node exactly once,
 *     the tag must count every push and pop, and the use counts must add up to the pops.
 * The bootstrap processor waits for the others and checks the exact totals: any lost update is
 * a failure.
 *
 * No wall-clock time: every wait is a bounded number of PAUSE iterations and ends in a FAIL line
 * rather than a hang; the delays the SDM asks for after INIT and STARTUP are such loops too. The
 * wait for the end of the work gives up only after WAIT_LIMIT PAUSEs without progress (the
 * cores bump a progress counter as they go), so the work's length does not depend on how fast
 * an emulator runs it.
 */
#include "test.h"

#define MAX_CPUS       16
#define ITERATIONS     20000
#define INCREMENTS     1000000u    /* LOCKed increments of the shared counter per core */
#define PROGRESS_EVERY 16384u      /* increments between two bumps of the progress counter */
#define ABA_ROUNDS     20000
#define ABA_NODES      (2 * MAX_CPUS + 8) /* each core holds two at most: never empty */
#define AP_STACK_SIZE  16384
#define WAIT_LIMIT     3000000ul   /* PAUSE iterations before a wait gives up */
#define IPI_DELAY      20000ul     /* PAUSE iterations standing for the SDM's 10 ms after INIT */

#define LAPIC_BASE     0xfee00000ul
#define LAPIC_ID       0x020
#define LAPIC_SVR      0x0f0
#define LAPIC_ICR_LO   0x300
#define LAPIC_ICR_HI   0x310
#define MSR_APIC_BASE  0x1b

#define ICR_INIT          0x00500u
#define ICR_STARTUP       0x00600u
#define ICR_ASSERT        0x04000u
#define ICR_LEVEL_TRIGGER 0x08000u
#define ICR_ALL_BUT_SELF  0xc0000u

#define TRAMPOLINE_BROADCAST    0x8000ul
#define TRAMPOLINE_PHYSICAL     0x6000ul
#define TRAMPOLINE_BACK_TO_BACK 0x7000ul

/* ---- the trampoline and the way to long mode ------------------------------------------------ */

/* Filled by main before any STARTUP: the GDT and IDT registers to load, CR3, the slot of each
 * APIC ID (0xff: not in the MADT). */
struct __attribute__((packed)) pseudo_descriptor {
    uint16_t limit;
    uint64_t base;
};
extern struct pseudo_descriptor ap_idtr;
extern uint32_t ap_cr3;
extern uint8_t apic_slot[256];
extern char trampoline_start[], trampoline_gdtr[], trampoline_arrivals[], trampoline_end[];
extern volatile uint8_t ap_stage[256];
uint8_t ap_stacks[MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));
void ap_main(uint64_t slot) __attribute__((noreturn));

__asm__(
    /* Real mode at CS:0 = vector << 8 : 0. Position independent (copied to any page): DS = CS,
     * the GDT's pseudo-descriptor at a CS-relative offset, then a far jump to the 32-bit code
     * below, where it is linked. */
    ".text\n"
    ".code16\n"
    ".globl trampoline_start, trampoline_gdtr, trampoline_arrivals, trampoline_end\n"
    "trampoline_start:\n"
    "    cli\n"
    "    cld\n"
    "    mov %cs, %ax\n"
    "    mov %ax, %ds\n"
    "    lock incw (trampoline_arrivals - trampoline_start)\n"
    "    lgdtl (trampoline_gdtr - trampoline_start)\n"
    "    mov %cr0, %eax\n"
    "    or $1, %eax\n"
    "    mov %eax, %cr0\n"
    "    ljmpl $0x30, $ap_entry32\n"
    "    .align 8\n"
    "trampoline_gdtr:\n"
    "    .word 0\n"
    "    .long 0\n"
    "trampoline_arrivals:\n" /* cores that got here, for the diagnosis of a failure */
    "    .word 0\n"
    "trampoline_end:\n"

    /* 32-bit protected mode, paging off: the bootstrap processor's page tables, PAE, EFER.LME
     * and NXE, paging with WP, then the 64-bit code segment (as entry.S does). */
    ".code32\n"
    "ap_entry32:\n"
    "    mov $0x10, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    mov 0xfee00020, %ebx\n"
    "    shr $24, %ebx\n"
    "    movb $2, ap_stage(%ebx)\n"
    "    mov %cr4, %eax\n"
    "    or $0x20, %eax\n"
    "    mov %eax, %cr4\n"
    "    mov ap_cr3, %eax\n"
    "    mov %eax, %cr3\n"
    "    mov $0xc0000080, %ecx\n"
    "    rdmsr\n"
    "    or $0x900, %eax\n"
    "    wrmsr\n"
    "    mov %cr0, %eax\n"
    "    or $0x80010001, %eax\n"
    "    mov %eax, %cr0\n"
    "    ljmp $0x08, $ap_entry64\n"

    /* Long mode: the IDT, then the stack of this core's slot (its APIC ID, looked up). */
    ".code64\n"
    "ap_entry64:\n"
    "    mov $0x10, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    xor %eax, %eax\n"
    "    mov %ax, %fs\n"
    "    mov %ax, %gs\n"
    "    mov %ebx, %ebx\n"
    "    lea ap_stage(%rip), %rax\n"
    "    movb $3, (%rax, %rbx)\n"
    "    lidt ap_idtr(%rip)\n"
    "    mov $0xfee00020, %edx\n"
    "    mov (%rdx), %eax\n"
    "    shr $24, %eax\n"
    "    lea apic_slot(%rip), %rdx\n"
    "    movzbl (%rdx, %rax), %edi\n"
    "    cmp $16, %edi\n"
    "    jae 2f\n"
    "    mov %rdi, %rax\n"
    "    inc %rax\n"
    "    imul $16384, %rax, %rax\n"
    "    lea ap_stacks(%rip), %rsp\n"
    "    add %rax, %rsp\n"
    "    call ap_main\n"
    /* an APIC ID the MADT does not list: counted, and the core stops */
    "2:  lock incl ap_unknown(%rip)\n"
    "1:  cli\n"
    "    hlt\n"
    "    jmp 1b\n"

    ".data\n"
    ".globl ap_idtr, ap_cr3, apic_slot, ap_unknown, ap_stage\n"
    ".align 16\n"
    "ap_idtr: .word 0\n"
    "    .quad 0\n"
    ".align 4\n"
    "ap_cr3: .long 0\n"
    "ap_unknown: .long 0\n"
    "apic_slot: .fill 256, 1, 0xff\n"
    /* how far each core (by APIC ID) got, for the diagnosis of a failure: 2 protected mode, 3
     * long mode, 4 registered, 5 started its work, 6 done */
    "ap_stage: .fill 256, 1, 0\n"
    ".text\n");

_Static_assert(MAX_CPUS == 16 && AP_STACK_SIZE == 16384, "the trampoline's constants");

/* ---- shared state --------------------------------------------------------------------------- */

/* The processors of the MADT; slot = index. */
static struct {
    uint8_t apic_id;
} cpus[MAX_CPUS];
static unsigned ncpus;
static unsigned bsp_slot;

extern volatile uint32_t ap_unknown;

/* Registration and the start and end of each phase. */
static volatile uint32_t registered;
static volatile uint64_t registered_mask;
static volatile uint32_t registered_twice;
static volatile uint32_t go;
static volatile uint32_t done;

/* The counters, several to a cache line. */
struct counters {
    uint64_t add;          /* LOCK ADD 1 */
    uint64_t xadd;         /* LOCK XADD weight */
    uint32_t inc;          /* LOCK INC */
    uint32_t pad0;
    uint64_t cas;          /* LOCK CMPXCHG loop: + weight */
    uint64_t xchg_lock;    /* XCHG spin lock */
    uint64_t xchg_count;   /* plain, under xchg_lock: + 1 */
    uint64_t xchg_weight;  /* plain, under xchg_lock: + weight */
    uint64_t xchg_owner;   /* plain, under xchg_lock: slot + 1 while held */
    unsigned __int128 pair;  /* CMPXCHG16B: {lo + 1, hi + 2} (16-byte aligned) */
    uint64_t bit_locks;    /* LOCK BTS / BTR: bits 3 and 40 */
    uint64_t bit_count[2]; /* plain, under bit 3 and bit 40 */
    uint64_t pair8;        /* CMPXCHG8B: 32-bit halves {lo + 1, hi + 3} */
    /* contention seen (reported, not checked: one host thread may well run the cores in turn) */
    uint64_t cas_retries, pair_retries, pair8_retries, xchg_spins, bit_spins, hit_retries;
    uint64_t aba_retries;
    /* failures seen by the cores themselves */
    uint64_t torn_pairs;       /* a CMPXCHG16B loaded hi != 2 * lo, a CMPXCHG8B hi != 3 * lo */
    uint64_t owner_violations; /* someone else's owner mark inside the XCHG lock */
    uint64_t go_timeouts;      /* an application processor gave up waiting for go */
    uint64_t aba_claimed;      /* a popped node another core still claimed */
    uint64_t aba_empty;        /* a pop found the stack empty (it never is when correct) */
    /* LOCK INC / ADD / XADD / CMPXCHG: + 1 each, INCREMENTS per core (a line of its own, so
     * that the rest of the work does not slow it down) */
    uint64_t hits __attribute__((aligned(64)));
    /* bumped by every core as it goes, watched by the bootstrap processor's wait */
    uint64_t progress __attribute__((aligned(64)));
};
static struct counters c __attribute__((aligned(64)));

/* The ABA litmus test's stack: nodes on lines of their own, the head {top, tag} changed only by
 * LOCK CMPXCHG16B. */
struct aba_node {
    uint64_t next;  /* address of the node below, 0 at the bottom; written by the pusher */
    uint64_t owner; /* slot + 1 while popped (XCHG), 0 on the stack */
    uint64_t uses;  /* plain increments by the core that popped it */
} __attribute__((aligned(64)));
static struct aba_node aba_nodes[ABA_NODES];
static struct {
    uint64_t top; /* address of the top node, 0 when empty */
    uint64_t tag; /* + 1 on every push and pop */
} aba_head __attribute__((aligned(16)));
/* a 32-bit counter at bytes 62..65 of a 128-byte aligned buffer: across a cache line */
static uint8_t line_split[128] __attribute__((aligned(128)));
#define LINE_SPLIT ((volatile uint32_t *)(line_split + 62))
/* a 64-bit counter whose first 5 bytes end one page and whose last 3 start another, on frames
 * that are not adjacent (mapped by main) */
#define PAGE_SPLIT_VA (TEST_VA_BASE + 0x200000)
#define PAGE_SPLIT    ((volatile uint64_t *)(PAGE_SPLIT_VA + 4096 - 5))

static inline void cpu_pause(void)
{
    __asm__ volatile("pause" ::: "memory");
}

static inline uint32_t lapic_read(unsigned reg)
{
    return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static inline void lapic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

/* Waits until *p >= want, at most WAIT_LIMIT PAUSEs: true if it got there. The PAUSEs it took
 * go to *paused (when not NULL), to show how far from the limit a passing run stays. */
static bool wait_at_least(volatile uint32_t *p, uint32_t want, uint64_t *paused)
{
    uint64_t i = 0;
    while (i < WAIT_LIMIT && *p < want) {
        cpu_pause();
        i++;
    }
    if (paused != NULL) {
        *paused = i;
    }
    return *p >= want;
}

/* Waits until *p >= want while the cores make progress: gives up after WAIT_LIMIT PAUSEs in
 * which c.progress did not move. The longest such stretch goes to *longest_idle. */
static bool wait_while_progress(volatile uint32_t *p, uint32_t want, uint64_t *longest_idle)
{
    volatile uint64_t *progress = &c.progress;
    uint64_t idle = 0, longest = 0, seen = *progress;
    while (idle < WAIT_LIMIT && *p < want) {
        cpu_pause();
        uint64_t now = *progress;
        if (now != seen) {
            seen = now;
            idle = 0;
        } else {
            idle++;
            longest = idle > longest ? idle : longest;
        }
    }
    *longest_idle = longest;
    return *p >= want;
}

static void delay(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        cpu_pause();
    }
}

/* ---- the work ------------------------------------------------------------------------------- */

static void xchg_lock_acquire(volatile uint64_t *lock)
{
    uint64_t v = 1;
    __asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*lock) : : "memory");
    while (v != 0) {
        while (*lock != 0) {
            c.xchg_spins++; /* racy on purpose: a statistic, not a check */
            cpu_pause();
        }
        v = 1;
        __asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*lock) : : "memory");
    }
}

static void xchg_lock_release(volatile uint64_t *lock)
{
    /* TSO: a plain store releases (the critical section's stores are not passed by it) */
    __asm__ volatile("" ::: "memory");
    *lock = 0;
}

static void bit_lock_acquire(volatile uint64_t *word, uint64_t bit)
{
    for (;;) {
        uint8_t was_set;
        __asm__ volatile("lock btsq %2, %0\n\tsetc %1"
                         : "+m"(*word), "=r"(was_set)
                         : "r"(bit)
                         : "cc", "memory");
        if (!was_set) {
            return;
        }
        while ((*word >> bit) & 1) {
            c.bit_spins++;
            cpu_pause();
        }
    }
}

static void bit_lock_release(volatile uint64_t *word, uint64_t bit)
{
    __asm__ volatile("lock btrq %1, %0" : "+m"(*word) : "r"(bit) : "cc", "memory");
}

/* LOCK CMPXCHG16B of the 16 bytes at p: {*lo, *hi} -> {new_lo, new_hi}. On failure *lo and
 * *hi get what the instruction loaded. */
static bool cmpxchg16b(volatile void *p, uint64_t *lo, uint64_t *hi, uint64_t new_lo,
                       uint64_t new_hi)
{
    uint8_t ok;
    __asm__ volatile("lock cmpxchg16b %0\n\tsetz %1"
                     : "+m"(*(volatile unsigned __int128 *)p), "=q"(ok), "+a"(*lo), "+d"(*hi)
                     : "b"(new_lo), "c"(new_hi)
                     : "cc", "memory");
    return ok;
}

static void progress_bump(void)
{
    __asm__ volatile("lock incq %0" : "+m"(c.progress) : : "cc", "memory");
}

/* 10^6 LOCKed increments of one counter, by four instructions in turn. */
static void increments(void)
{
    volatile uint64_t *hits = &c.hits;
    uint64_t retries = 0;
    for (unsigned i = 0; i < INCREMENTS / 4; i++) {
        __asm__ volatile("lock incq %0" : "+m"(*hits) : : "cc", "memory");
        __asm__ volatile("lock addq $1, %0" : "+m"(*hits) : : "cc", "memory");
        uint64_t one = 1;
        __asm__ volatile("lock xaddq %0, %1" : "+r"(one), "+m"(*hits) : : "cc", "memory");
        uint64_t old = *hits;
        for (;;) {
            uint8_t ok;
            __asm__ volatile("lock cmpxchgq %3, %1\n\tsetz %2"
                             : "+a"(old), "+m"(*hits), "=q"(ok)
                             : "r"(old + 1)
                             : "cc", "memory");
            if (ok) {
                break;
            }
            retries++;
        }
        if (i % (PROGRESS_EVERY / 4) == 0) {
            progress_bump();
        }
    }
    __asm__ volatile("lock addq %1, %0" : "+m"(c.hit_retries) : "r"(retries) : "cc", "memory");
}

static uint64_t aba_pop(uint64_t *retries, uint64_t *empty)
{
    volatile uint64_t *head = &aba_head.top;
    /* plain loads: they may be stale or from two different moments, the CMPXCHG16B checks */
    uint64_t top = head[0], tag = head[1];
    for (;;) {
        if (top == 0) {
            (*empty)++;
            top = head[0];
            tag = head[1];
            cpu_pause();
            continue;
        }
        /* top may have been popped by another core meanwhile: its next is then stale, and the
         * tag, which moved, makes the CMPXCHG16B fail */
        uint64_t next = ((volatile struct aba_node *)top)->next;
        if (cmpxchg16b(head, &top, &tag, next, tag + 1)) {
            return top;
        }
        (*retries)++;
    }
}

static void aba_push(uint64_t node, uint64_t *retries)
{
    volatile uint64_t *head = &aba_head.top;
    uint64_t top = head[0], tag = head[1];
    for (;;) {
        ((volatile struct aba_node *)node)->next = top;
        if (cmpxchg16b(head, &top, &tag, node, tag + 1)) {
            return;
        }
        (*retries)++;
    }
}

/* Claims a popped node for slot: its owner word must have been 0. */
static void aba_claim(uint64_t node, uint64_t slot, uint64_t *claimed)
{
    volatile struct aba_node *n = (volatile struct aba_node *)node;
    uint64_t mark = slot + 1;
    __asm__ volatile("xchgq %0, %1" : "+r"(mark), "+m"(n->owner) : : "memory");
    if (mark != 0) {
        (*claimed)++;
    }
    n->uses = n->uses + 1;
}

static void aba_release(uint64_t node)
{
    ((volatile struct aba_node *)node)->owner = 0;
}

static void aba_rounds(uint64_t slot)
{
    uint64_t retries = 0, empty = 0, claimed = 0;
    for (unsigned i = 0; i < ABA_ROUNDS; i++) {
        uint64_t a = aba_pop(&retries, &empty);
        aba_claim(a, slot, &claimed);
        uint64_t b = aba_pop(&retries, &empty);
        aba_claim(b, slot, &claimed);
        aba_release(a);
        aba_push(a, &retries);
        aba_release(b);
        aba_push(b, &retries);
        if (i % 1024 == 0) {
            progress_bump();
        }
    }
    __asm__ volatile("lock addq %1, %0" : "+m"(c.aba_retries) : "r"(retries) : "cc", "memory");
    if (empty != 0) {
        __asm__ volatile("lock addq %1, %0" : "+m"(c.aba_empty) : "r"(empty) : "cc", "memory");
    }
    if (claimed != 0) {
        __asm__ volatile("lock addq %1, %0" : "+m"(c.aba_claimed) : "r"(claimed) : "cc", "memory");
    }
}

/* Each kind of operation in a loop of its own, so that the cores run the same kind at the same
 * time (one loop of everything convoys them behind the slowest lock). */
static void work(uint64_t slot)
{
    const uint64_t weight = slot + 1;
    volatile struct counters *v = &c;
    uint64_t torn = 0, owner_bad = 0;

    increments();
    progress_bump();
    aba_rounds(slot);
    progress_bump();

    for (unsigned i = 0; i < ITERATIONS; i++) {
        __asm__ volatile("lock addq $1, %0" : "+m"(v->add) : : "cc", "memory");
        uint64_t x = weight;
        __asm__ volatile("lock xaddq %0, %1" : "+r"(x), "+m"(v->xadd) : : "cc", "memory");
        __asm__ volatile("lock incl %0" : "+m"(v->inc) : : "cc", "memory");
    }

    for (unsigned i = 0; i < ITERATIONS; i++) {
        uint64_t old = v->cas;
        for (;;) {
            uint8_t ok;
            __asm__ volatile("lock cmpxchgq %3, %1\n\tsetz %2"
                             : "+a"(old), "+m"(v->cas), "=r"(ok)
                             : "r"(old + weight)
                             : "cc", "memory");
            if (ok) {
                break;
            }
            v->cas_retries++;
        }
    }

    for (unsigned i = 0; i < ITERATIONS; i++) {
        /* the plain read may tear; CMPXCHG16B's own load on failure may not */
        unsigned __int128 seen = v->pair;
        uint64_t lo = (uint64_t)seen, hi = (uint64_t)(seen >> 64);
        for (;;) {
            uint8_t ok;
            __asm__ volatile("lock cmpxchg16b %0\n\tsetz %1"
                             : "+m"(v->pair), "=r"(ok), "+a"(lo), "+d"(hi)
                             : "b"(lo + 1), "c"(hi + 2)
                             : "cc", "memory");
            if (ok) {
                break;
            }
            if (hi != 2 * lo) {
                torn++;
            }
            v->pair_retries++;
        }
    }
    progress_bump();

    for (unsigned i = 0; i < ITERATIONS; i++) {
        uint64_t seen = v->pair8;
        uint32_t lo = (uint32_t)seen, hi = (uint32_t)(seen >> 32);
        for (;;) {
            uint8_t ok;
            __asm__ volatile("lock cmpxchg8b %0\n\tsetz %1"
                             : "+m"(v->pair8), "=q"(ok), "+a"(lo), "+d"(hi)
                             : "b"(lo + 1), "c"(hi + 3)
                             : "cc", "memory");
            if (ok) {
                break;
            }
            if (hi != 3 * lo) {
                torn++;
            }
            v->pair8_retries++;
        }
    }
    progress_bump();

    for (unsigned i = 0; i < ITERATIONS; i++) {
        if (i % 1024 == 0) {
            progress_bump();
        }
        xchg_lock_acquire(&v->xchg_lock);
        v->xchg_owner = weight;
        uint64_t n = v->xchg_count;
        cpu_pause(); /* widen the window a lost update would need */
        v->xchg_count = n + 1;
        v->xchg_weight = v->xchg_weight + weight;
        if (v->xchg_owner != weight) {
            owner_bad++;
        }
        v->xchg_owner = 0;
        xchg_lock_release(&v->xchg_lock);
    }

    for (unsigned i = 0; i < ITERATIONS; i++) {
        if (i % 1024 == 0) {
            progress_bump();
        }
        const uint64_t bit = (i & 1) ? 40 : 3;
        bit_lock_acquire(&v->bit_locks, bit);
        uint64_t b = v->bit_count[i & 1];
        cpu_pause();
        v->bit_count[i & 1] = b + 1;
        bit_lock_release(&v->bit_locks, bit);
    }

    for (unsigned i = 0; i < ITERATIONS; i++) {
        __asm__ volatile("lock addl $1, %0" : "+m"(*LINE_SPLIT) : : "cc", "memory");
        uint64_t y = weight;
        __asm__ volatile("lock xaddq %0, %1" : "+r"(y), "+m"(*PAGE_SPLIT) : : "cc", "memory");
    }

    if (torn != 0) {
        __asm__ volatile("lock addq %1, %0" : "+m"(v->torn_pairs) : "r"(torn) : "cc", "memory");
    }
    if (owner_bad != 0) {
        __asm__ volatile("lock addq %1, %0"
                         : "+m"(v->owner_violations)
                         : "r"(owner_bad)
                         : "cc", "memory");
    }
}

static void park(void) __attribute__((noreturn));
static void park(void)
{
    for (;;) {
        __asm__ volatile("cli; hlt" ::: "memory");
    }
}

void ap_main(uint64_t slot)
{
    uint32_t one = 1;
    __asm__ volatile("lock xaddl %0, %1" : "+r"(one), "+m"(registered) : : "cc", "memory");
    uint8_t was_set;
    __asm__ volatile("lock btsq %2, %0\n\tsetc %1"
                     : "+m"(registered_mask), "=r"(was_set)
                     : "r"(slot)
                     : "cc", "memory");
    if (was_set) {
        __asm__ volatile("lock incl %0" : "+m"(registered_twice) : : "cc", "memory");
    }
    ap_stage[cpus[slot].apic_id] = 4;
    if (!wait_at_least(&go, 1, NULL)) {
        __asm__ volatile("lock incq %0" : "+m"(c.go_timeouts) : : "cc", "memory");
        park();
    }
    ap_stage[cpus[slot].apic_id] = 5;
    work(slot);
    ap_stage[cpus[slot].apic_id] = 6;
    __asm__ volatile("lock incl %0" : "+m"(done) : : "cc", "memory");
    park();
}

/* ---- the bootstrap processor ---------------------------------------------------------------- */


static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--) {
        s = (uint8_t)(s + *p++);
    }
    return s;
}

static const uint8_t *find_rsdp(void)
{
    /* the EBDA's first KiB, then the BIOS area (ACPI 5.2.5.1) */
    uint32_t ebda_segment;
    __asm__ volatile("movzwl 0x40e, %0" : "=r"(ebda_segment)); /* the BIOS data area's word */
    uint64_t ebda = (uint64_t)ebda_segment << 4;
    uint64_t ranges[2][2] = {{ebda, ebda + 1024}, {0xe0000, 0x100000}};
    for (int r = 0; r < 2; r++) {
        if (ranges[r][0] == 0) {
            continue;
        }
        for (uint64_t a = ranges[r][0]; a < ranges[r][1]; a += 16) {
            const uint8_t *p = (const uint8_t *)a;
            if (memcmp(p, "RSD PTR ", 8) == 0 && sum_bytes(p, 20) == 0) {
                return p;
            }
        }
    }
    return NULL;
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The enabled processor local APIC entries of the MADT, through the XSDT (ACPI 2+) or the RSDT. */
static bool read_madt(void)
{
    const uint8_t *rsdp = find_rsdp();
    if (rsdp == NULL) {
        test_fail("lock-smp: ACPI RSDP", "not found in the EBDA or 0xE0000-0xFFFFF");
        return false;
    }
    const uint8_t *root;
    unsigned entry_size;
    if (rsdp[15] >= 2 && get64(rsdp + 24) != 0) {
        root = (const uint8_t *)get64(rsdp + 24);
        entry_size = 8;
    } else {
        root = (const uint8_t *)(uint64_t)get32(rsdp + 16);
        entry_size = 4;
    }
    uint32_t root_len = get32(root + 4);
    const uint8_t *madt = NULL;
    for (uint32_t off = 36; off + entry_size <= root_len; off += entry_size) {
        const uint8_t *t = (const uint8_t *)(entry_size == 8 ? get64(root + off)
                                                              : (uint64_t)get32(root + off));
        if (memcmp(t, "APIC", 4) == 0) {
            madt = t;
            break;
        }
    }
    if (madt == NULL) {
        test_fail("lock-smp: ACPI MADT", "no APIC table in the RSDT/XSDT");
        return false;
    }
    uint32_t len = get32(madt + 4);
    test_check("lock-smp: ACPI MADT checksum", sum_bytes(madt, len) == 0);
    for (uint32_t off = 44; off + 2 <= len && madt[off + 1] >= 2; off += madt[off + 1]) {
        if (madt[off] == 0 && madt[off + 1] >= 8 && (get32(madt + off + 4) & 1)) {
            if (ncpus == MAX_CPUS) {
                test_fail("lock-smp: ACPI MADT", "more processors than this program handles");
                return false;
            }
            cpus[ncpus++].apic_id = madt[off + 3];
        }
    }
    return true;
}

/* Writes the ICR (destination first) and waits, bounded, for the delivery status to clear. */
static void send_ipi(uint8_t dest, uint32_t lo)
{
    lapic_write(LAPIC_ICR_HI, (uint32_t)dest << 24);
    lapic_write(LAPIC_ICR_LO, lo);
    for (uint64_t i = 0; i < WAIT_LIMIT && (lapic_read(LAPIC_ICR_LO) & (1u << 12)); i++) {
        cpu_pause();
    }
}

/* INIT assert, INIT de-assert, STARTUP, STARTUP with the SDM's delays (as PAUSE loops), or
 * with none at all (back_to_back). */
static void start_cores(uint8_t dest, uint32_t shorthand, uint64_t trampoline, bool back_to_back)
{
    uint32_t vector = (uint32_t)(trampoline >> 12);
    const uint64_t wait = back_to_back ? 0 : IPI_DELAY;
    send_ipi(dest, shorthand | ICR_INIT | ICR_ASSERT | ICR_LEVEL_TRIGGER);
    delay(wait);
    send_ipi(dest, shorthand | ICR_INIT | ICR_LEVEL_TRIGGER);
    delay(wait);
    for (int i = 0; i < 2; i++) {
        send_ipi(dest, shorthand | ICR_STARTUP | ICR_ASSERT | vector);
        delay(wait / 50); /* and its 200 us after STARTUP */
    }
}

static void install_trampoline(uint64_t at)
{
    memcpy((void *)at, trampoline_start, (size_t)(trampoline_end - trampoline_start));
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    uint8_t *d = (uint8_t *)at + (trampoline_gdtr - trampoline_start);
    memcpy(d, &gdtr.limit, 2);
    uint32_t base32 = (uint32_t)gdtr.base;
    memcpy(d + 2, &base32, 4);
}

/* Where each application processor got to (after a wait ran out). */
static void report_stages(const char *phase, uint64_t trampoline)
{
    uint16_t arrivals;
    memcpy(&arrivals, (void *)(trampoline + (trampoline_arrivals - trampoline_start)), 2);
    tprintf("%s: %u cores ran the trampoline; stage of each (2 protected mode, 3 long mode, "
            "4 registered, 5 working, 6 done):",
            phase, arrivals);
    for (unsigned i = 0; i < ncpus; i++) {
        if (i != bsp_slot) {
            tprintf(" APIC ID %u: %u", cpus[i].apic_id, ap_stage[cpus[i].apic_id]);
        }
    }
    tprintf("\n");
}

static void reset_shared(void)
{
    memset((void *)&c, 0, sizeof(c));
    *LINE_SPLIT = 0;
    *PAGE_SPLIT = 0;
    registered = 0;
    registered_mask = 0;
    registered_twice = 0;
    done = 0;
    memset((void *)ap_stage, 0, sizeof(ap_stage));
    ap_unknown = 0;
    /* the ABA stack: every node once, in order */
    for (unsigned i = 0; i < ABA_NODES; i++) {
        aba_nodes[i].next = i + 1 < ABA_NODES ? (uint64_t)&aba_nodes[i + 1] : 0;
        aba_nodes[i].owner = 0;
        aba_nodes[i].uses = 0;
    }
    aba_head.top = (uint64_t)&aba_nodes[0];
    aba_head.tag = 0;
    __asm__ volatile("mfence" ::: "memory");
}

/* "lock-smp: PHASE: WHAT" */
static const char *phase_name(const char *phase, const char *what)
{
    static char name[128];
    char *o = name;
    const char *parts[3] = {"lock-smp: ", phase, what};
    for (int i = 0; i < 3; i++) {
        for (const char *s = parts[i]; *s && o < name + sizeof(name) - 3; s++) {
            *o++ = *s;
        }
        if (i == 1) {
            *o++ = ':';
            *o++ = ' ';
        }
    }
    *o = 0;
    return name;
}

static void phase_check(const char *phase, const char *what, uint64_t got, uint64_t want)
{
    test_check_eq(phase_name(phase, what), got, want);
}

/* The ABA stack after n cores ran ABA_ROUNDS rounds each. */
static void check_aba(const char *phase, unsigned n)
{
    uint64_t seen_mask = 0, seen_twice = 0, foreign = 0, length = 0, uses = 0, owned = 0;
    _Static_assert(ABA_NODES <= 64, "one bit per node");
    for (uint64_t p = aba_head.top; p != 0 && length <= ABA_NODES; length++) {
        uint64_t off = p - (uint64_t)&aba_nodes[0];
        if (p < (uint64_t)&aba_nodes[0] || off % sizeof(struct aba_node) != 0 ||
            off / sizeof(struct aba_node) >= ABA_NODES) {
            foreign++;
            break;
        }
        uint64_t bit = 1ull << (off / sizeof(struct aba_node));
        if (seen_mask & bit) {
            seen_twice++;
            break;
        }
        seen_mask |= bit;
        p = aba_nodes[off / sizeof(struct aba_node)].next;
    }
    for (unsigned i = 0; i < ABA_NODES; i++) {
        uses += aba_nodes[i].uses;
        owned += aba_nodes[i].owner != 0;
    }
    const uint64_t all = ABA_NODES == 64 ? ~0ull : (1ull << ABA_NODES) - 1;
    phase_check(phase, "CMPXCHG16B ABA stack: no pop found it empty", c.aba_empty, 0);
    phase_check(phase, "CMPXCHG16B ABA stack: no node popped by two cores at once",
                c.aba_claimed, 0);
    phase_check(phase, "CMPXCHG16B ABA stack: only its own nodes, none twice",
                foreign + seen_twice, 0);
    phase_check(phase, "CMPXCHG16B ABA stack: every node back on it", seen_mask, all);
    phase_check(phase, "CMPXCHG16B ABA stack: tag counts every push and pop", aba_head.tag,
                4ull * ABA_ROUNDS * n);
    phase_check(phase, "CMPXCHG16B ABA stack: use counts add up to the pops", uses,
                2ull * ABA_ROUNDS * n);
    phase_check(phase, "CMPXCHG16B ABA stack: no node left claimed", owned, 0);
}

static void check_totals(const char *phase, unsigned n)
{
    const uint64_t it = ITERATIONS, weights = (uint64_t)n * (n + 1) / 2;
    phase_check(phase, "LOCK INC/ADD/XADD/CMPXCHG increments of one counter total", c.hits,
                (uint64_t)n * INCREMENTS);
    phase_check(phase, "LOCK ADD total", c.add, n * it);
    phase_check(phase, "LOCK XADD total", c.xadd, weights * it);
    phase_check(phase, "LOCK INC total (32-bit neighbour)", c.inc, n * it);
    phase_check(phase, "LOCK CMPXCHG loop total", c.cas, weights * it);
    phase_check(phase, "LOCK CMPXCHG16B pair: low half", (uint64_t)c.pair, n * it);
    phase_check(phase, "LOCK CMPXCHG16B pair: high half", (uint64_t)(c.pair >> 64), 2 * n * it);
    phase_check(phase, "LOCK CMPXCHG8B pair: low half", (uint32_t)c.pair8, n * it);
    phase_check(phase, "LOCK CMPXCHG8B pair: high half", (uint32_t)(c.pair8 >> 32), 3 * n * it);
    phase_check(phase, "LOCK CMPXCHG16B/8B never load a torn pair", c.torn_pairs, 0);
    phase_check(phase, "XCHG lock: plain increments", c.xchg_count, n * it);
    phase_check(phase, "XCHG lock: plain weighted sums", c.xchg_weight, weights * it);
    phase_check(phase, "XCHG lock: one owner at a time", c.owner_violations, 0);
    phase_check(phase, "XCHG lock: released", c.xchg_lock, 0);
    phase_check(phase, "LOCK BTS/BTR bit 3 lock: plain increments", c.bit_count[0], n * it / 2);
    phase_check(phase, "LOCK BTS/BTR bit 40 lock: plain increments", c.bit_count[1], n * it / 2);
    phase_check(phase, "LOCK BTS/BTR: both bits released", c.bit_locks, 0);
    phase_check(phase, "LOCK ADD across a cache line total", *LINE_SPLIT, n * it);
    phase_check(phase, "LOCK XADD across pages total", *PAGE_SPLIT, weights * it);
    check_aba(phase, n);
    tprintf("%s: contention: %lu CMPXCHG retries (%lu in the increments), %lu CMPXCHG16B "
            "retries (%lu in the ABA stack), %lu CMPXCHG8B retries, %lu XCHG lock spins, %lu bit "
            "lock spins\n",
            phase, c.cas_retries, c.hit_retries, c.pair_retries, c.aba_retries, c.pair8_retries,
            c.xchg_spins, c.bit_spins);
}

/* One phase: start the application processors (start(), which sends the IPIs), check that each
 * registered once, run the work on every core, check the totals. */
static void run_phase(const char *phase, uint64_t trampoline, bool broadcast, bool back_to_back)
{
    const unsigned naps = ncpus - 1;
    reset_shared();
    go = 0;
    install_trampoline(trampoline);
    __asm__ volatile("mfence" ::: "memory");

    if (broadcast) {
        start_cores(0, ICR_ALL_BUT_SELF, trampoline, back_to_back);
    } else {
        for (unsigned i = 0; i < ncpus; i++) {
            if (i != bsp_slot) {
                start_cores(cpus[i].apic_id, 0, trampoline, back_to_back);
            }
        }
    }
    uint64_t paused_start, paused_end;
    bool all = wait_at_least(&registered, naps, &paused_start);
    if (!all) {
        tprintf("%s: %u of %u application processors registered (%u with an APIC ID not in the "
                "MADT) after %lu PAUSEs\n",
                phase, registered, naps, ap_unknown, WAIT_LIMIT);
        report_stages(phase, trampoline);
    }
    phase_check(phase, "every application processor registered", registered, naps);
    if (!all) {
        return;
    }
    uint64_t want_mask = ((1ull << ncpus) - 1) & ~(1ull << bsp_slot);
    phase_check(phase, "registered slots (LOCK BTS mask)", registered_mask, want_mask);
    phase_check(phase, "no core registered twice", registered_twice, 0);

    __asm__ volatile("" ::: "memory");
    go = 1;
    work(bsp_slot);
    all = wait_while_progress(&done, naps, &paused_end);
    if (!all) {
        tprintf("%s: %u of %u application processors done (%lu gave up waiting for the start) "
                "after %lu PAUSEs without progress\n",
                phase, done, naps, c.go_timeouts, WAIT_LIMIT);
        report_stages(phase, trampoline);
    }
    phase_check(phase, "every application processor finished", done, naps);
    if (!all) {
        return;
    }
    tprintf("%s: the bootstrap processor waited %lu PAUSEs for the others to register, at most "
            "%lu without progress for them to finish (the limit: %lu)\n",
            phase, paused_start, paused_end, WAIT_LIMIT);
    check_totals(phase, ncpus);
}

int main(void)
{
    if (!read_madt()) {
        return 1;
    }
    uint8_t bsp_id = (uint8_t)(lapic_read(LAPIC_ID) >> 24);
    bsp_slot = MAX_CPUS;
    for (unsigned i = 0; i < ncpus; i++) {
        apic_slot[cpus[i].apic_id] = (uint8_t)i;
        if (cpus[i].apic_id == bsp_id) {
            bsp_slot = i;
        }
    }
    tprintf("lock-smp: %u cores (MADT), bootstrap processor APIC ID %u\n", ncpus, bsp_id);
    if (bsp_slot == MAX_CPUS) {
        test_fail("lock-smp: the bootstrap processor is in the MADT", "its APIC ID is not");
        return 1;
    }
    if (ncpus < 2) {
        test_fail("lock-smp: at least 2 cores", "run with -smp 2 or more");
        return 1;
    }
    uint64_t apic_base = rdmsr(MSR_APIC_BASE);
    test_check_eq("lock-smp: APIC base MSR: 0xFEE00000, enabled, BSP",
                  apic_base & 0xfffff900ull, LAPIC_BASE | 0x900);
    /* software-enable the local APIC (spurious vector 0xff), as an OS does before the IPIs */
    lapic_write(LAPIC_SVR, 0x1ff);

    uint32_t r[4];
    cpuid(1, 0, r);
    if (!((r[2] >> 13) & 1)) {
        test_fail("lock-smp: CPUID.1:ECX.CX16", "no CMPXCHG16B");
        return 1;
    }

    /* the page-split counter: its two pages on frames that are not adjacent */
    uint8_t *second = page_alloc();
    uint8_t *first = page_alloc();
    (void)page_alloc();
    map_page(PAGE_SPLIT_VA, (uint64_t)first, PTE_P | PTE_W);
    map_page(PAGE_SPLIT_VA + 4096, (uint64_t)second, PTE_P | PTE_W);

    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    ap_idtr.limit = idtr.limit;
    ap_idtr.base = idtr.base;
    ap_cr3 = (uint32_t)read_cr3();

    run_phase("all-but-self", TRAMPOLINE_BROADCAST, true, false);
    /* the first trampoline's page becomes HLTs: only the new vector leads anywhere */
    memset((void *)TRAMPOLINE_BROADCAST, 0xf4, 4096);
    run_phase("physical", TRAMPOLINE_PHYSICAL, false, false);
    memset((void *)TRAMPOLINE_PHYSICAL, 0xf4, 4096);
    run_phase("back-to-back", TRAMPOLINE_BACK_TO_BACK, false, true);
    return 0;
}
