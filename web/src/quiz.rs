//! Predict mode: the questions asked before each step, the learner's
//! attempts, the score and the attempt log.
//!
//! Plain data, free of `web_sys` (times come in with the actions), so it is
//! tested on the host like the rest of the state.

use std::collections::BTreeMap;
use std::rc::Rc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use pagelab_core::lab::quiz::answer::{self, Part};
use pagelab_core::lab::quiz::{self, Ask, Asks, Question, sets};
use pagelab_core::lab::{Lab, Scenario};
use serde::{Deserialize, Serialize};

/// Where a predict-mode run's questions come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A built-in set, by name (its text is made for the seed).
    Builtin(String),
    /// The `ask` lines of the scenario loaded (an instructor's own set).
    Asks,
    /// Made for each step, by the kind of its operation.
    Auto,
}

/// How an attempt at a question stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not answered yet.
    Open,
    /// Answered right.
    Right,
    /// Answered wrong (the answer is then shown).
    Wrong,
    /// Given up on (the answer is then shown).
    GaveUp,
}

/// One question's attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    /// How it stands.
    pub status: Status,
    /// The answer given, as typed.
    pub answer: String,
    /// Hints shown.
    pub hints: usize,
    /// The verdict's words (right, or what was expected and why).
    pub message: String,
    /// The verdict on each part.
    pub parts: Vec<Part>,
    /// Answers that could not be read, before the one that counted.
    pub unreadable: u32,
    /// When it was answered or given up (milliseconds since 1970), if it was.
    pub at_ms: Option<f64>,
    /// Seconds since the question before was settled (or the set started).
    pub seconds: Option<f64>,
}

impl Attempt {
    fn open() -> Attempt {
        Attempt {
            status: Status::Open,
            answer: String::new(),
            hints: 0,
            message: String::new(),
            parts: Vec::new(),
            unreadable: 0,
            at_ms: None,
            seconds: None,
        }
    }

    /// True once answered or given up.
    #[must_use]
    pub fn settled(&self) -> bool {
        self.status != Status::Open
    }
}

/// A predict-mode run: the set, its seed, the questions and the attempts.
#[derive(Clone, Debug, PartialEq)]
pub struct QuizRun {
    /// Where the questions come from.
    pub source: Source,
    /// The seed that chose every `?`.
    pub seed: u64,
    /// The student id the seed came from, if it did.
    pub student: Option<String>,
    /// Operations from this index on get automatic questions (where the set has none).
    pub auto_from: usize,
    /// The operations the running programs made, as `[from, to)` ranges of
    /// the timeline: they were shown as the programs ran, so none of them
    /// is asked about.
    pub quiet: Vec<(usize, usize)>,
    /// The questions, in order.
    pub questions: Rc<Vec<Question>>,
    /// One attempt per question.
    pub attempts: Vec<Attempt>,
    /// When the run started (milliseconds since 1970; NaN when opened from a link).
    pub started_ms: f64,
}

/// What a learner is told when box `k` of a several-box answer is empty:
/// the box by its label (`fill in every box: “User pages freed” is empty`).
#[must_use]
pub fn empty_box(labels: &[String], k: usize) -> String {
    let name = labels.get(k).map_or_else(|| format!("box {}", k + 1), |l| format!("“{l}”"));
    format!("fill in every box: {name} is empty")
}

/// The name of a downloaded log, without its extension: the set's name and
/// the student's id (or the seed), in letters, digits and dashes only
/// (`pagelab-quiz-story-riscv-alice`, `pagelab-questions-seed7`).
#[must_use]
pub fn log_stem(run: &QuizRun) -> String {
    let clean = |t: &str| {
        let mut out = String::new();
        for c in t.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-').chars().take(60).collect::<String>()
    };
    let set = match &run.source {
        Source::Builtin(n) => clean(n),
        Source::Asks => String::from("questions"),
        Source::Auto => String::from("predict"),
    };
    match run.student.as_deref().map(clean).filter(|w| !w.is_empty()) {
        Some(w) => format!("pagelab-{set}-{w}"),
        None => format!("pagelab-{set}-seed{}", run.seed),
    }
}

