//! The lab's state and the one reducer that changes it.
//!
//! Nothing here touches `web_sys`: every action is a plain value, and
//! [`LabState::reduce_with`] is a plain function, so `cargo test -p
//! pagelab-web` runs it on the host. The numbers all come from the core's
//! [`Lab`]; this module only decides which lab is shown and what to say.
//!
//! The timeline works like undo history: step 0 is the booted machine, step
//! `i` the machine after operation `i`. Going back takes a copy of that
//! step's machine, or rebuilds it from the nearest copy before it
//! ([`Machines`]); running an operation while an earlier step is shown drops
//! the later steps.
//!
//! The reducer is pure: a state never changes once made, and neither do the
//! machines it shows (running an operation works on a copy).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use pagelab_core::elf::{self, ElfClass};
use pagelab_core::lab::scenario::{self, print_op};
use pagelab_core::lab::summary::plural;
use pagelab_core::lab::{Comments, Fs, Lab, Op, Paragraph, Preset, ReplayError, Scenario, Step};
use pagelab_core::port::{Port, SkipFlush};
use pagelab_core::scheme::SchemeKind;
use pagelab_core::shm::ShmMode;
use pagelab_core::trace::{Event, Owner};
use yew::Reducible;

pub use crate::call::Call;
use crate::input;
use crate::link::{self, LinkQuiz, LinkState};
use crate::machines::Machines;
pub use crate::machines::SharedLab;
use crate::quiz::{QuizRun, Source};
use crate::run::{RunCommand, RunSession};
use crate::same::Same;
pub use crate::select::{AccessChoice, Selection, short};

/// Where a message belongs: next to the control that caused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    /// The top of the page (a link that could not be opened).
    Page,
    /// The story: loading a scenario, a new lab.
    Story,
    /// The step bar and the timeline (back, forward, go to a step).
    Steps,
    /// The system-call buttons of the process panel (fork, exit, wait, kill).
    Calls,
    /// One system call's form in the process panel, by its id (`sbrk`, `read`, …).
    Form(&'static str),
    /// The exec form.
    Exec,
    /// The upload field.
    Upload,
    /// The frame map's "go to the frame" form.
    Frames,
    /// The panel for sharing and embedding.
    Share,
    /// Predict mode: the question and its answer field.
    Quiz,
    /// The TLB panel's what-if switch.
    Tlb,
    /// The panel that runs the real programs.
    Run,
}

/// Whether a message reports a failure or what happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// Something was refused or failed.
    Error,
    /// What an operation did.
    Info,
}

/// A message, shown next to the control it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Error or information.
    pub kind: NoticeKind,
    /// The text.
    pub text: String,
    /// Where it is shown.
    pub at: Where,
}

impl Notice {
    /// An error shown at `at`.
    #[must_use]
    pub fn error(at: Where, text: impl Into<String>) -> Notice {
        Notice { kind: NoticeKind::Error, text: text.into(), at }
    }
    /// Information shown at `at`.
    #[must_use]
    pub fn info(at: Where, text: impl Into<String>) -> Notice {
        Notice { kind: NoticeKind::Info, text: text.into(), at }
    }
    /// The text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }
    /// True for errors.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.kind == NoticeKind::Error
    }
}

/// Everything the page can ask the state to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Run a system call on the selected process.
    Call(Call),
    /// Run an operation as it is.
    Run(Op),
    /// Add an uploaded program file.
    Upload {
        /// The file's name on the learner's computer.
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// Start a new lab on a preset (the first process made).
    NewLab(Preset),
    /// Load a built-in scenario by name.
    LoadBuiltin(String),
    /// Show a link that has been read and replayed ([`open_link`] all at
    /// once, or [`crate::opening`] in slices). The reducer never reads a link
    /// itself, so the widgets, which share it, carry no link decoder.
    Opened(Opened),
    /// Show step `n` (0 = just booted).
    Goto(usize),
    /// One step back.
    Back,
    /// One step forward.
    Forward,
    /// Choose the process.
    SelectPid(u32),
    /// The address field's text changed.
    SetAddress(String),
    /// Choose the access to check.
    SetAccess(AccessChoice),
    /// Translate in the kernel's own page table (true) or the chosen process's.
    UseKernelTable(bool),
    /// Choose a frame (None: none).
    SelectFrame(Option<u64>),
    /// Go to the frame holding a typed physical address.
    GotoFrame(String),
    /// Show the next step with a DEFECT line (the note's shared-memory code).
    NextDefect,
    /// Load a built-in exercise set, its `?` chosen by a seed (or a student id).
    StartSet {
        /// The set's name (`quiz-story-x86`).
        name: String,
        /// The seed as typed (empty: 0).
        seed: String,
        /// A student id as typed (empty: none); it wins over the seed.
        student: String,
        /// The time now (milliseconds since 1970).
        now_ms: f64,
    },
    /// Turn predict mode on or off: on, the lab asks before each step.
    Predict {
        /// On or off.
        on: bool,
        /// The time now.
        now_ms: f64,
    },
    /// Answer a question (by its index).
    Answer {
        /// Which question.
        question: usize,
        /// The answer as typed.
        text: String,
        /// The time now.
        now_ms: f64,
    },
    /// Show the next hint of a question.
    Hint(usize),
    /// Give up on a question: its answer is shown.
    GiveUp {
        /// Which question.
        question: usize,
        /// The time now.
        now_ms: f64,
    },
    /// Replay the timeline with xv6's flush left out (true) or in place
    /// (false): on xv6-public growproc's switchuvm, on xv6-riscv the
    /// trampoline's sfence.vma. The lab stays at the same step.
    SetNoFlush(bool),
    /// Run the real programs: start, type a line, step, run, stop.
    RunPrograms(RunCommand),
    /// Run the next operations on this CPU (a `cpu` step on the timeline).
    SetCpu(u32),
    /// Show a message (an input error found by a view) next to a control.
    Fail(Where, String),
    /// Show an informative message next to a control.
    Inform(Where, String),
    /// Hide the message.
    Dismiss,
}

/// A value handed once from one part of the page to another (through an
/// action or a property), taken by the receiver. Compared by identity.
#[derive(Debug)]
pub struct Handoff<T>(Same<RefCell<Option<T>>>);

// By hand: derived ones would ask the same of `T`, which identity does not need.
impl<T> Clone for Handoff<T> {
    fn clone(&self) -> Self {
        Handoff(self.0.clone())
    }
}

impl<T> PartialEq for Handoff<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T> Handoff<T> {
    /// Hand `v` over.
    #[must_use]
    pub fn new(v: T) -> Handoff<T> {
        Handoff(Same::new(RefCell::new(Some(v))))
    }

    /// The value (`None` if it was taken already).
    pub fn take(&self) -> Option<T> {
        self.0.borrow_mut().take()
    }
}

/// A link read and replayed, on its way into the state (see [`Action::Opened`]).
pub type Opened = Handoff<OpenedLink>;

/// The action that opens a link's fragment (with or without its `#`), read
/// and replayed all at once.
#[must_use]
pub fn open_link(fragment: &str) -> Action {
    Action::Opened(Handoff::new(link::decode(fragment)))
}

/// What a link opens: its state and machines, nothing for an empty link, or why it does not open.
pub type OpenedLink = Result<Option<(LinkState, Machines)>, String>;

/// What the page says when a link replaces a lab whose programs were running.
pub const RUN_LEFT: &str = "The programs that were running have stopped: a link holds the timeline they made, not the running machine. Boot and run init starts them again, on a new machine.";

