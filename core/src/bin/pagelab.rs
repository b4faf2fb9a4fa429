//! `pagelab`: replay, check and print scenarios of the xv6 memory lab from
//! the command line.
//!
//! ```text
//! pagelab run FILE [--format text|json] [--quiet] [--boot]
//! pagelab check FILE
//! pagelab builtin [NAME]
//! pagelab decompose x86|sv39|sv32 ADDR
//! pagelab show FILE --pid PID [--format text|json]
//! pagelab quiz SET [--seed S | --student ID] [--format text|json] [--answers]
//! pagelab grade SET ANSWERS.json [--seed S | --student ID] [--format text|json]
//! ```
//!
//! FILE is a path, `-` for standard input, or `builtin:NAME` for a built-in
//! scenario. Exit status: 0 when all went well, 1 when the lab refused an
//! operation (or `show` found no such process), 2 for a file that cannot be
//! read or parsed and for bad command lines, 3 when the output cannot be
//! written (a closed pipe, a full disk). Every failure is one line on
//! standard error; nothing panics.

use std::io::{self, Read as _, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use pagelab_core::lab::quiz::{self, Question, answer, sets};
use pagelab_core::lab::scenario::{self, ParseError};
use pagelab_core::lab::{Lab, Op, Preset, ReplayError, Scenario, summary, view};
use pagelab_core::port::SysRet;
use pagelab_core::run::transcript;
use pagelab_core::scheme::SchemeKind;
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
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Boot a machine, run the real init and sh on pagelab's CPU, type each
    /// line at sh, and print what happened: the system calls and faults in
    /// order, the console, and each process's registers and page table at
    /// the end (the text the bare-metal kernel prints for QEMU's CPU).
    Programs {
        /// The machine: a preset name, or a scenario's preset line
        /// (`xv6-public data=0x8012a000 end=0x801cd000`).
        #[arg(long, default_value = "xv6-riscv")]
        preset: String,
        /// Instructions each line may run at most.
        #[arg(long, default_value_t = 50_000_000)]
        budget: u64,
        /// The lines to type at sh, in order.
        lines: Vec<String>,
    },
    /// Print a link that opens a scenario in the lab, at a step, optionally in predict mode.
    Link {
        /// The scenario: a path, `-` for standard input, or `builtin:NAME`.
        file: String,
        /// The step it opens at (default: the last; in predict mode, 0).
        #[arg(long)]
        step: Option<usize>,
        /// Predict mode: questions from the `ask` lines (or, with none, before every operation).
        #[arg(long)]
        predict: bool,
        #[command(flatten)]
        seed: SeedArgs,
        /// The lab's address, put in front of the fragment (`https://example.edu/pagelab/`).
        #[arg(long)]
        site: Option<String>,
    },
    /// Print the questions of an exercise set (a scenario with `ask` lines).
    Quiz {
        /// The set: a path, `-` for standard input, or `builtin:NAME` (`pagelab builtin` lists them).
        file: String,
        #[command(flatten)]
        seed: SeedArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also print each answer, why, and the hints (for instructors).
        #[arg(long)]
        answers: bool,
    },
    /// Grade a file of answers to an exercise set, printing a score and feedback.
    Grade {
        /// The set: a path, `-` for standard input, or `builtin:NAME`.
        file: String,
        /// The answers: a JSON file (see the README), or `-` for standard input.
        answers: String,
        #[command(flatten)]
        seed: SeedArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Which variant of a set: a seed or a student id (for `grade`, either overrides the answer file's).
#[derive(clap::Args)]
struct SeedArgs {
    /// The seed that chooses every `?` (a whole number; default 0).
    #[arg(long)]
    seed: Option<String>,
    /// A student id, turned into the seed (instead of --seed).
    #[arg(long)]
    student: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Exit statuses.
const REFUSED: u8 = 1;
const BAD_INPUT: u8 = 2;
const NO_OUTPUT: u8 = 3;

/// How a command ends when it does not succeed.
enum Fail {
    /// With this exit status; the message is on standard error already.
    Status(u8),
    /// Writing the output failed.
    Output(io::Error),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Output(e)
    }
}

/// A command's result.
type Res = Result<(), Fail>;

/// Say `msg` on standard error, as one line. (If even that fails, there is
/// nobody to tell.)
fn say(msg: &str) {
    let _ = writeln!(io::stderr(), "{}", scenario::visible(msg));
}

/// A writer that shows control bytes (other than newline and tab) as `\xNN`,
/// so a program name or a path in a scenario cannot drive the terminal.
struct Clean<W: Write>(W);

impl<W: Write> Write for Clean<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            if (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f {
                self.0.write_all(&buf[start..i])?;
                write!(self.0, "\\x{b:02x}")?;
                start = i + 1;
            }
        }
        self.0.write_all(&buf[start..])?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Say `msg` and fail with `status`.
fn fail<T>(status: u8, msg: &str) -> Result<T, Fail> {
    say(msg);
    Err(Fail::Status(status))
}

/// Parse the command line. Help and the version go to standard output (and a
/// failure to write them is one line and status 3, as for any output); a
/// mistake is one line on standard error and status 2.
fn parse_cli() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;
    match Cli::try_parse() {
        Ok(c) => Ok(c),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let mut out = io::stdout().lock();
            let text = e.to_string();
            let nl = if text.ends_with('\n') { "" } else { "\n" };
            match write!(out, "{text}{nl}").and_then(|()| out.flush()) {
                Ok(()) => Err(ExitCode::SUCCESS),
                Err(err) => {
                    say(&format!("pagelab: cannot write the output: {err}"));
                    Err(ExitCode::from(NO_OUTPUT))
                }
            }
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            say(
                "pagelab: a command is needed: run, show, programs, check, builtin, decompose, quiz or grade (pagelab --help shows how to use them)",
            );
            Err(ExitCode::from(BAD_INPUT))
        }
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("the command line is wrong");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            say(&format!("pagelab: {first} (pagelab --help shows how to use it)"));
            Err(ExitCode::from(BAD_INPUT))
        }
    }
}