/// The name of a run's set, for the page and the log.
#[must_use]
pub fn set_name(source: &Source) -> String {
    match source {
        Source::Builtin(n) => n.clone(),
        Source::Asks => String::from("this scenario's questions"),
        Source::Auto => String::from("questions made for each step"),
    }
}

impl QuizRun {
    /// A run over `lab`'s timeline; the questions are made at once. The
    /// set's questions are the `ask` lines of `lab`'s scenario (none for
    /// [`Source::Auto`]); operations from index `auto_from` on that have no
    /// `ask` lines get questions made for their kind.
    ///
    /// # Errors
    /// Why the set cannot be asked here.
    pub fn start(
        lab: &Lab,
        source: Source,
        seed: u64,
        student: Option<String>,
        auto_from: usize,
        now_ms: f64,
    ) -> Result<QuizRun, String> {
        let mut run = QuizRun {
            source,
            seed,
            student,
            auto_from,
            quiet: Vec::new(),
            questions: Rc::new(Vec::new()),
            attempts: Vec::new(),
            started_ms: now_ms,
        };
        run.rebuild(lab)?;
        Ok(run)
    }

    /// A run over questions already made (a widget's), with no lab behind it.
    #[must_use]
    pub fn of_questions(questions: Vec<Question>, source: Source, seed: u64, student: Option<String>) -> QuizRun {
        let n = questions.len();
        QuizRun {
            source,
            seed,
            student,
            auto_from: 0,
            quiet: Vec::new(),
            questions: Rc::new(questions),
            attempts: vec![Attempt::open(); n],
            started_ms: f64::NAN,
        }
    }

    /// The `ask` lines asked over `s`: its own (unless the questions are all
    /// made automatically), and automatic ones for every operation from where
    /// automatic questions start that has none.
    fn asks_over(&self, s: &Scenario) -> Asks {
        let mut asks = if self.source == Source::Auto { Asks::new() } else { s.asks.clone() };
        // After a set's own operations, the ones the learner runs get questions too.
        for (i, op) in s.ops.iter().enumerate().skip(self.auto_from) {
            if let std::collections::btree_map::Entry::Vacant(e) = asks.entry(i) {
                let a = quiz::auto_asks(op);
                if !a.is_empty() {
                    e.insert(a);
                }
            }
        }
        asks.retain(|k, _| *k <= s.ops.len() && !self.is_quiet(*k));
        asks
    }

    /// True if operation `i` is one the running programs made.
    #[must_use]
    pub fn is_quiet(&self, i: usize) -> bool {
        self.quiet.iter().any(|&(a, b)| (a..b).contains(&i))
    }

    /// Operations `[from, to)` were made by the running programs: ask nothing
    /// about them (a range that goes on from the last one extends it).
    pub fn add_quiet(&mut self, from: usize, to: usize) {
        if from >= to {
            return;
        }
        match self.quiet.last_mut() {
            Some(last) if last.1 == from => last.1 = to,
            _ => self.quiet.push((from, to)),
        }
    }

    /// Make the questions again over `lab`'s timeline (after it changed), keeping
    /// the attempts at the questions that did not change.
    ///
    /// # Errors
    /// Why the set cannot be asked here.
    pub fn rebuild(&mut self, lab: &Lab) -> Result<(), String> {
        let mut s = lab.scenario().clone();
        // Operations dropped from the timeline are no longer the programs'.
        let n = s.ops.len();
        self.quiet.retain_mut(|r| {
            r.1 = r.1.min(n);
            r.0 < r.1
        });
        s.asks = self.asks_over(&s);
        let built = match self.source {
            Source::Auto => quiz::build_lenient(&s, self.seed),
            _ => quiz::build(&s, self.seed),
        }
        .map_err(|e| e.to_string())?;
        let old = Rc::clone(&self.questions);
        let keep = old.iter().zip(&built.questions).take_while(|(a, b)| a == b).count();
        self.attempts.truncate(keep);
        self.attempts.resize(built.questions.len(), Attempt::open());
        self.questions = Rc::new(built.questions);
        Ok(())
    }
}

/// The score: right answers and questions settled, out of all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    /// Answered right.
    pub right: usize,
    /// Answered wrong.
    pub wrong: usize,
    /// Given up on.
    pub gave_up: usize,
    /// All questions.
    pub total: usize,
}

