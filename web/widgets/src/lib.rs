//! # pagelab-widgets
//!
//! pieces of the pagelab lab to put inside course notes: custom elements
//! (`<pagelab-translate>`, `<pagelab-exec>`, `<pagelab-walk>`,
//! `<pagelab-frames>`, `<pagelab-shm>`, `<pagelab-lab>`) defined by the
//! hand-written ES module `js/pagelab-widgets.js`, which calls this crate's
//! wasm to draw each one, and a JS API over the core (`window.pagelab`).
//!
//! - [`options`] reads a widget's attributes (untrusted: every mistake is a
//!   plain sentence shown in that widget);
//! - [`source`] replays scenarios into machines, shared between widgets;
//! - [`api`] is the JS API's logic as plain Rust values;
//! - [`view`] draws the widgets (Yew); [`prepare`] does the work before.
//!
//! Everything but the wasm exports (`js` module) runs on the host, so
//! `cargo test -p pagelab-widgets` checks it.
#![warn(missing_docs)]

pub mod api;
pub mod options;
pub mod prepare;
pub mod source;
pub mod view;

#[cfg(target_arch = "wasm32")]
pub mod js;
