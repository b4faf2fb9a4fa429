use pagelab_core::addr::PGSIZE;
use pagelab_core::lab::place::kernel_map;
use pagelab_core::lab::view::{StackRole, regions, stack_pushes, stack_words, usage, vmprint};
use pagelab_core::port::Port;
use pagelab_core::scheme::SchemeKind;
use yew::prelude::*;

use super::ChangedMark;
use crate::hooks::{use_details, use_lab_by};
use crate::present::{addr_digits, hex, region_look};
use crate::state::{Action, LabState, SharedLab};
use pagelab_core::lab::summary::plural;

/// The address space of the chosen process and the stack exec built.
#[component]
pub fn AddressSpace() -> Html {
    let lab = use_lab_by(|l| (l.view_lab(), l.current(), l.len(), l.selection.pid));
    html! {
        <SpaceView lab={lab.view_lab()} len={lab.len()} current={lab.current()} pid={lab.selection.pid}
            changed={lab.changed_now().space} dispatch={lab.dispatcher()} />
    }
}

/// Props of [`SpaceView`]: what it shows, so that it redraws only when that changes.
#[derive(Properties, PartialEq)]
struct SpaceProps {
    lab: SharedLab,
    len: usize,
    current: usize,
    pid: Option<u32>,
    changed: bool,
    dispatch: UseReducerDispatcher<LabState>,
}

/// Bytes of a stack word as they lie in memory, lowest address first:
/// `77 6f 72 6c = 'w' 'o' 'r' 'l'`.
fn le_bytes(value: u64, width: u64) -> String {
    let bytes: Vec<u8> = (0..width).map(|i| (value >> (8 * i)) as u8).collect();
    let hexes: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let chars: Vec<String> = bytes
        .iter()
        .map(|&b| match b {
            0 => "\\0".to_string(),
            0x20..=0x7e => format!("'{}'", b as char),
            _ => "·".to_string(),
        })
        .collect();
    format!("{} = {}", hexes.join(" "), chars.join(" "))
}

