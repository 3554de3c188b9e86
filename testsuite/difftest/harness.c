/*
 * The fixed side of the differential random-instruction tests: runs the sequences of one
 * generated program (gen.c writes them, with their initial states) and prints the final state
 * of each as one line through the PL011:
 *
 *   seq N: r0 r1 ... r12 apsr fpscr dhash mhash
 *
 * apsr is the CPSR's NZCVQ and GE bits, fpscr and dhash (a hash of d0-d31) are zero in
 * integer runs, mhash is a hash of the 2 KiB scratch buffer. With the full dump (gen -F) the
 * line is followed by d0-d31 and by every scratch word that differs from its initial value.
 * A sequence that takes an exception prints "seq N: exception KIND at ADDR" instead, and
 * the program carries on with the next one.
 *
 * It runs in coremu and in qemu-system-arm alike and must print the same text on both: it is
 * plain C compiled for A32 without floating point, on start.S and lib.c of the bare-metal tests.
 */
#include "test.h"

#define SCRATCH 2048

/* gen.c's side. dt_info = {count, first index, flags}. */
#define DT_VFP 1u
#define DT_FULL 2u
extern const uint32_t dt_info[3];
extern void (*const dt_seqs[])(void);
extern const uint32_t *const dt_init_table[];
void dt_fpu_enable(void);
void dt_recover(void);

/* Written by the sequences: r0-r12, apsr, fpscr, a pad word, d0-d31 (low word first). */
uint32_t dt_out[16 + 64] __attribute__((aligned(8)));
uint8_t dt_scratch[SCRATCH] __attribute__((aligned(64)));

static volatile bool in_sequence;
static volatile uint32_t exc_kind, exc_pc;

/* An exception inside a sequence (coremu or QEMU found an instruction undefined, or an access
 * faulted): note it and resume at dt_recover in A32 state, which returns from the sequence. */
static bool hook(enum exc_kind kind, struct exc_frame *f)
{
    if (!in_sequence) {
        return false;
    }
    in_sequence = false;
    exc_kind = kind;
    exc_pc = f->pc;
    f->pc = (uint32_t)(uintptr_t)dt_recover;
    /* Clear T (bit 5) and the IT bits (15:10, 26:25). */
    f->spsr &= ~0x0600fc20u;
    return true;
}

static uint32_t xorshift(uint32_t x)
{
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

static uint32_t hash(const uint32_t *w, unsigned n)
{
    uint32_t h = 2166136261u;
    for (unsigned i = 0; i < n; i++) {
        h = (h ^ w[i]) * 16777619u;
    }
    return h;
}

static void fill(uint32_t seed)
{
    uint32_t *w = (uint32_t *)dt_scratch;
    for (unsigned i = 0; i < SCRATCH / 4; i++) {
        seed = xorshift(seed);
        w[i] = seed;
    }
}

int main(void)
{
    uint32_t count = dt_info[0], first = dt_info[1], flags = dt_info[2];
    dt_fpu_enable();
    set_exception_hook(hook);
    for (uint32_t i = 0; i < count; i++) {
        /* The memory seed is the last word of the sequence's initial state. */
        const uint32_t *init = dt_init_table[i];
        uint32_t mseed = init[(flags & DT_VFP ? 66 : 0) + 14];
        fill(mseed);
        memset(dt_out, 0, sizeof(dt_out));
        in_sequence = true;
        dt_seqs[i]();
        if (!in_sequence) {
            tprintf("seq %u: exception %u at %08x\n", first + i, exc_kind, exc_pc);
            continue;
        }
        in_sequence = false;
        tprintf("seq %u:", first + i);
        for (unsigned r = 0; r < 13; r++) {
            tprintf(" %08x", dt_out[r]);
        }
        tprintf(" %08x %08x %08x %08x\n", dt_out[13] & 0xf80f0000u, dt_out[14],
                hash(dt_out + 16, 64), hash((const uint32_t *)dt_scratch, SCRATCH / 4));
        if (flags & DT_FULL) {
            for (unsigned d = 0; d < 32; d++) {
                tprintf("  d%u = %08x%08x\n", d, dt_out[16 + 2 * d + 1], dt_out[16 + 2 * d]);
            }
            uint32_t x = mseed;
            for (unsigned w = 0; w < SCRATCH / 4; w++) {
                x = xorshift(x);
                uint32_t now = ((const uint32_t *)dt_scratch)[w];
                if (now != x) {
                    tprintf("  scratch+%x = %08x (was %08x)\n", 4 * w, now, x);
                }
            }
        }
    }
    return 0;
}
