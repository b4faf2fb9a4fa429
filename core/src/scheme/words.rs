//! What an entry's flag bits mean, in plain words: for each bit a scheme
//! names ([`bit_meanings`]), and for one entry at one level of a walk
//! ([`entry_words`]), which is what a learner reading the walk asks: does
//! this entry point to a table or map a page, and what may be done there?

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::SchemeKind;

/// What each flag bit the scheme names means, in the order the lab shows
/// them (`(name, meaning)`). Bits xv6's header does not name are said to be
/// so.
#[must_use]
pub fn bit_meanings(kind: SchemeKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        SchemeKind::X86 => &[
            (
                "PTE_P",
                "present: the entry is in use. With P 0 the MMU ignores every other bit and faults (xv6 leaves the rest 0).",
            ),
            (
                "PTE_W",
                "writable. A write needs W in the directory entry and in the table entry; xv6 turns on CR0.WP, so the kernel's own writes are checked too.",
            ),
            (
                "PTE_U",
                "user: user code may use what the entry covers. It must be set at both levels; without it only the kernel may.",
            ),
            ("PTE_PWT", "write-through caching. xv6-public's mmu.h does not name it, and xv6 leaves it 0."),
            ("PTE_PCD", "caching off. Not named in mmu.h either; xv6 leaves it 0."),
            (
                "PTE_A",
                "accessed: the MMU sets it when it uses the entry, in directory entries too. Not named in mmu.h; xv6 never reads it. The lab sets A and D for the user reads, writes and fetches it makes, not for the kernel's own accesses.",
            ),
            ("PTE_D", "dirty: the MMU sets it in a table entry when the page is written. Not named in mmu.h."),
            (
                "PTE_PS",
                "page size, in a directory entry: 1 means the entry maps a 4 MB page itself (xv6's entrypgdir has two such); 0 means it points to a page table.",
            ),
            (
                "PTE_G",
                "global: the TLB keeps the entry when CR3 is loaded, if CR4.PGE is on. xv6 leaves both off; mmu.h does not name it.",
            ),
        ],
        SchemeKind::Sv39 | SchemeKind::Sv32 => &[
            ("PTE_V", "valid: the entry is in use. With V 0 the MMU ignores every other bit and faults."),
            ("PTE_R", "the page may be read."),
            ("PTE_W", "the page may be written. W without R is a combination RISC-V reserves: it faults."),
            ("PTE_X", "instructions may be fetched from the page."),
            (
                "PTE_U",
                "user mode may use the page; without it only the kernel may. xv6's kernel runs on its own table, which maps no user page, so copyin and copyout walk the process's table by hand; and xv6 leaves sstatus.SUM 0, so a kernel load or store to a U page would fault anyway.",
            ),
            (
                "PTE_G",
                "global: the mapping is in every address space, so the TLB may keep it when satp changes. riscv.h does not name it, and xv6 never sets it.",
            ),
            (
                "PTE_A",
                "accessed: set when the page is read, written or fetched from. Not named in riscv.h; xv6 never reads it. The lab sets A and D for the user reads, writes and fetches it makes, not for the kernel's own accesses.",
            ),
            ("PTE_D", "dirty: set when the page is written. Not named in riscv.h either."),
        ],
    }
}

/// The rule a learner needs beside [`bit_meanings`]: how the MMU tells an
/// entry that points to the next table from one that maps a page.
#[must_use]
pub fn leaf_rule(kind: SchemeKind) -> &'static str {
    match kind {
        SchemeKind::X86 => {
            "A directory entry with P set points to a page table unless PS is set; every table entry with P set maps a 4 KB page. walkpgdir makes directory entries with P, W and U (generous on purpose: the table entry below decides). 32-bit paging has no execute bit: a page that may be read may be run, xv6-public's stack and data too. Bits 9–11 are left for the operating system, and in a table entry bit 7 is PAT, not PS; xv6 uses none of them."
        }
        SchemeKind::Sv39 | SchemeKind::Sv32 => {
            "A valid entry with R, W and X all 0 points to the next table; one with any of them set is a leaf and maps a page. xv6's walk() makes table entries with PTE_V alone; mappages makes leaves with the permissions asked for, plus PTE_V. Bits 8 and 9 (RSW) are left for the operating system; xv6 uses neither."
        }
    }
}

