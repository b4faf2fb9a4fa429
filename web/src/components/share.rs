use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::InlineNotice;
use crate::hooks::{use_details, use_lab};
use crate::present::{EmbedKind, EmbedView, embed_snippet, widget_access};
use crate::state::{Action, Where};

/// For instructors and for keeping a lab: the link, the widget element that
/// shows what is on screen in course notes, and the scenario's text.
#[component]
pub fn Share() -> Html {
    let lab = use_lab();
    let kind = use_state(|| EmbedKind::Walk);
    // The element, worked out again only when what it shows changes (the
    // scenario's text is printed for it only when the lab is not a built-in).
    let snippet = {
        let deps = (
            lab.full_lab(),
            lab.builtin.clone(),
            lab.current(),
            lab.table_pid(),
            lab.selection.address,
            lab.selection.access,
            *kind,
        );
        let lab = lab.clone();
        use_memo(deps, move |(_, builtin, step, pid, address, access, kind)| {
            if let Some(why) = crate::present::embed_refusal(lab.full().scenario().ops.len()) {
                return Err(why);
            }
            let view = EmbedView {
                builtin: builtin.clone(),
                text: if builtin.is_some() { String::new() } else { lab.scenario_text() },
                step: *step,
                pid: *pid,
                address: address.unwrap_or(0),
                access: widget_access(*access),
                script: crate::dom::widgets_url(),
            };
            Ok(embed_snippet(*kind, &view))
        })
    };
    // The scenario's text is shown (and printed) only while its box is open.
    let (text_open, on_toggle) = use_details(false);
    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            if let Some(k) = EmbedKind::ALL.into_iter().find(|k| k.code() == s.value()) {
                kind.set(k);
            }
        })
    };
    let copy_link = {
        let lab = lab.clone();
        Callback::from(move |_| {
            let href = crate::dom::href();
            let len = href.find('#').map_or(0, |i| href.len() - i);
            crate::dom::copy(&href);
            // The programs' run is not in a link: its steps are, as any steps.
            let running = if lab.run.is_some() {
                " The running programs are not in it: their steps are, but the console starts empty, and Boot and run init starts a new machine."
            } else {
                ""
            };
            lab.dispatch(Action::Inform(
                Where::Share,
                format!("The link is copied ({len} characters). Opening it restores this lab exactly: the machine, every step, the step shown and the selection.{running}"),
            ));
        })
    };
    let copy_snippet = {
        let lab = lab.clone();
        let snippet = snippet.clone();
        Callback::from(move |_| match &*snippet {
            Ok(s) => {
                crate::dom::copy(s);
                lab.dispatch(Action::Inform(
                    Where::Share,
                    "The element is copied. Paste it into your notes, with the widgets' script included once per page."
                        .into(),
                ));
            }
            Err(why) => lab.dispatch(Action::Fail(Where::Share, why.clone())),
        })
    };
    let copy_text = {
        let lab = lab.clone();
        Callback::from(move |_| {
            crate::dom::copy(&lab.scenario_text());
            lab.dispatch(Action::Inform(Where::Share, "The scenario's text is copied.".into()));
        })
    };
    let own = use_node_ref();
    let open_own = {
        let (lab, own) = (lab.clone(), own.clone());
        Callback::from(move |_| {
            let Some(t) = own.cast::<web_sys::HtmlTextAreaElement>() else { return };
            match crate::link::for_text(&t.value()) {
                Ok(frag) => crate::dom::set_hash(&frag),
                Err(e) => lab.dispatch(Action::Fail(Where::Form("own"), format!("The scenario was not opened: {e}."))),
            }
        })
    };
    html! {
        <section class="panel share" id="panel-share" aria-labelledby="share-h">
            <h2 id="share-h" tabindex="-1">{ "Share, embed, keep" }</h2>
            <div class="linkbox">
                <button id="copy-link" onclick={copy_link}>{ "Copy link to this lab" }</button>
                <span class="help">
                    { "The address bar always holds the lab: copy it to share or reload." }
                </span>
            </div>
            <InlineNotice at={Where::Share} id="share-notice" />
            <h3 id="embed-h">{ "Embed this view in course notes" }</h3>
            <div class="embedform">
                <label for="embed-kind">{ "Show" }</label>
                <select id="embed-kind" onchange={on_kind}>
                    for k in EmbedKind::ALL {
                        <option value={k.code()} selected={k == *kind}>{ k.label() }</option>
                    }
                </select>
                <button id="copy-embed" onclick={copy_snippet}>{ "Copy the element" }</button>
            </div>
            {
                match &*snippet {
                    Ok(s) => html! {
                        <textarea id="embed-code" readonly=true rows="5" spellcheck="false" aria-labelledby="embed-h" value={s.clone()} />
                    },
                    Err(why) => html! { <p class="help" id="embed-code">{ why.clone() }</p> },
                }
            }
            <p class="help">
                { "The first line loads the widgets from this site; a page needs it once, however many widgets it has. " }
                { "If your notes are on another site, copy this site's widgets/ folder next to them and write " }
                <code>{ "src=\"widgets/pagelab-widgets.js\"" }</code>
                { " (a browser loads a module from another site only if that site allows it). " }
                {
                    match *kind {
                        EmbedKind::Walk => "The element shows this step, process, address and access.",
                        EmbedKind::Frames | EmbedKind::Shm => "The element shows this step.",
                        EmbedKind::Lab => "The element opens a small lab at this step; readers can step through it.",
                    }
                }
            </p>
            <details class="scenario-text" ontoggle={on_toggle}>
                <summary>{ "Scenario text" }</summary>
                <p class="help">{ "The lab in the scenario language, comments included, with the operations you ran: save it, change it, or give it to the command-line runner (pagelab run)." }</p>
                <p class="help">
                    { "How to read it: lines starting with # are the story's words; " }
                    <code>{ "preset" }</code>{ " names the machine; " }
                    <code>{ "shm lab" }</code>{ " or " }<code>{ "shm note" }</code>{ " says whose shared-memory code runs (pagelab's or the note's); " }
                    <code>{ "exec PID PATH ARG…" }</code>{ " runs exec as the shell would (argv[0] is PATH), " }
                    <code>{ "execv PID PATH ARGV0 ARG…" }</code>{ " gives argv exactly; every other line is one system call by a pid. The README lists them all." }
                </p>
                <button id="copy-scenario" onclick={copy_text}>{ "Copy the text" }</button>
                if *text_open {
                    <textarea id="scenario-text" readonly=true rows="12" spellcheck="false" aria-label="The scenario's text" value={lab.scenario_text()} />
                }
            </details>
            <details class="scenario-text">
                <summary>{ "Open a scenario of your own" }</summary>
                <p class="help" id="own-help">{ "Paste or write a scenario (the language above: a preset line, then one operation a line, # for the story's words, ask lines for questions) and open it: it becomes a lab at its last step, with its own link to share. Back returns to this lab." }</p>
                <textarea id="own-scenario" ref={own.clone()} rows="8" spellcheck="false" aria-label="A scenario of your own" aria-describedby="own-help" placeholder={"preset xv6-riscv\nuserinit\nexec 1 /init\nfork 1"} />
                <button id="open-own" onclick={open_own}>{ "Open it in the lab" }</button>
                <InlineNotice at={Where::Form("own")} id="own-notice" />
            </details>
        </section>
    }
}