#[component]
fn SpaceView(props: &SpaceProps) -> Html {
    // How many of exec's pushes the stack table shows (none chosen: all of them),
    // back to all of them when the step or the process changes.
    let pushes_shown = use_state_eq(|| None::<usize>);
    {
        let pushes_shown = pushes_shown.clone();
        use_effect_with((props.current, props.pid), move |_| pushes_shown.set(None));
    }
    // The vmprint listing is printed only while its box is open: after a sbrk
    // of all of memory it is tens of thousands of lines.
    let (listing_open, on_listing) = use_details(false);
    let l = &props.lab;
    let k = l.kernel();
    let riscv = k.info().scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let Some(pid) = props.pid.filter(|p| k.procs().get(*p).is_some()) else {
        return html! {
            <section class="panel space" id="panel-space" aria-labelledby="as-h">
                <h2 id="as-h" tabindex="-1">{ "Address space" }</h2>
                <p>{ "No process is chosen. Make one with userinit, or load a built-in scenario." }</p>
                <KernelSpace lab={props.lab.clone()} dispatch={props.dispatch.clone()} />
            </section>
        };
    };
    let p = k.procs().get(pid).cloned();
    let regs = regions(k, pid);
    let words = stack_words(k, pid);
    let pushes = stack_pushes(k, pid);
    let shown = pushes_shown.map_or(pushes.len(), |n| n.min(pushes.len()));
    // A byte is written once a push shown covers it; until then it is 0 (exec's page came zeroed).
    let written = |va: u64| pushes[..shown].iter().any(|p| (p.lo..p.hi).contains(&va));
    let now_sp = match shown {
        0 => p.as_ref().and_then(|p| p.image.as_ref()).map_or(0, |img| img.stack_top),
        n => pushes[n - 1].sp,
    };
    let on_push = {
        let pushes_shown = pushes_shown.clone();
        Callback::from(move |e: InputEvent| {
            let i: web_sys::HtmlInputElement = e.target_unchecked_into();
            pushes_shown.set(i.value().parse().ok());
        })
    };
    let push_text = match shown {
        0 => format!(
            "Before the first push: sp = {}, the top of the stack page; exec has written nothing on it yet.",
            hex(now_sp, digits)
        ),
        n => {
            let p = &pushes[n - 1];
            format!(
                "After push {n} of {}: {} at {}–{}; sp = {}.{}",
                pushes.len(),
                p.what,
                hex(p.lo, digits),
                hex(p.hi - 1, digits),
                hex(p.sp, digits),
                if n == pushes.len() { " This is the stack the program starts with." } else { "" }
            )
        }
    };
    let use_ = usage(k, pid);
    let listing = if *listing_open { vmprint(k, pid) } else { String::new() };
    let Some(p) = p else { return html! {} };
    // The process's own table (a press in the kernel's list may have chosen the kernel's).
    let pick = |va: u64| translate_in(&props.dispatch, false, va);
    let value_digits = if riscv { 16 } else { 8 };
    let word = if riscv { 8 } else { 4 };
    html! {
        <section class={classes!("panel", "space", props.changed.then_some("changed"))} id="panel-space" aria-labelledby="as-h">
            <h2 id="as-h" tabindex="-1">{ format!("Address space of pid {pid} ({})", p.name) }<ChangedMark on={props.changed} step={props.current} /></h2>
            <p>{ format!("sz = {:#x} ({}); its page table holds {} and {} (root included).",
                p.sz, plural(p.sz.div_ceil(PGSIZE), "page", "pages"), plural(use_.user, "user page", "user pages"),
                plural(use_.tables, "page-table page", "page-table pages")) }</p>
            <div class="tablewrap" tabindex="0" role="region" aria-label="The address space (the table scrolls sideways)">
            <table class="regions" id="regions">
                <caption>{ "Lowest address first. Choose an address to translate it." }</caption>
                <thead><tr><th scope="col">{ "what" }</th><th scope="col">{ "from" }</th><th scope="col">{ "to (not incl.)" }</th><th scope="col">{ "pages" }</th></tr></thead>
                <tbody>
                    for r in regs.iter() {
                        <tr key={r.start} class={region_look(r.kind).0}>
                            <td><span class="tag">{ region_look(r.kind).1 }</span>{ " " }{ r.label.clone() }</td>
                            <td><button class="addr" onclick={pick(r.start)} aria-label={format!("{}: translate this address", hex(r.start, digits))}>{ hex(r.start, digits) }</button></td>
                            <td class="mono">{ if r.end >= 1 << 32 && !riscv { "0x100000000".to_string() } else { hex(r.end, digits) } }</td>
                            <td>{ r.end.saturating_sub(r.start).div_ceil(PGSIZE) }</td>
                        </tr>
                    }
                </tbody>
            </table>
            </div>
            if let Some(img) = &p.image {
                if img.pid == pid {
                    <h3 id="stack-h">{ "The stack exec built" }</h3>
                } else {
                    <h3 id="stack-h">{ format!("The stack exec built in pid {}, copied by fork", img.pid) }</h3>
                    <p class="help" id="stack-copied">{ format!(
                        "pid {pid} has not run exec: fork copied its parent's user pages, this stack page among them, byte for byte. The words below are the ones exec wrote for pid {}; the child goes on from where its parent was at the fork, with the parent's sp (fork returns 0 to it in {}).",
                        img.pid, if riscv { "a0" } else { "eax" }) }</p>
                }
                <p id="stack-summary">{ format!("sp = {}; stack page {}–{}; guard page {}–{} below it (no user bit: a push past the bottom of the stack page faults).",
                    hex(img.sp, digits), hex(img.stack, digits), hex(img.stack + PGSIZE - 1, digits), hex(img.guard, digits), hex(img.guard + PGSIZE - 1, digits)) }</p>
                <p class="help" id="stack-endian">
                    { format!("Reading the string words: {} is little-endian, so a word's lowest byte sits at its lowest address. The word at {} holds \"{}\" with the first character in its lowest byte: its value, read as a number, shows the characters backwards.",
                        if riscv { "RISC-V" } else { "x86" },
                        words.iter().find(|w| matches!(w.role, StackRole::Text { .. })).map_or_else(String::new, |w| hex(w.va, digits)),
                        words.iter().find_map(|w| match &w.role { StackRole::Text { text, .. } => Some(text.clone()), _ => None }).unwrap_or_default()) }
                </p>
                <div class="pushes" id="stack-pushes">
                    <label for="stack-push">{ if img.pid == pid { String::from("Watch exec build it, one copyout at a time:") } else { format!("Watch exec build it in pid {}, one copyout at a time:", img.pid) } }</label>
                    <input type="range" id="stack-push" min="0" max={pushes.len().to_string()} value={shown.to_string()}
                        oninput={on_push} aria-valuetext={format!("push {shown} of {}", pushes.len())} aria-describedby="stack-push-now" />
                    <p id="stack-push-now" aria-live="polite">{ push_text }</p>
                </div>
                <p class="help scroll-hint" aria-hidden="true">{ "The table is wider than the screen: scroll it sideways for what each word is." }</p>
                <div class="tablewrap" tabindex="0" role="region" aria-label="The stack (the table scrolls sideways)">
                <table class="stack" id="stack" aria-labelledby="stack-h">
                    <thead><tr><th scope="col">{ "address" }</th><th scope="col">{ "value" }</th><th scope="col">{ "what it is" }</th></tr></thead>
                    <tbody>
                        <tr class="guardrow">
                            <td class="mono">{ hex(img.guard, digits) }</td>
                            <td>{ "—" }</td>
                            <td>{ format!("guard page {}–{}: no user bit, so user code cannot touch it", hex(img.guard, digits), hex(img.guard + PGSIZE - 1, digits)) }</td>
                        </tr>
                        <tr class="unused">
                            <td class="mono">{ hex(img.stack, digits) }</td>
                            <td>{ "…" }</td>
                            <td>{ format!("the stack page, unused below sp ({} free)", plural(now_sp.saturating_sub(img.stack), "byte", "bytes")) }</td>
                        </tr>
                        for w in words.iter().filter(|_| shown < pushes.len()) {
                            {{
                                // A word as it is after the pushes shown: the bytes not yet written are 0.
                                let mask = (0..word).filter(|b| written(w.va + b)).fold(0u64, |m, b| m | (0xff << (8 * b)));
                                html! {
                                    <tr class={classes!(if mask == 0 { "unwritten" } else { "" }, (w.va == now_sp).then_some("sp"))}>
                                        <td class="mono">{ hex(w.va, digits) }</td>
                                        <td class="mono">{ hex(w.value & mask, value_digits) }</td>
                                        <td>
                                            { match (mask, &w.role) {
                                                (0, StackRole::Padding) => "padding: exec never writes it (0)".to_string(),
                                                (0, _) => "not written yet (0)".to_string(),
                                                _ => w.role.describe(),
                                            } }
                                            if w.va == now_sp { <strong class="spmark">{ " ← sp" }</strong> }
                                            if w.va < now_sp && mask == 0 { { " (below sp)" } }
                                        </td>
                                    </tr>
                                }
                            }}
                        }
                        for w in words.iter().filter(|_| shown == pushes.len()) {
                            <tr class={classes!(if w.sp { "sp" } else { "" }, match w.role { StackRole::Text { .. } | StackRole::Padding => "str", _ => "ptr" })}>
                                <td class="mono">{ hex(w.va, digits) }</td>
                                <td class="mono">{ hex(w.value, value_digits) }</td>
                                <td>
                                    { w.role.describe() }
                                    if matches!(w.role, StackRole::Text { .. } | StackRole::Padding) {
                                        <span class="lebytes">{ format!(" (bytes in memory: {})", le_bytes(w.value, word)) }</span>
                                    }
                                    if w.sp { <strong class="spmark">{ " ← sp" }</strong> }
                                </td>
                            </tr>
                        }
                    </tbody>
                </table>
                </div>
            } else {
                <p>{ "This process has not called exec: its first page holds initcode, and its stack is at the top of that page." }
                    if p.sz > PGSIZE { { " The pages above it are from sbrk." } }
                </p>
            }
            <details class="vmprint" open={*listing_open} ontoggle={on_listing}>
                <summary>{ "Page-table listing (vmprint)" }</summary>
                if *listing_open {
                    <pre id="vmprint" tabindex="0" aria-label="Page-table listing (vmprint); it scrolls">{ listing }</pre>
                }
            </details>
            <KernelSpace lab={props.lab.clone()} dispatch={props.dispatch.clone()} />
        </section>
    }
}