/// The lab state.
#[derive(Clone, Debug)]
pub struct LabState {
    /// The machines of the timeline.
    machines: Machines,
    /// The machine at the step shown (the same as the last one at the last step).
    view: SharedLab,
    /// The step shown.
    current: usize,
    /// What is selected.
    pub selection: Selection,
    /// The address field's text as typed.
    pub address_text: String,
    /// Why the address text does not read, if it does not.
    pub address_error: Option<String>,
    /// True until the learner types an address: the address then follows
    /// the step (the chosen process's stack pointer, its first instruction,
    /// or kernel text when there is no process), so it always translates.
    pub address_auto: bool,
    /// True until the learner chooses an access: it follows the address
    /// (a user read in a process, a kernel read in the kernel's table).
    pub access_auto: bool,
    /// The built-in scenario shown, while the timeline is still exactly it.
    pub builtin: Option<String>,
    /// The flushes the scenario's words were written for, once the TLB
    /// panel's what-if has replayed it with another set (None until then).
    pub narrative_flush: Option<SkipFlush>,
    /// Translate in the kernel's own page table rather than the chosen process's.
    pub kernel_table: bool,
    /// Steps whose trace has a DEFECT line.
    defects: Rc<Vec<usize>>,
    /// What the step shown changed (worked out once per action, for every panel).
    now_changed: Changed,
    /// Predict mode: the questions and the learner's attempts (None: off).
    pub quiz: Option<QuizRun>,
    /// Predict mode turned off with questions settled: the run, kept so that
    /// turning it on again in this lab goes on where the learner was.
    quiz_off: Option<QuizRun>,
    /// The last message.
    pub notice: Option<Notice>,
    /// The real programs running beside the lab, if they are.
    pub run: Option<RunSession>,
    /// Counts every change, for views that cache their work.
    pub version: u64,
    /// Counts the labs started from the menu or a built-in scenario, and the
    /// operations that dropped later steps, so the page can keep the lab
    /// before each in the browser's history.
    pub generation: u64,
    /// This lab stands in for a link that could not be opened, and nothing
    /// has changed since: the address bar keeps that link, so that the
    /// learner can see it and mend it.
    pub link_refused: bool,
    /// Counts the times predict mode kept a step back until its question is
    /// answered: the question's answer box then takes the focus.
    pub predict_blocked: u64,
}

impl PartialEq for LabState {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version && self.machines.full() == other.machines.full() && self.view == other.view
    }
}

impl Default for LabState {
    fn default() -> Self {
        LabState::new(Preset::Xv6Public)
    }
}

/// The address the lab's own tests and the README use as an example: PDX 1,
/// PTX 3, offset 0xabc. (A new lab shows an address that translates; see
/// [`LabState::address_auto`].)
pub const EXAMPLE_ADDRESS: &str = "0x00403abc";

impl LabState {
    /// A new lab on `preset`, with the first process made.
    #[must_use]
    pub fn new(preset: Preset) -> LabState {
        let mut lab = Lab::new(preset, ShmMode::Lab);
        let made = lab.apply(Op::Userinit).is_ok();
        let mut s = LabState::around(lab);
        s.selection.pid = made.then_some(1);
        s.follow_address();
        s.now_changed = s.changed(s.current);
        s
    }

    /// A lab over a replayed timeline, showing its last step, with the
    /// process of the last operation chosen (for a lab embedded in a page).
    #[must_use]
    pub fn embedded(machines: Machines) -> LabState {
        let pid = machines.full().scenario().ops.iter().rev().find_map(Op::pid);
        let mut s = LabState::over(machines);
        s.selection.pid = pid;
        s.fix_pid();
        s.follow_address();
        s.now_changed = s.changed(s.current);
        s
    }

    /// The lab a link opens (as [`link::decode`] returns it): its scenario
    /// at its step, with its selection and exercise; a clean lab for an
    /// empty link; a clean lab and the reason for a link that does not open.
    #[must_use]
    pub fn opened(link: Result<Option<(LinkState, Machines)>, String>) -> LabState {
        LabState::opened_or(link, Preset::Xv6Public)
    }

    /// As [`LabState::opened`], with a clean lab of `clean` for a link that
    /// does not open (the machine the link names, [`link::machine_named`]).
    #[must_use]
    pub fn opened_or(link: Result<Option<(LinkState, Machines)>, String>, clean: Preset) -> LabState {
        match link {
            Ok(Some((ls, machines))) => {
                let mut s = LabState::over(machines);
                s.builtin = ls.builtin;
                s.narrative_flush = ls.told;
                s.selection.pid = ls.selection.pid;
                s.selection.frame = ls.selection.frame;
                s.kernel_table = ls.kernel_table;
                if ls.access_set {
                    s.access_auto = false;
                    s.selection.access = ls.selection.access;
                }
                if let Some(a) = ls.selection.address {
                    s.address_auto = false;
                    s.set_address_text(format!("{a:#x}"));
                }
                s.goto(ls.step);
                if let Some(lq) = ls.quiz {
                    s.open_quiz(lq);
                }
                // A pid the link names wins over the step's own.
                match ls.selection.pid {
                    Some(p) if s.view.kernel().procs().get(p).is_some() => {
                        s.selection.pid = Some(p);
                        s.follow_address();
                    }
                    Some(p) => {
                        let shown = s.selection.pid.map_or_else(|| "none".to_string(), |q| format!("pid {q}"));
                        s.notice = Some(Notice::info(
                            Where::Page,
                            format!(
                                "The link asks for pid {p}, but there is no process {p} at step {}: the lab shows {shown} instead.",
                                s.current
                            ),
                        ));
                    }
                    None => {}
                }
                s.now_changed = s.changed(s.current);
                s
            }
            Ok(None) => LabState::new(Preset::Xv6Public),
            Err(e) => {
                let mut s = LabState::new(clean);
                s.error(
                    Where::Page,
                    format!("This link could not be opened: {e}. Here is a clean lab of {} instead; the address bar keeps the link until you change the lab.", clean.name()),
                );
                s.link_refused = true;
                s
            }
        }
    }

    fn around(lab: Lab) -> LabState {
        LabState::over(Machines::from_lab(lab))
    }

    fn over(machines: Machines) -> LabState {
        let defects = Rc::new(defect_steps(machines.full()));
        LabState {
            view: machines.full().clone(),
            current: machines.len(),
            machines,
            selection: Selection::default(),
            address_text: String::new(),
            address_error: None,
            address_auto: true,
            access_auto: true,
            builtin: None,
            narrative_flush: None,
            kernel_table: false,
            defects,
            now_changed: Changed::default(),
            quiz: None,
            quiz_off: None,
            notice: None,
            run: None,
            version: 0,
            generation: 0,
            link_refused: false,
            predict_blocked: 0,
        }
    }

    /// The machine at the step shown.
    #[must_use]
    pub fn lab(&self) -> &Lab {
        &self.view
    }

    /// The machine at the last step (it holds every step's record).
    #[must_use]
    pub fn full(&self) -> &Lab {
        self.machines.full()
    }

    /// The machine at the last step, to hand to a view.
    #[must_use]
    pub fn full_lab(&self) -> SharedLab {
        self.machines.full().clone()
    }

    /// The steps whose machines are kept for stepping back (see [`Machines`]).
    #[must_use]
    pub fn cached_steps(&self) -> Vec<usize> {
        self.machines.cached()
    }

    /// Number of events step `i` recorded.
    #[must_use]
    pub fn step_events(&self, i: usize) -> usize {
        let full = self.full();
        if i == 0 { full.boot_step().events.len() } else { full.steps().get(i - 1).map_or(0, |s| s.events.len()) }
    }

    /// The shown machine, to hand to a view.
    #[must_use]
    pub fn view_lab(&self) -> SharedLab {
        self.view.clone()
    }

    /// The step shown (0 = just booted).
    #[must_use]
    pub fn current(&self) -> usize {
        self.current
    }

    /// Number of operations in the timeline.
    #[must_use]
    pub fn len(&self) -> usize {
        self.machines.len()
    }

