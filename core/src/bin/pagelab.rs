//! `pagelab`: replay, check and print scenarios of the xv6 memory lab from
//! the command line.
//!
//! ```text
//! pagelab run FILE [--format text|json] [--quiet] [--boot]
//! pagelab check FILE
//! pagelab builtin [NAME]
//! pagelab decompose x86|sv39|sv32 ADDR
//! pagelab show FILE --pid PID
//! ```
//!
//! FILE is a path, `-` for standard input, or `builtin:NAME` for a built-in
//! scenario. Exit status: 0 when all went well, 1 when the lab refused an
//! operation (or `show` found no such process), 2 for a file that cannot be
//! read or parsed and for bad command lines.

use std::io::Read as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use pagelab_core::kernel::SysRet;
use pagelab_core::lab::scenario::{self, ParseError};
use pagelab_core::lab::{Lab, Op, Preset, Scenario, summary, view};
use pagelab_core::scheme::SchemeKind;
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Counts, TraceEvent};

/// Replay xv6 memory-management scenarios: every kalloc, kfree and page-table
/// write of userinit, fork, exec, sbrk, exit, wait and shared memory.
#[derive(Parser)]
#[command(name = "pagelab", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Replay a scenario and print each step with its events.
    Run {
        /// The scenario: a path, `-` for standard input, or `builtin:NAME`.
        file: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Print only each step's header and page counts (JSON: leave out the events).
        #[arg(long)]
        quiet: bool,
        /// Also print what booting the machine did.
        #[arg(long)]
        boot: bool,
    },
    /// Print a built-in scenario, or list them.
    Builtin {
        /// Which one (leave out to list them).
        name: Option<String>,
    },
    /// Parse a scenario and print its canonical form.
    Check {
        /// The scenario: a path, `-` for standard input, or `builtin:NAME`.
        file: String,
    },
    /// Cut a virtual address into the fields of a paging scheme.
    Decompose {
        /// x86, sv39 or sv32.
        scheme: String,
        /// The address, decimal or 0x-hex.
        addr: String,
    },
    /// Replay a scenario, then print a process's page table and user stack.
    Show {
        /// The scenario: a path, `-` for standard input, or `builtin:NAME`.
        file: String,
        /// The process.
        #[arg(long)]
        pid: u32,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Exit statuses.
const REFUSED: u8 = 1;
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Run { file, format, quiet, boot } => run(&file, format, quiet, boot),
        Cmd::Builtin { name } => builtin(name.as_deref()),
        Cmd::Check { file } => load(&file).map(|s| print!("{}", scenario::print(&s))),
        Cmd::Decompose { scheme, addr } => decompose(&scheme, &addr),
        Cmd::Show { file, pid } => show(&file, pid),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
    }
}

/// The text of `file`: a path, `-` (standard input) or `builtin:NAME`.
fn read_text(file: &str) -> Result<String, u8> {
    if let Some(name) = file.strip_prefix("builtin:") {
        return scenario::builtin(name).map(String::from).ok_or_else(|| {
            eprintln!("pagelab: there is no built-in scenario {name:?}; `pagelab builtin` lists them");
            BAD_INPUT
        });
    }
    let mut bytes = Vec::new();
    let r = if file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(file).map(|b| bytes = b)
    };
    if let Err(e) = r {
        eprintln!("pagelab: cannot read {file}: {e}");
        return Err(BAD_INPUT);
    }
    String::from_utf8(bytes).map_err(|e| {
        eprintln!("pagelab: {file} is not UTF-8 text (byte {} is not)", e.utf8_error().valid_up_to());
        BAD_INPUT
    })
}

/// Read and parse `file`; a parse error is printed as `FILE:LINE:COL: message`.
fn load(file: &str) -> Result<Scenario, u8> {
    let text = read_text(file)?;
    scenario::parse(&text).map_err(|ParseError { line, col, message }| {
        let name = if file == "-" { "<stdin>" } else { file };
        eprintln!("{name}:{line}:{col}: {message}");
        BAD_INPUT
    })
}

