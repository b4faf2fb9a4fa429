//! User-mode CPUs for the project's programs: each fetches, loads and
//! stores through a [`rv64::UserMem`]-like trait that the lab backs with its
//! TLB and page walk, so every access a program makes is one a learner can
//! watch. [`rv64`] runs the RISC-V programs.

pub mod rv64;
pub mod x86;
