use pagelab_core::lab::view::usage;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::{ChangedMark, InlineNotice};
use crate::hooks::use_lab_by;
use crate::input;
use crate::present::drops_text;
use crate::state::{Action, Call, LabState, SharedLab, Where};

/// The value of the input behind `r` ("" if it is not there).
fn value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default()
}

/// Props of [`CallForm`].
#[derive(Properties, PartialEq)]
struct CallFormProps {
    /// Id prefix for the form's fields (and where its messages go).
    id: &'static str,
    /// The call's name on the button.
    name: AttrValue,
    /// Fields: (label, placeholder, default value).
    fields: Vec<(AttrValue, AttrValue, AttrValue)>,
    /// Make the call from the fields' texts.
    make: Callback<Vec<String>, Call>,
    /// Disabled (no process).
    #[prop_or_default]
    disabled: bool,
}

/// A small form for one system call with typed arguments.
#[component]
fn CallForm(props: &CallFormProps) -> Html {
    let lab = use_lab_by(|_| ());
    let refs: Vec<NodeRef> =
        use_memo(props.fields.len(), |n| (0..*n).map(|_| NodeRef::default()).collect::<Vec<_>>()).as_ref().clone();
    let onsubmit = {
        let refs = refs.clone();
        let make = props.make.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let vals: Vec<String> = refs.iter().map(value).collect();
            lab.dispatch(Action::Call(make.emit(vals)));
        })
    };
    html! {
        <form class="call" {onsubmit} aria-label={props.name.clone()}>
            for (i, (label, ph, default)) in props.fields.iter().enumerate() {
                <label for={format!("{}-{i}", props.id)}>{ label.clone() }</label>
                <input
                    id={format!("{}-{i}", props.id)}
                    ref={refs[i].clone()}
                    placeholder={ph.clone()}
                    value={default.clone()}
                    autocomplete="off"
                    spellcheck="false"
                />
            }
            <button type="submit" id={format!("{}-run", props.id)} disabled={props.disabled}>{ props.name.clone() }</button>
            <InlineNotice at={Where::Form(props.id)} id={format!("{}-notice", props.id)} />
        </form>
    }
}

/// Read an uploaded file's bytes, then hand them to the lab.
#[cfg(target_arch = "wasm32")]
fn read_upload(lab: crate::components::LabContext, file: web_sys::File, name: String) {
    wasm_bindgen_futures::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
            Ok(buf) => {
                let bytes = js_sys::Uint8Array::new(&buf).to_vec();
                lab.dispatch(Action::Upload { name, bytes });
            }
            Err(_) => lab.dispatch(Action::Fail(Where::Upload, format!("{name} could not be read"))),
        }
    });
}

/// Files cannot be read outside a browser.
#[cfg(not(target_arch = "wasm32"))]
fn read_upload(lab: crate::components::LabContext, _file: web_sys::File, name: String) {
    lab.dispatch(Action::Fail(Where::Upload, format!("{name} could not be read: files are read only in a browser")));
}

/// Props of [`ProcTable`]: what it shows, so that it redraws only when that changes.
#[derive(Properties, PartialEq)]
struct ProcTableProps {
    lab: SharedLab,
    len: usize,
    current: usize,
    sel: Option<u32>,
    acting: Option<u32>,
    dispatch: UseReducerDispatcher<LabState>,
    /// The running programs' states of the processes (at the last step only).
    #[prop_or_default]
    run_states: Option<Vec<(u32, String)>>,
}