fn main() -> ExitCode {
    let cli = match parse_cli() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(Clean(stdout.lock()));
    let r = match cli.cmd {
        Cmd::Run { file, format, quiet, boot } => run(&mut w, &file, format, quiet, boot),
        Cmd::Builtin { name } => builtin(&mut w, name.as_deref()),
        Cmd::Check { file } => load(&file).and_then(|s| Ok(write!(w, "{}", scenario::print(&s))?)),
        Cmd::Decompose { scheme, addr } => decompose(&mut w, &scheme, &addr),
        Cmd::Show { file, pid, format } => show(&mut w, &file, pid, format),
        Cmd::Programs { preset, budget, lines } => programs(&mut w, &preset, budget, &lines),
        Cmd::Link { file, step, predict, seed, site } => {
            link_cmd(&mut w, &file, step, predict, (seed.seed.as_deref(), seed.student.as_deref()), site.as_deref())
        }
        Cmd::Quiz { file, seed, format, answers } => {
            quiz_cmd(&mut w, &file, seed.seed.as_deref(), seed.student.as_deref(), format, answers)
        }
        Cmd::Grade { file, answers, seed, format } => {
            grade_cmd(&mut w, &file, &answers, seed.seed.as_deref(), seed.student.as_deref(), format)
        }
    };
    // What was written goes out even when the command failed afterwards.
    let flushed = w.flush();
    match (r, flushed) {
        (Err(Fail::Output(e)), _) | (_, Err(e)) => {
            say(&format!("pagelab: cannot write the output: {e}"));
            ExitCode::from(NO_OUTPUT)
        }
        (Err(Fail::Status(code)), Ok(())) => ExitCode::from(code),
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
    }
}

/// Standard input as bytes; an error if it has nothing. (A closed standard
/// input cannot be told from an empty one: the Rust runtime reopens a closed
/// descriptor 0 on /dev/null. A scenario read from standard input is never
/// meant to be empty.)
fn read_stdin() -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    io::stdin().read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.is_empty() {
        return Err("standard input is empty or closed: pipe a scenario into it, or give a file".into());
    }
    Ok(bytes)
}

/// The text of `file`: a path, `-` (standard input) or `builtin:NAME`.
fn read_text(file: &str) -> Result<String, Fail> {
    if let Some(name) = file.strip_prefix("builtin:") {
        return match scenario::builtin(name) {
            Some(t) => Ok(String::from(t)),
            None => fail(
                BAD_INPUT,
                &format!("pagelab: there is no built-in scenario {name:?}; `pagelab builtin` lists them"),
            ),
        };
    }
    let r = if file == "-" { read_stdin() } else { std::fs::read(file).map_err(|e| e.to_string()) };
    let bytes = match r {
        Ok(b) => b,
        // A built-in's name without `builtin:` in front, and no such file: say how to name it.
        Err(e) if scenario::builtin(file).is_some() || sets::set_text(file, 0).is_some() => {
            return fail(
                BAD_INPUT,
                &format!("pagelab: cannot read {file}: {e} (for the built-in {file}, write builtin:{file})"),
            );
        }
        Err(e) => return fail(BAD_INPUT, &format!("pagelab: cannot read {file}: {e}")),
    };
    String::from_utf8(bytes).or_else(|e| {
        fail(BAD_INPUT, &format!("pagelab: {file} is not UTF-8 text (byte {} is not)", e.utf8_error().valid_up_to()))
    })
}

/// The name of `file` in messages.
fn name_of(file: &str) -> &str {
    if file == "-" { "<stdin>" } else { file }
}

/// Read and parse `file`; a parse error is printed as `FILE:LINE:COL: message`.
fn load(file: &str) -> Result<Scenario, Fail> {
    let text = read_text(file)?;
    scenario::parse(&text).or_else(|ParseError { line, col, message }| {
        fail(BAD_INPUT, &format!("{}:{line}:{col}: {message}", name_of(file)))
    })
}

