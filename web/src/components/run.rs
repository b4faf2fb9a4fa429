use pagelab_core::lab::Preset;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::InlineNotice;
use crate::hooks::use_lab_by;
use pagelab_core::riscv::run::RunStop;

use crate::run::{RunCommand, RunView, SLICE, grouped};
use crate::state::{Action, Where};

/// Run the real programs: xv6-riscv's init, sh and echo on pagelab's RISC-V
/// CPU, with a console, the controls, the next instruction and the
/// registers. What the programs do is added to the timeline as they do it.
#[component]
pub fn RunPanel() -> Html {
    let lab = use_lab_by(|l| {
        // While they run, the step shown too: the panel says when it is not
        // the programs' own (without them, stepping need not redraw it).
        (l.full().scenario().preset, l.run.as_ref().map(|r| (r.commands, r.applied, l.current(), l.len())))
    });
    let input = use_node_ref();
    let console = use_node_ref();
    // The console follows the output, as a terminal does.
    {
        let console = console.clone();
        let len = lab.run.as_ref().map(|r| (r.commands, r.applied));
        use_effect_with(len, move |_| {
            if let Some(c) = console.cast::<web_sys::Element>() {
                c.set_scroll_top(c.scroll_height());
            }
        });
    }
    // Started: the line for sh takes the focus (the start button is gone).
    {
        let started = lab.run.is_some();
        let was = use_mut_ref(|| started);
        use_effect_with(started, move |&started| {
            if started && !std::mem::replace(&mut *was.borrow_mut(), started) {
                crate::dom::focus("run-input");
            }
            *was.borrow_mut() = started;
        });
    }
    // Stop asks first: it ends the machine, console and all.
    let confirm_stop = use_state(|| false);
    {
        // The focus goes to the safe answer, and back to the button after.
        let asked = *confirm_stop;
        let first = use_mut_ref(|| true);
        use_effect_with(asked, move |&asked| {
            let was_first = std::mem::replace(&mut *first.borrow_mut(), false);
            if !was_first {
                // After ending them, the start button is what is left.
                crate::dom::focus_first_of(if asked { &["run-stop-no"] } else { &["run-stop", "run-start"] });
            }
        });
    }
    // A continuous run: slices one after another until every process waits, or Pause.
    let running = use_state(|| false);
    // The same, read when a slice's task comes (a Pause pressed meanwhile stops it).
    let live = use_mut_ref(|| false);
    *live.borrow_mut() = *running;
    {
        let (lab, running, live) = (lab.clone(), running.clone(), live.clone());
        let commands = lab.run.as_ref().map(|r| r.commands);
        let more = lab.run.as_ref().is_some_and(|r| matches!(r.stop, Some(RunStop::Budget) | None));
        use_effect_with((commands, *running), move |&(_, on)| {
            if on && more {
                wasm_bindgen_futures::spawn_local(async move {
                    crate::opening::next_task().await;
                    if *live.borrow() {
                        lab.dispatch(Action::RunPrograms(RunCommand::Slice));
                    }
                });
            } else if on {
                running.set(false);
            }
        });
    }
    let preset = lab.full().scenario().preset;
    let riscv = matches!(preset, Preset::Xv6Riscv | Preset::Xv6RiscvTiny);
    let cpu_name = if riscv { "RISC-V CPU (RV64IMC)" } else { "32-bit x86 CPU" };
    let view: Option<RunView> = lab.run.as_ref().map(crate::run::RunSession::view);
    let send = |c: RunCommand| {
        let lab = lab.clone();
        Callback::from(move |_: MouseEvent| lab.dispatch(Action::RunPrograms(c.clone())))
    };
    let on_type = {
        let (lab, input) = (lab.clone(), input.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(i) = input.cast::<HtmlInputElement>() {
                let line = i.value();
                // A line sh cannot take stays, to be mended (the notice says why).
                let keep = crate::run::check_line(&line).is_err();
                lab.dispatch(Action::RunPrograms(RunCommand::Type(line)));
                if !keep {
                    i.set_value("");
                }
            }
        })
    };
    let on_type_only = {
        let (lab, input) = (lab.clone(), input.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(i) = input.cast::<HtmlInputElement>() {
                let line = i.value();
                let keep = crate::run::check_line(&line).is_err();
                lab.dispatch(Action::RunPrograms(RunCommand::TypeOnly(line)));
                if !keep {
                    i.set_value("");
                }
            }
        })
    };
    let go = {
        let (lab, running, live) = (lab.clone(), running.clone(), live.clone());
        Callback::from(move |_: MouseEvent| {
            *live.borrow_mut() = true;
            running.set(true);
            lab.dispatch(Action::RunPrograms(RunCommand::Slice));
        })
    };
    let pause = {
        let (running, live) = (running.clone(), live.clone());
        Callback::from(move |_: MouseEvent| {
            *live.borrow_mut() = false;
            running.set(false);
        })
    };
    let on_accesses = {
        let lab = lab.clone();
        Callback::from(move |e: Event| {
            let i: HtmlInputElement = e.target_unchecked_into();
            lab.dispatch(Action::RunPrograms(RunCommand::ShowAccesses(i.checked())));
        })
    };
    let start = |label: &str| {
        html! { <button id="run-start" onclick={send(RunCommand::Start)}>{ label.to_string() }</button> }
    };
    html! {
        <section class="panel run" id="panel-run" aria-labelledby="run-h">
            <h2 id="run-h" tabindex="-1">{ "Run the programs" }</h2>
            <p class="help">
                { format!("pagelab's {cpu_name} runs init, sh, echo and deep: pagelab's own programs for {}, written in Rust against its system calls. They make the same system calls as xv6's own programs: fork, exec, sbrk, exit and wait, and a write for each byte printf prints ({}). Every instruction fetch, load and store goes through the TLB and the page table, as on the real machine, and each system call runs the kernel code the rest of the lab shows: fork, exec, sbrk, exit and wait appear on the timeline as the programs make them. The other panels show that timeline, replayed: the accessed and dirty bits the programs' own loads and stores set, and the TLB as they run, are on this panel's machine only (its trips into the kernel show them).", preset.name(), if riscv { "echo and sh's prompt write whole strings, as xv6-riscv's do" } else { "echo and sh's prompt print with printf too, as xv6-public's do" }) }
            </p>
            { match &view {
                None => html! {
                    <p>{ start("Boot and run init") }{ " A new lab on this machine: init starts sh, which prints its prompt and waits for a line. Programs you added under Processes (an ELF for this machine) go with it: type a program's name at sh to run it." }</p>
                },
                Some(v) => running_view(v, &lab, (&input, &console), (on_type.clone(), on_type_only.clone()), on_accesses.clone(), &send, (*running, go.clone(), pause.clone()), &confirm_stop),
            }}
            <InlineNotice at={Where::Run} id="run-notice" />
        </section>
    }
}

