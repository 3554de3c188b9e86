/*
 * What the standalone decoder tests (test_decode_a32.c, test_decode_t32.c) share: the run of a
 * decoder over `arm-none-eabi-objdump -d` output and the judgement of each decode against the
 * mnemonic objdump prints, the random-encoding generator, the semantic checks on a stub core
 * and the command line. Each program supplies what differs: how it reads an objdump line, its
 * mnemonic table and the corrections objdump needs in its instruction set.
 */
#ifndef COREMU_ARM_TEST_DECODE_CHECK_H
#define COREMU_ARM_TEST_DECODE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops.h"

/* ---- the objdump cross-check ---------------------------------------------------------- */

/* objdump mnemonic -> the handlers that may implement it, space-separated. */
struct dc_name {
    const char *mnemonic;
    const char *handlers;
};

/* Condition suffixes as objdump prints them; AL and the unconditional space have none. */
extern const char *const dc_conds[16];

/* The handlers of mnemonic: map's (the program's own), or the ones both instruction sets share;
 * NULL if neither knows it. */
const char *dc_lookup(const struct dc_name *map, size_t n, const char *mnemonic);
/* Whether word is one of the space-separated words of list. */
bool dc_word_in(const char *word, const char *list);
bool dc_ends_with(const char *s, const char *suffix);
/* Strips the suffix of condition cond (< 14), or its alias (hs, lo), from key; false if key
 * has none. */
bool dc_strip_cond(char *key, unsigned cond);

/* One pass over an objdump listing. */
struct dc_run {
    bool strict; /* an UNDEFINED decode objdump accepts is an error (the hand-written corpus) */
    unsigned checked, errors;
};

/* The name the test goes by for a decoded handler (name: the decoder's, for anything but the
 * stub VFP handler); NULL, and an error counted, when it has none. Counts the instruction as
 * checked otherwise. */
const char *dc_handler(struct dc_run *run, uint32_t insn, arm_uop_fn fn, const char *name);
/* The handlers expected wherever the mnemonic is not the oracle: space is what the encoding
 * space says (or NULL); an instruction objdump does not know is UNDEFINED; its "v" mnemonics
 * belong to the VFP decoder. NULL when the caller must look the mnemonic up. */
const char *dc_settled(const char *space, bool objdump_undef, const char *mnem);
/* Whether got is among expected. If not: a tallied rejection when got is UNDEFINED and the
 * encoding is UNPREDICTABLE (or the run is not strict), a printed failure otherwise; where
 * follows the encoding in the failure message. */
bool dc_judge(struct dc_run *run, const char *got, const char *expected, const char *key,
              uint32_t insn, bool unpredictable, const char *where, const char *mnem,
              const char *rest);

/* ---- random encodings ----------------------------------------------------------------- */

/* xorshift64*: the same encodings for the same seed everywhere (dc_main seeds it). */
uint32_t dc_rng(void);

/* ---- semantics on the stub core ------------------------------------------------------- */

extern struct arm_cpu cpu;
extern int sem_errors, sem_checks;

enum { FN = 8, FZ = 4, FC = 2, FV = 1 };

void check_eq(const char *what, uint64_t got, uint64_t want);
/* A core with every register zero in the mode and state of cpsr_rest, and the memory cleared. */
void dc_reset_cpu(uint32_t cpsr_rest);
uint32_t nzcv(void);
void set_nzcv(unsigned f);
/* Checks that each of the n encodings ends its block (want) or does not; decode decodes one
 * and returns its handler's name. */
void dc_check_ends_block(const uint32_t *insns, size_t n, bool want,
                         const char *(*decode)(uint32_t insn, struct arm_uop *op));
/* Runs a decoded micro-op; -1 if it escaped (fault or UNDEFINED). */
int dc_call(const struct arm_uop *op);

/* ---- the program ---------------------------------------------------------------------- */

struct dc_program {
    /* Decodes and judges one line of objdump output (any line: most are not instructions). */
    void (*check_line)(struct dc_run *run, const char *line);
    /* The program's own counts, for the summary of a listing. */
    void (*note)(char *buf, size_t size);
    const char *state; /* "arm" or "thumb": the assembler's state for the random encodings */
    /* Prints the i-th random encoding as an assembler line. */
    void (*random_line)(unsigned i);
    /* Runs the semantic checks (check_eq). */
    void (*semantics)(void);
};

/*
 * The command line:
 *   --objdump FILE [--strict]  check_line over every line of FILE, then the tally of
 *                              rejections and a summary; 0 without errors;
 *   --random N SEED            N random encodings, for the assembler;
 *   --semantics                the semantic checks, then their count; 0 without errors.
 */
int dc_main(int argc, char **argv, const struct dc_program *prog);

#endif /* COREMU_ARM_TEST_DECODE_CHECK_H */