impl QuizRun {
    /// The questions (indexes) asked before operation `step` runs, that is
    /// before step `step + 1` is shown.
    #[must_use]
    pub fn at(&self, step: usize) -> Vec<usize> {
        self.questions.iter().enumerate().filter(|(_, q)| q.step == step).map(|(i, _)| i).collect()
    }

    /// The first question not yet settled before operation `step` runs.
    #[must_use]
    pub fn open_at(&self, step: usize) -> Option<usize> {
        self.at(step).into_iter().find(|&i| !self.attempts[i].settled())
    }

    /// The first unsettled question asked before any operation in `from..to`.
    #[must_use]
    pub fn open_between(&self, from: usize, to: usize) -> Option<usize> {
        (from..to).find_map(|s| self.open_at(s))
    }

    /// The score so far.
    #[must_use]
    pub fn score(&self) -> Score {
        let mut s = Score { total: self.questions.len(), ..Score::default() };
        for a in &self.attempts {
            match a.status {
                Status::Right => s.right += 1,
                Status::Wrong => s.wrong += 1,
                Status::GaveUp => s.gave_up += 1,
                Status::Open => {}
            }
        }
        s
    }

    /// When the last question was settled (or the run started); NaN if not known
    /// (a run opened from a link starts with no time).
    fn last_ms(&self) -> f64 {
        self.attempts.iter().filter_map(|a| a.at_ms).fold(self.started_ms, f64::max)
    }

    /// Answer question `i` with `text` at `now_ms`.
    ///
    /// # Errors
    /// The question is already settled or does not exist, or the answer cannot
    /// be read (the attempt stays open, and the page keeps the text).
    pub fn answer(&mut self, i: usize, text: &str, now_ms: f64) -> Result<(), String> {
        let Some(q) = self.questions.get(i).cloned() else {
            return Err(format!("there is no question {}", i + 1));
        };
        if self.attempts[i].settled() {
            return Err(format!("question {} is already answered", i + 1));
        }
        match answer::grade(&q, text) {
            Err(e) => {
                self.attempts[i].unreadable += 1;
                Err(format!("The answer cannot be read: {e}. Nothing was counted; try again."))
            }
            Ok(v) => {
                let last = self.last_ms();
                let seconds = last.is_finite().then(|| ((now_ms - last) / 1000.0).max(0.0));
                let a = &mut self.attempts[i];
                a.status = if v.right { Status::Right } else { Status::Wrong };
                a.answer = text.trim().to_string();
                a.message = v.message;
                a.parts = v.parts;
                a.at_ms = Some(now_ms);
                a.seconds = seconds;
                Ok(())
            }
        }
    }

    /// Show the next hint of question `i`; false if there is none left.
    pub fn hint(&mut self, i: usize) -> bool {
        let (Some(q), Some(a)) = (self.questions.get(i), self.attempts.get_mut(i)) else { return false };
        if a.settled() || a.hints >= q.hints.len() {
            return false;
        }
        a.hints += 1;
        true
    }

    /// Give up on question `i`: its answer is shown.
    pub fn give_up(&mut self, i: usize, now_ms: f64) {
        let last = self.last_ms();
        let (Some(q), Some(a)) = (self.questions.get(i), self.attempts.get_mut(i)) else { return };
        if a.settled() {
            return;
        }
        a.status = Status::GaveUp;
        a.message = format!("The answer is {}. {}", q.answer, q.why);
        a.at_ms = Some(now_ms);
        a.seconds = last.is_finite().then(|| ((now_ms - last) / 1000.0).max(0.0));
    }
}

// ---- the attempt log ----

/// One question in the attempt log.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// Its number.
    pub question: usize,
    /// The step it was asked before.
    pub step: usize,
    /// The `ask` line.
    pub ask: String,
    /// The question in words.
    pub prompt: String,
    /// `right`, `wrong`, `gave_up` or `open`.
    pub result: Status,
    /// The answer given.
    pub answer: String,
    /// The right answer, once the question is settled (empty while it is open).
    pub expected: String,
    /// Hints used.
    pub hints: usize,
    /// Answers that could not be read first.
    pub unreadable: u32,
    /// When it was settled, as an ISO 8601 time (UTC), if it was.
    pub time: Option<String>,
    /// Seconds spent on it.
    pub seconds: Option<f64>,
}