/// The process table, with a button to choose each process.
#[component]
fn ProcTable(props: &ProcTableProps) -> Html {
    let l = &props.lab;
    let procs: Vec<_> = l.kernel().procs().live().cloned().collect();
    html! {
                <>
                <p class="help scroll-hint" aria-hidden="true">{ "The table is wider than the screen: scroll it sideways for the pages column." }</p>
                <div class="tablewrap" tabindex="0" role="region" aria-label="The process table (it scrolls sideways)">
        <table class="ptable">
            <caption>{ "Choose the process that makes the calls below." }</caption>
            <thead><tr>
                <th scope="col">{ "pid" }</th><th scope="col">{ "name" }</th><th scope="col">{ "state" }</th>
                <th scope="col">{ "parent" }</th><th scope="col">{ "sz" }</th><th scope="col">{ "pages" }</th>
            </tr></thead>
            <tbody>
                for p in procs.iter() {
                    <tr key={p.pid} class={classes!((Some(p.pid) == props.sel).then_some("selected"), (Some(p.pid) == props.acting).then_some("changed"))}>
                        <td>
                            <button
                                class="pick"
                                id={format!("pick-{}", p.pid)}
                                aria-pressed={if Some(p.pid) == props.sel { "true" } else { "false" }}
                                aria-label={format!("Choose pid {}", p.pid)}
                                onclick={ let d = props.dispatch.clone(); let pid = p.pid; Callback::from(move |_| d.dispatch(Action::SelectPid(pid))) }
                            >
                                { p.pid }
                                if Some(p.pid) == props.sel { <span class="mark">{ " ✓" }</span> }
                            </button>
                        </td>
                        <td>{ p.name.clone() }</td>
                        <td class="nowrap">{
                            match props.run_states.as_ref().and_then(|v| v.iter().find(|(q, _)| *q == p.pid)) {
                                Some((_, s)) => s.clone(),
                                None => p.state.to_string(),
                            }
                        }</td>
                        <td>{ p.parent.map_or_else(|| "—".to_string(), |q| q.to_string()) }</td>
                        <td class="mono">{ format!("{:#x}", p.sz) }</td>
                        <td class="nowrap">{ { let u = usage(l.kernel(), p.pid); format!("{} user + {} table", u.user, u.tables) } }</td>
                    </tr>
                }
            </tbody>
        </table>
        </div>
        <p class="help" id="state-note">{
            if props.run_states.is_some() {
                "The states are the running programs': a process blocked in wait or read is sleeping."
            } else {
                "The timeline records system calls, not the scheduler, so a live process shows as runnable. In xv6 one blocked in wait (init, once it has forked sh) or in read is sleeping: the Run panel's programs show their real states."
            }
        }</p>
        </>
    }
}

