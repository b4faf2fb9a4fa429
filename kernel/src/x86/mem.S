# memcpy, memmove, memset, memcmp and bcmp: the i586-unknown-linux-gnu
# target expects libc to provide them, and there is no libc here.

.section .text
.globl memcpy, memmove, memset, memcmp, bcmp

# void *memcpy(void *dst, const void *src, size_t n)
# void *memmove(void *dst, const void *src, size_t n)
memcpy:
memmove:
    pushl %esi
    pushl %edi
    movl 12(%esp), %edi
    movl 16(%esp), %esi
    movl 20(%esp), %ecx
    movl %edi, %eax
    cmpl %esi, %edi
    jbe 1f                       # dst below src: copy forwards
    leal (%esi, %ecx), %edx
    cmpl %edx, %edi
    jae 1f                       # no overlap: forwards
    # Overlapping with dst above src: copy backwards.
    leal -1(%esi, %ecx), %esi
    leal -1(%edi, %ecx), %edi
    std
    rep movsb
    cld
    jmp 2f
1:  cld
    # Forwards: four bytes at a time when both ends and n allow.
    movl %edi, %edx
    orl %esi, %edx
    orl %ecx, %edx
    testl $3, %edx
    jnz 3f
    shrl $2, %ecx
    rep movsl
    jmp 2f
3:  rep movsb
2:  popl %edi
    popl %esi
    ret

# void *memset(void *dst, int c, size_t n)
# Four bytes at a time when dst and n allow (a page fill is 1024 stores, not
# 4096: it matters for the 224 MB kinit fills under emulation).
memset:
    pushl %edi
    movl 8(%esp), %edi
    movzbl 12(%esp), %eax
    movl 16(%esp), %ecx
    movl %edi, %edx
    cld
    testl $3, %edi
    jnz 1f
    testl $3, %ecx
    jnz 1f
    imull $0x01010101, %eax, %eax
    shrl $2, %ecx
    rep stosl
    jmp 2f
1:  rep stosb
2:  movl %edx, %eax
    popl %edi
    ret

# int memcmp(const void *a, const void *b, size_t n)
memcmp:
bcmp:
    pushl %esi
    pushl %edi
    movl 12(%esp), %esi
    movl 16(%esp), %edi
    movl 20(%esp), %ecx
    xorl %eax, %eax
1:  testl %ecx, %ecx
    jz 2f
    movzbl (%esi), %eax
    movzbl (%edi), %edx
    subl %edx, %eax
    jnz 2f
    incl %esi
    incl %edi
    decl %ecx
    jmp 1b
2:  popl %edi
    popl %esi
    ret

# The prebuilt core and alloc libraries for this target were compiled for
# unwinding panics and name _Unwind_Resume in their cleanup code. This
# kernel aborts on panic, so that code never runs: trap if it ever does.
.globl _Unwind_Resume
_Unwind_Resume:
    ud2
