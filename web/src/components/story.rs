use pagelab_core::lab::summary::mappings_parts;
use pagelab_core::lab::{Paragraph, ParagraphKind};
use pagelab_core::port::Port;
use pagelab_core::trace::Event;
use yew::prelude::*;

use super::InlineNotice;
use super::stepbar::step_title;
use crate::hooks::use_lab_by;
use crate::present::{explain_step, result_text};
use crate::state::{Action, Where};

/// A text with `code` between backticks shown as code (the lab's messages
/// and paragraphs mark commands so); a text with an unpaired backtick (one
/// a learner typed, say) is shown as it is.
pub fn inline(text: &str) -> Html {
    if text.matches('`').count() % 2 == 1 {
        return html! { { text.to_string() } };
    }
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                html! { <code>{ part.to_string() }</code> }
            } else {
                html! { { part.to_string() } }
            }
        })
        .collect::<Html>()
}

/// Paragraphs of a comment as HTML: text, list items, and "the notes say" boxes.
fn paragraphs(ps: &[Paragraph]) -> Html {
    let mut out: Vec<Html> = Vec::new();
    let mut items: Vec<Html> = Vec::new();
    let flush = |items: &mut Vec<Html>, out: &mut Vec<Html>| {
        if !items.is_empty() {
            let li = std::mem::take(items);
            out.push(html! { <ul class="items">{ li.into_iter().collect::<Html>() }</ul> });
        }
    };
    for p in ps {
        match p.kind {
            ParagraphKind::Item => items.push(html! { <li>{ inline(&p.text) }</li> }),
            ParagraphKind::Text => {
                flush(&mut items, &mut out);
                out.push(html! { <p>{ inline(&p.text) }</p> });
            }
            ParagraphKind::NotesSay => {
                flush(&mut items, &mut out);
                out.push(html! {
                    <div class="notes-say" role="note" aria-label="Where the study notes differ">
                        <strong>{ "The notes say: " }</strong>{ inline(&p.text) }
                    </div>
                });
            }
        }
    }
    flush(&mut items, &mut out);
    out.into_iter().collect::<Html>()
}

