//! Hooks: reach the lab from any component, and keep the address bar in step with it.

mod use_details;
mod use_keys;
mod use_lab;
mod use_refocus;
mod use_url;

pub use use_details::use_details;
pub use use_keys::use_keys;
pub use use_lab::{LabContext, LabStore, ProvideLab, StoreHandle, use_lab, use_lab_by};
pub use use_refocus::use_refocus;
pub use use_url::{SETTLE_MS, initial_fragment, use_url_sync};