    /// True when the timeline has no operations.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The scenario of the whole timeline.
    #[must_use]
    pub fn scenario(&self) -> Scenario {
        self.full().scenario().clone()
    }

    /// The process whose page table the translate panel walks (`None`: the kernel's).
    #[must_use]
    pub fn table_pid(&self) -> Option<u32> {
        if self.kernel_table { None } else { self.selection.pid }
    }

    /// The paging scheme.
    #[must_use]
    pub fn scheme(&self) -> SchemeKind {
        self.lab().kernel().info().scheme
    }

    /// The record of step `i` (0: boot), if there is one (shared, not copied).
    #[must_use]
    pub fn step(&self, i: usize) -> Option<Arc<Step>> {
        let full = self.full();
        if i == 0 { Some(full.boot_step().clone()) } else { full.steps().get(i - 1).cloned() }
    }

    /// What the address bar should hold. An address or access that only
    /// follows the step is left out, so the link follows it too.
    #[must_use]
    pub fn link(&self) -> LinkState {
        let mut selection = self.selection.clone();
        if self.address_auto {
            selection.address = None;
        }
        LinkState {
            scenario: self.scenario(),
            builtin: self.builtin.clone(),
            step: self.current,
            selection,
            access_set: !self.access_auto,
            kernel_table: self.kernel_table,
            quiz: self.quiz.as_ref().map(|q| LinkQuiz {
                set: match &q.source {
                    Source::Builtin(n) => Some(n.clone()),
                    _ => None,
                },
                seed: q.seed,
                student: q.student.clone(),
                auto_from: q.auto_from,
                quiet: q.quiet.clone(),
                progress: Some(q.progress()),
            }),
            told: self.narrative_flush,
        }
    }

    /// The question predict mode asks now (its index), if one is open: the
    /// first unanswered one before the step after the one shown.
    #[must_use]
    pub fn open_question(&self) -> Option<usize> {
        self.quiz.as_ref().and_then(|q| q.open_at(self.current))
    }

    /// The panels that would give away the open question's answer, hidden until
    /// it is answered or given up.
    #[must_use]
    pub fn hidden(&self) -> Hidden {
        use pagelab_core::lab::quiz::Ask as A;
        let mut h = Hidden::default();
        let (Some(q), Some(i)) = (self.quiz.as_ref(), self.open_question()) else { return h };
        h.question = Some(q.questions[i].number);
        for &j in &q.at(self.current) {
            if q.attempts[j].settled() {
                continue;
            }
            match q.questions[j].ask {
                A::Fields { .. } => h.translate = true,
                A::Entry { .. } | A::Translate { .. } => {
                    h.translate = true;
                    h.space = true;
                    h.entries = true;
                }
                A::Sp { .. } | A::Argc { .. } | A::Word { .. } | A::Guard { .. } | A::Sz { .. } | A::Changed { .. } => {
                    h.space = true;
                    h.procs = true;
                }
                // The parent's pages, shown before the fork, are what the learner reasons from; the child does
                // not exist yet.
                A::Child => {}
                A::Pages | A::Free | A::Kalloc | A::Head => h.memory = true,
                A::ShmFrame { .. } | A::ShmRefs { .. } | A::ShmFreed { .. } => {
                    h.shm = true;
                    h.memory = true;
                }
            }
        }
        h
    }

    /// The scenario's text, comments included: the lab as it is, operations
    /// the learner ran too (for instructors to copy).
    #[must_use]
    pub fn scenario_text(&self) -> String {
        scenario::print(self.full().scenario())
    }

    /// The scenario's comments.
    #[must_use]
    pub fn comments(&self) -> &Comments {
        &self.full().scenario().comments
    }

    /// The words the scenario gives step `k`: its introduction at step 0,
    /// else the comment above the operation.
    #[must_use]
    pub fn narrative(&self, k: usize) -> Vec<Paragraph> {
        let c = self.comments();
        if k == 0 { Comments::paragraphs(&c.intro) } else { Comments::paragraphs(c.of(k - 1)) }
    }

    /// The steps (from 1) whose trace has a DEFECT line.
    #[must_use]
    pub fn defects(&self) -> &[usize] {
        &self.defects
    }

    /// What the step shown changed, panel by panel.
    #[must_use]
    pub fn changed_now(&self) -> Changed {
        self.now_changed
    }

    /// What step `k` changed, panel by panel (for the shared pages, as far
    /// as the step shown tells: whether a shared page is open there).
    #[must_use]
    pub fn changed(&self, k: usize) -> Changed {
        if k == 0 {
            return Changed::default();
        }
        let shm_in_use = self.view.kernel().shm().pages.iter().any(|p| p.id != 0 || p.refs != 0);
        match self.full().steps().get(k - 1) {
            Some(st) => Changed::of(st, self.selection.pid, shm_in_use),
            None => Changed::default(),
        }
    }

    /// The link's fragment (without `#`).
    #[must_use]
    pub fn fragment(&self) -> String {
        link::encode(&self.link())
    }

    /// While the address follows the step, point it at something that
    /// translates: the chosen process's stack pointer (after exec) or its
    /// first instruction (initcode), or with no process, kernel text.
    fn follow_address(&mut self) {
        let k = self.view.kernel();
        let pid = self.selection.pid.filter(|p| !self.kernel_table && k.procs().get(*p).is_some());
        // A step that is a user load, store or fetch by the chosen process: follow its address and access.
        let step = self.current.checked_sub(1).and_then(|i| self.machines.full().steps().get(i));
        let step_access = step.and_then(|st| match st.op {
            Op::Read { pid: p, va, .. } if Some(p) == pid => Some((va, AccessChoice::UserRead)),
            Op::Write { pid: p, va, .. } if Some(p) == pid => Some((va, AccessChoice::UserWrite)),
            Op::Fetch { pid: p, va } if Some(p) == pid => Some((va, AccessChoice::UserExec)),
            _ => None,
        });
        if self.access_auto {
            self.selection.access = match (step_access, pid) {
                (Some((_, a)), _) => a,
                (None, Some(_)) => AccessChoice::UserRead,
                (None, None) => AccessChoice::KernelRead,
            };
        }
        if !self.address_auto {
            return;
        }
        let info = k.info();
        let constant = |name: &str| info.constants.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
        let va = match (step_access, pid.and_then(|p| k.procs().get(p))) {
            (Some((va, _)), _) => va,
            (None, Some(p)) => p.image.as_ref().map_or(p.regs.pc, |img| img.sp),
            // xv6-public: KERNLINK, where the kernel's text starts; xv6-riscv: KERNBASE.
            (None, None) => constant("KERNLINK").or_else(|| constant("KERNBASE")).unwrap_or(0),
        };
        let digits = if info.scheme == SchemeKind::Sv39 { 16 } else { 8 };
        self.address_text = format!("0x{va:0digits$x}");
        self.selection.address = Some(va);
        self.address_error = None;
    }

    fn set_address_text(&mut self, text: String) {
        match input::parse_address(&text, self.scheme()) {
            Ok(v) => {
                self.selection.address = Some(v);
                self.address_error = None;
            }
            Err(e) => self.address_error = Some(e),
        }
        self.address_text = text;
    }

    fn error(&mut self, at: Where, text: impl Into<String>) {
        self.notice = Some(Notice::error(at, text));
    }

    /// Say `text` at `at`, after what the lab says already there (an error elsewhere stays).
    fn tell(&mut self, at: Where, text: &str) {
        match &mut self.notice {
            Some(n) if n.at == at && !n.is_error() => {
                n.text.push(' ');
                n.text.push_str(text);
            }
            Some(n) if n.is_error() => {}
            _ => self.notice = Some(Notice::info(at, text)),
        }
    }