/// The story panel: what the step shown is about, in words (the scenario's
/// comments, and where the study notes count differently), then what it did
/// in short: pages by xv6 function, entries by page table, the result.
#[component]
pub fn Story() -> Html {
    let lab = use_lab_by(|l| (l.full_lab(), l.view_lab(), l.current(), l.len(), l.builtin.clone()));
    let k = lab.current();
    let n = lab.len();
    let port = lab.lab().kernel().info().port;
    let scheme = lab.lab().kernel().info().scheme;
    let narrative = lab.narrative(k);
    // The story's words were written for other flushes than this replay's.
    let whatif = lab.narrative_flush.filter(|f| *f != lab.full().scenario().layout.noflush).map(|f| {
        if f == pagelab_core::port::SkipFlush::default() {
            "What-if: these words tell the story as the scenario was written, with xv6's flush. The TLB panel's what-if replayed it with that flush left out, so this step may have gone differently: what it did is listed below."
        } else {
            "What-if: these words tell the story as the scenario was written, with a flush left out. The TLB panel replayed it with xv6's flush, so this step may have gone differently: what it did is listed below."
        }
    });
    let step = lab.step(k);
    let full = lab.full_lab();
    let defects: Vec<String> = if k == 0 {
        Vec::new()
    } else {
        full.steps()
            .get(k - 1)
            // A folded loop keeps its first two times, so the events as kept
            // tell whether there is a DEFECT line (most steps have none, and
            // opening up a heavy step's loops with their texts is slow).
            .filter(|s| s.events.iter().any(|e| matches!(e.event, Event::Defect { .. })))
            .map(|s| {
                pagelab_core::trace::expand(&s.events)
                    .filter_map(|e| match &e.event {
                        Event::Defect { text } => Some(format!("{}: {text}", e.func)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let fresh = lab.builtin.is_none() && lab.comments().is_empty();
    let story_name = match port {
        Port::Xv6Public => "story-x86",
        Port::Xv6Riscv => "story-riscv",
    };
    let follow = {
        let lab = lab.clone();
        Callback::from(move |_| lab.dispatch(Action::LoadBuiltin(story_name.to_string())))
    };
    let translate = Callback::from(|_| crate::dom::focus("address"));
    let exec = Callback::from(|_| crate::dom::focus("program"));
    html! {
        <section class="panel story" id="panel-story" aria-labelledby="story-h">
            if fresh {
                <div class="ways" id="ways-in">
                    <p class="ways-lead">{ "Three ways in:" }</p>
                    <div class="ways-buttons">
                        <button id="way-story" onclick={follow}>
                            <strong>{ "Follow the story" }</strong>
                            <span>{ "init, the shell and echo hello world, step by step, as in the notes" }</span>
                        </button>
                        <button id="way-translate" onclick={translate}>
                            <strong>{ "Translate an address" }</strong>
                            <span>{ "type a virtual address and watch the page walk" }</span>
                        </button>
                        <button id="way-exec" onclick={exec}>
                            <strong>{ "Run exec" }</strong>
                            <span>{ "exec a program with arguments and see its stack and guard page" }</span>
                        </button>
                    </div>
                </div>
            }
            <InlineNotice at={Where::Story} id="story-notice" />
            <h2 id="story-h" tabindex="-1">{ format!("Step {k} of {n}: {}", step_title(&lab, k)) }</h2>
            if let Some(text) = whatif.filter(|_| k > 0 && !narrative.is_empty()) {
                <p class="whatif" id="story-whatif">{ text }</p>
            }
            <div class="narrative" id="narrative">
                if narrative.is_empty() {
                    if k == 0 {
                        <p class="auto">{ "The machine has just booted: kinit has put the free pages on kalloc's free list, and the kernel has built its own page table. Step forward to see the first operation." }</p>
                    } else if let Some(st) = full.steps().get(k - 1) {
                        <p class="auto">{ explain_step(&st.op, port, &st.result) }</p>
                    }
                } else {
                    { paragraphs(&narrative) }
                }
            </div>
            if !defects.is_empty() {
                <div class="defects" id="step-defects">
                    <h3>{
                        // The note's shared-memory code, or (any machine) a store through a stale TLB entry.
                        if lab.lab().kernel().shm_mode() == pagelab_core::shm::ShmMode::Note {
                            "Where the note's code goes wrong"
                        } else {
                            "What goes wrong here"
                        }
                    }</h3>
                    <ul>
                        for d in defects.iter() {
                            <li><strong class="defect-tag">{ "DEFECT" }</strong>{ " " }{ d.clone() }</li>
                        }
                    </ul>
                </div>
            }
            if let Some(s) = step {
                <h3 id="what-h">{ "What happened, by xv6 function" }</h3>
                <ul class="what" id="what-happened" aria-labelledby="what-h">
                    for l in s.summary.lines() {
                        {{
                            let (func, rest) = l.split_once(": ").unwrap_or((l.as_str(), ""));
                            html! { <li><code class="fn">{ func.to_string() }</code>{ ": " }{ rest.to_string() }</li> }
                        }}
                    }
                    if s.summary.lines().is_empty() {
                        <li>{ "No page was allocated or freed." }</li>
                    }
                    if s.summary.partial {
                        <li>{ "(The trace was full, so these lines leave out what it did not keep; the counts below are exact.)" }</li>
                    }
                </ul>
                if k > 0 {
                    {{
                        let (bad, text) = result_text(&s.op, &s.result);
                        if bad {
                            html! { <p class="error-inline" id="step-error">{ inline(&text) }</p> }
                        } else {
                            html! { <p id="step-result">{ text }</p> }
                        }
                    }}
                }
                <p id="step-counts"><strong>{ "Pages " }</strong>{ s.counts.to_string() }{ format!(". Free pages afterwards: {}.", s.nfree) }</p>
                if !s.summary.mappings.is_empty() {
                    <h3 id="entries-h">{ "Page-table entries, by page table" }</h3>
                    <ul class="entries" id="entries" aria-labelledby="entries-h">
                        for m in s.summary.mappings.iter() {
                            <li>
                                <strong>{ m.whose() }</strong>
                                <ul>
                                    for part in mappings_parts(m, port, scheme) {
                                        <li>{ part }</li>
                                    }
                                </ul>
                            </li>
                        }
                    </ul>
                }
            }
        </section>
    }
}
