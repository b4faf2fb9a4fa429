//! The lab as components reach it. [`ProvideLab`] holds the newest state in a
//! [`LabStore`] that never changes identity, so a change of the state does
//! not redraw every component below it (as a changed context would). Each
//! component says what of the state it shows ([`use_lab_by`]) and is
//! redrawn only when that changes: a keystroke in the address field redraws
//! the translate panel, not the frame map.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use yew::UseReducerHandle;
use yew::prelude::*;

use crate::state::LabState;

/// The lab as every component sees it: the state and its dispatcher.
pub type LabContext = UseReducerHandle<LabState>;

/// A component's check of a new state: it redraws the component if what
/// the component shows has changed.
type Listener = Rc<dyn Fn(&LabContext)>;

/// The newest lab state, and the components to tell of a new one.
pub struct LabStore {
    /// The newest state.
    lab: RefCell<LabContext>,
    /// Each listening component, by its number.
    listeners: RefCell<Vec<(u64, Listener)>>,
    /// The next listener's number.
    next: Cell<u64>,
}

/// A shared [`LabStore`]; two are equal when they are the same store.
#[derive(Clone)]
pub struct StoreHandle(Rc<LabStore>);

impl PartialEq for StoreHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl StoreHandle {
    /// A store holding `lab`, with no listeners yet.
    fn new(lab: LabContext) -> StoreHandle {
        StoreHandle(Rc::new(LabStore {
            lab: RefCell::new(lab),
            listeners: RefCell::new(Vec::new()),
            next: Cell::new(0),
        }))
    }

    /// The newest state.
    #[must_use]
    pub fn lab(&self) -> LabContext {
        self.0.lab.borrow().clone()
    }

    /// Hold `lab` from now on, and let every listener check it (if it is a
    /// different state).
    fn hold(&self, lab: &LabContext) {
        if *self.0.lab.borrow() == *lab {
            return;
        }
        *self.0.lab.borrow_mut() = lab.clone();
        // Listeners may come and go while they are told (a redraw is only
        // queued here, but copy the list all the same).
        let listeners: Vec<Listener> = self.0.listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
        for l in listeners {
            l(lab);
        }
    }

    /// Add a listener; returns its number, for [`StoreHandle::forget`].
    fn listen(&self, l: Listener) -> u64 {
        let id = self.0.next.get();
        self.0.next.set(id + 1);
        self.0.listeners.borrow_mut().push((id, l));
        id
    }

    /// Remove listener `id`.
    fn forget(&self, id: u64) {
        self.0.listeners.borrow_mut().retain(|(i, _)| *i != id);
    }
}

/// Props of [`ProvideLab`].
#[derive(Properties, PartialEq)]
pub struct ProvideLabProps {
    /// The lab state to provide.
    pub lab: LabContext,
    /// The components that reach it.
    #[prop_or_default]
    pub children: Html,
}

/// Provide `lab` to the components inside (through [`use_lab`] and
/// [`use_lab_by`]). A new state redraws only the components whose part of it
/// changed.
#[component]
pub fn ProvideLab(props: &ProvideLabProps) -> Html {
    let store = use_state(|| StoreHandle::new(props.lab.clone()));
    // Told during this render: the components it redraws are drawn in the same pass.
    store.hold(&props.lab);
    html! {
        <ContextProvider<StoreHandle> context={(*store).clone()}>
            { props.children.clone() }
        </ContextProvider<StoreHandle>>
    }
}

/// The lab's state and dispatcher, redrawing this component whenever the
/// state changes at all.
///
/// # Panics
/// Outside a [`ProvideLab`] (a mistake in the page's layout, never an input).
#[hook]
pub fn use_lab() -> LabContext {
    use_lab_by(LabContext::clone)
}

/// The lab's state and dispatcher, redrawing this component only when
/// `shows` of the state changes (`shows` must cover everything the
/// component reads of the state while drawing; its callbacks may read the
/// rest, which is always the newest).
///
/// # Panics
/// Outside a [`ProvideLab`] (a mistake in the page's layout, never an input).
#[hook]
pub fn use_lab_by<K: PartialEq + 'static>(shows: fn(&LabContext) -> K) -> LabContext {
    let store = use_context::<StoreHandle>().expect("use_lab needs a ProvideLab above it");
    let redraw = use_force_update();
    let id = {
        let store = store.clone();
        *use_state(move || {
            let seen = RefCell::new(shows(&store.lab()));
            store.listen(Rc::new(move |lab: &LabContext| {
                let now = shows(lab);
                if *seen.borrow() != now {
                    *seen.borrow_mut() = now;
                    redraw.force_update();
                }
            }))
        })
    };
    {
        let store = store.clone();
        use_effect_with((), move |()| move || store.forget(id));
    }
    store.lab()
}
