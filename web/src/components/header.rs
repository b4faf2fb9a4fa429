use pagelab_core::lab::Preset;
use pagelab_core::lab::scenario;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::hooks::{use_fragment, use_lab};
use crate::state::Action;

/// A sentence for each built-in scenario's button.
fn builtin_words(name: &str) -> &'static str {
    match name {
        "story-x86" => "The notes' story on xv6-public: init → sh → echo hello world",
        "story-riscv" => "The same story on xv6-riscv (Sv39)",
        "shm-test" => "Shared memory: 10 children add one to a shared byte",
        "shm-test-note" => "The same test with the note's own (buggy) shared-memory code",
        _ => "A built-in scenario",
    }
}

/// The title, the machine menu, the built-in scenarios and the link.
#[component]
pub fn Header() -> Html {
    let lab = use_lab();
    let fragment = use_fragment(&lab);
    let preset = lab.full().scenario().preset;
    let chosen = use_state(|| preset);
    {
        // Follow the lab's preset when it changes (a scenario or link loaded).
        let chosen = chosen.clone();
        use_effect_with(preset, move |p| chosen.set(*p));
    }
    let on_pick = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            let sel: HtmlSelectElement = e.target_unchecked_into();
            if let Some(p) = Preset::from_name(&sel.value()) {
                chosen.set(p);
            }
        })
    };
    let on_new = {
        let lab = lab.clone();
        let chosen = chosen.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            lab.dispatch(Action::NewLab(*chosen));
        })
    };
    let on_copy = {
        let lab = lab.clone();
        let link_len = fragment.len();
        Callback::from(move |_| {
            #[cfg(target_arch = "wasm32")]
            if let Some(w) = web_sys::window() {
                let href = w.location().href().unwrap_or_default();
                let _ = w.navigator().clipboard().write_text(&href);
            }
            lab.dispatch(Action::Inform(format!(
                "The link is copied ({} characters). Opening it restores this lab exactly: the machine, every step, the step shown and the selection.",
                link_len + 1
            )));
        })
    };
    let info = lab.lab().kernel().info().clone();
    let riscv = matches!(info.scheme, pagelab_core::scheme::SchemeKind::Sv39);
    html! {
        <header class="top">
            <div class="title">
                <h1>{ "pagelab" }</h1>
                <p class="sub">{ "Watch xv6 manage memory: page tables, kalloc, exec, fork, sbrk, shared memory." }</p>
            </div>
            <form class="machine" onsubmit={on_new} aria-label="Machine">
                <label for="preset">{ "Machine" }</label>
                <select id="preset" onchange={on_pick}>
                    for p in Preset::ALL {
                        <option value={p.name()} selected={p == *chosen}>{ p.describe() }</option>
                    }
                </select>
                <button type="submit" id="new-lab">{ "Start a new lab" }</button>
                <span class="vocab" id="vocab">
                    if riscv {
                        { "Vocabulary: satp, L2 | L1 | L0 | offset, PTE_V, PTE_R/W/X/U" }
                    } else {
                        { "Vocabulary: cr3, PDX | PTX | offset, PTE_P, PTE_W, PTE_U" }
                    }
                </span>
            </form>
            <nav class="builtins" aria-label="Built-in scenarios">
                <span class="lbl">{ "Built-in scenarios:" }</span>
                for (name, _) in scenario::builtins().iter() {
                    <button
                        class="builtin"
                        id={format!("builtin-{name}")}
                        title={builtin_words(name)}
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
            </nav>
            <div class="linkbox">
                <button id="copy-link" onclick={on_copy}>{ "Copy link to this lab" }</button>
                <span class="hint">
                    { format!("The address bar always holds the lab ({} characters): copy it to share or reload.", fragment.len() + 1) }
                </span>
            </div>
        </header>
    }
}