/// What entry `e` says at `level` of a walk (0 is the last table), in one
/// or two plain sentences: whether the MMU stops there, goes on to a
/// table, or has found a page, and what that page allows.
#[must_use]
pub fn entry_words(kind: SchemeKind, e: u64, level: u32) -> String {
    match kind {
        SchemeKind::X86 => x86_words(e as u32, level),
        SchemeKind::Sv39 | SchemeKind::Sv32 => riscv_words(kind, e, level),
    }
}

/// Bits of an entry, for [`entry_words`].
fn bit(e: u64, n: u32) -> bool {
    e >> n & 1 == 1
}

/// "a, b and c".
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => String::from(*one),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The A and D sentence, or nothing for an entry whose page the MMU has not used.
fn used(accessed: bool, dirty: bool) -> Option<String> {
    match (accessed, dirty) {
        (true, true) => Some(String::from("The MMU has marked it accessed (A) and written (D)")),
        (true, false) => Some(String::from("The MMU has marked it accessed (A), not yet written (no D)")),
        (false, true) => Some(String::from("D is set though A is not (the MMU sets A first)")),
        (false, false) => None,
    }
}

fn x86_words(e: u32, level: u32) -> String {
    let e = u64::from(e);
    if e == 0 {
        return String::from("0: nothing is mapped here (P is 0), so the MMU stops with a page fault.");
    }
    if !bit(e, 0) {
        return String::from("P is 0: not present, so the MMU stops with a page fault and ignores the other bits.");
    }
    let (w, u) = (bit(e, 1), bit(e, 2));
    let perms = format!(
        "readable and runnable (no execute bit in 32-bit paging), {} ({}), {} ({})",
        if w { "writable" } else { "read-only" },
        if w { "W" } else { "no W" },
        if u { "user code may use it" } else { "kernel only" },
        if u { "U" } else { "no U" }
    );
    let mut s = if level == 1 && !bit(e, 7) {
        format!(
            "P is 1 and PS is 0: it points to a page table. Its W and U ({}) are only half the check: the table entry must allow an access too.",
            match (w, u) {
                (true, true) => "both set, as walkpgdir makes every directory entry",
                (true, false) => "W set, U clear",
                (false, true) => "U set, W clear",
                (false, false) => "both clear",
            }
        )
    } else if level == 1 {
        format!("P and PS are 1: it maps a 4 MB page itself, {perms}.")
    } else {
        format!("P is 1: it maps a 4 KB page, {perms}.")
    };
    // A directory entry's D means nothing; its A says the MMU used it.
    let is_page = level == 0 || bit(e, 7);
    let note =
        if is_page { used(bit(e, 5), bit(e, 6)) } else { bit(e, 5).then(|| String::from("The MMU has used it (A)")) };
    if let Some(n) = note {
        s.push_str(&format!(" {n}."));
    }
    s
}

