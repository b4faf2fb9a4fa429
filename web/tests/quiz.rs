//! Predict mode in the lab's state, run on the host: questions gate the
//! steps, answers are graded, panels hide, the log and the link keep it all.
//! Expected answers are worked out by hand from xv6 (see core/tests/quiz.rs
//! for the derivations of the same numbers).
#![cfg(not(target_arch = "wasm32"))]

use pagelab_core::lab::Preset;
use pagelab_web::quiz::{Status, csv, iso_time};
use pagelab_web::state::{Action, Call, LabState, Where, open_link};

fn act(s: LabState, a: Action) -> LabState {
    s.reduce_with(a)
}

fn error_of(s: &LabState) -> String {
    match &s.notice {
        Some(n) if n.is_error() => n.text.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}

fn start(name: &str, seed: &str) -> LabState {
    let s = act(
        LabState::default(),
        Action::StartSet { name: name.into(), seed: seed.into(), student: String::new(), now_ms: 1_000_000.0 },
    );
    assert!(s.quiz.is_some(), "{:?}", s.notice);
    s
}

fn answer(s: LabState, text: &str, at: f64) -> LabState {
    let i = s.open_question().expect("a question is open");
    act(s, Action::Answer { question: i, text: text.into(), now_ms: at })
}

#[test]
fn a_set_asks_before_each_step_and_grades_the_answers() {
    let s = start("quiz-story-x86", "3");
    assert_eq!(s.current(), 0);
    // Question 1, before userinit: pages. Forward is refused until it is settled.
    let s = act(s, Action::Forward);
    assert_eq!(s.current(), 0);
    let told = s.notice.as_ref().map(|n| (n.is_error(), n.text.clone()));
    assert!(
        matches!(&told, Some((false, t)) if t.contains("Predict first: answer question 1 (before step 1)")),
        "{told:?}"
    );
    assert_eq!(s.notice.as_ref().map(|n| n.at), Some(Where::Steps));
    // Memory would give the answer away: it is hidden.
    let h = s.hidden();
    assert_eq!(h.question, Some(1));
    assert!(h.memory && !h.translate);
    // userinit: 1 user page, 66 page-table pages (1 + 64 kernel + 1 user), nothing freed.
    let s = answer(s, "1 0 1 0", 1_010_000.0);
    let q = s.quiz.as_ref().unwrap();
    assert_eq!(q.attempts[0].status, Status::Wrong);
    assert!(q.attempts[0].message.contains("page-table pages allocated: 66, not 1"), "{}", q.attempts[0].message);
    assert_eq!(q.attempts[0].seconds, Some(10.0));
    // Question 2: the first kalloc is the head, 0xdfff000 (kinit2 freed up to PHYSTOP last).
    let i = s.open_question().unwrap();
    let s = act(s, Action::Hint(i));
    let s = act(s, Action::Hint(i));
    // An answer that cannot be read: the message says why, nothing is counted.
    let s = answer(s, "0xzz", 1_020_000.0);
    assert!(error_of(&s).contains("`z` is not a hex digit"));
    assert_eq!(s.notice.as_ref().map(|n| n.at), Some(Where::Quiz));
    let s = answer(s, "0xdfff000", 1_030_000.0);
    let q = s.quiz.as_ref().unwrap();
    assert_eq!((q.attempts[1].status, q.attempts[1].hints, q.attempts[1].unreadable), (Status::Right, 2, 1));
    // Question 3 given up: the answer (57000 − 68 = 56932) is shown.
    let i = s.open_question().unwrap();
    let s = act(s, Action::GiveUp { question: i, now_ms: 1_040_000.0 });
    let q = s.quiz.as_ref().unwrap();
    assert_eq!(q.attempts[2].status, Status::GaveUp);
    assert!(q.attempts[2].message.contains("56932"));
    // Every question about step 1 is settled: Forward shows it; step 2 has questions again.
    assert_eq!(s.open_question(), None);
    assert!(!s.hidden().memory);
    let s = act(s, Action::Forward);
    assert_eq!(s.current(), 1);
    assert!(s.open_question().is_some());
    // Going back is always allowed; jumping past an open question is not.
    let s = act(s, Action::Back);
    assert_eq!(s.current(), 0);
    let s = act(s, Action::Goto(5));
    assert_eq!(s.current(), 0);
    assert!(s.notice.as_ref().is_some_and(|n| !n.is_error() && n.text.contains("answer question 4 (before step 2)")));
    let sc = s.quiz.as_ref().unwrap().score();
    assert_eq!((sc.right, sc.wrong, sc.gave_up, sc.total), (1, 1, 1, 24));
}

#[test]
fn the_log_has_every_question_in_json_and_csv() {
    let s = start("quiz-story-x86", "3");
    let s = answer(s, "1 0 66 0", 1_012_500.0);
    let q = s.quiz.as_ref().unwrap();
    let json: serde_json::Value = serde_json::from_str(&q.log_json("xv6-public")).unwrap();
    assert_eq!(json["set"], "quiz-story-x86");
    assert_eq!(json["seed"], "3");
    assert_eq!(json["started"], "1970-01-01T00:16:40Z");
    assert_eq!(json["right"], 1);
    assert_eq!(json["total"], 24);
    assert_eq!(json["questions"][0]["ask"], "ask pages");
    assert_eq!(json["questions"][0]["result"], "right");
    assert_eq!(json["questions"][0]["answer"], "1 0 66 0");
    assert_eq!(json["questions"][0]["seconds"], 12.5);
    assert_eq!(json["questions"][0]["time"], "1970-01-01T00:16:52Z");
    assert_eq!(json["questions"][1]["result"], "open");
    // An open question's answer is not in the log.
    assert_eq!(json["questions"][1]["expected"], "");
    assert_eq!(json["questions"][0]["expected"], "1 0 66 0");
    let csv_text = q.log_csv("xv6-public");
    let lines: Vec<&str> = csv_text.lines().collect();
    assert_eq!(lines.len(), 25);
    assert_eq!(
        lines[0],
        "set,seed,student,preset,question,step,ask,result,answer,expected,hints,unreadable,time,seconds"
    );
    assert_eq!(
        lines[1],
        "quiz-story-x86,3,,xv6-public,1,1,ask pages,right,1 0 66 0,1 0 66 0,0,0,1970-01-01T00:16:52Z,12.5"
    );
    // Fields that a spreadsheet would misread are quoted or defused.
    assert_eq!(csv("a,b"), "\"a,b\"");
    assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv("=1+1"), "'=1+1");
    // 2026-11-28 10:15:03 UTC is 1795860903 seconds after 1970.
    assert_eq!(iso_time(1_795_860_903_000.0), "2026-11-28T10:15:03Z");
}