fn print_events(w: &mut dyn Write, events: &[TraceEvent], elided: u64, scheme: SchemeKind) -> io::Result<()> {
    for ev in events {
        let indent = 4 + 2 * usize::from(ev.depth);
        writeln!(w, "{:indent$}{}", "", scenario::event_text(ev, scheme))?;
    }
    if elided > 0 {
        writeln!(w, "    ... and {elided} more events not kept")?;
    }
    Ok(())
}

/// The step in short: pages by xv6 function, then entries by page table.
fn print_summary(
    w: &mut dyn Write,
    step: &pagelab_core::lab::Step,
    port: pagelab_core::port::Port,
    scheme: SchemeKind,
) -> io::Result<()> {
    let s = &step.summary;
    writeln!(w, "  in short:")?;
    for l in s.lines() {
        writeln!(w, "    {l}")?;
    }
    for m in &s.mappings {
        writeln!(w, "    {}", summary::mappings_text(m, port, scheme))?;
    }
    if s.partial {
        writeln!(w, "    (the trace was full: these lines leave out what it did not keep)")?;
    }
    Ok(())
}

fn print_counts(w: &mut dyn Write, counts: &Counts, nfree: u64) -> io::Result<()> {
    write!(w, "{}", counts.step_lines(nfree))
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
    reject: &'a pagelab_core::port::Reject,
    message: String,
}

/// Write `v` as compact JSON, in the middle of a document (no newline).
fn json(w: &mut dyn Write, v: &impl Serialize) -> Res {
    serde_json::to_writer(&mut *w, v).map_err(|e| Fail::Output(e.into()))
}

/// Write `doc` as one line of compact JSON.
fn write_json(w: &mut dyn Write, doc: &impl Serialize) -> Res {
    json(w, doc)?;
    writeln!(w)?;
    Ok(())
}

/// Boot the preset line's machine, or say why it cannot boot (blaming the preset line).
fn boot(s: &Scenario) -> Result<Lab, Fail> {
    Lab::with_layout(s.preset, s.layout.clone(), s.shm)
        .or_else(|e| fail(BAD_INPUT, &format!("pagelab: the preset line makes a machine that cannot boot: {e}")))
}

/// Replay FILE and print each step as it is made, text or JSON. A step's
/// events are dropped once printed (and with `--quiet` never recorded), so
/// memory stays bounded however long the file is.
fn run(w: &mut dyn Write, file: &str, format: Format, quiet: bool, with_boot: bool) -> Res {
    let s = load(file)?;
    // The preset line's symbol overrides (end=, data=, ...) apply here too, as in `show`.
    let mut lab = boot(&s)?;
    lab.set_recording(!quiet);
    let scheme = lab.kernel().info().scheme;
    let port = lab.kernel().info().port;
    let text = format == Format::Text;
    let b = lab.boot_step();
    if text {
        writeln!(w, "preset {}, shm {}", s.preset, s.shm.name())?;
        writeln!(w, "boot:")?;
        if with_boot && !quiet {
            print_events(w, &b.events, b.elided, scheme)?;
        }
        print_counts(w, &b.counts, b.nfree)?;
    } else {
        // The document is written a piece at a time, in the order of JsonRun's fields.
        write!(w, "{{\"preset\":")?;
        json(w, &s.preset)?;
        write!(w, ",\"shm\":")?;
        json(w, &s.shm)?;
        write!(w, ",\"boot\":")?;
        let boot =
            JsonBoot { counts: b.counts, nfree: b.nfree, events: (with_boot && !quiet).then_some(b.events.as_slice()) };
        json(w, &boot)?;
        write!(w, ",\"steps\":[")?;
    }
    let mut refused = None;
    for (i, op) in s.ops.iter().enumerate() {
        match lab.apply(op.clone()) {
            Ok(step) => {
                if text {
                    writeln!(w, "step {}: {}  -> {}", i + 1, scenario::print_op(op), step.result)?;
                    if !quiet {
                        print_events(w, &step.events, step.elided, scheme)?;
                        print_summary(w, step, port, scheme)?;
                    }
                    print_counts(w, &step.counts, step.nfree)?;
                } else {
                    if i > 0 {
                        write!(w, ",")?;
                    }
                    let js = JsonStep {
                        step: i + 1,
                        line: scenario::print_op(&step.op),
                        op: &step.op,
                        result: &step.result,
                        counts: step.counts,
                        nfree: step.nfree,
                        elided: step.elided,
                        events: (!quiet).then_some(step.events.as_slice()),
                    };
                    json(w, &js)?;
                }
                lab.forget_events(i);
            }
            Err(reject) => {
                let line = scenario::print_op(op);
                if text {
                    writeln!(w, "step {}: {line}  -> refused: {reject}", i + 1)?;
                }
                say(&format!("{}: step {} ({line}) was refused: {reject}", name_of(file), i + 1));
                refused = Some((i, reject));
                break;
            }
        }
    }
    if !text {
        write!(w, "]")?;
        if let Some((i, reject)) = &refused {
            write!(w, ",\"refused\":")?;
            let r =
                JsonRefused { step: i + 1, line: scenario::print_op(&s.ops[*i]), reject, message: reject.to_string() };
            json(w, &r)?;
        }
        writeln!(w, "}}")?;
    }
    if refused.is_some() { Err(Fail::Status(REFUSED)) } else { Ok(()) }
}

