/*
 * coremu x86_64 — the execution table: which handler runs each mnemonic of the decoder's opcode
 * maps (opcode_maps.c), with its sub-operation. A mnemonic missing here decodes but raises #UD
 * when executed, and the CPU does not advertise it in CPUID.
 *
 * The tables are written in any order (this file: integer and system instructions; ops_x87.c
 * and ops_sse.c: their own) and merged and sorted once at start-up for binary search.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "ops.h"

#define E(mn, name, sub, fl) {mn, x86_op_##name, (sub), (fl)}
#define END X86_EXEC_END

static const struct x86_exec_entry integer_table[] = {
    /* arithmetic and logic */
    E("ADD", alu, X86_ALU_ADD, 0), E("OR", alu, X86_ALU_OR, 0), E("ADC", alu, X86_ALU_ADC, 0),
    E("SBB", alu, X86_ALU_SBB, 0), E("AND", alu, X86_ALU_AND, 0), E("SUB", alu, X86_ALU_SUB, 0),
    E("XOR", alu, X86_ALU_XOR, 0), E("CMP", alu, X86_ALU_CMP, 0),
    E("TEST", alu, X86_ALU_TEST, 0), E("INC", inc, 0, 0), E("DEC", dec, 0, 0),
    E("NOT", not, 0, 0), E("NEG", neg, 0, 0),
    E("ROL", shift, X86_SH_ROL, 0), E("ROR", shift, X86_SH_ROR, 0),
    E("RCL", shift, X86_SH_RCL, 0), E("RCR", shift, X86_SH_RCR, 0),
    E("SHL", shift, X86_SH_SHL, 0), E("SHR", shift, X86_SH_SHR, 0),
    E("SAL", shift, X86_SH_SAL, 0), E("SAR", shift, X86_SH_SAR, 0),
    E("SHLD", shld, 0, 0), E("SHRD", shrd, 0, 0),
    E("MUL", mul1, 0, 0), E("IMUL", imul, 0, 0), E("DIV", div, 0, 0), E("IDIV", idiv, 0, 0),
    /* moves */
    E("MOV", mov_any, 0, 0), E("MOVZX", movzx, 0, 0), E("MOVSX", movsx, 0, 0),
    E("MOVSXD", movsxd, 0, 0), E("LEA", lea, 0, 0), E("XCHG", xchg, 0, 0),
    E("CMPXCHG", cmpxchg, 0, 0), E("XADD", xadd, 0, 0), E("BSWAP", bswap, 0, 0),
    E("MOVBE", movbe, 0, 0), E("CMPXCHG8B", cmpxchg8b, 0, 0), E("XLAT", xlat, 0, 0),
    E("MOVNTI", mov, 0, 0),
    /* bits */
    E("BT", bt, 0, 0), E("BTS", bt, 1, 0), E("BTR", bt, 2, 0), E("BTC", bt, 3, 0),
    E("BSF", bsf, 0, 0), E("BSR", bsr, 0, 0), E("TZCNT", tzcnt, 0, 0),
    E("LZCNT", lzcnt, 0, 0), E("POPCNT", popcnt, 0, 0),
    /* condition codes and flags */
    E("SETO", setcc, 0, 0), E("SETNO", setcc, 0, 0), E("SETB", setcc, 0, 0),
    E("SETAE", setcc, 0, 0), E("SETE", setcc, 0, 0), E("SETNE", setcc, 0, 0),
    E("SETBE", setcc, 0, 0), E("SETA", setcc, 0, 0), E("SETS", setcc, 0, 0),
    E("SETNS", setcc, 0, 0), E("SETP", setcc, 0, 0), E("SETNP", setcc, 0, 0),
    E("SETL", setcc, 0, 0), E("SETGE", setcc, 0, 0), E("SETLE", setcc, 0, 0),
    E("SETG", setcc, 0, 0),
    E("CMOVO", cmovcc, 0, 0), E("CMOVNO", cmovcc, 0, 0), E("CMOVB", cmovcc, 0, 0),
    E("CMOVAE", cmovcc, 0, 0), E("CMOVE", cmovcc, 0, 0), E("CMOVNE", cmovcc, 0, 0),
    E("CMOVBE", cmovcc, 0, 0), E("CMOVA", cmovcc, 0, 0), E("CMOVS", cmovcc, 0, 0),
    E("CMOVNS", cmovcc, 0, 0), E("CMOVP", cmovcc, 0, 0), E("CMOVNP", cmovcc, 0, 0),
    E("CMOVL", cmovcc, 0, 0), E("CMOVGE", cmovcc, 0, 0), E("CMOVLE", cmovcc, 0, 0),
    E("CMOVG", cmovcc, 0, 0),
    E("CBW", cbw, 0, 0), E("CWD", cwd, 0, 0), E("LAHF", lahf, 0, 0), E("SAHF", sahf, 0, 0),
    E("CLC", clc, 0, 0), E("STC", stc, 0, 0), E("CMC", cmc, 0, 0), E("CLD", cld, 0, 0),
    E("STD", std, 0, 0), E("NOP", nop, 0, 0), E("PREFETCHW", nop, 0, 0),
    E("PREFETCHNTA", nop, 0, 0), E("PREFETCHT0", nop, 0, 0), E("PREFETCHT1", nop, 0, 0),
    E("PREFETCHT2", nop, 0, 0), E("CLFLUSH", nop, 0, 0),
    /* control transfer and the stack */
    E("JMP", jmp_any, 0, END), E("CALL", call_any, 0, END), E("RET", ret, 0, END),
    E("JO", jcc, 0, END), E("JNO", jcc, 0, END), E("JB", jcc, 0, END), E("JAE", jcc, 0, END),
    E("JE", jcc, 0, END), E("JNE", jcc, 0, END), E("JBE", jcc, 0, END), E("JA", jcc, 0, END),
    E("JS", jcc, 0, END), E("JNS", jcc, 0, END), E("JP", jcc, 0, END), E("JNP", jcc, 0, END),
    E("JL", jcc, 0, END), E("JGE", jcc, 0, END), E("JLE", jcc, 0, END), E("JG", jcc, 0, END),
    E("LOOP", loop, 0, END), E("LOOPE", loop, 1, END), E("LOOPNE", loop, 2, END),
    E("JrCXZ", jrcxz, 0, END), E("PUSH", push_any, 0, 0), E("POP", pop_any, 0, 0),
    E("PUSHF", pushf, 0, 0), E("POPF", popf, 0, END), E("LEAVE", leave, 0, 0),
    E("ENTER", enter, 0, 0),
    /* strings (each may restart itself) */
    E("MOVSB", movs, 0, END), E("MOVS", movs, 0, END), E("STOSB", stos, 0, END),
    E("STOS", stos, 0, END), E("LODSB", lods, 0, END), E("LODS", lods, 0, END),
    E("SCASB", scas, 0, END), E("SCAS", scas, 0, END), E("CMPSB", cmps, 0, END),
    E("CMPS", cmps, 0, END), E("INSB", ins, 0, END), E("INS", ins, 0, END),
    E("OUTSB", outs, 0, END), E("OUTS", outs, 0, END),
    /* system */
    E("HLT", hlt, 0, END), E("CLI", cli, 0, 0), E("STI", sti, 0, END),
    E("CPUID", cpuid, 0, 0), E("RDTSC", rdtsc, 0, 0), E("RDTSCP", rdtscp, 0, 0),
    E("RDMSR", rdmsr, 0, 0), E("WRMSR", wrmsr, 0, END), E("IN", in, 0, 0),
    E("OUT", out, 0, END), E("LGDT", lgdt, 0, 0), E("LIDT", lidt, 0, 0),
    E("SGDT", sgdt, 0, 0), E("SIDT", sidt, 0, 0), E("LLDT", lldt, 0, 0), E("LTR", ltr, 0, 0),
    E("SLDT", sldt, 0, 0), E("STR", str, 0, 0), E("INVLPG", invlpg, 0, END),
    E("INVPCID", invpcid, 0, END),
    E("LES", lseg, X86_ES, END), E("LDS", lseg, X86_DS, END), E("LSS", lseg, X86_SS, END),
    E("LFS", lseg, X86_FS, 0), E("LGS", lseg, X86_GS, 0),
    E("JMPF", jmpf, 0, END), E("CALLF", callf, 0, END), E("RETF", retf, 0, END),
    E("IRET", iret, 0, END), E("INT", int, 0, END), E("INT3", int3, 0, END),
    E("INTO", into, 0, END), E("INT1", int1, 0, END), E("SYSCALL", syscall, 0, END),
    E("SYSRET", sysret, 0, END), E("SWAPGS", swapgs, 0, 0), E("CLTS", clts, 0, 0),
    E("SMSW", smsw, 0, 0), E("LMSW", lmsw, 0, END), E("WBINVD", wbinvd, 0, 0),
    E("INVD", wbinvd, 0, 0), E("MFENCE", fence, 0, 0), E("LFENCE", fence, 1, 0),
    E("SFENCE", fence, 2, 0), E("RDFSBASE", rdfsbase, 0, 0), E("RDGSBASE", rdfsbase, 1, 0),
    E("WRFSBASE", wrfsbase, 0, 0), E("WRGSBASE", wrfsbase, 1, 0), E("UD0", ud, 0, END),
    E("UD1", ud, 0, END), E("UD2", ud, 0, END),
    /* legacy modes */
    E("PUSHA", pusha, 0, 0), E("POPA", popa, 0, 0), E("DAA", daa, 0, 0), E("DAS", daa, 1, 0),
    E("AAA", aaa, 0, 0), E("AAS", aaa, 1, 0), E("AAM", aam, 0, 0), E("AAD", aad, 0, 0),
    E("BOUND", bound, 0, 0), E("ARPL", arpl, 0, 0), E("LAR", lar, 0, 0), E("LSL", lar, 1, 0),
    E("VERR", verr, 2, 0), E("VERW", verr, 3, 0), E("SYSENTER", sysenter, 0, END),
    E("SYSEXIT", sysexit, 0, END),
    /* XSAVE family (x87 and SSE components) */
    E("XSAVE", xsave, 0, 0), E("XRSTOR", xrstor, 0, 0), E("XGETBV", xgetbv, 0, 0),
    E("XSETBV", xsetbv, 0, END),
};