#[test]
fn a_link_keeps_the_set_and_the_progress() {
    let s = start("quiz-story-riscv", "7");
    let s = answer(s, "1 0 5 0", 1_001_000.0); // right: userinit on xv6-riscv
    let s = act(s, Action::Answer { question: 1, text: "zz".into(), now_ms: 1_001_500.0 }); // cannot be read
    let s = answer(s, "0x1", 1_002_000.0); // wrong
    let f = s.fragment();
    assert!(f.starts_with("set=quiz-story-riscv&step=0"), "{f}");
    assert!(f.contains("&seed=7") && f.contains("&qa="), "{f}");
    let back = act(LabState::default(), open_link(&f));
    let q = back.quiz.as_ref().expect("predict mode is back");
    assert_eq!(q.seed, 7);
    assert_eq!(q.attempts[0].status, Status::Right);
    assert_eq!(q.attempts[1].status, Status::Wrong);
    assert_eq!(q.attempts[1].answer, "0x1");
    assert_eq!(back.open_question(), Some(2));
    // The log after the reload: the unreadable try, when each was settled, and when the set started
    // (1 000 000 ms, as `start` gives it: the first answer's time less its one second).
    assert_eq!((q.attempts[0].unreadable, q.attempts[1].unreadable), (0, 1));
    assert_eq!((q.attempts[0].at_ms, q.attempts[1].at_ms), (Some(1_001_000.0), Some(1_002_000.0)));
    let log: serde_json::Value = serde_json::from_str(&q.log_json("xv6-riscv")).unwrap();
    assert_eq!(log["started"], "1970-01-01T00:16:40Z");
    assert_eq!(log["questions"][1]["time"], "1970-01-01T00:16:42Z");
    // A link made before times were kept (four parts per answer: [["r",0,"1 0 5 0",1.0]]) still opens.
    let old =
        act(LabState::default(), open_link("set=quiz-story-riscv&step=0&seed=7&qa=W1siciIsMCwiMSAwIDUgMCIsMS4wXV0"));
    let q = old.quiz.as_ref().expect("an old link opens");
    assert_eq!((q.attempts[0].status, q.attempts[0].at_ms), (Status::Right, None));
    // A damaged progress part: the lab opens, without the exercise, and says so.
    let broken = back.fragment().replace("&qa=", "&qa=%%");
    let b = act(LabState::default(), open_link(&broken));
    assert!(b.quiz.is_none());
    assert!(error_of(&b).contains("progress (qa=) is damaged"), "{}", error_of(&b));
}

