//! `<pagelab-exec>`: the stack and the address space exec builds.

use pagelab_core::addr::PGSIZE;
use pagelab_core::lab::view::{StackRole, regions, stack_words};
use pagelab_core::scheme::SchemeKind;
use pagelab_web::present::{addr_digits, hex, region_look};
use yew::prelude::*;

use super::{Same, caption};
use crate::options::ExecCfg;
use crate::prepare::EXEC_PID;
use crate::source::AtStep;

/// Props of [`ExecWidget`].
#[derive(Properties, PartialEq)]
pub struct ExecProps {
    /// The settings.
    pub cfg: Same<ExecCfg>,
    /// The machine just after the exec.
    pub at: Same<AtStep>,
}

/// The stack words, lowest address first, and the regions of the new image.
#[component]
pub fn ExecWidget(props: &ExecProps) -> Html {
    let k = props.at.lab.kernel();
    let riscv = k.info().scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let value_digits = if riscv { 16 } else { 8 };
    let words = stack_words(k, EXEC_PID);
    let regs = regions(k, EXEC_PID);
    let img = k.procs().get(EXEC_PID).and_then(|p| p.image.clone());
    let argv: Vec<String> = props.cfg.argv.iter().map(|a| format!("\"{}\"", String::from_utf8_lossy(a))).collect();
    html! {
        <div class="pl-exec">
            <p class="pl-caption">
                <span class="pl-what">{ "exec" }</span>
                { format!(" · {} · pid {EXEC_PID} (a child of the shell) runs exec(\"{}\", {{{}, 0}})", props.at.scenario.preset.name(), props.cfg.program, argv.join(", ")) }
            </p>
            if let Some(img) = &img {
                <p class="pl-sub stack-summary">
                    { format!("sp = {}; argc = {}; the stack page is {}–{}, with the guard page {}–{} below it.",
                        hex(img.sp, digits), img.argc, hex(img.stack, digits), hex(img.stack + PGSIZE - 1, digits), hex(img.guard, digits), hex(img.guard + PGSIZE - 1, digits)) }
                </p>
            }
            <div class="tablewrap" tabindex="0" role="region" aria-label="The stack (the table scrolls sideways)">
                <table class="stack">
                    <caption>{ "The stack exec built, from sp up to the top of the stack page" }</caption>
                    <thead><tr><th scope="col">{ "address" }</th><th scope="col">{ "value" }</th><th scope="col">{ "what it is" }</th></tr></thead>
                    <tbody>
                        for w in words.iter() {
                            <tr class={classes!(w.sp.then_some("sp"), match w.role { StackRole::Text { .. } | StackRole::Padding => "str", _ => "ptr" })} data-va={hex(w.va, digits)}>
                                <td class="mono">{ hex(w.va, digits) }</td>
                                <td class="mono">{ hex(w.value, value_digits) }</td>
                                <td>{ w.role.describe() }if w.sp { <strong class="spmark">{ " ← sp" }</strong> }</td>
                            </tr>
                        }
                    </tbody>
                </table>
            </div>
            <div class="tablewrap" tabindex="0" role="region" aria-label="The address space (the table scrolls sideways)">
                <table class="regions">
                    <caption>{ "The new address space, lowest address first" }</caption>
                    <thead><tr><th scope="col">{ "what" }</th><th scope="col">{ "from" }</th><th scope="col">{ "to (not incl.)" }</th><th scope="col">{ "pages" }</th></tr></thead>
                    <tbody>
                        for r in regs.iter() {
                            <tr class={region_look(r.kind).0}>
                                <td><span class="tag">{ region_look(r.kind).1 }</span>{ " " }{ r.label.clone() }</td>
                                <td class="mono">{ hex(r.start, digits) }</td>
                                <td class="mono">{ if r.end >= 1 << 32 && !riscv { "0x100000000".to_string() } else { hex(r.end, digits) } }</td>
                                <td class="num">{ r.end.saturating_sub(r.start).div_ceil(PGSIZE) }</td>
                            </tr>
                        }
                    </tbody>
                </table>
            </div>
            { caption_note(&props.at) }
        </div>
    }
}

/// What the exec step allocated and freed.
fn caption_note(at: &AtStep) -> Html {
    match at.lab.steps().last() {
        Some(s) => html! { <p class="help">{ format!("exec's pages: {}.", s.counts) }</p> },
        None => html! { { caption("exec", at) } },
    }
}
