//! The widgets, drawn with Yew. Each is mounted in its own element (inside
//! the custom element's shadow root), so several on one page never share
//! state, ids or styles. Text is always text: nothing an author or reader
//! writes is inserted as HTML.

mod exec;
mod frames;
mod lab;
mod quiz;
mod run;
mod walk;

use pagelab_core::lab::scenario::print_op;
use yew::prelude::*;

use crate::prepare::Prepared;
use crate::source::{AtStep, Problem};

pub use exec::ExecWidget;
pub use frames::{FramesWidget, ShmWidget, TlbWidget};
pub use lab::MiniLab;
pub use quiz::QuizWidget;
pub use run::RunWidget;
pub use walk::{TranslateWidget, WalkWidget};

pub use pagelab_web::same::Same;

/// What to draw: a prepared widget, or why it could not be prepared.
pub type Drawn = Same<Result<Prepared, Problem>>;

/// Props of [`Widget`].
#[derive(Properties, PartialEq)]
pub struct WidgetProps {
    /// The element's tag, for the caption and messages (`pagelab-walk`).
    pub tag: AttrValue,
    /// What to draw.
    pub drawn: Drawn,
}

/// One widget: the prepared view, or a plain message.
#[component]
pub fn Widget(props: &WidgetProps) -> Html {
    match &*props.drawn {
        Err(p) => html! { <ErrorBox tag={props.tag.clone()} message={p.message.clone()} /> },
        Ok(Prepared::Translate { scheme, address, walk, fixed }) => html! {
            <TranslateWidget scheme={*scheme} address={address.clone()} walk={walk.clone().map(Same::new)} fixed={*fixed} />
        },
        Ok(Prepared::Walk { walk, va }) => html! { <WalkWidget walk={Same::new(walk.clone())} va={*va} /> },
        Ok(Prepared::Exec { cfg, at }) => {
            html! { <ExecWidget cfg={Same::new(cfg.clone())} at={Same::new(at.clone())} /> }
        }
        Ok(Prepared::Frames(at)) => html! { <FramesWidget at={Same::new(at.clone())} /> },
        Ok(Prepared::Shm(at)) => html! { <ShmWidget at={Same::new(at.clone())} /> },
        Ok(Prepared::Tlb(at)) => html! { <TlbWidget at={Same::new(at.clone())} /> },
        Ok(Prepared::Lab(state)) => html! { <MiniLab state={Same::new((**state).clone())} /> },
        Ok(Prepared::Quiz(q)) => html! { <QuizWidget prepared={Same::new((**q).clone())} /> },
        Ok(Prepared::Run(r)) => html! { <RunWidget run={Same::new((**r).clone())} /> },
    }
}

/// Props of [`ErrorBox`].
#[derive(Properties, PartialEq)]
pub struct ErrorProps {
    /// The element's tag.
    pub tag: AttrValue,
    /// What is wrong.
    pub message: AttrValue,
}

/// A widget that could not be drawn: what is wrong, in plain words.
#[component]
pub fn ErrorBox(props: &ErrorProps) -> Html {
    html! {
        <div class="pl-error" role="alert">
            <strong>{ format!("<{}> cannot be shown: ", props.tag) }</strong>
            <span class="pl-error-text">{ pagelab_web::components::inline(&after_tag(&props.tag, &props.message)) }</span>
        </div>
    }
}

/// `message` without the element's tag in front (the box names it already):
/// `<pagelab-walk> needs an address=` is `it needs an address=`.
#[must_use]
pub fn after_tag(tag: &str, message: &str) -> String {
    let t = format!("<{tag}>");
    match message.strip_prefix(&t) {
        Some(rest) => match rest.strip_prefix(": ") {
            Some(rest) => rest.to_string(),
            None => format!("it{rest}"),
        },
        None => message.to_string(),
    }
}

/// The caption of a scenario widget: what it shows, where and when.
fn caption(what: &str, at: &AtStep) -> Html {
    let n = at.len();
    let op = if at.step == 0 {
        "just booted".to_string()
    } else {
        at.scenario.ops.get(at.step - 1).map_or_else(String::new, |op| format!("after `{}`", short_op(op)))
    };
    html! {
        <p class="pl-caption">
            <span class="pl-what">{ what }</span>
            { pagelab_web::components::inline(&format!(" · {} · {} · step {} of {n}, {op}", at.label, at.scenario.preset.name(), at.step)) }
        </p>
    }
}

fn short_op(op: &pagelab_core::lab::Op) -> String {
    pagelab_web::select::short(&print_op(op), 60)
}

#[cfg(test)]
mod tests {
    use super::after_tag;

    #[test]
    fn the_error_box_names_the_element_once() {
        let t = "pagelab-walk";
        assert_eq!(after_tag(t, "<pagelab-walk> needs an address="), "it needs an address=");
        assert_eq!(after_tag(t, "<pagelab-walk>: no machine uses sv32"), "no machine uses sv32");
        assert_eq!(after_tag(t, "step=\"x\" is not a step"), "step=\"x\" is not a step");
        assert_eq!(after_tag(t, "<pagelab-walker> x"), "<pagelab-walker> x");
    }
}
