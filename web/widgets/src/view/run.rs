//! `<pagelab-run>`: a line typed at xv6's real sh, run on pagelab's CPU
//! (RISC-V or x86) to the next prompt: what it printed, the processes it
//! made, its faults and its counts.

use yew::prelude::*;

use super::Same;
use crate::prepare::RunPrepared;

/// Props of [`RunWidget`].
#[derive(Properties, PartialEq)]
pub struct RunProps {
    /// The run, done.
    pub run: Same<RunPrepared>,
}

/// The console after the command, and what the command did.
#[component]
pub fn RunWidget(props: &RunProps) -> Html {
    let r = &*props.run;
    let c = r.counts;
    let freed = r.nfree.1 == r.nfree.0;
    html! {
        <div class="pl-run">
            <p class="pl-caption">
                <span class="pl-what">{ "run" }</span>
                { format!(
                    " · {} · sh runs `{}` on pagelab's {} CPU, every access through the TLB and the page table",
                    r.preset.name(),
                    r.line,
                    if matches!(r.preset, pagelab_core::lab::Preset::Xv6Public | pagelab_core::lab::Preset::Xv6PublicTiny) { "x86" } else { "RISC-V" }
                ) }
            </p>
            <pre class="pl-console" tabindex="0" aria-label="The console">{ r.console.clone() }</pre>
            <p class="pl-sub">{ printed(&r.output) }</p>
            if !r.faults.is_empty() {
                <div class="pl-error" role="status">
                    <ul class="pl-faults">
                        for f in r.faults.iter() { <li>{ format!("A fault killed the process: {f}") }</li> }
                    </ul>
                </div>
            }
            <p class="pl-sub">
                { "The processes it made: " }
                <code>{ if r.ops.is_empty() { "none".to_string() } else { r.ops.join("; ") } }</code>
            </p>
            <p class="pl-sub pl-counts">
                { format!(
                    "{} user instructions, {} system calls; the TLB served {} accesses and missed {} (each miss walks the page table). Free frames: {} before, {} after{}.",
                    c.instructions, c.syscalls, c.tlb_hits, c.tlb_misses, r.nfree.0, r.nfree.1,
                    if freed { ": every frame the command used is free again" } else { "" }
                ) }
            </p>
        </div>
    }
}

/// What the command printed, in words (its lines are in the console above).
fn printed(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    match lines.as_slice() {
        [] => "The command printed nothing.".to_string(),
        [one] if output.ends_with('\n') => format!("The command printed \"{one}\" and a newline."),
        [one] => format!("The command printed \"{one}\"."),
        more => format!(
            "The command (and the kernel, for a fault) printed {} lines: the console above shows them.",
            more.len()
        ),
    }
}