fn builtin(w: &mut dyn Write, name: Option<&str>) -> Res {
    match name {
        None => {
            for (name, text) in scenario::builtins() {
                let about = text.lines().next().and_then(|l| l.strip_prefix("# ")).unwrap_or("");
                writeln!(w, "{name:<18}{about}")?;
            }
            for (name, about) in sets::SETS {
                writeln!(w, "{name:<18}{about} (an exercise set: pagelab quiz builtin:{name})")?;
            }
            Ok(())
        }
        Some(name) => match scenario::builtin(name).map(String::from).or_else(|| sets::set_text(name, 0)) {
            Some(text) => Ok(write!(w, "{text}")?),
            None => {
                let names: Vec<&str> =
                    scenario::builtins().iter().map(|(n, _)| *n).chain(sets::SETS.iter().map(|(n, _)| *n)).collect();
                fail(
                    BAD_INPUT,
                    &format!("pagelab: there is no built-in scenario {name:?}; the built-ins are {}", names.join(", ")),
                )
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

fn decompose(w: &mut dyn Write, scheme: &str, addr: &str) -> Res {
    let Some(kind) = SchemeKind::from_name(scheme) else {
        return fail(BAD_INPUT, &format!("pagelab: unknown scheme {scheme:?}; it is x86, sv39 or sv32"));
    };
    let Some(va) = parse_addr(addr) else {
        return fail(BAD_INPUT, &format!("pagelab: {addr:?} is not an address (decimal, or hex like 0x80001234)"));
    };
    let d = match kind.decompose(va) {
        Ok(d) => d,
        Err(e) => return fail(BAD_INPUT, &format!("pagelab: {e}")),
    };
    writeln!(w, "{kind}")?;
    writeln!(w, "va {va:#x}")?;
    let name_w = d.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &d.fields {
        let bits = format!("{}..{}", f.hi, f.lo);
        let width = f.width() as usize;
        writeln!(w, "{:<name_w$}  bits {bits:<6} {:<#12x} 0b{:0width$b}", f.name, f.value, f.value)?;
    }
    Ok(())
}

/// One valid page-table entry, for `show --format json`.
#[derive(Serialize)]
struct JsonEntry {
    level: u32,
    index: u64,
    /// The first virtual address it covers (hex).
    va: String,
    /// Its value (hex).
    pte: String,
    /// The next table or the frame it points to (hex).
    pa: String,
    /// Its set flags by name.
    flags: Vec<&'static str>,
    /// True if it maps memory (a leaf).
    leaf: bool,
}

#[derive(Serialize)]
struct JsonRegion {
    kind: view::RegionKind,
    label: String,
    start: String,
    end: String,
}

#[derive(Serialize)]
struct JsonWord {
    va: String,
    value: String,
    role: view::StackRole,
    describe: String,
    sp: bool,
}

#[derive(Serialize)]
struct JsonShow {
    preset: Preset,
    pid: u32,
    name: String,
    state: String,
    sz: String,
    /// The root of its page table (hex).
    root: String,
    /// sp as exec left it, if the process has called exec.
    sp: Option<String>,
    entries: Vec<JsonEntry>,
    regions: Vec<JsonRegion>,
    stack: Vec<JsonWord>,
}

/// `pagelab programs`: boot `preset`, type `lines` at sh, print the transcript.
fn programs(w: &mut dyn Write, preset: &str, budget: u64, lines: &[String]) -> Res {
    let line = preset.trim();
    let line = line.strip_prefix("preset ").unwrap_or(line);
    let s = match scenario::parse(&format!("preset {line}\n")) {
        Ok(s) => s,
        Err(e) => return fail(BAD_INPUT, &format!("pagelab: --preset {line:?}: {e}")),
    };
    if let Err(e) = s.layout.check(s.preset) {
        return fail(BAD_INPUT, &format!("pagelab: --preset {line:?}: {e}"));
    }
    if let Some(bad) = lines.iter().find(|l| l.len() > 127 || l.bytes().any(|b| b < 0x20 || b == 0x7f)) {
        return fail(
            BAD_INPUT,
            &format!("pagelab: the line {bad:?} is too long for sh (127 bytes at most) or holds a control character"),
        );
    }
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let booted = match s.preset.port() {
        pagelab_core::sys::Port::Xv6Public => pagelab_core::x86::run::Runner::boot(s.preset.x86_layout(&s.layout))
            .map(|mut r| transcript::script(&mut r, &lines, |r| r.run(budget))),
        pagelab_core::sys::Port::Xv6Riscv => pagelab_core::riscv::run::Runner::boot(s.preset.riscv_layout(&s.layout))
            .map(|mut r| transcript::script(&mut r, &lines, |r| r.run(budget))),
    };
    match booted {
        Ok(text) => Ok(write!(w, "{text}")?),
        Err(e) => fail(BAD_INPUT, &format!("pagelab: the machine cannot boot: {e}")),
    }
}

fn show(w: &mut dyn Write, file: &str, pid: u32, format: Format) -> Res {
    let s = load(file)?;
    let lab = match Lab::from_scenario(&s) {
        Ok(lab) => lab,
        Err(ReplayError { index: None, reject }) => {
            return fail(BAD_INPUT, &format!("pagelab: the preset line makes a machine that cannot boot: {reject}"));
        }
        Err(ReplayError { index: Some(i), reject }) => {
            let line = s.ops.get(i).map(scenario::print_op).unwrap_or_default();
            return fail(REFUSED, &format!("{}: step {} ({line}) was refused: {reject}", name_of(file), i + 1));
        }
    };
    let k = lab.kernel();
    let Some(p) = k.procs().get(pid) else {
        return fail(REFUSED, &format!("pagelab: after the scenario there is no process with pid {pid}"));
    };
    if format == Format::Text {
        write!(w, "{}", view::vmprint(k, pid))?;
        writeln!(w)?;
        write!(w, "{}", view::stack_text(k, pid))?;
        return Ok(());
    }
    let info = k.info();
    let (scheme, digits) = (info.scheme, if info.scheme == SchemeKind::Sv39 { 16 } else { 8 });
    let hex = |v: u64| format!("0x{v:0digits$x}");
    // RISC-V: every entry; x86: the user half (the kernel half is the same in every process).
    let limit = if info.port == pagelab_core::port::Port::Xv6Public { info.user_limit } else { u64::MAX };
    let entries = view::table_entries(scheme, k.mem(), p.root, limit)
        .into_iter()
        .filter(|e| e.va < limit)
        .map(|e| JsonEntry {
            level: e.level,
            index: e.index,
            va: hex(e.va),
            pte: hex(e.pte),
            pa: hex(e.pa),
            flags: scheme.flag_bits(e.pte).iter().filter(|b| b.set).map(|b| b.name).collect(),
            leaf: e.leaf,
        })
        .collect();
    let regions = view::regions(k, pid)
        .into_iter()
        .map(|r| JsonRegion { kind: r.kind, label: r.label, start: hex(r.start), end: hex(r.end) })
        .collect();
    let stack = view::stack_words(k, pid)
        .into_iter()
        .map(|wd| JsonWord {
            va: hex(wd.va),
            value: hex(wd.value),
            describe: wd.role.describe(),
            role: wd.role,
            sp: wd.sp,
        })
        .collect();
    let doc = JsonShow {
        preset: s.preset,
        pid,
        name: p.name.clone(),
        state: p.state.to_string(),
        sz: hex(p.sz),
        root: hex(p.root.as_u64()),
        sp: p.image.as_ref().map(|img| hex(img.sp)),
        entries,
        regions,
        stack,
    };
    write_json(w, &doc)
}

/// The seed from `--seed` or `--student` (or the answer file's), default 0.
fn seed_of(seed: Option<&str>, student: Option<&str>) -> Result<u64, Fail> {
    match (seed, student) {
        (Some(_), Some(_)) => fail(BAD_INPUT, "pagelab: give --seed or --student, not both"),
        (Some(s), None) => sets::parse_seed(s).or_else(|e| fail(BAD_INPUT, &format!("pagelab: --seed: {e}"))),
        (None, Some(id)) => Ok(sets::student_seed(id)),
        (None, None) => Ok(0),
    }
}

/// Print the lab's link for `file` at `step` (see `web/src/link.rs`): a
/// built-in scenario by its name (`#b=story-x86&step=9`), a built-in set by
/// its name and seed (`#set=quiz-shm&seed=7&step=0`), any other scenario as
/// its text deflated and in base64url (`#lab=…&step=N`), with `&quiz=1…` in
/// predict mode. `site`, if given, goes in front.
fn link_cmd(
    w: &mut dyn Write,
    file: &str,
    step: Option<usize>,
    predict: bool,
    (seed, student): (Option<&str>, Option<&str>),
    site: Option<&str>,
) -> Res {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let name = file.strip_prefix("builtin:");
    let is_set = name.is_some_and(|n| sets::set_text(n, 0).is_some());
    let predict = predict || is_set || seed.is_some() || student.is_some();
    let seed_value = seed_of(seed, student)?;
    let s = match name.filter(|_| is_set).and_then(|n| sets::set_text(n, seed_value)) {
        Some(text) => scenario::parse(&text).or_else(|e| fail(BAD_INPUT, &format!("pagelab: {file}: {e}")))?,
        None => load(file)?,
    };
    // The link opens only what replays.
    if let Err(e) = Lab::from_scenario(&s) {
        return fail(REFUSED, &format!("pagelab: {}: {e}", name_of(file)));
    }
    let n = s.ops.len();
    let step = step.unwrap_or(if predict { 0 } else { n });
    if step > n {
        return fail(
            BAD_INPUT,
            &format!("pagelab: --step {step}: {} has {n} operations (steps 0 to {n})", name_of(file)),
        );
    }
    let mut out = match name {
        Some(n) if is_set => format!("set={n}&step={step}"),
        Some(n) if scenario::builtin(n).is_some() => format!("b={n}&step={step}"),
        _ => {
            let packed = miniz_oxide::deflate::compress_to_vec(scenario::print(&s).as_bytes(), 9);
            format!("lab={}&step={step}", B64.encode(packed))
        }
    };
    if predict {
        if !is_set {
            // Questions made for each operation from this index on: after a set's own, or all.
            out.push_str(&format!("&quiz=1&auto={}", if s.asks.is_empty() { 0 } else { n }));
        }
        out.push_str(&format!("&seed={seed_value}"));
        if let Some(id) = student {
            out.push_str(&format!("&who={}", B64.encode(id.as_bytes())));
        }
    }
    Ok(writeln!(w, "{}#{out}", site.unwrap_or(""))?)
}

/// Read the set `file` (a built-in set is made for `seed`) and build its questions.
fn load_set(file: &str, seed: u64) -> Result<quiz::Quiz, Fail> {
    let s = match file.strip_prefix("builtin:").and_then(|n| sets::set_text(n, seed)) {
        Some(text) => scenario::parse(&text).or_else(|e| fail(BAD_INPUT, &format!("pagelab: {file}: {e}")))?,
        None => load(file)?,
    };
    // A scenario with no `ask` lines gets predict mode's questions: before each
    // operation, what it allocates, frees and changes (those that cannot be asked left out).
    let built = if s.asks.is_empty() {
        let mut s = s;
        s.asks =
            s.ops.iter().enumerate().map(|(i, op)| (i, quiz::auto_asks(op))).filter(|(_, a)| !a.is_empty()).collect();
        quiz::build_lenient(&s, seed)
    } else {
        quiz::build(&s, seed)
    };
    let q = built.or_else(|e| fail(BAD_INPUT, &format!("pagelab: {}: {e}", name_of(file))))?;
    if q.questions.is_empty() {
        return fail(
            BAD_INPUT,
            &format!("pagelab: {} asks nothing: it has no `ask` lines and no operation to ask about", name_of(file)),
        );
    }
    Ok(q)
}

/// The name of the set `file` is, as an answer file or a log names it
/// (`quiz-exec-x86` for `builtin:quiz-exec-x86`).
fn set_name(file: &str) -> &str {
    file.strip_prefix("builtin:").unwrap_or(name_of(file))
}

/// Where a question stands, in words.
fn before_text(q: &Question, s: &Scenario) -> String {
    match s.ops.get(q.step) {
        Some(op) => format!("before step {}: {}", q.step + 1, scenario::print_op(op)),
        None => String::from("after the last step"),
    }
}

/// A question for the JSON output.
#[derive(Serialize)]
struct JsonQuestion<'a> {
    number: usize,
    /// The operation it is asked before (from 1); one more than the steps for the final machine.
    step: usize,
    ask: String,
    prompt: &'a str,
    how: &'a str,
    form: &'a quiz::Form,
    #[serde(skip_serializing_if = "Option::is_none")]
    answer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hints: Option<&'a [String]>,
}

fn quiz_cmd(
    w: &mut dyn Write,
    file: &str,
    seed: Option<&str>,
    student: Option<&str>,
    format: Format,
    answers: bool,
) -> Res {
    let seed = seed_of(seed, student)?;
    let q = load_set(file, seed)?;
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                set: &'a str,
                /// A string: a 64-bit seed does not fit a JavaScript number.
                seed: String,
                #[serde(skip_serializing_if = "Option::is_none")]
                student: Option<&'a str>,
                preset: Preset,
                questions: Vec<JsonQuestion<'a>>,
            }
            let questions = q
                .questions
                .iter()
                .map(|x| JsonQuestion {
                    number: x.number,
                    step: x.step + 1,
                    ask: x.ask.to_string(),
                    prompt: &x.prompt,
                    how: &x.how,
                    form: &x.form,
                    answer: answers.then_some(x.answer.as_str()),
                    why: answers.then_some(x.why.as_str()),
                    hints: answers.then_some(x.hints.as_slice()),
                })
                .collect();
            write_json(
                w,
                &Doc { set: set_name(file), seed: seed.to_string(), student, preset: q.scenario.preset, questions },
            )
        }
        Format::Text => {
            writeln!(w, "{}: {} questions, seed {seed}", name_of(file), q.questions.len())?;
            for x in &q.questions {
                writeln!(w)?;
                writeln!(w, "{}. ({})  {}", x.number, before_text(x, &q.scenario), x.ask)?;
                writeln!(w, "   {}", x.prompt)?;
                writeln!(w, "   {}", x.how)?;
                if answers {
                    writeln!(w, "   answer: {}", x.answer)?;
                    writeln!(w, "   why: {}", x.why)?;
                    for (i, h) in x.hints.iter().enumerate() {
                        writeln!(w, "   hint {}: {h}", i + 1)?;
                    }
                }
            }
            Ok(())
        }
    }
}