#[test]
fn predict_mode_asks_about_the_operations_the_learner_runs() {
    let s = LabState::new(Preset::Xv6Public);
    let s = act(s, Action::Predict { on: true, now_ms: 0.0 });
    assert!(s.quiz.as_ref().is_some_and(|q| q.questions.is_empty()));
    // exec /init: the step is made, but the lab shows the step before it and asks first.
    let s = act(s, Action::Call(Call::Exec { path: "/init".into(), args: String::new() }));
    assert_eq!(s.len(), 2);
    assert_eq!(s.current(), 1);
    let q = s.quiz.as_ref().unwrap();
    let kinds: Vec<&str> = q.questions.iter().map(|q| q.ask.kind()).collect();
    assert_eq!(kinds, ["pages", "sp", "argc", "guard", "word"]);
    assert!(s.notice.as_ref().unwrap().text.contains("Predict what it does first: 5 questions"), "{:?}", s.notice);
    // The result is not told before the questions are answered.
    assert!(!s.notice.as_ref().unwrap().text.contains("returned"));
    // init's stack: sp 0x2fe4 (see core/tests/quiz.rs).
    let s = answer(s, "3 1 66 66", 1.0);
    let s = answer(s, "0x2fe4", 2.0);
    let q = s.quiz.as_ref().unwrap();
    assert_eq!((q.attempts[0].status, q.attempts[1].status), (Status::Right, Status::Right));
    // The call to predict stays while questions are open, and goes once the last is settled.
    assert!(s.notice.as_ref().is_some_and(|n| n.text.contains("Predict what it does first")), "{:?}", s.notice);
    let s = act(s, Action::GiveUp { question: 2, now_ms: 3.0 });
    let s = act(s, Action::GiveUp { question: 3, now_ms: 3.0 });
    let s = act(s, Action::GiveUp { question: 4, now_ms: 3.0 });
    assert!(s.notice.as_ref().is_none_or(|n| !n.text.contains("Predict what it does first")), "{:?}", s.notice);
    // Turning it off shows everything again.
    let s = act(s, Action::Predict { on: false, now_ms: 3.0 });
    assert!(s.quiz.is_none() && s.hidden().question.is_none());
    let s = act(s, Action::Forward);
    assert_eq!(s.current(), 2);
}

#[test]
fn bad_seeds_and_sets_keep_the_lab() {
    let s = act(
        LabState::default(),
        Action::StartSet { name: "quiz-story-x86".into(), seed: "12x".into(), student: String::new(), now_ms: 0.0 },
    );
    assert!(s.quiz.is_none());
    assert!(error_of(&s).contains("not a whole number"));
    let s =
        act(s, Action::StartSet { name: "quiz-nope".into(), seed: String::new(), student: String::new(), now_ms: 0.0 });
    assert!(error_of(&s).contains("no exercise set called quiz-nope"));
    // A seed and a student id together are refused, as the widget refuses them.
    let s = act(
        s,
        Action::StartSet { name: "quiz-exec-x86".into(), seed: "99".into(), student: "s1234".into(), now_ms: 0.0 },
    );
    assert!(s.quiz.is_none());
    assert!(error_of(&s).contains("a seed or a student id, not both"));
    // A student id makes the seed: FNV-1a of "s1234" (see core/tests/cli.rs).
    let s = act(
        s,
        Action::StartSet { name: "quiz-exec-x86".into(), seed: " ".into(), student: "s1234".into(), now_ms: 0.0 },
    );
    let q = s.quiz.as_ref().unwrap();
    assert_eq!(q.seed, 11_837_164_609_382_783_398);
    assert_eq!(q.student.as_deref(), Some("s1234"));
    // Answering a question that is not there, or twice, is refused with a message.
    let s = act(s, Action::Answer { question: 999, text: "1".into(), now_ms: 0.0 });
    assert!(error_of(&s).contains("there is no question 1000"));
}