    /// Show step `k`, taking (or rebuilding) its machine; the view follows
    /// the step: its process is chosen, and the address follows it.
    fn goto(&mut self, k: usize) {
        let n = self.len();
        let Some(lab) = self.machines.at(k) else {
            self.error(Where::Steps, format!("there is no step {k}: the timeline has steps 0 to {n}"));
            return;
        };
        self.current = k;
        self.view = lab;
        if k > 0
            && let Some(st) = self.full().steps().get(k - 1)
        {
            let pid = match (&st.op, &st.result.error) {
                (Op::Userinit, None) => Some(1),
                (Op::Fork { .. }, None) => u32::try_from(st.result.value).ok(),
                (op, _) => op.pid(),
            };
            if let Some(p) = pid.filter(|p| self.view.kernel().procs().get(*p).is_some()) {
                self.selection.pid = Some(p);
            }
        }
        self.fix_pid();
        self.follow_address();
    }

    /// Predict mode: may the page show step `k`? Not past a question still open.
    fn may_show(&mut self, k: usize) -> bool {
        let cur = self.current;
        let Some(q) = &self.quiz else { return true };
        match q.open_between(cur, k) {
            Some(i) if k > cur => {
                let qn = &q.questions[i];
                let msg = format!(
                    "Predict first: answer question {} (before step {}), or give up on it, to see step {}.",
                    qn.number,
                    qn.step + 1,
                    qn.step + 1
                );
                // Not a mistake: what predict mode asks for, said beside the step bar.
                self.notice = Some(Notice::info(Where::Steps, msg));
                self.predict_blocked += 1;
                false
            }
            _ => true,
        }
    }

    /// Predict mode after the timeline changed: make the questions again; if the
    /// operation just run has some, show the step before it, so they are asked
    /// before its result is revealed. True if they are.
    fn requiz(&mut self) -> bool {
        let Some(mut q) = self.quiz.take() else { return false };
        let full = self.machines.full().clone();
        let n = self.len();
        // The operation just run gets questions, even inside a set's own steps.
        q.auto_from = q.auto_from.min(n.saturating_sub(1));
        let ok = q.rebuild(&full);
        let asks_new = ok.is_ok() && n > 0 && q.open_at(n - 1).is_some();
        match ok {
            Ok(()) => self.quiz = Some(q),
            Err(e) => self.error(Where::Quiz, format!("Predict mode stopped: {e}")),
        }
        if asks_new {
            self.goto(n - 1);
        }
        asks_new
    }

    /// After the timeline changed: what is worked out once per timeline.
    fn timeline_changed(&mut self) {
        self.defects = Rc::new(defect_steps(self.machines.full()));
    }

    /// Keep the selected process if it exists here, else pick one that does.
    fn fix_pid(&mut self) {
        let procs = self.view.kernel().procs();
        let keep = self.selection.pid.is_some_and(|p| procs.get(p).is_some());
        if !keep {
            self.selection.pid = procs.live().map(|p| p.pid).max();
        }
    }

    /// The lab after run command `c`. Start boots a new xv6-riscv machine
    /// (a new lab beside it) and runs init until it waits; the other
    /// commands go on running it. The operations the programs make are
    /// added to the end of the timeline as they make them, and the step
    /// shown follows them. A timeline the learner has changed since no
    /// longer follows the run: the run stops, with a message.
    fn run_programs(mut self, c: RunCommand) -> LabState {
        match c {
            RunCommand::Start => {
                let full = self.full_lab();
                let preset = full.scenario().preset;
                // The programs the learner uploaded go on the new machine too.
                let port = full.kernel().info().port;
                let files = full.fs().added(port).map(|(p, b)| (p.clone(), b.clone())).collect();
                let session = match RunSession::boot_with(preset, files) {
                    Ok(s) => s,
                    Err(e) => {
                        self.error(Where::Run, format!("The programs did not start: {e}."));
                        return self;
                    }
                };
                let (v, g) = (self.version, self.generation);
                let predicting = self.quiz.is_some();
                // The run makes the first process itself: a lab with none yet.
                let mut s = LabState::over(Machines::from_lab(Lab::new(preset, ShmMode::Lab)));
                s.version = v;
                s.generation = g + 1;
                s.run = Some(session);
                s.go_on(&RunCommand::Start);
                // Predict mode stays on for the new lab: the programs' steps ask
                // nothing; a call run by hand afterwards is asked about.
                if predicting {
                    let said = s.notice.take();
                    s.predict_on(crate::dom::now_ms());
                    if let Some(q) = s.quiz.as_mut() {
                        let end = s.machines.len();
                        q.auto_from = end;
                        q.add_quiet(0, end);
                    }
                    s.notice = said.map(|mut n| {
                        n.text.push_str(" Predict mode stays on: the programs' steps ask nothing, and a call you run by hand is asked about.");
                        n
                    });
                }
                s
            }
            RunCommand::Stop => {
                if self.run.take().is_some() {
                    self.notice = Some(Notice::info(
                        Where::Run,
                        "The programs are stopped. The timeline keeps what they did; start again for a new machine.",
                    ));
                }
                self
            }
            RunCommand::TypeOnly(line) => {
                self.go_on(&RunCommand::TypeOnly(line));
                if self.run.is_some() && !self.notice.as_ref().is_some_and(Notice::is_error) {
                    self.notice = Some(Notice::info(
                        Where::Run,
                        "The line is in the console's buffer; nothing has run yet. Step one instruction or run to the next trap to watch sh take it.",
                    ));
                }
                self
            }
            RunCommand::ShowAccesses(on) => {
                self.go_on(&RunCommand::ShowAccesses(on));
                if self.run.is_some() {
                    self.notice = Some(Notice::info(
                        Where::Run,
                        if on {
                            "Each fetch, load and store is recorded from now on: step one instruction to see its TLB work and, in the translate panel, the walk of its last access."
                        } else {
                            "Accesses are counted, not recorded, again."
                        },
                    ));
                }
                self
            }
            c => {
                self.go_on(&c);
                self
            }
        }
    }

    /// Carry out `c` on the running programs and add what they did to the timeline.
    fn go_on(&mut self, c: &RunCommand) {
        let Some(mut session) = self.run.take() else {
            self.error(Where::Run, "no programs are running: start them first");
            return;
        };
        if !session.follows(&self.full().scenario().ops) {
            self.error(
                Where::Run,
                "the timeline has changed since the programs made it, so it can no longer follow them: the run is stopped. Start again for a new machine.",
            );
            return;
        }
        if let Err(e) = session.command(c) {
            self.error(Where::Run, format!("Nothing ran: {e}."));
            self.run = Some(session);
            return;
        }
        let before = self.len();
        for op in session.new_ops() {
            let end = self.len();
            match self.machines.run(end, &self.full_lab(), op.clone()) {
                Ok((machines, _)) => {
                    self.machines = machines;
                    session.applied += 1;
                }
                Err(reject) => {
                    let shown = short(&print_op(&op), 120);
                    self.error(
                        Where::Run,
                        format!("The lab could not follow the programs: `{shown}` was refused ({reject}). The run is stopped."),
                    );
                    self.timeline_changed();
                    let end = self.len();
                    if let Some(q) = self.quiz.as_mut() {
                        q.add_quiet(before, end);
                    }
                    self.goto(end);
                    return;
                }
            }
        }
        self.builtin = None;
        self.timeline_changed();
        let end = self.len();
        // The programs' steps are shown as they run: predict mode asks nothing about them.
        if let Some(q) = self.quiz.as_mut() {
            q.add_quiet(before, end);
        }
        if end != before || self.current != end {
            self.goto(end);
        }
        // Show the walk of the access that faulted (or, access by access,
        // of the last one); else follow the process that runs.
        let focus = session.focus();
        // A process killed by a fault may be reaped already: show the step
        // of its exit, where its page table still is.
        if let Some((pid, _, _)) = focus
            && self.view.kernel().procs().get(pid).is_none()
            && let Some(i) = self.full().scenario().ops.iter().rposition(
                |o| matches!(o, Op::Exit { pid: p } | Op::Write { pid: p, .. } | Op::Read { pid: p, .. } | Op::Fetch { pid: p, .. } if *p == pid),
            )
        {
            self.goto(i + 1);
        }
        if let Some((pid, va, access)) = focus
            && self.view.kernel().procs().get(pid).is_some()
        {
            self.selection.pid = Some(pid);
            self.kernel_table = false;
            self.address_auto = false;
            self.access_auto = false;
            self.selection.access = access;
            self.set_address_text(format!("{va:#x}"));
        } else if let Some(pid) = session.running_pid()
            && self.view.kernel().procs().get(pid).is_some()
        {
            self.selection.pid = Some(pid);
            self.follow_address();
        }
        let added = end - before;
        let mut text = session.stop_words(c).unwrap_or_default();
        if added > 0 {
            text = format!("{text} {} added to the timeline (now step {end}).", plural(added as u64, "step", "steps"));
        }
        if let (Some((pid, va, access)), true) = (focus, session.show_accesses || session.faulted()) {
            let what = match access {
                AccessChoice::UserExec => "fetch",
                AccessChoice::UserWrite | AccessChoice::KernelWrite => "store",
                AccessChoice::UserRead | AccessChoice::KernelRead => "load",
            };
            text = if session.faulted() {
                format!(
                    "{text} A fault killed pid {pid}: the translate panel shows the walk of its {what} at {va:#x}, at step {} (where pid {pid} exits).",
                    self.current
                )
            } else {
                format!("{text} The translate panel shows the walk of pid {pid}'s last {what}, at {va:#x}.")
            };
        }
        self.notice = Some(Notice::info(Where::Run, text));
        self.run = Some(session);
    }

