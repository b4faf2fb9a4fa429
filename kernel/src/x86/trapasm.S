# pagelab-kernel, x86: traps (as xv6-public's vectors.S and trapasm.S), the
# way into user mode, and a kernel load that may fault.

.set SEG_KDATA_SEL, 0x10
.set TF_CS, 60                   # offset of cs in struct trapframe

# vectorN: push a 0 error code if the CPU pushes none, push N, go to alltraps.
.macro vector num, has_err
.globl vector\num
vector\num:
.if \has_err == 0
    pushl $0
.endif
    pushl $\num
    jmp alltraps
.endm

.section .text
vector 0, 0
vector 1, 0
vector 2, 0
vector 3, 0
vector 4, 0
vector 5, 0
vector 6, 0
vector 7, 0
vector 8, 1
vector 9, 0
vector 10, 1
vector 11, 1
vector 12, 1
vector 13, 1
vector 14, 1
vector 15, 0
vector 16, 0
vector 17, 1
vector 18, 0
vector 19, 0
vector 20, 0
vector 21, 1
vector 22, 0
vector 23, 0
vector 24, 0
vector 25, 0
vector 26, 0
vector 27, 0
vector 28, 0
vector 29, 1
vector 30, 1
vector 31, 0
vector 64, 0                     # T_SYSCALL

# Build the rest of the trapframe. A trap from user mode goes back to
# whoever called enter_user; a trap in the kernel (a probe's page fault)
# goes to kernel_trap and returns to the kernel code.
alltraps:
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    pushal
    movw $SEG_KDATA_SEL, %ax
    movw %ax, %ds
    movw %ax, %es
    movl %esp, %eax              # eax = the trapframe
    testl $3, TF_CS(%eax)
    jz 1f
    # From user mode: back on the kernel's own stack, return from enter_user.
    movl kernel_esp, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret
1:  pushl %eax
    call kernel_trap
    addl $4, %esp
    # fall through

# Return from a trap: restore the registers the trapframe holds and iret.
.globl trapret
trapret:
    popal
    popl %gs
    popl %fs
    popl %es
    popl %ds
    addl $8, %esp                # trapno and error code
    iret

# void enter_user(struct trapframe *tf)
# Save the kernel's callee-saved registers and stack pointer, then return
# to user mode through tf, which lies at the top of the process's kernel
# stack (TSS esp0 points just above it). The next trap from user mode
# builds its trapframe in the same place and returns from this call.
.globl enter_user
enter_user:
    movl 4(%esp), %eax
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, kernel_esp
    movl %eax, %esp
    jmp trapret

# int probe_load(uint va): the byte at va, loaded in kernel mode. If the
# load page-faults, kernel_trap sees eip == probe_load_insn, records the
# fault, sets eax = -1 and resumes at probe_load_done.
.globl probe_load, probe_load_insn, probe_load_done
probe_load:
    movl 4(%esp), %ecx
probe_load_insn:
    movzbl (%ecx), %eax
probe_load_done:
    ret

# int probe_store(uint va, uint value): store the byte in kernel mode;
# 0, or -1 if it page-faulted (kernel_trap resumes at probe_store_done).
.globl probe_store, probe_store_insn, probe_store_done
probe_store:
    movl 4(%esp), %ecx
    movl 8(%esp), %eax
probe_store_insn:
    movb %al, (%ecx)
    xorl %eax, %eax
probe_store_done:
    ret

# The stub the kernel copies into a user page to load and store through the
# MMU in user mode: ecx = the address, eax = the value; int3 says done.
.section .rodata
.globl user_probe_stub, user_probe_store, user_probe_stub_end
user_probe_stub:
    movzbl (%ecx), %eax
    int3
user_probe_store:
    movb %al, (%ecx)
    int3
user_probe_stub_end:

# Addresses of vector0..vector31 for the IDT.
.balign 4
.globl vectors
vectors:
    .long vector0, vector1, vector2, vector3, vector4, vector5, vector6, vector7
    .long vector8, vector9, vector10, vector11, vector12, vector13, vector14, vector15
    .long vector16, vector17, vector18, vector19, vector20, vector21, vector22, vector23
    .long vector24, vector25, vector26, vector27, vector28, vector29, vector30, vector31

.section .bss
.balign 4
.globl kernel_esp
kernel_esp:
    .space 4