/// The steps the running programs make are shown as they run: predict mode
/// asks nothing about them, in the lab or after a reload of its link, and a
/// call run by hand afterwards is asked about as usual.
#[test]
fn the_programs_steps_ask_nothing() {
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::RunPrograms(RunCommand::Start));
    let s = act(s, Action::Predict { on: true, now_ms: 0.0 });
    let n = s.len();
    // sh runs `nosuchcmd`: fork, malloc's sbrk, the failed exec, exit, wait (5 operations).
    let s = act(s, Action::RunPrograms(RunCommand::Type("nosuchcmd".into())));
    assert_eq!(s.len(), n + 5);
    assert_eq!(s.current(), n + 5);
    let q = s.quiz.as_ref().expect("predict mode is on");
    assert_eq!(q.quiet, [(n, n + 5)]);
    // sbrk by hand (it stops the programs): its step is asked about, and it is the only one open.
    let s = act(s, Action::Call(Call::Sbrk("4096".into())));
    let q = s.quiz.as_ref().expect("predict mode is on");
    assert!(!q.questions.is_empty());
    assert!(
        q.questions.iter().all(|qn| qn.step == n + 5),
        "{:?}",
        q.questions.iter().map(|q| q.step).collect::<Vec<_>>()
    );
    assert_eq!(s.current(), n + 5);
    // The link keeps which steps were the programs': none of them is asked after a reload.
    let f = s.fragment();
    assert!(f.contains(&format!("&quiet={n}-{}", n + 5)), "{f}");
    let back = act(LabState::default(), open_link(&f));
    let bq = back.quiz.as_ref().expect("predict mode is back");
    assert_eq!(bq.questions.len(), q.questions.len());
    assert!(bq.questions.iter().all(|qn| qn.step == n + 5));
    // A quiet part past the end of the timeline is refused, and the lab opens without the exercise.
    let bad = f.replace(&format!("&quiet={n}-{}", n + 5), &format!("&quiet={n}-{}", n + 50));
    let b = act(LabState::default(), open_link(&bad));
    assert!(error_of(&b).contains("quiet= part goes to operation"), "{}", error_of(&b));
}

/// Turning predict mode off keeps the answers on the page, and turning it on
/// again goes on with them, back at the first question whose step was shown
/// while it was off. Giving up on a question clears the step bar's "Predict
/// first" notice that named it.
#[test]
fn predict_mode_off_and_on_again_keeps_the_answers() {
    let s = start("quiz-story-riscv", "7");
    let s = answer(s, "1 0 5 0", 1_001_000.0); // right: userinit on xv6-riscv
    // Forward while question 2 is open: the step bar says to predict first.
    let s = act(s, Action::Forward);
    assert!(
        s.notice.as_ref().is_some_and(|n| n.at == Where::Steps && n.text.contains("answer question 2")),
        "{:?}",
        s.notice
    );
    let i = s.open_question().expect("question 2");
    let s = act(s, Action::GiveUp { question: i, now_ms: 1_002_000.0 });
    assert!(s.notice.as_ref().is_none_or(|n| n.at != Where::Steps), "{:?}", s.notice);
    let at = s.current();
    let settled = 2;
    let s = act(s, Action::Predict { on: false, now_ms: 1_003_000.0 });
    assert!(s.quiz.is_none());
    assert!(s.notice.as_ref().is_some_and(|n| n.text.contains("Your 2 answers are kept")), "{:?}", s.notice);
    // Off, the learner goes to the end.
    let end = s.len();
    let s = act(s, Action::Goto(end));
    assert_eq!(s.current(), end);
    let s = act(s, Action::Predict { on: true, now_ms: 1_004_000.0 });
    let q = s.quiz.as_ref().expect("on again");
    assert_eq!(q.attempts.iter().filter(|a| a.settled()).count(), settled);
    assert_eq!(q.attempts[0].status, Status::Right);
    assert_eq!(q.attempts[1].status, Status::GaveUp);
    // Back where the first open question is asked, not at the end.
    assert!(s.current() < end && s.current() >= at, "{} (was at {at}, end {end})", s.current());
    assert!(s.open_question().is_some());
    assert!(
        s.notice.as_ref().is_some_and(|n| n.text.contains("Predict mode is on again, with your answers: 1 right of")),
        "{:?}",
        s.notice
    );
}

/// Boot and run init with predict mode on: the new lab keeps it on, asks
/// nothing about the programs' steps, and says so.
#[test]
fn booting_the_programs_keeps_predict_mode_on() {
    use pagelab_web::run::RunCommand;
    let s = act(LabState::new(Preset::Xv6RiscvTiny), Action::Predict { on: true, now_ms: 0.0 });
    let s = act(s, Action::RunPrograms(RunCommand::Start));
    assert!(s.run.is_some());
    let q = s.quiz.as_ref().expect("predict mode stays on");
    assert!(q.questions.is_empty(), "{:?}", q.questions.iter().map(|q| q.step).collect::<Vec<_>>());
    assert_eq!(q.quiet, [(0, s.len())]);
    assert!(s.notice.as_ref().is_some_and(|n| n.text.contains("Predict mode stays on")), "{:?}", s.notice);
    assert_eq!(s.current(), s.len());
}