    /// Run `op` at the step shown; later steps are dropped if it runs. Its
    /// message goes next to `at`, the control that asked for it.
    fn run(&mut self, op: Op, at: Where) {
        let n = self.len();
        let k = self.current;
        let shown = short(&print_op(&op), 120);
        match self.machines.run(k, &self.view, op.clone()) {
            Err(reject) => {
                self.error(at, format!("`{shown}` was not run: {reject}. Nothing changed."));
            }
            Ok((machines, step)) => {
                self.machines = machines;
                self.builtin = None;
                // An operation run by hand makes the timeline no longer the
                // programs' own: they stop now, and the message says so.
                let stopped = self.run.take().is_some();
                self.ran_op(op, &step, (k, n), at, &shown);
                if stopped && let Some(notice) = self.notice.as_mut() {
                    notice.text.push_str(" The programs were stopped: the timeline is no longer the one they made (Boot and run init starts them again, on a new machine).");
                }
            }
        }
    }

    /// What follows a successful [`LabState::run`] of `op` (from step `k`
    /// of `n`): the history, the step shown, predict mode's questions and
    /// the message.
    fn ran_op(&mut self, op: Op, step: &Step, (k, n): (usize, usize), at: Where, shown: &str) {
        // Steps were dropped: the lab before keeps its own history
        // entry, so that the browser's Back brings them back.
        if k < n {
            self.generation += 1;
        }
        self.timeline_changed();
        let end = self.len();
        self.goto(end);
        if self.requiz() {
            let count = self.quiz.as_ref().map_or(0, |q| q.at(end - 1).len());
            self.notice = Some(Notice::info(
                Where::Quiz,
                format!(
                    "`{shown}` is step {end}. Predict what it does first: {} below, then Forward shows it.",
                    plural(count as u64, "question", "questions")
                ),
            ));
            return;
        }
        let dropped = dropped_text(k, n);
        let r = &step.result;
        match &r.error {
            Some(e) if e.kills() => {
                let pid = op.pid().unwrap_or(0);
                self.error(at, format!("`{shown}` faulted. A {e}: pid {pid}. {}.{dropped}", step.counts));
            }
            Some(e) => {
                // xv6's own refusal, kept as a step: its words name the call
                // (`sbrk failed: …`), so the lab's do not say "failed" again.
                let e = e.to_string();
                let ret = if e.contains("returned -1") { "" } else { "; it returned -1, as in xv6" };
                self.error(at, format!("Step {end}, `{shown}`: {e}{ret}. {}.{dropped}", step.counts));
            }
            None if matches!(op, Op::Cpu { .. }) => {
                let cpu = if let Op::Cpu { cpu } = op { cpu } else { 0 };
                let there = match self.machines.full().kernel().running().get(cpu as usize).copied().flatten() {
                    Some(pid) => format!("pid {pid} is running there"),
                    None => "no process is running there yet".to_string(),
                };
                self.notice = Some(Notice::info(
                    at,
                    format!(
                        "Step {end}: the next operations run on CPU {cpu}; {there}. Moving flushes no TLB.{dropped}"
                    ),
                ));
            }
            None if matches!(op, Op::Exit { .. }) => {
                let pid = op.pid().unwrap_or(0);
                self.notice = Some(Notice::info(
                    at,
                    format!(
                        "`{shown}`: exit does not return; pid {pid} is a zombie until its parent waits. {}.{dropped}",
                        step.counts
                    ),
                ));
            }
            None => {
                let mut text = format!("`{shown}` returned {}", r.value);
                if !r.bytes.is_empty() {
                    text.push_str(&format!(" and read {}", bytes_text(&r.bytes)));
                }
                text.push_str(&format!(". {}.{dropped}", step.counts));
                self.notice = Some(Notice::info(at, text));
            }
        }
    }

    /// Turn predict mode on over the timeline: the scenario's own `ask` lines
    /// if it has some, else questions made for each step after the one shown.
    fn predict_on(&mut self, now_ms: f64) {
        let full = self.machines.full().clone();
        // The run turned off in this lab, with the questions the timeline
        // has now (those that did not change keep their answers).
        if let Some(mut q) = self.quiz_off.take()
            && q.rebuild(&full).is_ok()
        {
            let score = q.score();
            self.quiz = Some(q);
            self.notice = Some(Notice::info(
                Where::Quiz,
                format!(
                    "Predict mode is on again, with your answers: {} right of {}, {} to go.",
                    score.right,
                    score.total,
                    score.total - score.right - score.wrong - score.gave_up
                ),
            ));
            // A question whose step was shown while predict mode was off is
            // asked again there.
            let first_open = self.quiz.as_ref().and_then(|q| (0..self.current).find(|&k| q.open_at(k).is_some()));
            if let Some(k) = first_open {
                self.goto(k);
                if let Some(n) = self.notice.as_mut() {
                    n.text.push_str(&format!(" Back at step {k}: a question about step {} is still open.", k + 1));
                }
            }
            return;
        }
        let has_asks = !full.scenario().asks.is_empty();
        let source = if has_asks { Source::Asks } else { Source::Auto };
        let from = if has_asks { full.scenario().ops.len() } else { self.current };
        match QuizRun::start(&full, source, 0, None, from, now_ms) {
            Ok(q) => {
                let n = q.questions.len();
                self.quiz = Some(q);
                self.notice = Some(Notice::info(
                    Where::Quiz,
                    if n == 0 {
                        String::from(
                            "Predict mode is on: run an operation, and the lab asks what it will do before showing it.",
                        )
                    } else {
                        format!(
                            "Predict mode is on: {} about the steps after this one. Answer each before Forward shows its step.",
                            plural(n as u64, "question", "questions")
                        )
                    },
                ));
            }
            Err(e) => self.error(Where::Quiz, format!("Predict mode cannot start here: {e}")),
        }
    }

    /// With nothing to answer before the next step, go to the step before the
    /// first question still open (the steps on the way ask nothing).
    fn goto_first_question(&mut self) {
        let Some(q) = &self.quiz else { return };
        if !q.at(self.current).is_empty() {
            return;
        }
        if let Some(k) = (self.current..=self.len()).find(|&k| q.open_at(k).is_some()) {
            self.goto(k);
        }
    }

