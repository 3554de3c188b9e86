/*
 * Corpus for test_decode_a32: at least one instance of every ARMv7-A A32 instruction form
 * (integer, system, and a sample of the VFP/Advanced SIMD space, which goes to decode_vfp.c).
 * Assembled with arm-none-eabi-as -march=armv7ve; run-test-decode-a32.sh checks that the
 * handler chosen for each instruction matches the mnemonic objdump prints.
 */
    .syntax unified
    .arch armv7ve
    .arm
    .fpu neon-vfpv4
    .text
start:
    /* data processing: every operation, every operand form */
    .irp op, and, eor, sub, rsb, add, adc, sbc, rsc, orr, bic
    \op r0, r1, #0xff
    \op r0, r1, #0xff000000
    \op\()s r2, r3, #1
    \op r0, r1, r2
    \op r0, r1, r2, lsl #3
    \op r0, r1, r2, lsr #32
    \op r0, r1, r2, asr #1
    \op r0, r1, r2, ror #7
    \op r0, r1, r2, rrx
    \op\()s r4, r5, r6, lsl r7
    \op r4, r5, r6, lsr r7
    \op r4, r5, r6, asr r7
    \op r4, r5, r6, ror r7
    \op\()eq r1, r2, r3
    \op\()sne r1, r2, #4
    .endr
    .irp op, tst, teq, cmp, cmn
    \op r1, #4
    \op r1, r2
    \op r1, r2, lsl #2
    \op r1, r2, asr r3
    \op\()gt r1, #0x3fc
    .endr
    mov r0, #1
    mov r0, #0x80000000
    movs r0, r1
    mov r0, r1
    lsl r0, r1, #4
    lsls r0, r1, #31
    lsr r0, r1, #32
    asr r0, r1, #1
    ror r0, r1, #7
    rrx r0, r1
    rrxs r0, r1
    lsl r0, r1, r2
    lsrs r0, r1, r2
    asr r0, r1, r2
    rors r0, r1, r2
    mvn r0, #5
    mvns r0, r1
    mvn r0, r1, lsl r2
    mov pc, lr
    movs pc, lr
    subs pc, lr, #4
    add pc, pc, r0, lsl #2
near1:
    adr r0, near1
    adr r0, near2
    nop
