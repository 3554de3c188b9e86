/*
 * T32 corpus for test_decode_t32.c: every class of ARMv7-A Thumb instruction, 16-bit and
 * 32-bit, checked against arm-none-eabi-objdump's mnemonics (run-test-decode-t32.sh).
 * Instructions inside IT blocks take the block's condition; objdump shows it, and the test
 * tracks the IT state as the block builder does.
 */
	.syntax unified
	.arch armv7ve
	.thumb
	.fpu vfpv4
	.text
	.align 2
start:
/* ---- 16-bit: shift (immediate), add, subtract, move, compare ---- */
	lsls r0, r1, #1
	lsls r7, r6, #31
	lsrs r0, r1, #1
	lsrs r0, r1, #32
	asrs r2, r3, #7
	asrs r2, r3, #32
	movs r0, r1
	adds r0, r1, r2
	subs r5, r6, r7
	adds r0, r1, #7
	subs r0, r1, #0
	movs r3, #255
	cmp r4, #200
	adds r5, #1
	subs r6, #255
/* ---- 16-bit: data processing ---- */
	ands r0, r1
	eors r2, r3
	lsls r4, r5
	lsrs r6, r7
	asrs r0, r7
	adcs r1, r2
	sbcs r3, r4
	rors r5, r6
	tst r0, r1
	rsbs r2, r3, #0
	cmp r4, r5
	cmn r6, r7
	orrs r0, r7
	muls r1, r2, r1
	bics r3, r4
	mvns r5, r6
/* ---- 16-bit: special data processing, branch and exchange ---- */
	add r0, r8
	add r8, r0
	add r12, r13
	add sp, r1
	add r2, sp, r2
	add r3, pc
	cmp r0, r9
	cmp r10, r11
	mov r8, r1
	mov r1, r9
	mov sp, r7
	mov r7, sp
	mov r0, pc
	blx r3
	blx lr
	bx r3
