//! # pagelab-web
//!
//! The web lab: a Yew site where learners watch xv6's memory management
//! happen. The core ([`pagelab_core`]) does all the xv6 work; this crate
//! keeps the lab's state ([`state`]), reads what learners type ([`input`]),
//! puts the lab in links ([`link`]), and shows the core's results
//! ([`components`]).
//!
//! [`state`], [`call`], [`machines`], [`input`], [`link`] and [`present`] never touch `web_sys`, so
//! their tests run on the host with `cargo test -p pagelab-web`.
#![warn(missing_docs)]

pub mod call;
pub mod cells;
pub mod components;
pub mod dom;
pub mod hooks;
pub mod input;
pub mod link;
pub mod machines;
pub mod opening;
pub mod present;
pub mod quiz;
pub mod run;
pub mod same;
pub mod select;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod panic;

/// Start the lab in the page (wasm only).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    panic::install();
    let doc = web_sys::window().and_then(|w| w.document());
    if let Some(l) = doc.as_ref().and_then(|d| d.get_element_by_id("loading")) {
        l.remove();
    }
    match doc.and_then(|d| d.get_element_by_id("app")) {
        Some(root) => yew::Renderer::<components::App>::with_root(root).render(),
        None => yew::Renderer::<components::App>::new().render(),
    };
}