/// An answer file: `{"seed": 7, "answers": {"1": "0x2fe4", ...}}`, or with
/// `"student"` instead of `"seed"`, or `"answers"` as a list in question order
/// (`null` for a question left out).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerFile {
    #[serde(default)]
    seed: Option<serde_json::Value>,
    #[serde(default)]
    student: Option<String>,
    #[serde(default)]
    set: Option<String>,
    answers: serde_json::Value,
    /// From a log: each question's result there and the hints taken, by number.
    #[serde(default)]
    log: std::collections::BTreeMap<String, Logged>,
    /// From a log: the questions it holds (a widget may ask some of a set's).
    #[serde(default)]
    only: Option<Vec<usize>>,
}

/// What a log says of one question.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Logged {
    /// right, wrong, gave_up or open.
    result: String,
    /// Hints taken.
    hints: u64,
}

/// A log the lab or the quiz widget downloads (`{set, seed, student,
/// preset, questions: [{question, answer, …}], …}`) as an answer file: each
/// question's answer (none if empty), and the student's id, or else the
/// seed. Anything else is kept as it is.
fn from_log(v: serde_json::Value) -> serde_json::Value {
    use serde_json::{Map, Value};
    let Value::Object(m) = &v else { return v };
    let Some(Value::Array(qs)) = m.get("questions") else { return v };
    if m.contains_key("answers") {
        return v;
    }
    let mut answers = Map::new();
    let mut log = Map::new();
    for q in qs {
        let n = q.get("question").and_then(Value::as_u64);
        let a = q.get("answer").and_then(Value::as_str).filter(|a| !a.trim().is_empty());
        if let (Some(n), Some(a)) = (n, a) {
            answers.insert(n.to_string(), Value::String(a.to_string()));
        }
        if let Some(n) = n {
            let mut l = Map::new();
            for key in ["result", "hints"] {
                if let Some(x) = q.get(key).filter(|x| x.is_string() || x.is_u64()) {
                    l.insert(String::from(key), x.clone());
                }
            }
            log.insert(n.to_string(), Value::Object(l));
        }
    }
    let mut out = Map::new();
    match m.get("student") {
        Some(Value::String(id)) => {
            out.insert(String::from("student"), Value::String(id.clone()));
        }
        _ => {
            if let Some(seed) = m.get("seed") {
                out.insert(String::from("seed"), seed.clone());
            }
        }
    }
    if let Some(set) = m.get("set") {
        out.insert(String::from("set"), set.clone());
    }
    let held: Vec<Value> = log.keys().filter_map(|k| k.parse::<u64>().ok()).map(Value::from).collect();
    out.insert(String::from("answers"), Value::Object(answers));
    out.insert(String::from("log"), Value::Object(log));
    out.insert(String::from("only"), Value::Array(held));
    Value::Object(out)
}