/// The whole attempt log.
#[derive(Clone, Debug, Serialize)]
pub struct Log {
    /// The set.
    pub set: String,
    /// Its seed, as text: a JSON number would lose digits in JavaScript above 2^53.
    pub seed: String,
    /// The student id the seed came from, if any.
    pub student: Option<String>,
    /// The machine.
    pub preset: String,
    /// When the run started (ISO 8601, UTC).
    pub started: String,
    /// Right answers.
    pub right: usize,
    /// Questions.
    pub total: usize,
    /// Each question.
    pub questions: Vec<LogEntry>,
}

/// Milliseconds since 1970 as an ISO 8601 UTC time, `2026-11-28T10:15:03Z`.
#[must_use]
pub fn iso_time(ms: f64) -> String {
    let secs = (ms / 1000.0).floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // The civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

impl Status {
    /// The word for it in logs and events: `right`, `wrong`, `gave_up` or `open`.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Status::Right => "right",
            Status::Wrong => "wrong",
            Status::GaveUp => "gave_up",
            Status::Open => "open",
        }
    }
}

impl QuizRun {
    /// The attempt log.
    #[must_use]
    pub fn log(&self, preset: &str) -> Log {
        let questions = self
            .questions
            .iter()
            .zip(&self.attempts)
            .map(|(q, a)| LogEntry {
                question: q.number,
                step: q.step + 1,
                ask: q.ask.to_string(),
                prompt: q.prompt.clone(),
                result: a.status,
                answer: a.answer.clone(),
                // Only once settled: the log of an open question must not hand out its answer.
                expected: if a.settled() { q.answer.clone() } else { String::new() },
                hints: a.hints,
                unreadable: a.unreadable,
                time: a.at_ms.map(iso_time),
                seconds: a.seconds.map(|s| (s * 10.0).round() / 10.0),
            })
            .collect();
        let sc = self.score();
        Log {
            set: set_name(&self.source),
            seed: self.seed.to_string(),
            student: self.student.clone(),
            preset: preset.to_string(),
            started: if self.started_ms.is_finite() { iso_time(self.started_ms) } else { String::new() },
            right: sc.right,
            total: sc.total,
            questions,
        }
    }

    /// The attempt log as JSON (indented, for a file).
    #[must_use]
    pub fn log_json(&self, preset: &str) -> String {
        serde_json::to_string_pretty(&self.log(preset)).unwrap_or_default()
    }

