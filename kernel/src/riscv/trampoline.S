# pagelab-kernel, RISC-V: the trampoline page (as xv6-riscv's trampoline.S).
#
# This page is mapped at the same virtual address, TRAMPOLINE, in the
# kernel's page table and in every process's (by the core's kvmmake and
# proc_pagetable), so code here keeps running while it switches satp.
# uservec and userret take a process into and out of user mode; tprobe
# loads one byte with another page table in satp, catching the fault.

.set TRAPFRAME, 0x3fffffe000     # MAXVA - 2 * PGSIZE
.set SSTATUS_SUM, 0x40000        # supervisor may touch user pages
.set TF_NOFENCE, 288             # a word after xv6's trapframe fields
.set NOFENCE, 0x65636e65666f6e   # "nofence": that word's value for the what-if

.section .trampoline, "ax"
.option push
.option norvc
.balign 4096
.globl trampoline
trampoline:

# A trap from user mode lands here (stvec), in supervisor mode, with the
# process's page table still in satp.
.balign 4
.globl uservec
uservec:
    # Save the user registers in the trapframe (mapped at TRAPFRAME in every process).
    csrw sscratch, a0
    li a0, TRAPFRAME
    sd ra, 40(a0)
    sd sp, 48(a0)
    sd gp, 56(a0)
    sd tp, 64(a0)
    sd t0, 72(a0)
    sd t1, 80(a0)
    sd t2, 88(a0)
    sd s0, 96(a0)
    sd s1, 104(a0)
    sd a1, 120(a0)
    sd a2, 128(a0)
    sd a3, 136(a0)
    sd a4, 144(a0)
    sd a5, 152(a0)
    sd a6, 160(a0)
    sd a7, 168(a0)
    sd s2, 176(a0)
    sd s3, 184(a0)
    sd s4, 192(a0)
    sd s5, 200(a0)
    sd s6, 208(a0)
    sd s7, 216(a0)
    sd s8, 224(a0)
    sd s9, 232(a0)
    sd s10, 240(a0)
    sd s11, 248(a0)
    sd t3, 256(a0)
    sd t4, 264(a0)
    sd t5, 272(a0)
    sd t6, 280(a0)
    csrr t0, sscratch
    sd t0, 112(a0)
    # The kernel's stack, hart id, trap handler and page table, as the kernel left them.
    ld sp, 8(a0)
    ld tp, 32(a0)
    ld t0, 16(a0)
    ld t1, 0(a0)
    # The what-if noflush=trampoline: write satp without sfence.vma when the
    # trapframe's TF_NOFENCE word says so (kalloc's junk never matches).
    ld t2, TF_NOFENCE(a0)
    li t3, NOFENCE
    beq t2, t3, 1f
    sfence.vma zero, zero
    csrw satp, t1
    sfence.vma zero, zero
    jr t0
1:  csrw satp, t1
    jr t0

# userret(satp): switch to the process's page table, restore its registers
# from the trapframe, and return to user mode at sepc. userret_nofence is
# the what-if noflush=trampoline: the same without sfence.vma.
.globl userret_nofence
userret_nofence:
    csrw satp, a0
    j 1f
.globl userret
userret:
    sfence.vma zero, zero
    csrw satp, a0
    sfence.vma zero, zero
1:  li a0, TRAPFRAME
    ld ra, 40(a0)
    ld sp, 48(a0)
    ld gp, 56(a0)
    ld tp, 64(a0)
    ld t0, 72(a0)
    ld t1, 80(a0)
    ld t2, 88(a0)
    ld s0, 96(a0)
    ld s1, 104(a0)
    ld a1, 120(a0)
    ld a2, 128(a0)
    ld a3, 136(a0)
    ld a4, 144(a0)
    ld a5, 152(a0)
    ld a6, 160(a0)
    ld a7, 168(a0)
    ld s2, 176(a0)
    ld s3, 184(a0)
    ld s4, 192(a0)
    ld s5, 200(a0)
    ld s6, 208(a0)
    ld s7, 216(a0)
    ld s8, 224(a0)
    ld s9, 232(a0)
    ld s10, 240(a0)
    ld s11, 248(a0)
    ld t3, 256(a0)
    ld t4, 264(a0)
    ld t5, 272(a0)
    ld t6, 280(a0)
    ld a0, 112(a0)
    sret

# tprobe(satp, va, flags, out, value): with satp loaded (and sstatus.SUM
# if flags bit 0), load the byte at va in supervisor mode, or store value
# there if flags bit 1; out[0] = the byte loaded, out[1] = scause (0 if no
# fault), out[2] = stval. Called at its TRAMPOLINE address; a fault goes to
# tprobe_fault in this same page (lla is pc-relative, so it yields the
# TRAMPOLINE address), which puts the kernel's table back.
.globl tprobe
tprobe:
    csrr t0, satp
    csrr t1, stvec
    lla t2, tprobe_fault
    csrw stvec, t2
    li t3, 0
    li t4, 0
    li t5, 0
    andi t2, a2, 1
    beqz t2, 1f
    li t2, SSTATUS_SUM
    csrs sstatus, t2
1:  andi a2, a2, 2
    sfence.vma zero, zero
    csrw satp, a0
    sfence.vma zero, zero
    bnez a2, 3f
    lbu t3, 0(a1)
    j 2f
3:  sb a4, 0(a1)
    j 2f
.balign 4
tprobe_fault:
    csrr t4, scause
    csrr t5, stval
2:  csrw satp, t0
    sfence.vma zero, zero
    csrw stvec, t1
    li t2, SSTATUS_SUM
    csrc sstatus, t2
    sd t3, 0(a3)
    sd t4, 8(a3)
    sd t5, 16(a3)
    ret

.option pop