/// What a step returned, as text: `3`, `-1 (why)`, `1, bytes 0x14`.
fn result_text(r: &SysRet) -> String {
    let mut s = r.value.to_string();
    if let Some(e) = &r.error {
        s.push_str(&format!(" ({e})"));
    }
    if !r.bytes.is_empty() {
        s.push_str(&format!(", bytes {}", scenario::bytes_literal(&r.bytes)));
    }
    s
}

fn print_events(events: &[TraceEvent], elided: u64, scheme: SchemeKind) {
    for ev in events {
        let indent = 4 + 2 * usize::from(ev.depth);
        println!("{:indent$}{}", "", scenario::event_text(ev, scheme));
    }
    if elided > 0 {
        println!("    ... and {elided} more events not kept");
    }
}

/// The step in short: pages by xv6 function, then entries by page table.
fn print_summary(step: &pagelab_core::lab::Step, port: pagelab_core::kernel::Port, scheme: SchemeKind) {
    let s = &step.summary;
    println!("  in short:");
    for l in s.lines() {
        println!("    {l}");
    }
    for m in &s.mappings {
        println!("    {}", summary::mappings_text(m, port, scheme));
    }
    if s.partial {
        println!("    (the trace was full: these lines leave out what it did not keep)");
    }
}

fn print_counts(counts: &Counts, nfree: u64) {
    println!("  {counts}");
    println!("  free pages: {nfree}");
}

/// A step in the JSON output.
#[derive(Serialize)]
struct JsonStep<'a> {
    /// Step number, from 1.
    step: usize,
    /// The operation as a scenario line.
    line: String,
    op: &'a Op,
    result: &'a SysRet,
    counts: Counts,
    nfree: u64,
    elided: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<&'a [TraceEvent]>,
}

#[derive(Serialize)]
struct JsonBoot<'a> {
    counts: Counts,
    nfree: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<&'a [TraceEvent]>,
}

#[derive(Serialize)]
struct JsonRefused<'a> {
    step: usize,
    line: String,
    reject: &'a pagelab_core::kernel::Reject,
    message: String,
}

#[derive(Serialize)]
struct JsonRun<'a> {
    preset: Preset,
    shm: ShmMode,
    boot: JsonBoot<'a>,
    steps: Vec<JsonStep<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<JsonRefused<'a>>,
}

fn run(file: &str, format: Format, quiet: bool, boot: bool) -> Result<(), u8> {
    let s = load(file)?;
    // The preset line's symbol overrides (end=, data=, ...) apply here too, as in `show`.
    let mut lab = match Lab::with_layout(s.preset, s.layout.clone(), s.shm) {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("pagelab: the preset line makes an impossible machine: {e}");
            return Err(BAD_INPUT);
        }
    };
    let scheme = lab.kernel().info().scheme;
    let port = lab.kernel().info().port;
    let text = format == Format::Text;
    if text {
        println!("preset {}, shm {}", s.preset, s.shm.name());
        let b = lab.boot_step();
        println!("boot:");
        if boot && !quiet {
            print_events(&b.events, b.elided, scheme);
        }
        print_counts(&b.counts, b.nfree);
    }
    let mut refused = None;
    for (i, op) in s.ops.iter().enumerate() {
        match lab.apply(op.clone()) {
            Ok(step) => {
                if text {
                    println!("step {}: {}  -> {}", i + 1, scenario::print_op(op), result_text(&step.result));
                    if !quiet {
                        print_events(&step.events, step.elided, scheme);
                        print_summary(step, port, scheme);
                    }
                    print_counts(&step.counts, step.nfree);
                }
            }
            Err(reject) => {
                let name = if file == "-" { "<stdin>" } else { file };
                let line = scenario::print_op(op);
                if text {
                    println!("step {}: {line}  -> refused: {reject}", i + 1);
                }
                eprintln!("{name}: step {} ({line}) was refused: {reject}", i + 1);
                refused = Some((i, reject));
                break;
            }
        }
    }
    if !text {
        let b = lab.boot_step();
        let steps = lab
            .steps()
            .iter()
            .enumerate()
            .map(|(i, st)| JsonStep {
                step: i + 1,
                line: scenario::print_op(&st.op),
                op: &st.op,
                result: &st.result,
                counts: st.counts,
                nfree: st.nfree,
                elided: st.elided,
                events: (!quiet).then_some(st.events.as_slice()),
            })
            .collect();
        let doc = JsonRun {
            preset: s.preset,
            shm: s.shm,
            boot: JsonBoot {
                counts: b.counts,
                nfree: b.nfree,
                events: (boot && !quiet).then_some(b.events.as_slice()),
            },
            steps,
            refused: refused.as_ref().map(|(i, reject)| JsonRefused {
                step: i + 1,
                line: scenario::print_op(&s.ops[*i]),
                reject,
                message: reject.to_string(),
            }),
        };
        match serde_json::to_string_pretty(&doc) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("pagelab: cannot write JSON: {e}");
                return Err(BAD_INPUT);
            }
        }
    }
    if refused.is_some() { Err(REFUSED) } else { Ok(()) }
}