/* Every handler of the CPU: this file's, and the tables of ops_x87.c and ops_sse.c, merged and
 * sorted once. */
static struct x86_exec_entry *table;
static size_t table_len;
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int by_mnemonic(const void *a, const void *b)
{
    return strcmp(((const struct x86_exec_entry *)a)->mnemonic,
                  ((const struct x86_exec_entry *)b)->mnemonic);
}

static void build_table(void)
{
    const struct {
        const struct x86_exec_entry *entries;
        size_t n;
    } parts[] = {
        {integer_table, sizeof(integer_table) / sizeof(integer_table[0])},
        {x86_exec_table_x87, x86_exec_table_x87_len},
        {x86_exec_table_sse, x86_exec_table_sse_len},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        n += parts[i].n;
    }
    table = malloc(n * sizeof(*table));
    if (!table) {
        abort(); /* at start-up, a few kilobytes */
    }
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        memcpy(table + table_len, parts[i].entries, parts[i].n * sizeof(*table));
        table_len += parts[i].n;
    }
    qsort(table, table_len, sizeof(table[0]), by_mnemonic);
}

const struct x86_exec_entry *x86_exec_lookup(const char *mnemonic)
{
    struct x86_exec_entry key = {.mnemonic = mnemonic};
    pthread_once(&sorted_once, build_table);
    return bsearch(&key, table, table_len, sizeof(table[0]), by_mnemonic);
}
