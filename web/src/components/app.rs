use yew::prelude::*;

use super::{
    AddressSpace, Header, LabContext, Memory, NoticeBar, Processes, Share, SharedMemory, StepBar, Story, Timeline,
    Translate,
};
use crate::hooks::{initial_fragment, use_url_sync};
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

/// The page's layout.
#[component]
fn Page() -> Html {
    html! {
        <>
            <a class="skip" href="#main">{ "Skip to the lab" }</a>
            <Header />
            <StepBar />
            <NoticeBar />
            <main id="main" class="grid">
                <Story />
                <Processes />
                <Translate />
                <AddressSpace />
                <SharedMemory />
                <Memory />
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
