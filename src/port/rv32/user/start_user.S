/* Entry of a U-mode user app: no CSRs here (U-mode may not touch them). The protected firmware starts it with
 * sp below its arguments, a0 = argc and a1 = argv (at the top of the user region). Clears .bss, runs
 * constructors, calls main(argc, argv) and reports its return value to the protected firmware with the exit
 * ecall (a7 = 93, the number Linux uses for exit, so the firmware tells it from a system-call frame: a7 = 0). */
  .section .text.start, "ax"
  .globl _start
_start:
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  mv s0, a0
  mv s1, a1
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 1b
2:
  call privota_rv32_run_constructors
  mv a0, s0
  mv a1, s1
  call main
  li a7, 93
  ecall
3:
  j 3b