/// The process table and the system calls a learner can make.
#[component]
pub fn Processes() -> Html {
    let lab = use_lab_by(|l| (l.full_lab(), l.view_lab(), l.current(), l.len(), l.selection.pid));
    let program = use_node_ref();
    let args = use_node_ref();
    let l = lab.lab();
    let k = l.kernel();
    let procs: Vec<_> = k.procs().live().cloned().collect();
    let sel = lab.selection.pid;
    let current = lab.current();
    let n = lab.len();
    let acting = if current > 0 { lab.step(current).and_then(|s| s.op.pid()) } else { None };
    let files: Vec<String> = l.fs().files.keys().cloned().collect();
    let maxarg = k.info().maxarg;
    let none = sel.is_none();
    let who = sel.map_or_else(|| "no process".to_string(), |p| format!("pid {p}"));

    let simple = |call: Call, id: &'static str, label: &'static str, help: &'static str| {
        let lab = lab.clone();
        html! {
            <button id={id} title={help} disabled={none} onclick={Callback::from(move |_| lab.dispatch(Action::Call(call.clone())))}>
                { label }
            </button>
        }
    };
    let on_exec = {
        let lab = lab.clone();
        let program = program.clone();
        let args = args.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let path = value(&program);
            lab.dispatch(Action::Call(Call::Exec { path, args: value(&args) }));
        })
    };
    let on_upload = {
        let lab = lab.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            let name = file.name();
            input.set_value("");
            match input::check_upload_size(&name, file.size() as u64) {
                Err(msg) => lab.dispatch(Action::Fail(Where::Upload, msg)),
                Ok(()) => read_upload(lab.clone(), file, name),
            }
        })
    };
    let changed = lab.changed_now().procs;
    html! {
        <section class={classes!("panel", "procs", changed.then_some("changed"))} id="panel-procs" aria-labelledby="procs-h">
            <h2 id="procs-h" tabindex="-1">{ "Processes and system calls" }<ChangedMark on={changed} step={current} /></h2>
            if current < n {
                <p class="warn" id="truncate-warning">
                    { format!("You are looking at step {current} of {n}. Running a system call here {}, like undo history; the browser's Back brings them back.", drops_text(current, n)) }
                </p>
            }
            if lab.run.is_some() {
                <p class="warn" id="run-warning">{ "The programs of the Run panel make these processes' calls. A call run here by hand ends them (their console and machine go; the timeline keeps what they did)." }</p>
            }
            if procs.is_empty() {
                <p>{ "No processes yet. xv6 makes the first one by hand in userinit." }</p>
                <button id="userinit" onclick={ let lab = lab.clone(); Callback::from(move |_| lab.dispatch(Action::Call(Call::Userinit))) }>
                    { "userinit (make pid 1)" }
                </button>
            } else {
                <ProcTable lab={lab.view_lab()} len={n} {current} {sel} {acting} dispatch={lab.dispatcher()}
                    run_states={lab.run.as_ref().filter(|_| current == n).map(crate::run::RunSession::proc_states)} />
            }
            <h3 id="calls-h">{ format!("System calls made by {who}") }</h3>
            <InlineNotice at={Where::Calls} id="calls-notice" />
            <div class="buttons" role="group" aria-labelledby="calls-h">
                { simple(Call::Fork, "fork", "fork", "Make a child: a copy of this process's memory") }
                { simple(Call::Exit, "exit", "exit", "Exit: the process becomes a zombie until its parent waits") }
                { simple(Call::Wait, "wait", "wait", "Wait for a child that exited and free its memory") }
                // Any process may kill any other; here the process kills itself, kill(getpid()).
                <button id="kill" title="The process calls kill on its own pid: it is marked killed and exits the next time it would return to user space, which is at once" disabled={none}
                    onclick={ let lab = lab.clone(); Callback::from(move |_| lab.dispatch(Action::Call(Call::Kill))) }>
                    { sel.map_or_else(|| "kill".to_string(), |p| format!("kill({p})")) }
                </button>
            </div>
            <CallForm id="sbrk" name="sbrk" disabled={none}
                fields={vec![("n (bytes; negative shrinks)".into(), "4096".into(), "4096".into())]}
                make={Callback::from(|v: Vec<String>| Call::Sbrk(v[0].clone()))} />
            <CallForm id="openshm" name="openshmem" disabled={none}
                fields={vec![("shared page id".into(), "25".into(), "25".into())]}
                make={Callback::from(|v: Vec<String>| Call::OpenShm(v[0].clone()))} />
            <CallForm id="closeshm" name="closeshmem" disabled={none}
                fields={vec![("shared page id".into(), "25".into(), "25".into())]}
                make={Callback::from(|v: Vec<String>| Call::CloseShm(v[0].clone()))} />
            <CallForm id="read" name="read" disabled={none}
                fields={vec![("address".into(), "0x0".into(), "0x0".into()), ("bytes".into(), "1".into(), "1".into())]}
                make={Callback::from(|v: Vec<String>| Call::Read { va: v[0].clone(), len: v[1].clone() })} />
            <CallForm id="write" name="write" disabled={none}
                fields={vec![("address".into(), "0x0".into(), "0x0".into()), ("bytes: \"text\" or numbers".into(), "\"hi\" or 10 0x41".into(), "".into())]}
                make={Callback::from(|v: Vec<String>| Call::Write { va: v[0].clone(), bytes: v[1].clone() })} />
            <h3 id="exec-h">{ format!("exec in {who}") }</h3>
            <form class="exec" onsubmit={on_exec} aria-labelledby="exec-h">
                <label for="program">{ "Program" }</label>
                <input id="program" ref={program} list="programs" value="echo" autocomplete="off" spellcheck="false"
                    aria-describedby="program-help" />
                <datalist id="programs">
                    for f in files.iter() {
                        <option value={f.trim_start_matches('/').to_string()}>{ f.clone() }</option>
                    }
                </datalist>
                <label for="args">{ "Arguments" }</label>
                <input id="args" ref={args} placeholder="hello world" autocomplete="off" spellcheck="false"
                    aria-describedby="args-help" />
                <button type="submit" id="exec-run" disabled={none}>{ "Run exec" }</button>
                <p class="help" id="program-help">{ format!("Files: {}. Type a path like sh looks one up: echo, /echo and ./echo are the same file.", files.join(", ")) }</p>
                <p class="help" id="args-help">
                    { format!("argv[0] is the program as typed (as sh passes it); then the arguments, split at spaces (quotes keep spaces: \"a b\"). At most {} in all (MAXARG - 1: argv's last slot holds its 0).", maxarg.saturating_sub(1)) }
                </p>
            </form>
            <InlineNotice at={Where::Exec} id="exec-notice" />
            <div class="upload">
                <label for="upload">{ "Add a program (an ELF file, at most 1 MiB)" }</label>
                <input type="file" id="upload" onchange={on_upload} />
            </div>
            <InlineNotice at={Where::Upload} id="upload-notice" />
            <details class="more">
                <summary>{ "Run out of memory on purpose" }</summary>
                <CallForm id="failalloc" name="failalloc"
                    fields={vec![("make the kalloc after this many fail (or off)".into(), "0".into(), "0".into())]}
                    make={Callback::from(|v: Vec<String>| Call::FailAlloc(v[0].clone()))} />
            </details>
        </section>
    }
}
