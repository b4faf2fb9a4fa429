// pagelab's own environment for riscv-tests' user-mode ISA tests (rv64ui,
// rv64um, rv64uc), in place of their env/p/riscv_test.h: no machine mode,
// no CSRs, no trap handler. It is included as "riscv_test.h" by the test
// sources; scripts/riscv-tests.sh puts this directory first on the include
// path.
//
// Convention (checked by core/tests/riscv_official.rs):
//   TESTNUM is gp (x3): each test case loads its number there.
//   The test ends with `ecall`, a7 = 93 (exit, as in Linux and newlib):
//     pass: a0 = 0
//     fail: a0 = (TESTNUM << 1) | 1, never 0 (the failing case's number is
//           a0 >> 1).
//   Code starts at `_start`; the registers are whatever the hart starts
//   with (all zero), TESTNUM is cleared first.

#ifndef PAGELAB_RISCV_TEST_H
#define PAGELAB_RISCV_TEST_H

#define TESTNUM gp

// The header names the machine: nothing to set up in user mode.
#define RVTEST_RV64U

#define RVTEST_CODE_BEGIN \
        .section .text.init, "ax", @progbits; \
        .align 6; \
        .globl _start; \
_start: \
        li TESTNUM, 0;

#define RVTEST_CODE_END \
        unimp;

#define RVTEST_PASS \
        fence; \
        li a0, 0; \
        li a7, 93; \
        ecall;

#define RVTEST_FAIL \
        fence; \
        slli a0, TESTNUM, 1; \
        ori a0, a0, 1; \
        li a7, 93; \
        ecall;

#define EXTRA_DATA

#define RVTEST_DATA_BEGIN \
        EXTRA_DATA \
        .align 4; \
        .globl begin_signature; \
begin_signature:

#define RVTEST_DATA_END \
        .align 4; \
        .globl end_signature; \
end_signature:

#endif
