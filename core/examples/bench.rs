//! The criterion workloads as a plain program, so that the same code can be
//! timed natively and as wasm (`scripts/bench.sh` builds it for
//! `wasm32-wasip1` and runs it under Node's V8). Prints one line per
//! workload: name, iterations, median time per iteration in microseconds.

use pagelab_core::lab::Preset;
use std::hint::black_box;
use std::time::Instant;

#[path = "../benches/workloads.rs"]
mod workloads;

/// Median of `runs` timings of `iters` iterations of `f`, per iteration, in µs,
/// after a warm-up of at least 100 ms (as criterion warms up): V8 first runs
/// wasm through its baseline compiler and optimises hot functions only later,
/// so without it the wasm figures would time the compiler as well.
fn time(name: &str, runs: usize, iters: u32, mut f: impl FnMut()) {
    let warm = Instant::now();
    while warm.elapsed().as_millis() < 100 {
        f();
    }
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(iters)
        })
        .collect();
    t.sort_by(f64::total_cmp);
    println!("{name}\t{iters}\t{:.1}", t[runs / 2]);
}

fn main() {
    for preset in [Preset::Xv6Public, Preset::Xv6Riscv] {
        let lab = workloads::after_story(preset);
        time(&format!("translate x1000 ({preset})"), 9, 20, || {
            black_box(workloads::translate(&lab));
        });
        let mut lab = workloads::after_story(preset);
        time(&format!("fork+exit+wait ({preset})"), 9, 10, || workloads::fork_cycle(&mut lab));
        let mut lab = workloads::after_story(preset);
        time(&format!("fork+exec echo+exit+wait ({preset})"), 9, 10, || workloads::exec_cycle(&mut lab));
    }
    time("rv64 hart: 3,001 instructions (counting loop)", 9, 100, || {
        black_box(workloads::hart_loop(1000));
    });
    time("x86 cpu: 3,002 instructions (counting loop)", 9, 100, || {
        black_box(workloads::x86_loop(1000, None));
    });
    let mut cache = pagelab_core::cpu::x86::DecodeCache::new();
    time("x86 cpu with its decode cache: 3,002 instructions (counting loop)", 9, 100, || {
        black_box(workloads::x86_loop(1000, Some(&mut cache)));
    });
    let mut lab = workloads::after_story(Preset::Xv6Public);
    time("sbrk 112 MiB + sbrk -112 MiB, recorded (xv6-public)", 5, 1, || workloads::heavy_sbrk(&mut lab));
    let sh = workloads::sh_at_prompt();
    time("run: sh + echo hello world, 3,396 instructions (xv6-riscv-tiny)", 9, 10, || {
        black_box(workloads::echo_hello_world(sh.clone()));
    });
    let sh = workloads::sh_at_prompt_x86();
    time("run: sh + echo hello world, 3,360 instructions (xv6-public-tiny)", 9, 10, || {
        black_box(workloads::echo_hello_world(sh.clone()));
    });
    time("run: sh + echo hello world, 3,360 instructions (xv6-public-tiny, no decode cache)", 9, 10, || {
        black_box(workloads::echo_hello_world(workloads::without_decode_cache(sh.clone())));
    });
    let spin = workloads::spin_at_prompt(1 << 16);
    time("run: sh + a 262,144-instruction loop (xv6-riscv-tiny)", 5, 1, || {
        black_box(workloads::spin(spin.clone()));
    });
    let (mut k, pgdir) = workloads::x86_kernel();
    time("mappages 64 pages (x86)", 9, 200, || workloads::mappages_64(&mut k, pgdir));
    time("setupkvm+freevm (xv6-public, 224 MB)", 9, 5, || workloads::setupkvm(&mut k));
    for preset in [Preset::Xv6Public, Preset::Xv6Riscv] {
        time(&format!("boot ({preset})"), 9, 1, || {
            black_box(pagelab_core::lab::Lab::new(preset, pagelab_core::shm::ShmMode::Lab));
        });
    }
    for preset in Preset::ALL {
        time(&format!("boot + story ({preset})"), 5, 1, || {
            black_box(workloads::story(preset));
        });
    }
}
