use yew::prelude::*;

use super::{
    AddressSpace, Header, Hideable, LabContext, Memory, NoticeBar, Processes, QuizPanel, Share, SharedMemory, StepBar,
    Story, Timeline, TlbPanel, Translate,
};
use crate::hooks::{initial_fragment, use_lab, use_url_sync};
use crate::state::{Action, LabState};

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

/// Holds the lab state (opened from the link, if any) and provides it.
#[component]
pub fn LabProvider(props: &ProviderProps) -> Html {
    let fragment = props.fragment.clone();
    let lab = use_reducer(move || {
        let f = fragment.unwrap_or_else(initial_fragment);
        LabState::default().reduce_with(Action::OpenLink(f))
    });
    use_url_sync(lab.clone());
    html! {
        <ContextProvider<LabContext> context={lab}>
            { props.children.clone() }
        </ContextProvider<LabContext>>
    }
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
    let lab = use_lab();
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