    /// Predict mode as a link left it.
    fn open_quiz(&mut self, lq: LinkQuiz) {
        let full = self.machines.full().clone();
        let source = match lq.set {
            Some(n) => Source::Builtin(n),
            None if !full.scenario().asks.is_empty() => Source::Asks,
            None => Source::Auto,
        };
        let r = QuizRun::start(&full, source, lq.seed, lq.student, lq.auto_from, f64::NAN).and_then(|mut q| {
            if !lq.quiet.is_empty() {
                q.quiet = lq.quiet;
                q.rebuild(&full)?;
            }
            if let Some(p) = &lq.progress {
                q.restore(p)?;
            }
            Ok(q)
        });
        match r {
            Ok(q) => {
                self.quiz = Some(q);
                self.goto_first_question();
            }
            Err(e) => self.error(
                Where::Page,
                format!("This link's exercise could not be restored: {e}. The lab opens without it."),
            ),
        }
    }

    /// Load the built-in exercise set `name` for a seed (or a student id).
    fn start_set(&mut self, name: &str, seed: &str, student: &str, now_ms: f64) {
        let (seed, student) = match crate::quiz::seed_from(seed, student) {
            Ok(x) => x,
            Err(e) => {
                self.error(Where::Quiz, e);
                return;
            }
        };
        let Some(text) = pagelab_core::lab::quiz::sets::set_text(name, seed) else {
            self.error(Where::Quiz, format!("there is no exercise set called {}", short(name, 40)));
            return;
        };
        let sc = match scenario::parse(&text) {
            Ok(sc) => sc,
            Err(e) => {
                self.error(Where::Quiz, format!("the set {name} does not read: {e}"));
                return;
            }
        };
        let machines = match Machines::replay(&sc) {
            Ok(m) => m,
            Err(e) => {
                self.error(Where::Quiz, format!("the set {name} does not replay: {e}"));
                return;
            }
        };
        let full = machines.full().clone();
        match QuizRun::start(&full, Source::Builtin(name.to_string()), seed, student, sc.ops.len(), now_ms) {
            Ok(q) => {
                let (v, g) = (self.version, self.generation);
                let n = q.questions.len();
                *self = LabState::embedded(machines);
                self.version = v;
                self.generation = g + 1;
                self.goto(0);
                self.quiz = Some(q);
                self.goto_first_question();
                self.notice = Some(Notice::info(
                    Where::Quiz,
                    format!(
                        "Loaded the exercise set {name} (seed {seed}): {} over {}. Answer each before Forward shows its step.",
                        plural(n as u64, "question", "questions"),
                        plural(sc.ops.len() as u64, "step", "steps")
                    ),
                ));
            }
            Err(e) => self.error(Where::Quiz, format!("the set {name} cannot be asked: {e}")),
        }
    }

    /// Replay the timeline with the what-if flush switch `on` or off, at the same step.
    fn set_noflush(&mut self, on: bool) {
        let mut sc = self.full().scenario().clone();
        let port = self.full().kernel().info().port;
        sc.layout.noflush = match (on, port) {
            (false, _) => SkipFlush::default(),
            (true, Port::Xv6Public) => SkipFlush { growproc: true, ..SkipFlush::default() },
            (true, Port::Xv6Riscv) => SkipFlush { trampoline: true, ..SkipFlush::default() },
        };
        if sc.layout.noflush == self.full().scenario().layout.noflush {
            return;
        }
        let was_running = self.run.is_some();
        // An operation the other machine refuses (its process was killed by
        // a fault that the flush brought, say) ends the timeline there.
        let mut cut = None;
        let replayed = match Machines::replay(&sc) {
            Err(ReplayError { index: Some(i), reject }) => {
                cut = Some((i, reject.to_string()));
                Machines::replay(&sc.prefix(i))
            }
            r => r,
        };
        match replayed {
            Ok(machines) => {
                let (v, g, cur) = (self.version, self.generation, self.current);
                let written_for = self.narrative_flush.unwrap_or(self.full().scenario().layout.noflush);
                *self = LabState::embedded(machines);
                self.narrative_flush = Some(written_for);
                self.version = v;
                self.generation = g + 1;
                self.goto(cur.min(self.len()));
                let what = if port == Port::Xv6Public { "growproc's switchuvm" } else { "the trampoline's sfence.vma" };
                let mut text = if on {
                    format!(
                        "Replayed every step without {what} (a what-if): the TLB keeps what that flush would have emptied."
                    )
                } else {
                    format!("Replayed every step with {what}, as xv6 does.")
                };
                if let Some((i, why)) = cut {
                    text.push_str(&format!(
                        " Step {} cannot run on this machine ({why}), so the timeline now ends at step {i}.",
                        i + 1
                    ));
                }
                if was_running {
                    text.push_str(" The programs were stopped: they run with xv6's flushes only, and this timeline is now a replay on another machine.");
                }
                self.notice = Some(Notice::info(Where::Tlb, text));
            }
            Err(e) => self.error(Where::Tlb, format!("the steps do not replay that way: {e}")),
        }
    }

    /// Add an uploaded program, after checking it is one this machine loads.
    fn upload(&mut self, name: &str, bytes: Vec<u8>) {
        if let Err(e) = input::check_upload_size(name, bytes.len() as u64) {
            self.error(Where::Upload, e);
            return;
        }
        let class = match self.lab().kernel().info().port {
            Port::Xv6Public => ElfClass::Elf32,
            Port::Xv6Riscv => ElfClass::Elf64,
        };
        let path = input::upload_path(name);
        match elf::summary(&bytes, class) {
            Err(e) => self.error(
                Where::Upload,
                format!(
                    "{} was not added: it is not a program this machine can load: {e}. Nothing changed.",
                    short(name, 60)
                ),
            ),
            Ok(sum) => {
                let len = bytes.len();
                // A file already at that path is replaced: say which.
                let port = self.lab().kernel().info().port;
                let had = self
                    .lab()
                    .fs()
                    .files
                    .get(&Fs::normalize(&path))
                    .map(|old| if Fs::is_builtin(port, &path, old) { "the built-in" } else { "the" });
                let added = |what: String| {
                    format!(
                        "{what} ({len} bytes, {}, entry {:#x}, {} program headers).",
                        elf::machine_name(sum.header.machine),
                        sum.header.entry,
                        sum.phdrs.len()
                    )
                };
                let what = match had {
                    Some(which) => format!("{path} added in place of {which} {path}"),
                    None => format!("{path} added"),
                };
                // While the programs run, the file goes on their machine
                // too, and they go on: type its name at sh.
                if let Some(session) = self.run.take() {
                    if session.follows(&self.full().scenario().ops) {
                        self.upload_to_run(session, &path, bytes, added(what));
                        return;
                    }
                    self.run = Some(session);
                }
                self.run(Op::File { path: path.clone(), bytes }, Where::Upload);
                if !self.notice.as_ref().is_some_and(Notice::is_error) {
                    self.notice = Some(Notice::info(
                        Where::Upload,
                        format!(
                            "{} Choose it under Program and run exec, or type its name at sh after Boot and run init.",
                            added(what)
                        ),
                    ));
                }
            }
        }
    }

