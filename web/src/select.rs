//! What the learner has chosen to look at (a process, an address, an access,
//! a frame), and a few words-helpers: the pieces the reducer, the link and
//! the widgets share, kept apart so that none of them reaches into another.

use pagelab_core::scheme::{Access, AccessKind, Mode};

/// The kind of access a translation checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessChoice {
    /// A load from user mode.
    #[default]
    UserRead,
    /// A store from user mode.
    UserWrite,
    /// An instruction fetch in user mode.
    UserExec,
    /// A load by the kernel.
    KernelRead,
    /// A store by the kernel.
    KernelWrite,
}

impl AccessChoice {
    /// All choices, for a menu.
    pub const ALL: [AccessChoice; 5] = [
        AccessChoice::UserRead,
        AccessChoice::UserWrite,
        AccessChoice::UserExec,
        AccessChoice::KernelRead,
        AccessChoice::KernelWrite,
    ];

    /// The core's access.
    #[must_use]
    pub fn access(self) -> Access {
        match self {
            AccessChoice::UserRead => Access::USER_READ,
            AccessChoice::UserWrite => Access::USER_WRITE,
            AccessChoice::UserExec => Access::USER_EXEC,
            AccessChoice::KernelRead => Access::KERNEL_READ,
            AccessChoice::KernelWrite => Access::KERNEL_WRITE,
        }
    }

    /// Two letters for links (`ur`, `uw`, `ux`, `kr`, `kw`).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            AccessChoice::UserRead => "ur",
            AccessChoice::UserWrite => "uw",
            AccessChoice::UserExec => "ux",
            AccessChoice::KernelRead => "kr",
            AccessChoice::KernelWrite => "kw",
        }
    }

    /// The choice for a link's code.
    #[must_use]
    pub fn from_code(s: &str) -> Option<AccessChoice> {
        AccessChoice::ALL.into_iter().find(|a| a.code() == s)
    }

    /// Plain words for a menu.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            AccessChoice::UserRead => "user read",
            AccessChoice::UserWrite => "user write",
            AccessChoice::UserExec => "user execute",
            AccessChoice::KernelRead => "kernel read",
            AccessChoice::KernelWrite => "kernel write",
        }
    }

    /// True for the kernel's accesses.
    #[must_use]
    pub fn is_kernel(self) -> bool {
        self.access().mode == Mode::Kernel
    }

    /// True for stores.
    #[must_use]
    pub fn is_write(self) -> bool {
        self.access().kind == AccessKind::Write
    }
}

/// What the learner has chosen to look at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// The process the system-call buttons and views act on.
    pub pid: Option<u32>,
    /// The address to translate, once it reads correctly.
    pub address: Option<u64>,
    /// The access to check.
    pub access: AccessChoice,
    /// The physical frame selected in the frame map.
    pub frame: Option<u64>,
}

/// At most `max` characters of `s`.
#[must_use]
pub fn short(s: &str, max: usize) -> String {
    if s.chars().count() > max { format!("{}…", s.chars().take(max).collect::<String>()) } else { s.to_string() }
}
