# pagelab-kernel, RISC-V: the first instructions (as xv6-riscv's entry.S).
#
# qemu -bios none starts every hart here, at 0x80000000, in machine mode.
# Hart 0 gets the boot stack and calls start(); the others park for good.

.set KSTACKSIZE_BOOT, 131072
.set MSTATUS_FS_INITIAL, 0x2000  # let the kernel's compiled code use the FPU

.section .text.entry, "ax"
.globl _entry
_entry:
    csrr t0, mhartid
    bnez t0, park
    la sp, stack0
    li t0, KSTACKSIZE_BOOT
    add sp, sp, t0
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    call start
park:
    wfi
    j park

# A trap in supervisor mode that nobody expected: report it and stop.
.section .text
.balign 4
.globl kernelvec
kernelvec:
    call riscv_kernel_trap

# void enter_user(uint64 satp, uint64 userret, uint64 trapframe)
# Save the kernel's callee-saved registers on its stack, record that stack
# in trapframe->kernel_sp, and jump to userret in the trampoline page with
# a0 = the process's satp. The next trap from user mode goes through
# uservec to trapframe->kernel_trap = user_trap_return, which returns from
# this call.
.globl enter_user
enter_user:
    addi sp, sp, -112
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    sd s2, 24(sp)
    sd s3, 32(sp)
    sd s4, 40(sp)
    sd s5, 48(sp)
    sd s6, 56(sp)
    sd s7, 64(sp)
    sd s8, 72(sp)
    sd s9, 80(sp)
    sd s10, 88(sp)
    sd s11, 96(sp)
    sd sp, 8(a2)
    jr a1

.balign 4
.globl user_trap_return
user_trap_return:
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    ld s2, 24(sp)
    ld s3, 32(sp)
    ld s4, 40(sp)
    ld s5, 48(sp)
    ld s6, 56(sp)
    ld s7, 64(sp)
    ld s8, 72(sp)
    ld s9, 80(sp)
    ld s10, 88(sp)
    ld s11, 96(sp)
    addi sp, sp, 112
    ret

# The stub the kernel copies into a user text page to load and store
# through the MMU in user mode: a1 = the address, a0 = the value; ebreak
# says done.
.section .rodata
.globl user_probe_stub, user_probe_store, user_probe_stub_end
.option push
.option norvc
user_probe_stub:
    lbu a0, 0(a1)
    ebreak
user_probe_store:
    sb a0, 0(a1)
    ebreak
user_probe_stub_end:
.option pop

.section .bss
.balign 16
.globl stack0
stack0:
    .space KSTACKSIZE_BOOT
