use yew::prelude::*;

use super::{
    AddressSpace, Header, Hideable, Memory, NoticeBar, Processes, QuizPanel, RunPanel, Share, SharedMemory, StepBar,
    Story, Timeline, TlbPanel, Translate,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::hooks::{ProvideLab, initial_fragment, use_lab_by, use_url_sync};
use crate::opening::{Progress, drive};
use crate::state::{Action, Handoff, LabState, Opened, OpenedLink};

/// Props of [`LabProvider`].
#[derive(Properties, PartialEq)]
pub struct ProviderProps {
    /// The page inside.
    #[prop_or_default]
    pub children: Html,
    /// The fragment to open first (default: the address bar's).
    #[prop_or_default]
    pub fragment: Option<String>,
}

/// Opens the link (the address bar's, or `fragment`) and then holds the lab
/// state and provides it. The machine boots and the link replays after the
/// page's first paint, in slices, with their progress on screen.
#[component]
pub fn LabProvider(props: &ProviderProps) -> Html {
    let fragment = props.fragment.clone();
    // The first lab, once opened; and how far the opening has got.
    let first: UseStateHandle<Option<Handoff<LabState>>> = use_state(|| None);
    let progress: UseStateHandle<Option<Progress>> = use_state(|| None);
    {
        let (first, progress) = (first.clone(), progress.clone());
        use_effect_with((), move |()| {
            let f = fragment.unwrap_or_else(initial_fragment);
            let link = f.clone();
            let done = Callback::from(move |o: OpenedLink| {
                // A link that does not open gives a clean lab of the machine it names.
                let clean = match &o {
                    Err(_) => crate::link::machine_named(&link).unwrap_or(pagelab_core::lab::Preset::Xv6Public),
                    Ok(_) => pagelab_core::lab::Preset::Xv6Public,
                };
                first.set(Some(Handoff::new(LabState::opened_or(o, clean))));
            });
            let stop = drive(&f, false, Callback::from(move |p| progress.set(p)), done);
            move || stop.set(true)
        });
    }
    match &*first {
        Some(lab) => html! {
            <Ready first={lab.clone()}>{ props.children.clone() }</Ready>
        },
        None => html! { <Starting progress={(*progress).clone()} /> },
    }
}

/// Props of [`Ready`].
#[derive(Properties, PartialEq)]
struct ReadyProps {
    first: Handoff<LabState>,
    #[prop_or_default]
    children: Html,
}

/// The lab once opened: the state, the address bar kept in step with it,
/// and links opened later (pasted, or the browser's Back) in slices too.
#[component]
fn Ready(props: &ReadyProps) -> Html {
    let first = props.first.clone();
    let lab = use_reducer(move || first.take().unwrap_or_default());
    let progress: UseStateHandle<Option<Progress>> = use_state(|| None);
    let stop: Rc<RefCell<Option<Rc<Cell<bool>>>>> = use_mut_ref(|| None);
    let open = {
        let (dispatcher, progress) = (lab.dispatcher(), progress.clone());
        Callback::from(move |hash: String| {
            if let Some(s) = stop.borrow_mut().take() {
                s.set(true);
            }
            let dispatcher = dispatcher.clone();
            let done = Callback::from(move |o: OpenedLink| dispatcher.dispatch(Action::Opened(Opened::new(o))));
            let progress = progress.clone();
            *stop.borrow_mut() = Some(drive(&hash, true, Callback::from(move |p| progress.set(p)), done));
        })
    };
    use_url_sync(lab.clone(), open);
    html! {
        <ProvideLab {lab}>
            if let Some(p) = &*progress {
                <div class="opening" role="status">
                    <span>{ p.text() }</span>
                    { bar(p) }
                </div>
            }
            { props.children.clone() }
        </ProvideLab>
    }
}

/// Props of [`Starting`].
#[derive(Properties, PartialEq)]
struct StartingProps {
    progress: Option<Progress>,
}

/// What the page shows while the first lab boots and its link replays.
#[component]
fn Starting(props: &StartingProps) -> Html {
    let text = props.progress.as_ref().map_or_else(|| String::from("Starting the lab …"), Progress::text);
    html! {
        <div class="starting" role="status">
            <p>{ text }</p>
            if let Some(p) = props.progress.as_ref().filter(|p| p.booted) {
                { bar(p) }
            }
        </div>
    }
}

/// The operations replayed so far, as a progress bar.
fn bar(p: &Progress) -> Html {
    html! { <progress max={p.total.max(1).to_string()} value={p.done.to_string()}></progress> }
}

/// The whole lab page.
#[component]
pub fn App() -> Html {
    html! {
        <LabProvider>
            <Page />
        </LabProvider>
    }
}

/// The page's layout. In predict mode, the panels that would give the open
/// question's answer away are hidden until it is answered.
#[component]
fn Page() -> Html {
    let lab = use_lab_by(|l| l.hidden());
    let h = lab.hidden();
    let q = h.question.unwrap_or(0);
    html! {
        <>
            <a class="skip" href="#main">{ "Skip to the lab" }</a>
            <Header />
            <StepBar />
            <NoticeBar />
            <main id="main" class="grid">
                <QuizPanel />
                <Story />
                <RunPanel />
                <Hideable hidden={h.procs} title="Processes and system calls" id="hidden-procs" question={q}>
                    <Processes />
                </Hideable>
                <Hideable hidden={h.translate} title="Translate an address" id="hidden-translate" question={q}>
                    <Translate />
                </Hideable>
                <Hideable hidden={h.translate || h.space} title="TLB" id="hidden-tlb" question={q}>
                    <TlbPanel />
                </Hideable>
                <Hideable hidden={h.space} title="Address space" id="hidden-space" question={q}>
                    <AddressSpace />
                </Hideable>
                <Hideable hidden={h.shm} title="Shared memory" id="hidden-shm" question={q}>
                    <SharedMemory />
                </Hideable>
                <Hideable hidden={h.memory} title="Physical memory" id="hidden-memory" question={q}>
                    <Memory />
                </Hideable>
                <Timeline />
                <Share />
            </main>
            <footer class="foot">
                { "pagelab: xv6-public (x86) and xv6-riscv memory management, simulated by pagelab-core. " }
                { "Every number on this page comes from the simulated machine." }
            </footer>
        </>
    }
}