    /// An upload while the programs run: the file is added to their machine
    /// and, as its `file` operation, to the end of the timeline; they go on.
    fn upload_to_run(&mut self, mut session: RunSession, path: &str, bytes: Vec<u8>, added: String) {
        if let Err(e) = session.add_file(path, bytes) {
            self.run = Some(session);
            self.error(Where::Upload, format!("{} was not added: {e}. Nothing changed.", short(path, 60)));
            return;
        }
        for op in session.new_ops() {
            let end = self.len();
            match self.machines.run(end, &self.full_lab(), op) {
                Ok((machines, _)) => {
                    self.machines = machines;
                    session.applied += 1;
                }
                Err(reject) => {
                    self.error(
                        Where::Upload,
                        format!("The lab could not add the file: {reject}. The programs are stopped."),
                    );
                    self.timeline_changed();
                    return;
                }
            }
        }
        self.builtin = None;
        self.timeline_changed();
        let end = self.len();
        self.goto(end);
        self.run = Some(session);
        self.notice = Some(Notice::info(
            Where::Upload,
            format!("{added} It is on the running machine too (step {end}): type its name at sh."),
        ));
    }

    /// The state after `action` (the reducer's logic, for the host too).
    ///
    /// `self` does not change: the state returned shares the machines that
    /// did not change with it, and an operation runs on a copy.
    #[must_use]
    pub fn reduce_with(&self, action: Action) -> LabState {
        let mut s = self.clone();
        s.version = self.version.wrapping_add(1);
        // Any action but opening a link changes the lab away from the refused link.
        s.link_refused = false;
        // An error lasts until the next action: it goes when something succeeds.
        // What an operation did stays until the step changes or another message comes.
        let before = s.notice.take();
        let predicting = s.quiz.is_some();
        let keeps_info = !matches!(
            action,
            Action::Goto(_)
                | Action::Back
                | Action::Forward
                | Action::NextDefect
                | Action::NewLab(_)
                | Action::LoadBuiltin(_)
                | Action::Opened(_)
                | Action::Dismiss
        );
        let settles = matches!(action, Action::Answer { .. } | Action::GiveUp { .. });
        match action {
            Action::Call(call) => {
                let at = match call {
                    Call::Exec { .. } => Where::Exec,
                    Call::Sbrk(_) => Where::Form("sbrk"),
                    Call::OpenShm(_) => Where::Form("openshm"),
                    Call::CloseShm(_) => Where::Form("closeshm"),
                    Call::Read { .. } => Where::Form("read"),
                    Call::Write { .. } => Where::Form("write"),
                    Call::FailAlloc(_) => Where::Form("failalloc"),
                    Call::Userinit | Call::Fork | Call::Exit | Call::Wait | Call::Kill => Where::Calls,
                };
                match call.op(s.selection.pid, s.scheme()) {
                    Ok(op) => s.run(op, at),
                    Err(e) => s.error(at, e),
                }
            }
            Action::Run(op) => s.run(op, Where::Calls),
            Action::Upload { name, bytes } => s.upload(&name, bytes),
            Action::NewLab(p) => {
                let (v, g) = (s.version, s.generation);
                s = LabState::new(p);
                s.version = v;
                s.generation = g + 1;
                s.notice = Some(Notice::info(
                    Where::Story,
                    format!("A new lab: {}. The first process (pid 1) is made.", p.describe()),
                ));
                if predicting {
                    s.predict_on(f64::NAN);
                }
            }
            Action::LoadBuiltin(name) => match scenario::builtin(&name).map(scenario::parse) {
                Some(Ok(sc)) => match Machines::replay(&sc) {
                    Ok(machines) => {
                        let (v, g) = (s.version, s.generation);
                        s = LabState::embedded(machines);
                        s.version = v;
                        s.generation = g + 1;
                        s.builtin = Some(name.clone());
                        // A story starts at its beginning.
                        s.goto(0);
                        s.notice = Some(Notice::info(
                            Where::Story,
                            format!(
                                "Loaded the built-in scenario {name}: {}. Step through it with Forward (or the n key).",
                                plural(sc.ops.len() as u64, "step", "steps")
                            ),
                        ));
                        if predicting {
                            s.predict_on(f64::NAN);
                        }
                    }
                    Err(e) => s.error(Where::Page, format!("the built-in scenario {name} does not replay: {e}")),
                },
                Some(Err(e)) => s.error(Where::Page, format!("the built-in scenario {name} does not read: {e}")),
                None => s.error(Where::Page, format!("there is no built-in scenario called {}", short(&name, 40))),
            },
            Action::SetNoFlush(on) => s.set_noflush(on),
            Action::RunPrograms(c) => s = s.run_programs(c),
            Action::SetCpu(cpu) => s.run(Op::Cpu { cpu }, Where::Tlb),
            Action::Opened(o) => {
                // A link opened from the address bar (pasted, or reached with the
                // browser's Back or Forward) is on the history entry the browser is
                // on: it is not a new lab, so the page replaces that entry's link
                // and never adds one (which would drop the entries after it).
                let (v, g) = (s.version, s.generation);
                // Taken once (an empty link if it was taken already).
                match o.take().unwrap_or(Ok(None)) {
                    // A link that does not open leaves the lab as it was (the
                    // learner may have mistyped an edit of its own link).
                    Err(e) => {
                        s.error(
                            Where::Page,
                            format!("This link could not be opened: {e}. The lab you had is still here; the address bar keeps the link until you change the lab."),
                        );
                        s.link_refused = true;
                    }
                    link => {
                        let stopped = s.run.is_some();
                        s = LabState::opened(link);
                        if stopped {
                            s.tell(Where::Page, RUN_LEFT);
                        }
                    }
                }
                s.version = v;
                s.generation = g;
            }
            Action::Goto(k) => {
                if s.may_show(k) {
                    s.goto(k);
                }
            }
            Action::Back => {
                if s.current == 0 {
                    s.error(Where::Steps, "this is step 0, the machine just booted: there is nothing before it");
                } else {
                    s.goto(s.current - 1);
                }
            }
            Action::Forward => {
                if s.current >= s.len() {
                    s.error(Where::Steps, "this is the last step: run an operation to add one");
                } else if s.may_show(s.current + 1) {
                    s.goto(s.current + 1);
                }
            }
            Action::NextDefect => {
                let cur = s.current;
                match (s.defects.iter().copied().find(|&d| d > cur), s.defects.first().copied()) {
                    (Some(d), _) => {
                        if s.may_show(d) {
                            s.goto(d);
                        }
                    }
                    (None, Some(first)) => {
                        s.goto(first);
                        s.notice = Some(Notice::info(
                            Where::Steps,
                            format!("There is no DEFECT line after step {cur}: back to the first one, step {first}."),
                        ));
                    }
                    (None, None) => s.error(
                        Where::Steps,
                        "this scenario has no DEFECT line: a step gets one when something goes wrong that xv6 does not catch, such as the note's own shared-memory code (the built-in shm-test-note) or a store through a stale TLB entry (tlb-noflush-x86, or the TLB panel's what-if)",
                    ),
                }
            }
            Action::SelectPid(pid) => {
                if s.lab().kernel().procs().get(pid).is_some() {
                    s.selection.pid = Some(pid);
                    s.kernel_table = false;
                    s.follow_address();
                } else {
                    s.error(Where::Calls, format!("there is no process with pid {pid} at this step"));
                }
            }
            Action::SetAddress(text) => {
                s.address_auto = false;
                s.set_address_text(text);
            }
            Action::SetAccess(a) => {
                s.access_auto = false;
                s.selection.access = a;
            }
            Action::UseKernelTable(k) => {
                s.kernel_table = k;
                s.follow_address();
            }
            Action::SelectFrame(f) => s.selection.frame = f,
            Action::GotoFrame(text) => {
                let info = s.lab().kernel().info().clone();
                let kernbase = info.constants.iter().find(|(n, _)| n == "KERNBASE").map_or(0, |(_, v)| *v);
                match input::parse_address(&text, SchemeKind::Sv39) {
                    Err(e) => s.error(Where::Frames, e),
                    // On x86 a kernel virtual address (a free list's next pointer is one) names its frame by V2P.
                    Ok(va)
                        if info.scheme == SchemeKind::X86
                            && va >= kernbase
                            && va - kernbase >= info.ram_base
                            && va - kernbase < info.phystop =>
                    {
                        let pa = va - kernbase;
                        s.selection.frame = Some(pa & !0xfff);
                        s.tell(
                            Where::Frames,
                            &format!("{va:#x} is a kernel virtual address: the frame is V2P({va:#x}) = {va:#x} − KERNBASE = {pa:#x}."),
                        );
                    }
                    Ok(pa) if pa < info.ram_base || pa >= info.phystop => s.error(
                        Where::Frames,
                        format!(
                            "{pa:#x} is not in RAM: physical memory here goes from {:#x} to {:#x} (PHYSTOP)",
                            info.ram_base, info.phystop
                        ),
                    ),
                    Ok(pa) => s.selection.frame = Some(pa & !0xfff),
                }
            }
            Action::StartSet { name, seed, student, now_ms } => s.start_set(&name, &seed, &student, now_ms),
            Action::Predict { on: false, .. } => {
                if let Some(q) = s.quiz.take() {
                    let settled = q.attempts.iter().filter(|a| a.settled()).count();
                    let text = if settled == 0 {
                        String::from("Predict mode is off: every step shows at once.")
                    } else {
                        s.quiz_off = Some(q);
                        format!(
                            "Predict mode is off: every step shows at once. Your {} {} kept until you leave or reload this page: press Predict to go on where you were (the link holds them only while it is on).",
                            plural(settled as u64, "answer", "answers"),
                            if settled == 1 { "is" } else { "are" }
                        )
                    };
                    // Beside the Predict button: the predict panel is gone.
                    s.notice = Some(Notice::info(Where::Steps, text));
                }
            }
            Action::Predict { on: true, now_ms } => s.predict_on(now_ms),
            Action::Answer { question, text, now_ms } => {
                let r = match s.quiz.as_mut() {
                    Some(q) => q.answer(question, &text, now_ms),
                    None => Err(String::from("predict mode is off: there is no question to answer")),
                };
                if let Err(e) = r {
                    s.error(Where::Quiz, e);
                }
            }
            Action::Hint(question) => {
                if let Some(q) = s.quiz.as_mut()
                    && !q.hint(question)
                {
                    s.error(Where::Quiz, "there is no hint left for this question");
                }
            }
            Action::GiveUp { question, now_ms } => {
                if let Some(q) = s.quiz.as_mut() {
                    q.give_up(question, now_ms);
                }
            }
            Action::Fail(at, e) => s.error(at, e),
            Action::Inform(at, t) => s.notice = Some(Notice::info(at, t)),
            Action::Dismiss => {}
        }
        // "Predict what it does first" is done with once the step's questions are settled.
        let settled_now = settles && s.quiz.is_some() && s.open_question().is_none();
        if s.notice.is_none()
            && keeps_info
            && !settled_now
            && let Some(n) = before.filter(|n| !n.is_error())
            // The step bar's "Predict first: answer question N" names a question
            // just settled: the panel now asks the next one itself.
            && !(settles && n.at == Where::Steps)
        {
            s.notice = Some(n);
        }
        s.now_changed = s.changed(s.current);
        s
    }
}

