/* The cooperative switch between the firmware's main loop and a background job (coroutine.h). Both run in
 * M-mode on their own stacks; a switch is a function call, so only what the ilp32 ABI says a callee keeps
 * has to survive it: ra, sp and s0-s11 (rv32imc has no FP registers). */
  .section .text.privota_rv32_switch
  .globl privota_rv32_switch
  .type privota_rv32_switch, @function
/* void privota_rv32_switch(uint32_t** save_sp, uint32_t* load_sp): pushes the callee-saved registers, stores
 * sp at *save_sp, takes load_sp and pops what was pushed there, returning into the other side. */
privota_rv32_switch:
  addi sp, sp, -64
  sw ra, 0(sp)
  sw s0, 4(sp)
  sw s1, 8(sp)
  sw s2, 12(sp)
  sw s3, 16(sp)
  sw s4, 20(sp)
  sw s5, 24(sp)
  sw s6, 28(sp)
  sw s7, 32(sp)
  sw s8, 36(sp)
  sw s9, 40(sp)
  sw s10, 44(sp)
  sw s11, 48(sp)
  sw sp, 0(a0)
  mv sp, a1
  lw ra, 0(sp)
  lw s0, 4(sp)
  lw s1, 8(sp)
  lw s2, 12(sp)
  lw s3, 16(sp)
  lw s4, 20(sp)
  lw s5, 24(sp)
  lw s6, 28(sp)
  lw s7, 32(sp)
  lw s8, 36(sp)
  lw s9, 40(sp)
  lw s10, 44(sp)
  lw s11, 48(sp)
  addi sp, sp, 64
  ret
  .size privota_rv32_switch, . - privota_rv32_switch

  .section .text.privota_rv32_coroutine_start
  .globl privota_rv32_coroutine_start
  .type privota_rv32_coroutine_start, @function
/* A new coroutine's first switch "returns" here (its ra), with s0 = the argument and s1 = the entry, which
 * never returns: it switches away for good when the job ends. */
privota_rv32_coroutine_start:
  mv a0, s0
  jalr s1
1:
  j 1b
  .size privota_rv32_coroutine_start, . - privota_rv32_coroutine_start