/* ---- 16-bit: literal loads, loads/stores ---- */
	ldr r0, [pc, #0]
	ldr r7, [pc, #1020]
	str r0, [r1, r2]
	strh r0, [r1, r2]
	strb r0, [r1, r2]
	ldrsb r0, [r1, r2]
	ldr r0, [r1, r2]
	ldrh r0, [r1, r2]
	ldrb r0, [r1, r2]
	ldrsh r0, [r1, r2]
	str r0, [r1, #124]
	ldr r0, [r1, #4]
	strb r0, [r1, #31]
	ldrb r0, [r1, #0]
	strh r0, [r1, #62]
	ldrh r0, [r1, #2]
	str r0, [sp, #1020]
	ldr r7, [sp, #0]
/* ---- 16-bit: ADR, ADD SP, miscellaneous ---- */
	adr r0, lit1
	add r1, sp, #1020
	add sp, sp, #508
	sub sp, sp, #4
	sxth r0, r1
	sxtb r2, r3
	uxth r4, r5
	uxtb r6, r7
	cbz r0, 1f
	cbnz r7, 1f
	push {r0, r4-r7, lr}
	push {r1}
	pop {r0, r4-r7, pc}
	pop {r2}
1:	setend be
	setend le
	cpsie i
	cpsid aif
	cpsie f
	rev r0, r1
	rev16 r2, r3
	revsh r4, r5
	bkpt #0
	bkpt #255
	nop
	yield
	wfe
	wfi
	sev
	.align 2
lit1:	.word 0
/* ---- 16-bit: load/store multiple, branches, SVC, UDF ---- */
	stmia r0!, {r1, r2}
	ldmia r1!, {r0, r2}
	ldmia r1, {r0, r1}
	beq 2f
	bne 2f
	bhi start
	ble start
	svc #0
	svc #255
	udf #0
	udf #255
	b 2f
2:	b start
/* ---- IT blocks: conditions, no flag setting in 16-bit data processing ---- */
	it eq
	addeq r0, r1, r2
	itt ne
	movne r0, #1
	addne r0, r0, r1
	ite gt
	lslgt r0, r1, #2
	mvnle r0, r1
	ittee lt
	andlt r0, r1
	cmplt r0, #3
	ldrge r0, [r1]
	strge r0, [r2, #4]
	itttt hi
	addhi r0, r1, #1
	subhi r0, r1, r2
	mulhi r1, r2, r1
	bhi start
	itete cs
	rsbcs r0, r1, #0
	orrcc r0, r1
	asrcs r0, r1
	lsrcc r0, r1, #3
	it ls
	addls.w r0, r1, #0x10000
	it mi
	bxmi lr
	it pl
	poppl {r4, pc}
	it vs
	movvs pc, lr
	it vc
	ldrvc pc, [sp], #4
	it ge
	blge start
	it lt
	blxlt r2
	it eq
	svceq #1
	it ne
	vaddne.f32 s0, s1, s2
	it eq
	tbbeq [r0, r1]
/* ---- 32-bit: data processing (modified immediate) ---- */
	and.w r0, r1, #0xff
	ands.w r0, r1, #0x00ab00ab
	tst.w r0, #0xab00ab00
	bic r2, r3, #0xabababab
	bics r2, r3, #0x80000000
	orr r4, r5, #0x3fc00
	orrs r4, r5, #0xff000000
	mov.w r6, #1
	movs.w r6, #0x7f800000
	orn r7, r8, #0x10
	orns r7, r8, #0x1fe
	mvn r9, #0xff
	mvns r9, #0xc0000000
	eor r10, r11, #0x200
	eors r10, r11, #0x400
	teq r12, #0x55
	add.w r0, r1, #0xf000
	adds.w r0, sp, #16
	add.w sp, sp, #0x400
	cmn.w r0, #1
	adc r1, r2, #3
	adcs r1, r2, #0x11001100
	sbc r3, r4, #5
	sbcs r3, r4, #0x44
	sub.w r5, r6, #0x100
	subs.w r5, r6, #1
	sub.w sp, sp, #0x800
	cmp.w r7, #0x10000
	rsb r8, r9, #0
	rsbs r8, r9, #0x55
/* ---- 32-bit: data processing (plain binary immediate) ---- */
	addw r0, r1, #4095
	addw r0, sp, #1
	subw r2, r3, #1234
	subw sp, sp, #8
	adr.w r4, start
	adr.w r5, lit2
	movw r6, #0xffff
	movw r7, #0
	movt r8, #0x1234
	ssat r0, #1, r1
	ssat r0, #32, r1, lsl #31
	ssat r0, #8, r1, asr #3
	ssat16 r2, #16, r3
	usat r4, #0, r5
	usat r4, #31, r5, asr #1
	usat16 r6, #15, r7
	sbfx r0, r1, #0, #32
	sbfx r0, r1, #31, #1
	ubfx r2, r3, #4, #8
	bfi r4, r5, #8, #8
	bfc r6, #0, #32
	bfc r6, #31, #1
/* ---- 32-bit: data processing (shifted register) ---- */
	and.w r0, r1, r2
	ands.w r0, r1, r2, lsl #3
	tst.w r0, r1, lsr #32
	bic.w r2, r3, r4, asr #5
	orr.w r5, r6, r7, ror #7
	orrs.w r5, r6, r7, rrx
	mov.w r8, r9
	movs.w r8, r9
	lsl.w r0, r1, #1
	lsls.w r0, r1, #31
	lsr.w r2, r3, #32
	asr.w r4, r5, #1
	asrs.w r4, r5, #32
	ror.w r6, r7, #3
	rrx r8, r9
	rrxs r8, r9
	orn r10, r11, r12
	orns r10, r11, r12, lsl #1
	mvn.w r0, r1
	mvns.w r0, r1, asr #2
	eor.w r2, r3, r4
	teq.w r5, r6, lsl #4
	pkhbt r0, r1, r2
	pkhbt r0, r1, r2, lsl #16
	pkhtb r0, r1, r2, asr #16
	pkhtb r0, r1, r2, asr #32
	add.w r0, r1, r2
	adds.w r0, r1, r2, lsl #2
	add.w r0, sp, r2
	add.w sp, sp, r1
	cmn.w r0, r1
	adc.w r2, r3, r4
	adcs.w r2, r3, r4, lsr #1
	sbc.w r5, r6, r7
	sbcs.w r5, r6, r7, asr #31
	sub.w r8, r9, r10
	subs.w r8, r9, r10, lsl #1
	sub.w r0, sp, r1
	cmp.w r11, r12
	cmp.w r0, r1, lsl #2
	rsb r0, r1, r2
	rsbs r0, r1, r2, lsl #1
/* ---- 32-bit: data processing (register) ---- */
	lsl.w r0, r1, r2
	lsls.w r0, r1, r2
	lsr.w r3, r4, r5
	lsrs.w r3, r4, r5
	asr.w r6, r7, r8
	asrs.w r6, r7, r8
	ror.w r9, r10, r11
	rors.w r9, r10, r11
	sxtah r0, r1, r2
	sxtah r0, r1, r2, ror #8
	sxth.w r0, r1
	sxth.w r0, r1, ror #24
	uxtah r0, r1, r2, ror #16
	uxth.w r0, r1
	sxtab16 r0, r1, r2
	sxtb16 r0, r1
	uxtab16 r0, r1, r2, ror #8
	uxtb16 r0, r1
	sxtab r0, r1, r2
	sxtb.w r0, r1, ror #16
	uxtab r0, r1, r2
	uxtb.w r0, r1
	sadd16 r0, r1, r2
	sasx r0, r1, r2
	ssax r0, r1, r2
	ssub16 r0, r1, r2
	sadd8 r0, r1, r2
	ssub8 r0, r1, r2
	qadd16 r0, r1, r2
	qasx r0, r1, r2
	qsax r0, r1, r2
	qsub16 r0, r1, r2
	qadd8 r0, r1, r2
	qsub8 r0, r1, r2
	shadd16 r0, r1, r2
	shasx r0, r1, r2
	shsax r0, r1, r2
	shsub16 r0, r1, r2
	shadd8 r0, r1, r2
	shsub8 r0, r1, r2
	uadd16 r0, r1, r2
	uasx r0, r1, r2
	usax r0, r1, r2
	usub16 r0, r1, r2
	uadd8 r0, r1, r2
	usub8 r0, r1, r2
	uqadd16 r0, r1, r2
	uqasx r0, r1, r2
	uqsax r0, r1, r2
	uqsub16 r0, r1, r2
	uqadd8 r0, r1, r2
	uqsub8 r0, r1, r2
	uhadd16 r0, r1, r2
	uhasx r0, r1, r2
	uhsax r0, r1, r2
	uhsub16 r0, r1, r2
	uhadd8 r0, r1, r2
	uhsub8 r0, r1, r2
	qadd r0, r1, r2
	qdadd r0, r1, r2
	qsub r0, r1, r2
	qdsub r0, r1, r2
	rev.w r0, r1
	rev16.w r0, r1
	rbit r0, r1
	revsh.w r0, r1
	sel r0, r1, r2
	clz r0, r1
/* ---- 32-bit: multiplies, divides ---- */
	mul r0, r1, r2
	mul r8, r9, r10
	mla r0, r1, r2, r3
	mls r0, r1, r2, r3
	smulbb r0, r1, r2
	smulbt r0, r1, r2
	smultb r0, r1, r2
	smultt r0, r1, r2
	smlabb r0, r1, r2, r3
	smlabt r0, r1, r2, r3
	smlatb r0, r1, r2, r3
	smlatt r0, r1, r2, r3
	smuad r0, r1, r2
	smuadx r0, r1, r2
	smlad r0, r1, r2, r3
	smladx r0, r1, r2, r3
	smulwb r0, r1, r2
	smulwt r0, r1, r2
	smlawb r0, r1, r2, r3
	smlawt r0, r1, r2, r3
	smusd r0, r1, r2
	smusdx r0, r1, r2
	smlsd r0, r1, r2, r3
	smlsdx r0, r1, r2, r3
	smmul r0, r1, r2
	smmulr r0, r1, r2
	smmla r0, r1, r2, r3
	smmlar r0, r1, r2, r3
	smmls r0, r1, r2, r3
	smmlsr r0, r1, r2, r3
	usad8 r0, r1, r2
	usada8 r0, r1, r2, r3
	smull r0, r1, r2, r3
	umull r0, r1, r2, r3
	smlal r0, r1, r2, r3
	umlal r0, r1, r2, r3
	umaal r0, r1, r2, r3
	smlalbb r0, r1, r2, r3
	smlalbt r0, r1, r2, r3
	smlaltb r0, r1, r2, r3
	smlaltt r0, r1, r2, r3
	smlald r0, r1, r2, r3
	smlaldx r0, r1, r2, r3
	smlsld r0, r1, r2, r3
	smlsldx r0, r1, r2, r3
	sdiv r0, r1, r2
	udiv r0, r1, r2
/* ---- 32-bit: branches and miscellaneous control ---- */
	beq.w start
	bne.w 3f
	bgt.w start
	b.w start
	b.w 3f
	bl start
	bl 3f
	blx start_arm
	blx start_arm
3:	msr cpsr_fc, r0
	msr apsr_nzcvq, r1
	msr apsr_g, r2
	msr spsr_fsxc, r3
	msr cpsr_c, r4
	mrs r0, apsr
	mrs r1, spsr
	cpsie.w i
	cpsid.w aif
	cpsid.w if, #0x13
	cps #0x1f
	nop.w
	yield.w
	wfe.w
	wfi.w
	sev.w
	dbg #5
	clrex
	dsb sy
	dsb ish
	dmb ishst
	dmb
	isb
	bxj r4
	subs pc, lr, #4
	subs pc, lr, #0
	hvc #0x1234
	smc #3
	udf.w #0x1234
/* ---- 32-bit: load/store multiple ---- */
	stmia.w r0!, {r1, r2, lr}
	stmia.w r0, {r1-r12, lr}
	stmdb r1!, {r2, r3}
	stmdb r1, {r2-r4}
	push.w {r4-r11, lr}
	ldmia.w r0!, {r1, r2, lr}
	ldmia.w r0, {r1, r2, pc}
	ldmdb r1!, {r2, r3}
	ldmdb r1, {r2, r3, pc}
	pop.w {r4-r11, pc}
	pop.w {r4-r11}
	srsdb sp!, #0x13
	srsdb sp, #0x12
	srsia sp!, #0x13
	srsia sp, #0x1f
	rfedb r0!
	rfedb r1
	rfeia r2!
	rfeia r3
/* ---- 32-bit: load/store dual, exclusive, table branch ---- */
	strex r0, r1, [r2]
	strex r0, r1, [r2, #1020]
	ldrex r0, [r1]
	ldrex r0, [r1, #4]
	strexb r0, r1, [r2]
	strexh r0, r1, [r2]
	strexd r0, r2, r3, [r4]
	strexd r0, r1, r7, [r4]
	ldrexb r0, [r1]
	ldrexh r0, [r1]
	ldrexd r0, r1, [r2]
	ldrexd r3, r8, [r2]
	tbb [r0, r1]
	tbb [pc, r1]
	tbh [r0, r1, lsl #1]
	tbh [pc, r1, lsl #1]
	strd r0, r1, [r2]
	strd r0, r1, [r2, #-1020]
	strd r3, r5, [r2, #8]!
	strd r0, r1, [r2], #-4
	ldrd r0, r1, [r2]
	ldrd r1, r0, [r2, #1020]
	ldrd r0, r1, [r2, #-8]!
	ldrd r0, r1, [r2], #4
	ldrd r0, r1, lit2
	ldrd r2, r3, [pc, #-8]
/* ---- 32-bit: single loads/stores ---- */
	strb.w r0, [r1, #4095]
	strb r0, [r1, #-255]
	strb r0, [r1, #255]!
	strb r0, [r1], #-1
	strb.w r0, [r1, r2]
	strb.w r0, [r1, r2, lsl #3]
	strbt r0, [r1, #4]
	strh.w r0, [r1, #4095]
	strh r0, [r1, #-2]
	strh r0, [r1, #2]!
	strh r0, [r1], #2
	strh.w r0, [r1, r2, lsl #1]
	strht r0, [r1]
	str.w r0, [r1, #4095]
	str r0, [r1, #-4]
	str r0, [r1, #4]!
	str r0, [r1], #4
	str.w r0, [r1, r2, lsl #2]
	strt r0, [r1, #255]
	str r0, [sp, #-4]!
	str.w lr, [sp, #-4]!
	ldrb.w r0, [r1, #4095]
	ldrb r0, [r1, #-255]
	ldrb r0, [r1, #1]!
	ldrb r0, [r1], #-1
	ldrb.w r0, [r1, r2, lsl #2]
	ldrbt r0, [r1, #1]
	ldrb.w r0, lit2
	ldrb.w r0, [pc, #-4]
	ldrsb.w r0, [r1, #4095]
	ldrsb r0, [r1, #-255]
	ldrsb r0, [r1, #1]!
	ldrsb r0, [r1], #1
	ldrsb.w r0, [r1, r2]
	ldrsbt r0, [r1, #2]
	ldrsb.w r0, lit2
	ldrh.w r0, [r1, #4095]
	ldrh r0, [r1, #-2]
	ldrh r0, [r1, #2]!
	ldrh r0, [r1], #-2
	ldrh.w r0, [r1, r2, lsl #1]
	ldrht r0, [r1, #4]
	ldrh.w r0, lit2
	ldrsh.w r0, [r1, #4095]
	ldrsh r0, [r1, #-2]
	ldrsh r0, [r1, #2]!
	ldrsh r0, [r1], #2
	ldrsh.w r0, [r1, r2, lsl #3]
	ldrsht r0, [r1, #6]
	ldrsh.w r0, lit2
	ldr.w r0, [r1, #4095]
	ldr r0, [r1, #-4]
	ldr r0, [r1, #4]!
	ldr r0, [r1], #4
	ldr.w r0, [r1, r2, lsl #2]
	ldrt r0, [r1, #8]
	ldr.w r0, lit2
	ldr.w r0, [pc, #-8]
	ldr.w pc, [r0, #4]
	ldr.w pc, [sp], #4
	ldr.w pc, [r0, r1, lsl #2]
	ldr.w pc, lit2
	.align 2
lit2:	.word 0, 0
	pld [r0, #4095]
	pld [r0, #-255]
	pld [r0, r1, lsl #2]
	pld lit2
	pld [pc, #-12]
	pldw [r0, #4095]
	pldw [r0, #-4]
	pldw [r0, r1]
	pli [r0, #4095]
	pli [r0, #-4]
	pli [r0, r1, lsl #1]
	pli lit2
/* ---- 32-bit: coprocessor ---- */
	mcr p15, 0, r0, c1, c0, 0
	mrc p15, 0, r0, c0, c0, 5
	mrc p15, 0, APSR_nzcv, c7, c10, 3
	mrc p14, 0, r0, c0, c0, 0
	mcrr p15, 0, r0, r1, c2
	mrrc p15, 1, r0, r1, c14
	vadd.f32 s0, s1, s2
	vldr d0, [r0, #8]
	vmov r0, s1
	vmrs APSR_nzcv, fpscr
	.align 2
	.arm
start_arm:
	bx lr
