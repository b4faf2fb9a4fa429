//! Criterion benchmarks of the core: translate, mappages, setupkvm, fork,
//! exec and the notes' whole story. Run with `cargo bench -p pagelab-core`;
//! `scripts/bench.sh` also runs the same workloads compiled to wasm.

use criterion::{Criterion, criterion_group, criterion_main};
use pagelab_core::lab::Preset;
use std::hint::black_box;

#[path = "workloads.rs"]
mod workloads;

fn benches(c: &mut Criterion) {
    for preset in [Preset::Xv6Public, Preset::Xv6Riscv] {
        let lab = workloads::after_story(preset);
        c.bench_function(&format!("translate x1000 ({preset})"), |b| b.iter(|| black_box(workloads::translate(&lab))));
        let mut lab = workloads::after_story(preset);
        c.bench_function(&format!("fork+exit+wait ({preset})"), |b| b.iter(|| workloads::fork_cycle(&mut lab)));
        let mut lab = workloads::after_story(preset);
        c.bench_function(&format!("fork+exec echo+exit+wait ({preset})"), |b| {
            b.iter(|| workloads::exec_cycle(&mut lab))
        });
    }
    let mut lab = workloads::after_story(Preset::Xv6Public);
    let mut g = c.benchmark_group("heavy");
    g.sample_size(10);
    g.bench_function("sbrk 112 MiB + sbrk -112 MiB, recorded (xv6-public)", |b| {
        b.iter(|| workloads::heavy_sbrk(&mut lab))
    });
    g.finish();
    c.bench_function("rv64 hart: 3,001 instructions (counting loop)", |b| {
        b.iter(|| black_box(workloads::hart_loop(1000)))
    });
    c.bench_function("x86 cpu: 3,002 instructions (counting loop)", |b| {
        b.iter(|| black_box(workloads::x86_loop(1000, None)))
    });
    let mut cache = pagelab_core::cpu::x86::DecodeCache::new();
    c.bench_function("x86 cpu with its decode cache: 3,002 instructions (counting loop)", |b| {
        b.iter(|| black_box(workloads::x86_loop(1000, Some(&mut cache))))
    });
    let sh = workloads::sh_at_prompt();
    c.bench_function("run: sh + echo hello world, 3,396 instructions (xv6-riscv-tiny)", |b| {
        b.iter(|| black_box(workloads::echo_hello_world(sh.clone())))
    });
    let sh = workloads::sh_at_prompt_x86();
    c.bench_function("run: sh + echo hello world, 3,360 instructions (xv6-public-tiny)", |b| {
        b.iter(|| black_box(workloads::echo_hello_world(sh.clone())))
    });
    c.bench_function("run: sh + echo hello world, 3,360 instructions (xv6-public-tiny, no decode cache)", |b| {
        b.iter(|| black_box(workloads::echo_hello_world(workloads::without_decode_cache(sh.clone()))))
    });
    let spin = workloads::spin_at_prompt(1 << 16);
    let mut g = c.benchmark_group("run");
    g.sample_size(10);
    g.bench_function("sh + a 262,144-instruction loop (xv6-riscv-tiny)", |b| {
        b.iter(|| black_box(workloads::spin(spin.clone())))
    });
    g.finish();
    let (mut k, pgdir) = workloads::x86_kernel();
    c.bench_function("mappages 64 pages (x86)", |b| b.iter(|| workloads::mappages_64(&mut k, pgdir)));
    c.bench_function("setupkvm+freevm (xv6-public, 224 MB)", |b| b.iter(|| workloads::setupkvm(&mut k)));
    let mut g = c.benchmark_group("story");
    g.sample_size(10);
    for preset in Preset::ALL {
        g.bench_function(format!("boot + story ({preset})"), |b| b.iter(|| black_box(workloads::story(preset))));
    }
    g.finish();
}

criterion_group!(core_benches, benches);
criterion_main!(core_benches);