fn riscv_words(kind: SchemeKind, e: u64, level: u32) -> String {
    if e == 0 {
        return String::from("0: nothing is mapped here (V is 0), so the MMU stops with a page fault.");
    }
    if !bit(e, 0) {
        return String::from("V is 0: not valid, so the MMU stops with a page fault and ignores the other bits.");
    }
    let (r, w, x, u) = (bit(e, 1), bit(e, 2), bit(e, 3), bit(e, 4));
    if w && !r {
        return String::from("W is set without R: a combination RISC-V reserves, so the MMU stops with a page fault.");
    }
    if !r && !w && !x {
        if level == 0 {
            return String::from(
                "V is 1 but R, W and X are 0: an entry that would point to another table, but L0 is the last level, so the MMU stops with a page fault.",
            );
        }
        return String::from(
            "V is 1 and R, W and X are 0: not a leaf, so it points to the next table (xv6's walk() makes such entries with PTE_V alone).",
        );
    }
    let size = match (kind, level) {
        (_, 0) => "a 4 KB page",
        (SchemeKind::Sv32, _) => "a 4 MB megapage (xv6 makes none)",
        (_, 1) => "a 2 MB megapage (xv6 makes none)",
        _ => "a 1 GB gigapage (xv6 makes none)",
    };
    let (mut may, mut not): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for (set, yes, no) in [
        (r, "read (R)", "read (no R)"),
        (w, "written (W)", "written (no W)"),
        (x, "run as code (X)", "run as code (no X)"),
    ] {
        if set { may.push(yes) } else { not.push(no) }
    }
    let but = match not.as_slice() {
        [] => String::new(),
        [one] => format!(", but not {one}"),
        [a, b] => format!(", but not {a} or {b}"),
        _ => String::new(),
    };
    let mut s = format!(
        "A leaf (R, W or X is set): it maps {size} that may be {}{but}; {}.",
        and_list(&may),
        if u {
            "user mode may use it (U), and the kernel may not (SUM is 0)"
        } else {
            "only the kernel may use it (no U)"
        }
    );
    if let Some(n) = used(bit(e, 6), bit(e, 7)) {
        s.push_str(&format!(" {n}."));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_bit_the_lab_shows_has_a_meaning_in_its_order() {
        for kind in SchemeKind::ALL {
            let shown: Vec<&str> = kind.flag_bits(0).iter().map(|b| b.name).collect();
            let meant: Vec<&str> = bit_meanings(kind).iter().map(|(n, _)| *n).collect();
            assert_eq!(shown, meant, "{kind:?}");
        }
    }

    #[test]
    fn sv39_entries_from_xv6_riscv() {
        // walk() makes a table entry: PA2PTE(pa) | PTE_V.
        let table = (0x87f3_d000u64 >> 12 << 10) | 1;
        assert!(entry_words(SchemeKind::Sv39, table, 2).contains("points to the next table"));
        // The same entry at L0 has nowhere to go.
        assert!(entry_words(SchemeKind::Sv39, table, 0).contains("last level"));
        // A user stack page: V R W U (0x17).
        let stack = (0x87f3_8000u64 >> 12 << 10) | 0x17;
        let s = entry_words(SchemeKind::Sv39, stack, 0);
        assert!(s.contains("4 KB page"), "{s}");
        assert!(s.contains("may be read (R) and written (W), but not run as code (no X)"), "{s}");
        assert!(s.contains("user mode may use it"), "{s}");
        assert!(!s.contains("MMU has marked"), "no A, no D: {s}");
        // Kernel text: V R X, accessed.
        let text = (0x8000_0000u64 >> 12 << 10) | 0x4b;
        let s = entry_words(SchemeKind::Sv39, text, 0);
        assert!(s.contains("may be read (R) and run as code (X), but not written (no W)"), "{s}");
        assert!(s.contains("only the kernel") && s.contains("accessed (A), not yet written"), "{s}");
        // W without R, and invalid entries.
        assert!(entry_words(SchemeKind::Sv39, 0x5, 0).contains("reserves"));
        assert!(entry_words(SchemeKind::Sv39, 0x16, 0).contains("V is 0"));
        assert!(entry_words(SchemeKind::Sv39, 0, 0).starts_with("0: nothing is mapped"));
        // A leaf above L0 is a superpage.
        assert!(entry_words(SchemeKind::Sv39, 0xf, 1).contains("2 MB"));
        assert!(entry_words(SchemeKind::Sv39, 0xf, 2).contains("1 GB"));
        assert!(entry_words(SchemeKind::Sv32, 0xf, 1).contains("4 MB"));
    }

    #[test]
    fn x86_entries_from_xv6_public() {
        // walkpgdir's directory entry: P W U, and A once the MMU has used it.
        let pde = 0x0df7_7000u64 | 0x7;
        let s = entry_words(SchemeKind::X86, pde, 1);
        assert!(s.contains("points to a page table") && s.contains("as walkpgdir makes"), "{s}");
        assert!(!s.contains("(A)"));
        assert!(entry_words(SchemeKind::X86, pde | 0x20, 1).contains("has used it (A)"));
        // A user data page written by a store: P W U A D.
        let s = entry_words(SchemeKind::X86, 0x0df7_6000 | 0x67, 0);
        assert!(s.contains("4 KB page, readable and runnable (no execute bit in 32-bit paging), writable (W), user code may use it (U)"), "{s}");
        assert!(s.contains("accessed (A) and written (D)"), "{s}");
        // Kernel text: P alone (kmap's perm 0).
        let s = entry_words(SchemeKind::X86, 0x0010_0000 | 0x1, 0);
        assert!(s.contains("read-only (no W), kernel only (no U)"), "{s}");
        // entrypgdir's 4 MB page: P W PS.
        assert!(entry_words(SchemeKind::X86, 0x83, 1).contains("4 MB page itself"));
        assert!(entry_words(SchemeKind::X86, 0x6, 0).contains("P is 0"));
    }
}
