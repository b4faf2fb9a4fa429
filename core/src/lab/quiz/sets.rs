//! Seeds and the sets that come with the lab.
//!
//! A seed chooses every `?` of a set (and, for the generated sets, the
//! arguments and sizes), so the same seed always gives the same exercise.
//! [`student_seed`] turns a student id into a seed, so each student can get
//! a variant of their own that an autograder can make again.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A small deterministic random source (SplitMix64): the same seed gives the
/// same numbers on every machine and every build.
#[derive(Clone, Debug)]
pub struct Seeded(u64);

impl Seeded {
    /// A source started from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number from 0 to `n` − 1 (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// The seed for a student id: FNV-1a (64 bits) of the id's UTF-8 bytes, with
/// blanks at either end dropped. `student_seed("s1234")` is the same
/// everywhere, so a grader can make the student's variant again.
#[must_use]
pub fn student_seed(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.trim().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Read a seed as typed: a whole number up to 2^64 − 1, in decimal or in
/// hex after `0x`.
///
/// # Errors
/// A plain-words message for anything else.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(String::from("the seed is empty: give a whole number such as 42"));
    }
    let (digits, radix, what) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => (hex, 16, "hex digits 0-9 and a-f after 0x"),
        None => (t, 10, "digits 0-9, or hex after 0x"),
    };
    if digits.is_empty() || !digits.bytes().all(|b| char::from(b).is_digit(radix)) {
        return Err(format!("the seed `{t}` is not a whole number ({what})"));
    }
    u64::from_str_radix(digits, radix)
        .map_err(|_| format!("the seed `{t}` is too large: at most 18446744073709551615 (0xffffffffffffffff)"))
}

/// The story of the notes on xv6-public, with questions at every step.
pub static QUIZ_STORY_X86: &str = include_str!("../builtins/quiz-story-x86.txt");

/// The same story on xv6-riscv.
pub static QUIZ_STORY_RISCV: &str = include_str!("../builtins/quiz-story-riscv.txt");

/// Shared memory: the frame two processes share, its count, when it is freed.
pub static QUIZ_SHM: &str = include_str!("../builtins/quiz-shm.txt");

/// The sets that come with the lab: (name, what it asks about).
pub const SETS: [(&str, &str); 5] = [
    ("quiz-story-x86", "The notes' story on xv6-public, a question or more at every step"),
    ("quiz-story-riscv", "The same story on xv6-riscv"),
    ("quiz-exec-x86", "exec's stack and sbrk on xv6-public: the seed picks argv and the size"),
    ("quiz-exec-riscv", "exec's stack and sbrk on xv6-riscv: the seed picks argv and the size"),
    ("quiz-shm", "Shared memory: the frame, its count, when it is freed"),
];

/// Words the generated exec sets pick their arguments from.
const WORDS: [&str; 16] = [
    "a",
    "hi",
    "cat",
    "echo",
    "hello",
    "world",
    "xv6",
    "page",
    "guard",
    "stack",
    "kalloc",
    "fork",
    "argv",
    "lab",
    "os",
    "walkpgdir",
];

/// The text of an exec set for `preset`: init runs sh, sh forks, the child
/// execs echo with arguments the seed picks, then grows its heap by a size
/// the seed picks; the questions are about the stack and the heap.
fn exec_set(preset: &str, seed: u64) -> String {
    // A stream of its own, so the `?` choices made later do not depend on
    // how many numbers this took.
    let mut r = Seeded::new(seed ^ 0x5eed_0fa7_9e00_u64);
    let n = 1 + r.below(4) as usize;
    let args: Vec<&str> = (0..n).map(|_| WORDS[r.below(WORDS.len() as u64) as usize]).collect();
    let pages = 1 + r.below(3);
    let extra = r.below(4) * 0x400;
    let grow = pages * 4096 + extra;
    format!(
        "# exec's stack and the heap, on {preset}. The seed picked the arguments\n\
         # and the size of the sbrk.\n\
         preset {preset}\n\
         shm lab\n\
         userinit\n\
         exec 1 /init\n\
         fork 1\n\
         execv 2 sh sh\n\
         fork 2\n\
         ask pages\n\
         ask sp 3\n\
         ask argc 3\n\
         ask word 3 ?\n\
         ask word 3 ?\n\
         ask guard 3\n\
         exec 3 echo {args}\n\
         ask sz 3\n\
         ask changed 3\n\
         sbrk 3 {grow}\n\
         ask translate 3 ? ?\n\
         ask fields ?\n",
        args = args.join(" ")
    )
}

/// The text of the set `name` for `seed` (the fixed sets ignore the seed
/// here: their `?` are chosen when the set is built).
#[must_use]
pub fn set_text(name: &str, seed: u64) -> Option<String> {
    match name {
        "quiz-story-x86" => Some(String::from(QUIZ_STORY_X86)),
        "quiz-story-riscv" => Some(String::from(QUIZ_STORY_RISCV)),
        "quiz-exec-x86" => Some(exec_set("xv6-public", seed)),
        "quiz-exec-riscv" => Some(exec_set("xv6-riscv", seed)),
        "quiz-shm" => Some(String::from(QUIZ_SHM)),
        _ => None,
    }
}
