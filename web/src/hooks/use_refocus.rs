use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

/// Where the keyboard focus goes after a step that may disable the button
/// pressed: Forward to the last step, or Back to step 0, disables itself,
/// and the browser would drop the focus to the page. A click sets the
/// other button here before it dispatches; once the step (`cur` of `n`) is
/// drawn, the focus moves there if it was lost ([`crate::dom::refocus_if_lost`]).
#[hook]
pub fn use_refocus(cur: usize, n: usize) -> Rc<RefCell<Option<NodeRef>>> {
    let refocus = use_mut_ref(|| None::<NodeRef>);
    {
        let refocus = refocus.clone();
        use_effect_with((cur, n), move |_| {
            if let Some(to) = refocus.borrow_mut().take() {
                crate::dom::refocus_if_lost(&to);
            }
        });
    }
    refocus
}