fn builtin(name: Option<&str>) -> Result<(), u8> {
    match name {
        None => {
            for (name, text) in scenario::builtins() {
                let about = text.lines().next().and_then(|l| l.strip_prefix("# ")).unwrap_or("");
                println!("{name:<16}{about}");
            }
            Ok(())
        }
        Some(name) => match scenario::builtin(name) {
            Some(text) => {
                print!("{text}");
                Ok(())
            }
            None => {
                let names: Vec<&str> = scenario::builtins().iter().map(|(n, _)| *n).collect();
                eprintln!("pagelab: there is no built-in scenario {name:?}; the built-ins are {}", names.join(", "));
                Err(BAD_INPUT)
            }
        },
    }
}

/// A number in decimal or 0x-hex.
fn parse_addr(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn decompose(scheme: &str, addr: &str) -> Result<(), u8> {
    let Some(kind) = SchemeKind::from_name(scheme) else {
        eprintln!("pagelab: unknown scheme {scheme:?}; it is x86, sv39 or sv32");
        return Err(BAD_INPUT);
    };
    let Some(va) = parse_addr(addr) else {
        eprintln!("pagelab: {addr:?} is not an address (decimal, or hex like 0x80001234)");
        return Err(BAD_INPUT);
    };
    let d = match kind.decompose(va) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("pagelab: {e}");
            return Err(BAD_INPUT);
        }
    };
    println!("{kind}");
    println!("va {va:#x}");
    let name_w = d.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &d.fields {
        let bits = format!("{}..{}", f.hi, f.lo);
        let width = f.width() as usize;
        println!("{:<name_w$}  bits {bits:<6} {:<#12x} 0b{:0width$b}", f.name, f.value, f.value);
    }
    Ok(())
}

fn show(file: &str, pid: u32) -> Result<(), u8> {
    let s = load(file)?;
    let lab = match Lab::from_scenario(&s) {
        Ok(lab) => lab,
        Err(e) => {
            let name = if file == "-" { "<stdin>" } else { file };
            eprintln!(
                "{name}: step {} ({}) was refused: {}",
                e.index + 1,
                scenario::print_op(&s.ops[e.index]),
                e.reject
            );
            return Err(REFUSED);
        }
    };
    let k = lab.kernel();
    if k.procs().get(pid).is_none() {
        eprintln!("pagelab: after the scenario there is no process with pid {pid}");
        return Err(REFUSED);
    }
    print!("{}", view::vmprint(k, pid));
    println!();
    print!("{}", view::stack_text(k, pid));
    Ok(())
}
