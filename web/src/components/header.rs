use pagelab_core::lab::Preset;
use pagelab_core::lab::scenario;
use yew::prelude::*;

use crate::hooks::use_lab_by;
use crate::state::Action;

/// A sentence for each built-in scenario's button.
fn builtin_words(name: &str) -> &'static str {
    match name {
        "story-x86" => "The notes' story on xv6-public: init → sh → echo hello world",
        "story-riscv" => "The same story on xv6-riscv (Sv39)",
        "shm-test" => "Shared memory: 10 children add one to a shared byte",
        "shm-test-note" => "The same test with the note's own (buggy) shared-memory code",
        "tlb-x86" => "The TLB: after sbrk(-sz) a freed page is still reachable",
        "tlb-noflush-x86" => "Why growproc calls switchuvm: xv6 without it",
        "tlb-smp-x86" => "Two CPUs: a stale TLB entry on one reaches a page given out on the other",
        "tlb-riscv" => "The TLB on xv6-riscv: the trampoline flushes on every trap",
        _ => "A built-in scenario",
    }
}

/// A machine's name on its button.
fn machine_label(p: Preset) -> &'static str {
    match p {
        Preset::Xv6Public => "xv6-public (x86)",
        Preset::Xv6PublicTiny => "xv6-public, 2 MB",
        Preset::Xv6Riscv => "xv6-riscv (Sv39)",
        Preset::Xv6RiscvTiny => "xv6-riscv, 2 MB",
    }
}

/// The title, the machines and the built-in scenarios.
#[component]
pub fn Header() -> Html {
    let lab = use_lab_by(|l| (l.full_lab(), l.view_lab(), l.builtin.clone()));
    let preset = lab.full().scenario().preset;
    let info = lab.lab().kernel().info().clone();
    let riscv = matches!(info.scheme, pagelab_core::scheme::SchemeKind::Sv39);
    html! {
        <header class="top">
            <div class="title">
                <h1>{ "pagelab" }</h1>
                <p class="sub">{ "Watch xv6 manage memory: page tables, kalloc, exec, fork, sbrk, shared memory." }</p>
            </div>
            <div class="machine" role="group" aria-labelledby="machine-lbl" aria-describedby="machine-help">
                <span class="lbl" id="machine-lbl">{ "Machine:" }</span>
                for p in Preset::ALL {
                    <button
                        class="mbtn"
                        id={format!("machine-{}", p.name())}
                        aria-pressed={if p == preset { "true" } else { "false" }}
                        title={p.describe()}
                        onclick={
                            let lab = lab.clone();
                            Callback::from(move |_| if p != preset { lab.dispatch(Action::NewLab(p)) })
                        }
                    >
                        { machine_label(p) }
                    </button>
                }
                <p class="hint" id="machine-help">
                    <span id="machine-name">{ preset.describe() }</span>
                    { ". Another machine starts a new lab at once; the browser's Back button returns to this one. " }
                    <span class="vocab" id="vocab">
                        if riscv {
                            { "Words: satp, L2 | L1 | L0 | offset, PTE_V, PTE_R/W/X/U." }
                        } else {
                            { "Words: cr3, PDX | PTX | offset, PTE_P, PTE_W, PTE_U." }
                        }
                    </span>
                </p>
            </div>
            <nav class="builtins" aria-label="Built-in scenarios">
                <span class="lbl">{ "Built-in scenarios:" }</span>
                for (name, _) in scenario::builtins().iter() {
                    <button
                        class="builtin"
                        id={format!("builtin-{name}")}
                        aria-pressed={if lab.builtin.as_deref() == Some(*name) { "true" } else { "false" }}
                        onclick={
                            let lab = lab.clone();
                            let name = name.to_string();
                            Callback::from(move |_| lab.dispatch(Action::LoadBuiltin(name.clone())))
                        }
                    >
                        <strong>{ *name }</strong>
                        <span class="bdesc">{ builtin_words(name) }</span>
                    </button>
                }
                // On a phone the buttons show only their names: the words are here.
                <details class="bwords" id="builtin-words">
                    <summary>{ "What each scenario shows" }</summary>
                    <dl>
                        for (name, _) in scenario::builtins().iter() {
                            <dt>{ *name }</dt>
                            <dd>{ builtin_words(name) }</dd>
                        }
                    </dl>
                </details>
            </nav>
        </header>
    }
}