/// The running programs: console, input line, controls, CPU state, counts.
fn running_view(
    v: &RunView,
    lab: &crate::hooks::LabContext,
    (input, console): (&NodeRef, &NodeRef),
    (on_type, on_type_only): (Callback<SubmitEvent>, Callback<MouseEvent>),
    on_accesses: Callback<Event>,
    send: &dyn Fn(RunCommand) -> Callback<MouseEvent>,
    (running, go, pause): (bool, Callback<MouseEvent>, Callback<MouseEvent>),
    confirm_stop: &UseStateHandle<bool>,
) -> Html {
    let show_accesses = lab.run.as_ref().is_some_and(|s| s.show_accesses);
    let c = v.counts;
    let ask_stop = {
        let confirm = confirm_stop.clone();
        Callback::from(move |_: MouseEvent| confirm.set(true))
    };
    let keep = {
        let confirm = confirm_stop.clone();
        Callback::from(move |_: MouseEvent| confirm.set(false))
    };
    let stop = {
        let (confirm, send) = (confirm_stop.clone(), send(RunCommand::Stop));
        Callback::from(move |e: MouseEvent| {
            confirm.set(false);
            send.emit(e);
        })
    };
    // Stepped back on the timeline: the programs are still at its end.
    let behind = (lab.current() < lab.len()).then(|| {
        format!(
            "You are looking at step {} of {}. The programs and this panel are at step {}: what they do next is added after it.",
            lab.current(),
            lab.len(),
            lab.len()
        )
    });
    html! {
        <>
            if let Some(b) = behind { <p class="warn" id="run-behind">{ b }</p> }
            <pre id="console" ref={console.clone()} class="console" tabindex="0" role="log" aria-live="polite" aria-label="The console">
                // A line a node: what a command prints is added, not the whole
                // console replaced, so a screen reader reads only the new lines.
                for line in v.console.split_inclusive('\n') { <span>{ line.to_string() }</span> }
            </pre>
            <form class="run-line" onsubmit={on_type}>
                <label for="run-input">{ "A line for sh" }</label>
                <input id="run-input" ref={input.clone()} autocomplete="off" spellcheck="false" placeholder="echo hello world"
                    disabled={v.ended} />
                <button type="submit" id="run-send" disabled={v.ended}>{ "Send" }</button>
                <button type="button" id="run-type-only" onclick={on_type_only} disabled={v.ended}>{ "Type only, then step" }</button>
                <button type="button" id="run-eof" onclick={send(RunCommand::EndOfInput)} disabled={v.ended}
                    title="Control-D: the end of input">{ "Send ^D" }</button>
            </form>
            <p class="help">{ "Send types the line and runs until every process waits. Type only leaves the line in the console's buffer: step one instruction, or run to the next trap, to watch sh read it, fork, and its child exec the program. The programs are init, sh, echo and deep (which recurses until it hits its guard page); sh also does pipes and files, as in " }<code>{ "echo echo hi | sh" }</code>{ " or " }<code>{ "echo hi > f" }</code>{ ". Send ^D types Control-D, the end of input: sh's read returns nothing, sh exits, and init starts a new one." }</p>
            <div class="run-controls" role="group" aria-label="Run the programs">
                <button id="run-step" onclick={send(RunCommand::Instruction)} disabled={v.ended}>{ "Step one instruction" }</button>
                <button id="run-trap" onclick={send(RunCommand::ToTrap)} disabled={v.ended}>{ "Run to the next trap" }</button>
                if running {
                    <button id="run-pause" onclick={pause}>{ "Pause" }</button>
                } else {
                    <button id="run-go" onclick={go} disabled={v.ended}>{ "Run until all wait" }</button>
                }
                if !**confirm_stop {
                    <button id="run-stop" onclick={ask_stop}>{ "End the programs…" }</button>
                }
                <label class="run-accesses">
                    <input type="checkbox" id="run-accesses" checked={show_accesses} onchange={on_accesses} />
                    { " Record each access's TLB work (slow; for stepping)" }
                </label>
            </div>
            if **confirm_stop {
                <div class="run-confirm warn" role="group" aria-labelledby="run-confirm-q" onkeydown={
                    // Escape keeps them, as "Keep them" does.
                    let confirm = confirm_stop.clone();
                    Callback::from(move |e: KeyboardEvent| if e.key() == "Escape" { confirm.set(false); })
                }>
                    <p id="run-confirm-q">{ "End the programs? Their machine goes, with the console and the registers; the timeline keeps the steps they made. Pause (or just wait) stops them without ending them." }</p>
                    <button id="run-stop-yes" onclick={stop}>{ "End them" }</button>
                    { " " }
                    <button id="run-stop-no" onclick={keep}>{ "Keep them" }</button>
                </div>
            }
            <p class="help">{ format!("A trap is a trip into the kernel: a system call, a fault or the timer. Run goes on {} instructions at a time, the page drawn between, until every process waits or you press Pause.", grouped(SLICE)) }</p>
            { cpu_state(v) }
            if !v.accesses.is_empty() {
                <h3>{ "What the last instruction's accesses did" }</h3>
                <p class="help">{ "Each fetch (two bytes at a time), load and store looks in the TLB first; a miss walks the page table. The translate panel shows the walk of the last access." }</p>
                <ol class="run-accesses-list" id="run-accesses-list">
                    for line in v.accesses.iter() { <li><code>{ line.clone() }</code></li> }
                </ol>
            }
            <dl class="run-counts" id="run-counts">
                <div><dt>{ "instructions" }</dt><dd>{ c.instructions }</dd></div>
                <div><dt>{ "system calls" }</dt><dd>{ c.syscalls }</dd></div>
                <div><dt>{ "TLB hits" }</dt><dd>{ c.tlb_hits }</dd></div>
                <div><dt>{ "TLB misses (walks)" }</dt><dd>{ c.tlb_misses }</dd></div>
                <div><dt>{ "TLB flushes" }</dt><dd>{ c.tlb_flushes }</dd></div>
                <div><dt>{ "timer ticks" }</dt><dd>{ c.ticks }</dd></div>
                <div><dt>{ "free frames" }</dt><dd>{ v.nfree }</dd></div>
            </dl>
            if !v.recent.is_empty() {
                <h3>{ "The latest trips into the kernel" }</h3>
                <ol class="run-trips" id="run-trips">
                    for (pid, text, fault) in v.recent.iter() {
                        <li class={classes!(fault.then_some("fault"))}>
                            { pid.map_or_else(String::new, |p| format!("pid {p}: ")) }
                            <code>{ text.clone() }</code>
                            if *fault { { " (a fault: the process is killed)" } }
                        </li>
                    }
                </ol>
            }
            if !v.faults.is_empty() {
                <h3>{ "Faults" }</h3>
                <ul id="run-faults">
                    for f in v.faults.iter() { <li>{ f.clone() }</li> }
                </ul>
            }
        </>
    }
}

