#!/usr/bin/env bash
# Test the kernels under QEMU: kernel/test.sh [x86] [riscv]
#
# For each machine (both if none is named):
#  1. clippy -D warnings for the kernel's targets; build the kernel, the
#     broken-stack kernel and the pagelab CLI;
#  2. boot the kernel $KERNEL_RUNS times (default 3) with a timeout
#     ($KERNEL_TIMEOUT seconds, default 60): each run must end with the
#     pass status and the line "pagelab-kernel: PASS", and every run must
#     print exactly the same thing (the kernel is deterministic);
#  3. differential check: replay kernel/scenario.txt, with the preset line
#     the kernel printed (its own symbols), through `pagelab run --quiet` and
#     `pagelab show`, and require the kernel's step lines (operation, pages
#     allocated and freed, free count) and its page-table and stack dumps
#     to equal the CLI's line for line;
#  4. the real programs: the kernel then boots a fresh core and runs the
#     real init and sh on QEMU's CPU, typing lines at sh ("programs: "
#     lines); `pagelab programs` runs them on pagelab's CPU, and the two
#     transcripts must be equal (system calls in order, faults, console,
#     registers and page tables at the end, free pages);
#  5. boot the broken-stack kernel (PTE_U cleared on the user stack page
#     after exec): it must end with the failure status, after a user page
#     fault in the stack page, and the differential check must now fail.
# Prints the median boot-to-verdict time (QEMU start to QEMU exit, wall
# clock) per machine. Exits non-zero on any problem.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

RUNS=${KERNEL_RUNS:-3}
TIMEOUT=${KERNEL_TIMEOUT:-60}
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 riscv)
for a in "${arches[@]}"; do triple_of "$a" >/dev/null || exit 2; done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
problem() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

for a in "${arches[@]}"; do ensure_qemu "$a" || exit 1; done

echo "== clippy and build"
"$ROOT/kernel/build.sh" --clippy "${arches[@]}" || exit 1
"$ROOT/kernel/build.sh" "${arches[@]}" || exit 1
"$ROOT/kernel/build.sh" --broken "${arches[@]}" || exit 1
cargo build --release -p pagelab-core --features cli || exit 1
CLI=$TARGET_DIR/release/pagelab

# boot ARCH IMAGE LOG: run QEMU; sets STATUS and MS (wall-clock milliseconds).
boot() {
    qemu_cmd "$1" "$2"
    local t0
    t0=$(date +%s%N)
    timeout "$TIMEOUT" "${QEMU_CMD[@]}" </dev/null >"$3" 2>&1
    STATUS=$?
    MS=$((($(date +%s%N) - t0) / 1000000))
}

# The lines `pagelab run --quiet` prints for the machine and each step.
step_lines() {
    grep -E '^(preset [^ ]+, shm [a-z]+$|boot:$|step [0-9]+: |  allocated: |  free pages: )'
}