    /// The attempt log as CSV: a header, then one row per question.
    #[must_use]
    pub fn log_csv(&self, preset: &str) -> String {
        let log = self.log(preset);
        let mut out = String::from(
            "set,seed,student,preset,question,step,ask,result,answer,expected,hints,unreadable,time,seconds\n",
        );
        for e in &log.questions {
            let row = [
                csv(&log.set),
                log.seed.clone(),
                csv(log.student.as_deref().unwrap_or("")),
                csv(&log.preset),
                e.question.to_string(),
                e.step.to_string(),
                csv(&e.ask),
                e.result.word().to_string(),
                csv(&e.answer),
                csv(&e.expected),
                e.hints.to_string(),
                e.unreadable.to_string(),
                e.time.clone().unwrap_or_default(),
                e.seconds.map(|s| format!("{s:.1}")).unwrap_or_default(),
            ];
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }
}

/// A CSV field: quoted when it holds a comma, a quote or a line break, with
/// quotes doubled. A field starting with `=`, `+`, `-` or `@` gets an
/// apostrophe in front, so a spreadsheet does not run it as a formula.
#[must_use]
pub fn csv(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("\u{27}{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

// ---- progress in links ----

/// One attempt as a link keeps it: status (`o`, `r`, `w`, `g`), hints, answer, seconds, and (added later, so
/// older links still read) the answers that could not be read and when it was settled (ms since 1970).
#[derive(Serialize, Deserialize)]
struct Saved(String, usize, String, Option<f64>, #[serde(default)] u32, #[serde(default)] Option<f64>);

/// The most bytes a link's progress may decode to.
const MAX_PROGRESS: usize = 1 << 20;

impl QuizRun {
    /// The attempts, for a link: base64url of a JSON list.
    #[must_use]
    pub fn progress(&self) -> String {
        let v: Vec<Saved> = self
            .attempts
            .iter()
            .map(|a| {
                let c = match a.status {
                    Status::Open => "o",
                    Status::Right => "r",
                    Status::Wrong => "w",
                    Status::GaveUp => "g",
                };
                Saved(
                    c.to_string(),
                    a.hints,
                    a.answer.clone(),
                    a.seconds.map(f64::round),
                    a.unreadable,
                    a.at_ms.map(f64::round),
                )
            })
            .collect();
        B64.encode(serde_json::to_vec(&v).unwrap_or_default())
    }

    /// Put back the attempts a link kept. Each answer is graded again, so a
    /// link cannot claim a right answer it does not hold.
    ///
    /// # Errors
    /// Plain words for progress that does not read or does not fit the set.
    pub fn restore(&mut self, code: &str) -> Result<(), String> {
        let raw = B64
            .decode(code.trim_end_matches('='))
            .map_err(|_| String::from("the link's progress (qa=) is damaged: it is not base64url"))?;
        if raw.len() > MAX_PROGRESS {
            return Err(String::from("the link's progress (qa=) is too long"));
        }
        let saved: Vec<Saved> = serde_json::from_slice(&raw)
            .map_err(|_| String::from("the link's progress (qa=) is damaged: it does not read"))?;
        if saved.len() > self.questions.len() {
            return Err(format!(
                "the link's progress has {} answers, but the set has {} questions",
                saved.len(),
                self.questions.len()
            ));
        }
        for (i, Saved(c, hints, answer, seconds, unreadable, at_ms)) in saved.into_iter().enumerate() {
            let q = &self.questions[i];
            let mut a = Attempt::open();
            match c.as_str() {
                "o" => {}
                "g" => {
                    a.status = Status::GaveUp;
                    a.message = format!("The answer is {}. {}", q.answer, q.why);
                }
                "r" | "w" => match answer::grade(q, &answer) {
                    Ok(v) => {
                        a.status = if v.right { Status::Right } else { Status::Wrong };
                        a.answer = answer;
                        a.message = v.message;
                        a.parts = v.parts;
                    }
                    Err(_) => return Err(format!("the link's answer to question {} does not read", i + 1)),
                },
                _ => return Err(format!("the link's progress for question {} is damaged", i + 1)),
            }
            a.hints = hints.min(q.hints.len());
            a.unreadable = unreadable;
            if a.settled() {
                a.seconds = seconds.filter(|s| s.is_finite() && *s >= 0.0);
                a.at_ms = at_ms.filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e14);
            }
            self.attempts[i] = a;
        }
        // When the set started: the first settled question's time less the seconds it took.
        if let Some(a) = self.attempts.iter().find(|a| a.settled())
            && let (Some(at), Some(secs)) = (a.at_ms, a.seconds)
        {
            self.started_ms = at - secs * 1000.0;
        }
        Ok(())
    }
}

/// The seed a learner or instructor typed: a number, or a student id turned into one.
///
/// # Errors
/// A seed that is not a whole number, an id that is too long, or both given.
pub fn seed_from(seed: &str, student: &str) -> Result<(u64, Option<String>), String> {
    let student = student.trim();
    if !student.is_empty() && !seed.trim().is_empty() {
        return Err(String::from("give a seed or a student id, not both: a student id chooses the seed itself"));
    }
    if !student.is_empty() {
        if student.chars().count() > 200 {
            return Err(String::from("the student id is too long: at most 200 characters"));
        }
        return Ok((sets::student_seed(student), Some(student.to_string())));
    }
    if seed.trim().is_empty() {
        return Ok((0, None));
    }
    sets::parse_seed(seed).map(|s| (s, None))
}

/// The kinds of question asked, counted (for the page's summary of a set).
#[must_use]
pub fn kinds(questions: &[Question]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for q in questions {
        *m.entry(Ask::kind(&q.ask)).or_insert(0) += 1;
    }
    m
}