/// The process in user mode: its next instruction and its registers.
fn cpu_state(v: &RunView) -> Html {
    let Some(cpu) = &v.current else {
        return html! { <p id="run-cpu">{ "No process is in user mode: the CPU is in the kernel, or every process waits." }</p> };
    };
    let pid = cpu.pid;
    html! {
        <div id="run-cpu">
            <p>
                { format!("pid {pid} runs in user mode; its next instruction, at ") }
                if let Some((pc, text)) = &v.next {
                    <code>{ format!("{pc:#x}") }</code>{ ", is " }<code id="run-next">{ text.clone() }</code>
                } else {
                    <code>{ format!("{:#x}", cpu.pc) }</code>{ ", cannot be read (its page is not mapped for the user to run)" }
                }
                { format!(". It has run {} instructions in all.", grouped(cpu.instret)) }
            </p>
            <p class="regs-h" id="run-regs-h">{ format!("pid {pid}'s registers (saved in its trapframe when it traps)") }</p>
            // As many columns as fit: no sideways scrolling at any width.
            <dl class="regs" id="run-regs" aria-labelledby="run-regs-h">
                for (name, value) in cpu.regs.iter() {
                    <div><dt>{ name.clone() }</dt><dd class="mono">{ value.clone() }</dd></div>
                }
            </dl>
        </div>
    }
}