/// Props of [`KernelSpace`].
#[derive(Properties, PartialEq)]
struct KernelSpaceProps {
    lab: SharedLab,
    dispatch: UseReducerDispatcher<LabState>,
}

/// The kernel's own address space, run by run, named after what xv6 maps
/// there: read from its page table only while open (tens of thousands of entries).
#[component]
fn KernelSpace(props: &KernelSpaceProps) -> Html {
    let (open, ontoggle) = use_details(false);
    let k = props.lab.kernel();
    let port = k.info().port;
    let riscv = k.info().scheme == SchemeKind::Sv39;
    let digits = addr_digits(riscv);
    let rows =
        use_memo((props.lab.clone(), *open), |(l, open)| if *open { kernel_map(l.kernel()) } else { Vec::new() });
    let pick = |va: u64| translate_in(&props.dispatch, true, va);
    let intro = match port {
        Port::Xv6Public => {
            "The kernel's half of every page directory: setupkvm maps kmap[] into each one, so the kernel runs on whichever process's table cr3 holds. No page-table entry here has PTE_U (the directory entries do: walkpgdir makes them P W U), so user code cannot reach any of it."
        }
        Port::Xv6Riscv => {
            "The kernel's own page table (kvmmake at boot, and proc_mapstacks), which satp holds while the kernel runs. A process's table maps none of it but the trampoline."
        }
    };
    html! {
        <details class="kspace" id="kernel-space" {ontoggle} open={*open}>
            <summary>{ "The kernel's address space" }</summary>
            if *open {
                <p>{ intro }</p>
                if port == Port::Xv6Riscv {
                    <div class="notes-say" role="note" aria-label="Where the study notes differ">
                        <strong>{ "The notes say: " }</strong>
                        { "in the xv6-riscv VM notes, the CLINT is mapped one to one, the trampoline and the kernel stacks come from kalloc, and each process's kernel stack sits right below the trampoline. In xv6-riscv the CLINT is not mapped (only machine-mode code uses it), the trampoline is kernel text's own frame (pa 0x80007000), and the stacks belong to the 64 process slots, made at boot: slot 0's is two pages below the trampoline, with an unmapped guard page between." }
                    </div>
                }
                <p class="help">{ "Lowest address first. Choose an address to translate it in the kernel's page table." }</p>
                <ol class="kmap" id="kernel-map">
                    for r in rows.iter() {
                        <li key={r.va}>
                            {{
                                let (name, words) = r.what(port);
                                html! {
                                    <>
                                    <strong>{ name.clone() }</strong>{ " " }
                                    <button class="addr" onclick={pick(r.va)} aria-label={format!("{name}, {}: translate this address in the kernel's page table", hex(r.va, digits))}>{ hex(r.va, digits) }</button>
                                    <span class="mono nowrap">{ format!("–{}", hex(r.end - 1, digits)) }</span>
                                    { " · " }
                                    <span>{ if r.runs > 1 {
                                        format!("{} mapped, unmapped guards between", plural(r.pages, "page", "pages"))
                                    } else {
                                        plural(r.pages, "page", "pages")
                                    } }</span>
                                    { " · " }
                                    <span class="nowrap">{ if r.runs > 1 { "a frame each".to_string() } else { format!("pa {}", hex(r.pa, digits)) } }</span>
                                    { " · " }<code>{ r.bits.clone() }</code>
                                    <div class="kwords">{ words }</div>
                                    </>
                                }
                            }}
                        </li>
                    }
                </ol>
            }
        </details>
    }
}

/// A press on an address: translate `va` in the kernel's own table (`kernel`)
/// or the chosen process's, and take the learner to the walk.
fn translate_in(dispatch: &UseReducerDispatcher<LabState>, kernel: bool, va: u64) -> Callback<MouseEvent> {
    let d = dispatch.clone();
    Callback::from(move |_| {
        d.dispatch(Action::UseKernelTable(kernel));
        d.dispatch(Action::SetAddress(format!("{va:#x}")));
        crate::dom::show_at_top("tr-h");
    })
}
