//! Addresses cut into their fields, checked against values worked out by
//! hand from the layouts in xv6's mmu.h and riscv.h.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use pagelab_core::scheme::{AddrError, FieldRole, SchemeKind};

/// (name, hi, lo, value) of each field.
fn fields(kind: SchemeKind, va: u64) -> Vec<(&'static str, u32, u32, u64)> {
    kind.decompose(va).unwrap().fields.into_iter().map(|f| (f.name, f.hi, f.lo, f.value)).collect()
}

#[test]
fn x86_addresses() {
    // 0x00403abc = 0000000001 | 0000000011 | 1010 1011 1100
    assert_eq!(
        fields(SchemeKind::X86, 0x0040_3abc),
        vec![("PDX", 31, 22, 1), ("PTX", 21, 12, 3), ("offset", 11, 0, 0xabc)]
    );
    // KERNBASE: the first kernel page-directory slot, 512.
    assert_eq!(
        fields(SchemeKind::X86, 0x8000_0000),
        vec![("PDX", 31, 22, 512), ("PTX", 21, 12, 0), ("offset", 11, 0, 0)]
    );
    // DEVSPACE 0xFE000000: PDX 1016.
    assert_eq!(fields(SchemeKind::X86, 0xFE00_0000)[0].3, 1016);
    // The last byte: every field at its maximum.
    assert_eq!(
        fields(SchemeKind::X86, 0xFFFF_FFFF),
        vec![("PDX", 31, 22, 1023), ("PTX", 21, 12, 1023), ("offset", 11, 0, 4095)]
    );
    assert_eq!(SchemeKind::X86.decompose(0x1_0000_0000), Err(AddrError::TooWide { va: 0x1_0000_0000, bits: 32 }));
}

#[test]
fn sv39_addresses() {
    // TRAPFRAME = MAXVA - 2 pages = 0x3f_ffff_e000: L2 255, L1 511, L0 510.
    assert_eq!(
        fields(SchemeKind::Sv39, 0x3f_ffff_e000),
        vec![
            ("sign extension", 63, 39, 0),
            ("L2", 38, 30, 255),
            ("L1", 29, 21, 511),
            ("L0", 20, 12, 510),
            ("offset", 11, 0, 0)
        ]
    );
    // KERNBASE 0x80000000: L2 2, L1 0, L0 0. UART0 0x10000000: L2 0, L1 128.
    assert_eq!(fields(SchemeKind::Sv39, 0x8000_0000)[1].3, 2);
    assert_eq!(fields(SchemeKind::Sv39, 0x1000_0000)[2].3, 128);
    // 0x2fb0 (the argv array of echo hello world): L0 2, offset 0xfb0.
    let d = SchemeKind::Sv39.decompose(0x2fb0).unwrap();
    assert_eq!((d.index(2), d.index(1), d.index(0), d.offset()), (Some(0), Some(0), Some(2), 0xfb0));
    // A sign-extended kernel address: bits 63..39 all ones.
    let hi = fields(SchemeKind::Sv39, 0xffff_ffc0_0000_1000);
    assert_eq!(hi[0], ("sign extension", 63, 39, (1 << 25) - 1));
    assert_eq!(hi[1], ("L2", 38, 30, 256));
}

#[test]
fn sv32_addresses() {
    assert_eq!(
        fields(SchemeKind::Sv32, 0xC040_1234),
        vec![("VPN[1]", 31, 22, 0x301), ("VPN[0]", 21, 12, 1), ("offset", 11, 0, 0x234)]
    );
}

#[test]
fn fields_put_back_together() {
    assert_eq!(SchemeKind::X86.compose(&[1, 3, 0xabc]), Ok(0x0040_3abc));
    assert_eq!(SchemeKind::Sv39.compose(&[0, 255, 511, 510, 0]), Ok(0x3f_ffff_e000));
    assert_eq!(
        SchemeKind::X86.compose(&[1024, 0, 0]),
        Err(AddrError::FieldTooWide { field: "PDX", value: 1024, bits: 10 })
    );
    assert!(SchemeKind::Sv39.compose(&[0, 0]).is_err());
    let d = SchemeKind::Sv39.decompose(0x1234).unwrap();
    assert_eq!(d.fields.iter().filter(|f| matches!(f.role, FieldRole::Index(_))).count(), 3);
}

#[test]
fn every_flag_bit_of_each_scheme_is_named_in_order() {
    use pagelab_core::scheme::SchemeKind;
    // x86 (mmu.h): P W U PWT PCD A D PS G, bits 0–8. RISC-V (the privileged
    // spec; xv6's riscv.h names V R W X U): V R W X U G A D, bits 0–7.
    let x86 = ["PTE_P", "PTE_W", "PTE_U", "PTE_PWT", "PTE_PCD", "PTE_A", "PTE_D", "PTE_PS", "PTE_G"];
    let rv = ["PTE_V", "PTE_R", "PTE_W", "PTE_X", "PTE_U", "PTE_G", "PTE_A", "PTE_D"];
    for (scheme, names) in [(SchemeKind::X86, &x86[..]), (SchemeKind::Sv39, &rv[..]), (SchemeKind::Sv32, &rv[..])] {
        let all = scheme.flag_bits(u64::MAX);
        let got: Vec<(&str, u32, bool)> = all.iter().map(|b| (b.name, b.bit, b.set)).collect();
        let want: Vec<(&str, u32, bool)> = names.iter().zip(0u32..).map(|(&n, i)| (n, i, true)).collect();
        assert_eq!(got, want, "{scheme:?}");
        // One bit set: only that one reads as set; the list serializes as a JSON list.
        let one = scheme.flag_bits(1 << 2);
        assert_eq!(one.iter().filter(|b| b.set).map(|b| b.bit).collect::<Vec<_>>(), vec![2]);
        let json = serde_json::to_value(one).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(names.len()));
        assert_eq!(json[2], serde_json::json!({"name": names[2], "bit": 2, "set": true}));
    }
}
