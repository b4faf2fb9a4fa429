# pagelab-kernel, x86: the first instructions (as xv6-public's entry.S).
#
# QEMU's Multiboot loader puts the kernel at 1 MB and jumps to _start, the
# physical address of `entry`, with paging off, eax = the Multiboot magic and
# ebx = the physical address of the Multiboot information.

.set KERNBASE,  0x80000000
.set CR0_PG,    0x80000000       # paging
.set CR0_WP,    0x00010000       # the kernel too cannot write read-only pages
.set CR4_PSE,   0x00000010       # 4 MB pages (for entrypgdir only)
.set KSTACKSIZE_BOOT, 131072

# The Multiboot header: it must lie in the first 8 KB of the file.
.set MB_MAGIC, 0x1badb002
.set MB_FLAGS, 0x00000003        # align modules, give the memory size
.section .multiboot, "a"
.balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

.section .text.entry, "ax"
.globl entry
entry:
    # Turn on page size extension for 4 MB pages.
    movl %cr4, %ecx
    orl $CR4_PSE, %ecx
    movl %ecx, %cr4
    # The boot page directory: 0..4 MB and KERNBASE..KERNBASE+4 MB both map physical 0..4 MB.
    movl $(entrypgdir - KERNBASE), %ecx
    movl %ecx, %cr3
    # Turn on paging.
    movl %cr0, %ecx
    orl $(CR0_PG | CR0_WP), %ecx
    movl %ecx, %cr0
    # From here on addresses are virtual: the stack, and main in the high half.
    movl $(stack0 + KSTACKSIZE_BOOT), %esp
    fninit
    pushl %ebx                   # x86_main(magic, mbinfo)
    pushl %eax
    movl $x86_main, %ecx
    call *%ecx
1:  hlt
    jmp 1b

# The boot page directory, used until the core's kvmalloc loads its own
# (xv6: entrypgdir in main.c). PTE_P | PTE_W | PTE_PS = 0x83.
.section .data
.balign 4096
.globl entrypgdir
entrypgdir:
    .long 0x00000083             # PDX 0: virtual 0..4 MB -> physical 0..4 MB
    .fill 511, 4, 0
    .long 0x00000083             # PDX 512 (KERNBASE): -> physical 0..4 MB
    .fill 511, 4, 0

# The boot stack: the kernel's main line runs on it from boot to the verdict.
.section .bss
.balign 16
.globl stack0
stack0:
    .space KSTACKSIZE_BOOT