# differential LOG DIR: compare the kernel's log with the CLI. Prints what
# differs; returns non-zero if anything does.
differential() {
    local log=$1 dir=$2 preset scen bad=0 n=0 lines
    mkdir -p "$dir"
    preset=$(sed -n 's/^pagelab-kernel: \(preset .*\)$/\1/p' "$log" | head -n 1)
    if [ -z "$preset" ]; then
        echo "  no 'pagelab-kernel: preset ...' line in the log"
        return 1
    fi
    scen=$dir/scenario.txt
    { echo "$preset"; sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$ROOT/kernel/scenario.txt"; } >"$scen"
    # Every step: the operation, its result, the pages it took and gave, the free count.
    if ! "$CLI" run --quiet "$scen" >"$dir/cli-run.txt" 2>"$dir/cli-run.err"; then
        echo "  pagelab run failed on the scenario:"
        sed 's/^/    /' "$dir/cli-run.err"
        bad=1
    fi
    step_lines <"$dir/cli-run.txt" >"$dir/steps.cli"
    step_lines <"$log" >"$dir/steps.kernel"
    if ! diff -u "$dir/steps.cli" "$dir/steps.kernel" >"$dir/steps.diff"; then
        echo "  the steps differ (- pagelab run, + kernel):"
        sed 's/^/    /' "$dir/steps.diff"
        bad=1
    fi
    lines=$(wc -l <"$dir/steps.cli")
    # Every page-table and stack dump: `pagelab show` after the same steps.
    while read -r pid step; do
        n=$((n + 1))
        head -n $((step + 1)) "$scen" >"$dir/prefix-$n.txt"
        "$CLI" show "$dir/prefix-$n.txt" --pid "$pid" >"$dir/show-$n.cli" 2>&1
        awk -v h="show: pid $pid after step $step" '$0 == h { on = 1; next } on && $0 == "show: end" { exit } on' \
            "$log" >"$dir/show-$n.kernel"
        if ! diff -u "$dir/show-$n.cli" "$dir/show-$n.kernel" >"$dir/show-$n.diff"; then
            echo "  pid $pid after step $step differs (- pagelab show, + kernel):"
            sed 's/^/    /' "$dir/show-$n.diff"
            bad=1
        fi
        lines=$((lines + $(wc -l <"$dir/show-$n.cli")))
    done < <(sed -n 's/^show: pid \([0-9]*\) after step \([0-9]*\)$/\1 \2/p' "$log")
    if [ "$n" -eq 0 ]; then
        echo "  no 'show:' block in the log"
        bad=1
    fi
    [ $bad -ne 0 ] || echo "  identical: $lines lines (steps and $n page-table/stack dumps) against $(basename "$CLI") run/show"
    return $bad
}

# programs_differential LOG DIR: the kernel ran the real init and sh on
# QEMU's CPU (its `programs: ` lines); `pagelab programs` runs them on
# pagelab's CPU with the same preset line and the same lines typed at sh.
# The two transcripts (system calls in order with their arguments and
# results, faults, console, each process's registers and page table at the
# end, free pages) must be equal. Returns non-zero if they are not.
programs_differential() {
    local log=$1 dir=$2 preset typed
    mkdir -p "$dir"
    preset=$(sed -n 's/^pagelab-kernel: preset \(.*\)$/\1/p' "$log" | head -n 1)
    sed -n 's/^programs: //p' "$log" >"$dir/kernel.txt"
    mapfile -t typed < <(sed -n 's/^type: //p' "$dir/kernel.txt")
    if [ -z "$preset" ] || [ ${#typed[@]} -eq 0 ]; then
        echo "  no preset line or no 'programs: type:' lines in the log"
        return 1
    fi
    if ! "$CLI" programs --preset "$preset" "${typed[@]}" >"$dir/cli.txt" 2>"$dir/cli.err"; then
        echo "  pagelab programs failed:"
        sed 's/^/    /' "$dir/cli.err"
        return 1
    fi
    if ! diff -u "$dir/cli.txt" "$dir/kernel.txt" >"$dir/diff"; then
        echo "  the runs differ (- pagelab's CPU, + QEMU's):"
        sed 's/^/    /' "$dir/diff" | head -n 60
        return 1
    fi
    echo "  identical: $(wc -l <"$dir/cli.txt") lines: $(grep -c '^syscall: ' "$dir/cli.txt") system calls," \
        "$(grep -c '^fault: ' "$dir/cli.txt") fault(s), $(grep -c '^proc: ' "$dir/cli.txt") processes' registers" \
        "and page tables"
    printf '  typed at sh:'
    printf ' "%s"' "${typed[@]}"
    echo
}

declare -A median
for arch in "${arches[@]}"; do
    echo "== $arch"
    image=$(kernel_image "$arch")
    pass=$(pass_status "$arch")
    times=()
    for i in $(seq 1 "$RUNS"); do
        log=$WORK/$arch-$i.log
        boot "$arch" "$image" "$log"
        times+=("$MS")
        verdict=$(grep -E '^pagelab-kernel: (PASS|FAIL)' "$log" | tail -n 1)
        echo "  run $i: exit status $STATUS, ${MS} ms, ${verdict:-no verdict}"
        if [ "$STATUS" = 124 ]; then
            problem "$arch run $i: timed out after ${TIMEOUT}s"
        elif [ "$STATUS" != "$pass" ]; then
            problem "$arch run $i: exit status $STATUS, want $pass"
        fi
        case $verdict in "pagelab-kernel: PASS"*) ;; *) problem "$arch run $i: no PASS verdict" ;; esac
        if [ "$STATUS" != "$pass" ] || [ "$i" = 1 ]; then
            grep -E '^(check: FAIL|panic|kernel trap|user: .*page fault)' "$log" | sed 's/^/    /'
        fi
        if [ "$i" -gt 1 ] && ! cmp -s "$WORK/$arch-1.log" "$log"; then
            problem "$arch run $i printed something else than run 1"
        fi
    done
    median[$arch]=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
    echo "  boot to verdict: median ${median[$arch]} ms of $RUNS runs (${times[*]} ms)"
    grep -E '^pagelab-kernel: (x86|RISC-V)|^check: ok' "$WORK/$arch-1.log" | head -n 1 | sed 's/^/  /'
    echo "  $(grep -c '^check: ok' "$WORK/$arch-1.log") checks passed in the kernel"
    # The stale-translation experiment: the TLB model's prediction beside what QEMU did.
    grep -E '^check: (ok|FAIL) +tlb' "$WORK/$arch-1.log" | sed 's/^/  /'

    echo "  differential check:"
    differential "$WORK/$arch-1.log" "$WORK/$arch-diff" || problem "$arch: the kernel and pagelab differ"
    echo "  the real programs on QEMU's CPU and on pagelab's:"
    programs_differential "$WORK/$arch-1.log" "$WORK/$arch-programs" ||
        problem "$arch: the programs ran differently on QEMU's CPU and on pagelab's"

    echo "  broken-stack kernel (PTE_U cleared on the stack page after exec):"
    log=$WORK/$arch-broken.log
    boot "$arch" "$(kernel_image "$arch" broken)" "$log"
    fail=$(fail_status "$arch")
    page=$(sed -n 's/^broken-stack: clearing PTE_U on the stack page \(0x[0-9a-f]*\).*/\1/p' "$log" | head -n 1)
    fault=$(grep -E '^user: pid [0-9]+ [^:]*: page fault at pc 0x[0-9a-f]+: addr 0x[0-9a-f]+' "$log" | head -n 1)
    addr=$(sed -n 's/.*: addr \(0x[0-9a-f]*\),.*/\1/p' <<<"$fault")
    echo "    exit status $STATUS (want $fail), ${MS} ms"
    echo "    ${fault:-no user page fault}"
    if [ "$STATUS" != "$fail" ]; then
        problem "$arch broken-stack: exit status $STATUS, want $fail (failure)"
    fi
    grep -q '^pagelab-kernel: FAIL' "$log" || problem "$arch broken-stack: no FAIL verdict"
    if [ -z "$page" ] || [ -z "$addr" ] || [ $((addr & ~0xfff)) -ne $((page)) ]; then
        problem "$arch broken-stack: no user page fault in the stack page ${page:-?}"
    fi
    echo "    differential check (must fail):"
    if differential "$log" "$WORK/$arch-broken-diff" | sed 's/^/  /'; [ "${PIPESTATUS[0]}" -eq 0 ]; then
        problem "$arch broken-stack: the differential check did not see the wrong page table"
    fi
done

echo "== summary"
for arch in "${arches[@]}"; do
    echo "  $arch: boot to verdict ${median[$arch]:-?} ms (median of $RUNS)"
done
if [ $failures -ne 0 ]; then
    echo "kernel/test.sh: $failures problem(s)"
    exit 1
fi
echo "kernel/test.sh: all passed"
