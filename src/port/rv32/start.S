/* Reset entry and M-mode trap entry shared by the bootloader and the protected firmware.
 *
 * _start: the image is already where it runs (QEMU loaded the bootloader; the bootloader loaded the
 * firmware's segments), so only .bss is cleared before the C++ constructors and main(). What the previous
 * stage passed in a0 is kept in privota_rv32_boot_arg (machine.h).
 *
 * Traps: mscratch is 0 while the hart runs in M-mode and holds the M-mode stack pointer while it runs in
 * U-mode, so a trap from U-mode never trusts the user's sp. The handler gets a TrapFrame (machine.h) and
 * may change it; whatever it leaves there is what mret resumes. */

#define FRAME_WORDS 36
#define FRAME_SIZE (FRAME_WORDS * 4)

  .section .text.start, "ax"
  .globl _start
_start:
  mv s0, a0
#ifdef PRIVOTA_RV32_RESET_STAGE
  /* The first stage after reset starts the instruction count, as a chip's minstret starts at 0. Under
   * QEMU's -icount minstret is the virtual clock, which starts wherever QEMU's own start-up left it (tens of
   * thousands to millions of "instructions" by the host's load): zeroed here, scripts/bench-rv32's reset ->
   * user app count is the instructions the device ran, the same on every run. */
  csrw minstret, zero
#endif
  csrw mie, zero
  csrw mscratch, zero
  la t0, privota_trap_entry
  csrw mtvec, t0
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  la sp, __stack_top
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 1b
2:
  la t0, privota_rv32_boot_arg
  sw s0, 0(t0)
  call privota_rv32_run_constructors
  call main
3:
  wfi
  j 3b

  .section .text.trap, "ax"
  .globl privota_trap_entry
  .balign 4
privota_trap_entry:
  csrrw sp, mscratch, sp
  bnez sp, 1f
  csrr sp, mscratch          /* from M-mode: keep using the M-mode stack */
1:
  addi sp, sp, -FRAME_SIZE
  sw x1, 1*4(sp)
  sw x3, 3*4(sp)
  sw x4, 4*4(sp)
  sw x5, 5*4(sp)
  sw x6, 6*4(sp)
  sw x7, 7*4(sp)
  sw x8, 8*4(sp)
  sw x9, 9*4(sp)
  sw x10, 10*4(sp)
  sw x11, 11*4(sp)
  sw x12, 12*4(sp)
  sw x13, 13*4(sp)
  sw x14, 14*4(sp)
  sw x15, 15*4(sp)
  sw x16, 16*4(sp)
  sw x17, 17*4(sp)
  sw x18, 18*4(sp)
  sw x19, 19*4(sp)
  sw x20, 20*4(sp)
  sw x21, 21*4(sp)
  sw x22, 22*4(sp)
  sw x23, 23*4(sp)
  sw x24, 24*4(sp)
  sw x25, 25*4(sp)
  sw x26, 26*4(sp)
  sw x27, 27*4(sp)
  sw x28, 28*4(sp)
  sw x29, 29*4(sp)
  sw x30, 30*4(sp)
  sw x31, 31*4(sp)
  csrr t0, mscratch          /* the interrupted sp */
  sw t0, 2*4(sp)
  csrw mscratch, zero        /* now in M-mode */
  csrr t0, mepc
  sw t0, 32*4(sp)
  csrr t0, mcause
  sw t0, 33*4(sp)
  csrr t0, mtval
  sw t0, 34*4(sp)
  csrr t0, mstatus
  sw t0, 35*4(sp)
  .option push
  .option norelax
  la gp, __global_pointer$   /* the user app's gp is not ours */
  .option pop
  mv a0, sp
  call privota_rv32_trap
  /* a0: the frame to resume (the handler may hand back a fresh one, e.g. to restart the user app) */
  mv sp, a0
privota_rv32_resume:
  lw t0, 32*4(sp)
  csrw mepc, t0
  lw t0, 35*4(sp)
  csrw mstatus, t0
  li t1, 0x1800              /* mstatus.MPP */
  and t0, t0, t1
  bnez t0, 1f
  addi t0, sp, FRAME_SIZE    /* back to U-mode: the next trap's frame lands where this one is */
  csrw mscratch, t0
1:
  lw x1, 1*4(sp)
  lw x3, 3*4(sp)
  lw x4, 4*4(sp)
  lw x5, 5*4(sp)
  lw x6, 6*4(sp)
  lw x7, 7*4(sp)
  lw x8, 8*4(sp)
  lw x9, 9*4(sp)
  lw x10, 10*4(sp)
  lw x11, 11*4(sp)
  lw x12, 12*4(sp)
  lw x13, 13*4(sp)
  lw x14, 14*4(sp)
  lw x15, 15*4(sp)
  lw x16, 16*4(sp)
  lw x17, 17*4(sp)
  lw x18, 18*4(sp)
  lw x19, 19*4(sp)
  lw x20, 20*4(sp)
  lw x21, 21*4(sp)
  lw x22, 22*4(sp)
  lw x23, 23*4(sp)
  lw x24, 24*4(sp)
  lw x25, 25*4(sp)
  lw x26, 26*4(sp)
  lw x27, 27*4(sp)
  lw x28, 28*4(sp)
  lw x29, 29*4(sp)
  lw x30, 30*4(sp)
  lw x31, 31*4(sp)
  lw sp, 2*4(sp)
  mret

/* privota_rv32_enter_user(frame): leaves M-mode for the state in `frame` (its mstatus has MPP = U), a
 * TrapFrame at the top of the trap stack. From then on the firmware runs only in its trap handler. */
  .globl privota_rv32_enter_user
privota_rv32_enter_user:
  mv sp, a0
  j privota_rv32_resume