/// "" when no step was dropped, else " Step 4 was dropped." or " Steps 4 to 9 were dropped."
#[must_use]
pub fn dropped_text(k: usize, n: usize) -> String {
    match n.saturating_sub(k) {
        0 => String::new(),
        1 => format!(" Step {n} was dropped."),
        _ => format!(" Steps {} to {n} were dropped.", k + 1),
    }
}

/// The steps (from 1) of `lab` whose trace has a DEFECT line.
fn defect_steps(lab: &Lab) -> Vec<usize> {
    lab.steps()
        .iter()
        .enumerate()
        .filter(|(_, st)| st.events.iter().any(|e| matches!(e.event, Event::Defect { .. })))
        .map(|(i, _)| i + 1)
        .collect()
}

/// The panels predict mode hides while a question is open, because they
/// would give its answer away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hidden {
    /// The open question's number (None: nothing is hidden).
    pub question: Option<usize>,
    /// The translate panel (fields, walk, physical address).
    pub translate: bool,
    /// The address space and its stack.
    pub space: bool,
    /// The process table (sizes).
    pub procs: bool,
    /// Physical memory and the free list.
    pub memory: bool,
    /// The shared pages.
    pub shm: bool,
    /// Page-table entries shown outside the hidden panels (a frame's bytes,
    /// the entry that maps a frame, in the physical memory panel).
    pub entries: bool,
}

/// What one step changed, panel by panel, so the page can mark those panels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    /// The process table (a process made, changed size, exited, freed).
    pub procs: bool,
    /// The chosen process's page table.
    pub space: bool,
    /// Physical memory (frames allocated or freed).
    pub memory: bool,
    /// The shared pages (opened, closed, shared by fork, freed).
    pub shm: bool,
    /// A TLB (a lookup filled or dropped a slot, a flush emptied it), or
    /// the CPU operations run on.
    pub tlb: bool,
}

impl Changed {
    /// What step `st` changed, with `pid` the chosen process and
    /// `shm_in_use` true if a shared page is open after it.
    #[must_use]
    pub fn of(st: &Step, pid: Option<u32>, shm_in_use: bool) -> Changed {
        let killed = matches!(st.result.error, Some(pagelab_core::port::SysError::Access(_)));
        let procs = killed
            || matches!(
                st.op,
                Op::Userinit
                    | Op::Fork { .. }
                    | Op::Exec { .. }
                    | Op::Sbrk { .. }
                    | Op::Exit { .. }
                    | Op::Wait { .. }
                    | Op::Kill { .. }
                    | Op::OpenShm { .. }
                    | Op::CloseShm { .. }
            );
        let space = st.summary.mappings.iter().any(|m| {
            m.pid.is_some()
                && m.pid == pid
                && (!m.added.is_empty() || !m.removed.is_empty() || !m.changed.is_empty() || m.tables_freed > 0)
        });
        let memory = st.counts.allocated() + st.counts.freed() > 0;
        // Who maps a shared page changes with openshmem and closeshmem, and, while one
        // is open, with every call that makes, ends or replaces an address space.
        let shm = matches!(st.op, Op::OpenShm { .. } | Op::CloseShm { .. })
            || (shm_in_use
                && matches!(
                    st.op,
                    Op::Fork { .. }
                        | Op::Exec { .. }
                        | Op::Sbrk { .. }
                        | Op::Exit { .. }
                        | Op::Wait { .. }
                        | Op::Kill { .. }
                ))
            || st.events.iter().any(|e| match &e.event {
                Event::Kalloc { owner, .. } | Event::Kfree { owner, .. } => matches!(owner, Owner::Shared { .. }),
                _ => false,
            });
        let tlb = matches!(st.op, Op::Cpu { .. })
            || st.events.iter().any(|e| match &e.event {
                Event::TlbFill { .. } | Event::TlbDrop { .. } => true,
                Event::TlbFlush { dropped, .. } => *dropped > 0,
                _ => false,
            });
        Changed { procs, space, memory, shm, tlb }
    }

    /// True if the step changed any panel.
    #[must_use]
    pub fn any(&self) -> bool {
        self.procs || self.space || self.memory || self.shm || self.tlb
    }
}

/// Bytes read, for a message: `10 (0x0a)` for one, a list for more.
fn bytes_text(b: &[u8]) -> String {
    if b.len() == 1 {
        return format!("the byte {} ({:#04x})", b[0], b[0]);
    }
    let shown: Vec<String> = b.iter().take(16).map(|x| format!("{x:02x}")).collect();
    let more = if b.len() > 16 { format!(" … ({} bytes)", b.len()) } else { String::new() };
    format!("the bytes {}{more}", shown.join(" "))
}

impl Reducible for LabState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(self.reduce_with(action))
    }
}
