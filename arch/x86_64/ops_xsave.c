/*
 * coremu x86_64 — XSAVE, XRSTOR, XGETBV and XSETBV for the state components this CPU has: x87
 * (bit 0) and SSE (bit 1), in the standard (non-compacted) format of the Intel SDM Vol. 1
 * ch. 13: the 512-byte legacy region laid out as FXSAVE's, then the 64-byte XSAVE header.
 * XSAVEOPT, XSAVEC, XSAVES and XRSTORS are not advertised (CPUID.(EAX=0DH,ECX=1)) and stay #UD.
 */
#include "config.h"

#include <string.h>

#include "cpu.h"
#include "ops.h"

#define XSAVE_AREA 576u
#define XSTATE_BV_OFFSET 512u

static uint64_t le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void require_osxsave(struct x86_cpu *cpu)
{
    if (!(cpu->cr4 & X86_CR4_OSXSAVE)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
}

/* The legacy region's instruction and data pointers in the 32-bit layout (without REX.W):
 * offset 8 FIP[31:0], 12 FCS, 16 FDP[31:0], 20 FDS. */
static void to_layout32(const struct x86_cpu *cpu, uint8_t img[512])
{
    uint32_t fip = (uint32_t)cpu->fip, fdp = (uint32_t)cpu->fdp;
    memset(img + 8, 0, 16);
    memcpy(img + 8, &fip, 4);
    memcpy(img + 12, &cpu->fcs, 2);
    memcpy(img + 16, &fdp, 4);
    memcpy(img + 20, &cpu->fds, 2);
}

/* The memory operand's linear address, checked: 64-byte aligned, the whole area accessible. */
static uint64_t area(struct x86_cpu *cpu, const struct x86_uop *op, unsigned access)
{
    if (op->opnd[0].kind != X86_OPND_MEM) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    uint64_t lin = x86_op_linear(cpu, op, 0, XSAVE_AREA, access);
    if (lin & 63) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    return lin;
}

X86_OP(xsave)
{
    require_osxsave(cpu);
    if (cpu->cr0 & X86_CR0_TS) {
        x86_raise_noerr(cpu, X86_EXC_NM);
    }
    uint64_t rfbm = ((cpu->gpr[X86_RDX] << 32) | (uint32_t)cpu->gpr[X86_RAX]) & cpu->xcr0;
    uint64_t lin = area(cpu, op, X86_ACC_WRITE);
    x86_probe_write_lin(cpu, lin, XSAVE_AREA, X86_ACC_WRITE);

    uint8_t img[512];
    x86_fxsave_image(cpu, img);
    if (!(op->rex & 8)) {
        to_layout32(cpu, img);
    }
    /* x87: bytes 0-23 and the registers (32-159); SSE: MXCSR and its mask (24-31), the XMM
     * registers (160-415; eight of them outside 64-bit mode) */
    if (rfbm & 1) {
        for (unsigned i = 0; i < 24; i += 8) {
            x86_store_lin(cpu, lin + i, 8, le64(img + i), X86_ACC_WRITE);
        }
        for (unsigned i = 32; i < 160; i += 8) {
            x86_store_lin(cpu, lin + i, 8, le64(img + i), X86_ACC_WRITE);
        }
    }
    if (rfbm & 2) {
        unsigned nxmm = x86_code64(cpu) ? 16 : 8;
        x86_store_lin(cpu, lin + 24, 8, le64(img + 24), X86_ACC_WRITE);
        for (unsigned i = 160; i < 160 + 16 * nxmm; i += 8) {
            x86_store_lin(cpu, lin + i, 8, le64(img + i), X86_ACC_WRITE);
        }
    }
    /* XSTATE_BV: the saved components are marked in use, the others keep their bits */
    uint64_t bv = x86_load_lin(cpu, lin + XSTATE_BV_OFFSET, 8, X86_ACC_READ);
    bv = (bv & ~rfbm) | (rfbm & X86_XCR0_SUPPORTED);
    x86_store_lin(cpu, lin + XSTATE_BV_OFFSET, 8, bv, X86_ACC_WRITE);
    return X86_NEXT;
}

X86_OP(xrstor)
{
    require_osxsave(cpu);
    if (cpu->cr0 & X86_CR0_TS) {
        x86_raise_noerr(cpu, X86_EXC_NM);
    }
    uint64_t rfbm = ((cpu->gpr[X86_RDX] << 32) | (uint32_t)cpu->gpr[X86_RAX]) & cpu->xcr0;
    uint64_t lin = area(cpu, op, X86_ACC_READ);
    uint8_t mem[XSAVE_AREA];
    for (unsigned i = 0; i < XSAVE_AREA; i += 8) {
        uint64_t v = x86_load_lin(cpu, lin + i, 8, X86_ACC_READ);
        memcpy(mem + i, &v, 8);
    }
    uint64_t bv, comp;
    memcpy(&bv, mem + XSTATE_BV_OFFSET, 8);
    memcpy(&comp, mem + XSTATE_BV_OFFSET + 8, 8);
    /* the standard form: XCOMP_BV[63] clear, reserved header bytes zero, XSTATE_BV within
     * XCR0 */
    bool reserved = false;
    for (unsigned i = XSTATE_BV_OFFSET + 16; i < XSAVE_AREA; i++) {
        reserved = reserved || mem[i] != 0;
    }
    if ((comp >> 63) || comp != 0 || reserved || (bv & ~cpu->xcr0)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    uint32_t mxcsr;
    memcpy(&mxcsr, mem + 24, 4);
    if ((rfbm & 2) && (mxcsr & ~(uint32_t)X86_MXCSR_MASK)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }

    /* committed: start from the current state, load or initialise each requested component */
    uint8_t img[512];
    x86_fxsave_image(cpu, img);
    if (rfbm & 1) {
        if (bv & 1) {
            memcpy(img, mem, 24);
            memcpy(img + 32, mem + 32, 128);
            if (!(op->rex & 8)) {
                /* 32-bit layout: FIP/FDP are 32 bits, with their selectors */
                uint32_t fip, fdp;
                memcpy(&fip, mem + 8, 4);
                memcpy(&fdp, mem + 16, 4);
                memcpy(&cpu->fcs, mem + 12, 2);
                memcpy(&cpu->fds, mem + 20, 2);
                uint64_t f64 = fip, d64 = fdp;
                memcpy(img + 8, &f64, 8);
                memcpy(img + 16, &d64, 8);
            }
        } else {
            /* the x87 initial configuration */
            static const uint16_t fcw = 0x37f;
            memset(img, 0, 24);
            memset(img + 32, 0, 128);
            memcpy(img, &fcw, 2);
            cpu->fcs = cpu->fds = 0;
        }
    }
    if (rfbm & 2) {
        unsigned nxmm = x86_code64(cpu) ? 16 : 8;
        memcpy(img + 24, &mxcsr, 4);
        if (bv & 2) {
            memcpy(img + 160, mem + 160, 16 * nxmm);
        } else {
            memset(img + 160, 0, 16 * nxmm);
        }
    }
    (void)x86_fxrstor_image(cpu, img); /* MXCSR was checked above */
    return X86_NEXT;
}

X86_OP(xgetbv)
{
    (void)op;
    require_osxsave(cpu);
    if ((uint32_t)cpu->gpr[X86_RCX] != 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    cpu->gpr[X86_RAX] = (uint32_t)cpu->xcr0;
    cpu->gpr[X86_RDX] = cpu->xcr0 >> 32;
    return X86_NEXT;
}

X86_OP(xsetbv)
{
    (void)op;
    require_osxsave(cpu);
    if (cpu->cpl != 0 || (uint32_t)cpu->gpr[X86_RCX] != 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    uint64_t v = ((cpu->gpr[X86_RDX] & 0xffffffffu) << 32) | (uint32_t)cpu->gpr[X86_RAX];
    if (!(v & 1) || (v & ~(uint64_t)X86_XCR0_SUPPORTED)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    cpu->xcr0 = v;
    return X86_NEXT;
}