/// The answer to each question number, from the file's `answers`.
fn answers_of(v: &serde_json::Value, n: usize) -> Result<Vec<Option<String>>, String> {
    let text = |x: &serde_json::Value, which: &str| -> Result<Option<String>, String> {
        match x {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) => Ok(Some(s.clone())),
            serde_json::Value::Number(k) => Ok(Some(k.to_string())),
            _ => Err(format!("the answer to question {which} must be a string")),
        }
    };
    let mut out = vec![None; n];
    match v {
        serde_json::Value::Array(a) => {
            if a.len() > n {
                return Err(format!("there are {} answers for {n} questions", a.len()));
            }
            for (i, x) in a.iter().enumerate() {
                out[i] = text(x, &(i + 1).to_string())?;
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let i = k
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|i| (1..=n).contains(i))
                    .ok_or_else(|| format!("\"{k}\" is not a question number (the questions are 1 to {n})"))?;
                out[i - 1] = text(x, k)?;
            }
        }
        _ => return Err(String::from("\"answers\" must be an object {\"1\": \"...\"} or a list [\"...\"]")),
    }
    Ok(out)
}

fn grade_cmd(
    w: &mut dyn Write,
    file: &str,
    answers_path: &str,
    seed: Option<&str>,
    student: Option<&str>,
    format: Format,
) -> Res {
    if answers_path == "-" && file == "-" {
        return fail(BAD_INPUT, "pagelab: the set and the answers cannot both come from standard input");
    }
    let raw =
        match if answers_path == "-" { read_stdin() } else { std::fs::read(answers_path).map_err(|e| e.to_string()) } {
            Ok(b) => b,
            Err(e) => return fail(BAD_INPUT, &format!("pagelab: cannot read {}: {e}", name_of(answers_path))),
        };
    let af: AnswerFile = match serde_json::from_slice::<serde_json::Value>(&raw).map(from_log) {
        Err(e) => {
            return fail(BAD_INPUT, &format!("pagelab: {} is not JSON: {e}", name_of(answers_path)));
        }
        Ok(v) if !v.is_object() => {
            return fail(
                BAD_INPUT,
                &format!(
                    "pagelab: {} is not an answer file: it must be an object like {{\"seed\": 7, \"answers\": {{\"1\": \"0x2fe4\"}}}}",
                    name_of(answers_path)
                ),
            );
        }
        Ok(v) => match serde_json::from_value(v) {
            Ok(a) => a,
            Err(e) => {
                return fail(BAD_INPUT, &format!("pagelab: {} is not an answer file: {e}", name_of(answers_path)));
            }
        },
    };
    let file_seed = match &af.seed {
        None => None,
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.as_u64(),
        Some(serde_json::Value::String(s)) => match sets::parse_seed(s) {
            Ok(v) => Some(v),
            Err(e) => return fail(BAD_INPUT, &format!("pagelab: {}: \"seed\": {e}", name_of(answers_path))),
        },
        Some(_) => {
            return fail(
                BAD_INPUT,
                &format!("pagelab: {}: \"seed\" must be a whole number from 0 to 2^64 − 1", name_of(answers_path)),
            );
        }
    };
    let from_file = match (file_seed, &af.student) {
        (Some(_), Some(_)) => {
            return fail(
                BAD_INPUT,
                &format!("pagelab: {}: give \"seed\" or \"student\", not both", name_of(answers_path)),
            );
        }
        (Some(v), None) => Some(v),
        (None, Some(id)) => Some(sets::student_seed(id)),
        (None, None) => None,
    };
    let from_command_line = seed.is_some() || student.is_some();
    let seed = if from_command_line {
        let given = seed_of(seed, student)?;
        if let Some(f) = from_file.filter(|f| *f != given) {
            say(&format!("pagelab: note: grading with seed {given} from the command line, not the answer file's {f}"));
        }
        given
    } else {
        from_file.unwrap_or(0)
    };
    let q = load_set(file, seed)?;
    let given = match answers_of(&af.answers, q.questions.len()) {
        Ok(g) => g,
        Err(e) => return fail(BAD_INPUT, &format!("pagelab: {answers_path}: {e}")),
    };
    if !from_command_line && from_file.is_none() {
        say(&format!(
            "pagelab: note: {} names no seed or student: graded with seed 0 (give --seed or --student for another variant)",
            name_of(answers_path)
        ));
    }
    #[derive(Serialize)]
    struct Graded<'a> {
        number: usize,
        ask: String,
        answer: Option<&'a str>,
        /// right, wrong, unreadable or unanswered.
        result: &'static str,
        message: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        parts: Vec<answer::Part>,
        /// Hints taken, when a log says.
        #[serde(skip_serializing_if = "Option::is_none")]
        hints: Option<u64>,
    }
    let mut graded = Vec::new();
    let mut score = 0usize;
    // A log of some of the set's questions (a widget's `questions=`) is graded out of those.
    let held = |n: usize| af.only.as_ref().is_none_or(|o| o.contains(&n));
    let total = q.questions.iter().filter(|x| held(x.number)).count();
    if total < q.questions.len() {
        say(&format!(
            "pagelab: note: {} holds {total} of the set's {} questions: graded out of those",
            name_of(answers_path),
            q.questions.len()
        ));
    }
    for (x, g) in q.questions.iter().zip(&given).filter(|(x, _)| held(x.number)) {
        let logged = af.log.get(&x.number.to_string());
        let (result, message, parts) = match g {
            None if logged.is_some_and(|l| l.result == "gave_up") => {
                ("gave_up", format!("Given up. The answer is {}. {}", x.answer, x.why), Vec::new())
            }
            None => ("unanswered", format!("Not answered. The answer is {}. {}", x.answer, x.why), Vec::new()),
            Some(t) => match answer::grade(x, t) {
                Ok(v) if v.right => {
                    score += 1;
                    ("right", v.message, v.parts)
                }
                Ok(v) => ("wrong", v.message, v.parts),
                Err(e) => ("unreadable", format!("The answer cannot be read: {e}"), Vec::new()),
            },
        };
        let hints = logged.map(|l| l.hints);
        graded.push(Graded {
            number: x.number,
            ask: x.ask.to_string(),
            answer: g.as_deref(),
            result,
            message,
            parts,
            hints,
        });
    }
    // The set graded is the one named on the command line: an answer file
    // (or a log) for another set is graded all the same, with a note.
    let set = set_name(file);
    if let Some(named) = af.set.as_deref().filter(|n| *n != set) {
        say(&format!("pagelab: note: {} is for the set {named:?}; graded against {set}", name_of(answers_path)));
    }
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                set: &'a str,
                /// A string: a 64-bit seed does not fit a JavaScript number.
                seed: String,
                #[serde(skip_serializing_if = "Option::is_none")]
                student: Option<&'a str>,
                score: usize,
                total: usize,
                questions: Vec<Graded<'a>>,
            }
            let student = if from_command_line { student } else { af.student.as_deref() };
            write_json(w, &Doc { set, seed: seed.to_string(), student, score, total, questions: graded })
        }
        Format::Text => {
            writeln!(w, "{set}, seed {seed}: score {score} of {total}")?;
            for g in &graded {
                let hints = match g.hints {
                    Some(0) | None => String::new(),
                    Some(1) => String::from(" (1 hint)"),
                    Some(k) => format!(" ({k} hints)"),
                };
                writeln!(w, "{}. {}{hints}: {}", g.number, g.result, g.message)?;
            }
            Ok(())
        }
    }
}