near2:
    movw r0, #0x1234
    movt r0, #0xffff
    movweq r5, #0
    /* bit fields, byte reversal, extension, packing */
    bfc r0, #4, #8
    bfi r0, r1, #0, #32
    bfi r0, r1, #31, #1
    sbfx r0, r1, #3, #5
    ubfx r0, r1, #0, #32
    clz r0, r1
    rev r0, r1
    rev16 r0, r1
    revsh r0, r1
    rbit r0, r1
    .irp op, sxtb, sxth, sxtb16, uxtb, uxth, uxtb16
    \op r0, r1
    \op r0, r1, ror #8
    \op r0, r1, ror #24
    .endr
    .irp op, sxtab, sxtah, sxtab16, uxtab, uxtah, uxtab16
    \op r0, r1, r2
    \op r0, r1, r2, ror #16
    .endr
    pkhbt r0, r1, r2
    pkhbt r0, r1, r2, lsl #8
    pkhtb r0, r1, r2, asr #16
    pkhtb r0, r1, r2, asr #32
    sel r0, r1, r2
    usad8 r0, r1, r2
    usada8 r0, r1, r2, r3
    /* multiplies and divides */
    mul r0, r1, r2
    muls r0, r1, r2
    mla r0, r1, r2, r3
    mlas r0, r1, r2, r3
    mls r0, r1, r2, r3
    .irp op, umull, umlal, smull, smlal
    \op r0, r1, r2, r3
    \op\()s r0, r1, r2, r3
    .endr
    umaal r0, r1, r2, r3
    .irp xy, bb, bt, tb, tt
    smul\xy r0, r1, r2
    smla\xy r0, r1, r2, r3
    smlal\xy r0, r1, r2, r3
    .endr
    smulwb r0, r1, r2
    smulwt r0, r1, r2
    smlawb r0, r1, r2, r3
    smlawt r0, r1, r2, r3
    .irp op, smuad, smuadx, smusd, smusdx, smmul, smmulr
    \op r0, r1, r2
    .endr
    .irp op, smlad, smladx, smlsd, smlsdx, smlald, smlaldx, smlsld, smlsldx
    \op r0, r1, r2, r3
    .endr
    .irp op, smmla, smmlar, smmls, smmlsr
    \op r0, r1, r2, r3
    .endr
    sdiv r0, r1, r2
    udiv r0, r1, r2
    udivne r3, r4, r5
    /* saturating and parallel */
    qadd r0, r1, r2
    qsub r0, r1, r2
    qdadd r0, r1, r2
    qdsub r0, r1, r2
    ssat r0, #8, r1
    ssat r0, #32, r1, lsl #4
    ssat r0, #1, r1, asr #32
    usat r0, #0, r1
    usat r0, #31, r1, asr #3
    ssat16 r0, #16, r1
    ssat16 r0, #1, r1
    usat16 r0, #15, r1
    usat16 r0, #0, r1
    .irp p, s, q, sh, u, uq, uh
    .irp o, add16, asx, sax, sub16, add8, sub8
    \p\o r0, r1, r2
    .endr
    .endr
    /* loads and stores */
    .irp op, ldr, ldrb, str, strb
    \op r0, [r1]
    \op r0, [r1, #4]
    \op r0, [r1, #-4095]
    \op r0, [r1, #4]!
    \op r0, [r1], #4
    \op r0, [r1], #-4
    \op r0, [r1, r2]
    \op r0, [r1, -r2, lsl #2]!
    \op r0, [r1], r2, asr #3
    \op r0, [r1, r2, rrx]
    \op\()eq r0, [r1]
    .endr
    ldr r0, fwd
    ldrb r0, fwd
    ldr pc, [sp], #4
    ldr pc, [r0, r1, lsl #2]
    str pc, [r0]
    .irp op, ldrh, ldrsb, ldrsh, strh
    \op r0, [r1]
    \op r0, [r1, #2]
    \op r0, [r1, #-255]
    \op r0, [r1, #2]!
    \op r0, [r1], #2
    \op r0, [r1, r2]
    \op r0, [r1, -r2]!
    \op r0, [r1], r2
    \op\()lt r0, [r1]
    .endr
    ldrh r0, near3
    ldrsb r0, near3
    ldrsh r0, near3
near3:
    ldrd r0, r1, near3
    .irp op, ldrd, strd
    \op r0, r1, [r2]
    \op r0, r1, [r2, #8]
    \op r2, r3, [r4, #-16]!
    \op r2, r3, [r4], #-16
    \op r0, r1, [r2, r3]
    \op r0, r1, [r2, -r3]!
    \op r4, r5, [r6], r7
    .endr
    .irp op, ldrt, ldrbt, strt, strbt
    \op r0, [r1]
    \op r0, [r1], #4
    \op r0, [r1], #-4
    \op r0, [r1], r2
    \op r0, [r1], -r2, lsl #2
    .endr
    .irp op, ldrht, ldrsbt, ldrsht, strht
    \op r0, [r1]
    \op r0, [r1], #2
    \op r0, [r1], #-1
    \op r0, [r1], r2
    \op r0, [r1], -r2
    .endr
    /* load/store multiple */
    ldm r0, {r1-r3}
    ldm r0!, {r1, pc}
    ldmda r0, {r1, r2}
    ldmdb r0!, {r1, r2}
    ldmib r0, {r1, r2}
    stm r0, {r1-r3}
    stm r0!, {r1, r2}
    stmda r0, {r1, r2}
    stmdb r0, {r1, r2}
    stmib r0!, {r1, r2}
    push {r4-r11, lr}
    pop {r4-r11, pc}
    push {r0}
    pop {r0}
    ldmne r0, {r1}
    stm r0, {r1, r2}^
    stmdb sp, {sp, lr}^
    ldm r0, {r1, r2}^
    ldmib r0, {r8-r14}^
    ldm sp!, {r0-r3, pc}^
    ldmdb r0, {r0, pc}^
    /* swap and exclusives */
    .inst 0xe1020091 /* swp r0, r1, [r2] (deprecated: gas warns) */

    .inst 0xe1420091 /* swpb r0, r1, [r2] */
    ldrex r0, [r1]
    ldrexb r0, [r1]
    ldrexh r0, [r1]
    ldrexd r0, r1, [r2]
    strex r0, r1, [r2]
    strexb r0, r1, [r2]
    strexh r0, r1, [r2]
    strexd r3, r0, r1, [r2]
    clrex
    /* branches */
    b start
    bl start
    blx start
    blx fwd
    beq start
    blne start
    bx lr
    bxeq lr
    blx r3
    bxj r0
    /* exceptions */
    svc #0
    svc #0x123456
    svceq #1
    bkpt #0x1234
    udf #0x1234
    hvc #0x1234
    smc #0
    /* processor state */
    cpsie i
    cpsid aif
    cpsid if, #0x13
    cpsie a, #0x1f
    cps #0x1f
    setend be
    setend le
    srsdb sp!, #0x13
    srsia sp, #0x12
    srsda sp, #0x17
    srsib sp!, #0x1b
    rfeia r0
    rfedb sp!
    rfeda r1
    rfeib r2!
    mrs r0, apsr
    mrs r0, spsr
    msr cpsr_c, r0
    msr cpsr_fsxc, r0
    msr apsr_nzcvq, r2
    msr apsr_g, r3
    msr spsr_fsxc, r1
    msr spsr_c, r1
    msr apsr_nzcvq, #0xf0000000
    msr cpsr_c, #0xd3
    msr spsr_f, #0x80000000
    /* coprocessors */
    mcr p15, 0, r0, c1, c0, 0
    mrc p15, 0, r0, c0, c0, 5
    mrc p15, 0, APSR_nzcv, c7, c10, 3
    mcr p15, 0, r0, c7, c10, 5
    mrc p14, 0, r0, c0, c0, 0
    mrc p14, 0, r0, c0, c1, 0
    mcrr p15, 0, r0, r1, c2
    mrrc p15, 1, r0, r1, c14
    mcreq p15, 0, r0, c13, c0, 3
    /* barriers, hints, preloads */
    dmb ish
    dmb
    dmb ishst
    dsb sy
    dsb ish
    isb
    nop
    yield
    wfe
    wfi
    sev
    dbg #5
    pld [r0]
    pld [r0, #-4]
    pld [r0, #4095]
    pld [r0, r1, lsl #2]
    pld [r0, -r1]
    pld fwd
    pldw [r0]
    pldw [r0, #8]
    pldw [r0, r1]
    pli [r0, #4]
    pli [r0, #-4]
    pli [r0, -r1, lsl #2]
    pli fwd
    /* VFP and Advanced SIMD: handed to decode_vfp.c */
    vldr d0, [r0]
    vstr s0, [r1, #4]
    vldmia r0!, {d0-d3}
    vpush {d8-d15}
    vpop {d8-d15}
    vmov r0, s0
    vmov s1, r1
    vmov d0, r0, r1
    vmov r0, r1, d1
    vmrs r0, fpscr
    vmrs APSR_nzcv, fpscr
    vmsr fpscr, r0
    vmrs r0, fpexc
    vadd.f64 d0, d1, d2
    vmul.f32 s0, s1, s2
    vcvt.s32.f64 s0, d0
    vmov.f32 s0, #1.0
    vfma.f64 d0, d1, d2
    vsqrt.f64 d0, d1
    vcmp.f64 d0, #0
    vadd.i32 q0, q1, q2
    vld1.32 {d0}, [r0]
    vst1.8 {d0-d1}, [r0]!
    vmov.i32 q0, #0
fwd:
    nop
