//! Component tests in a real browser (headless Chromium through
//! wasm-bindgen-test-runner): mount the lab's components, act as a learner
//! would (type, click), let Yew render, and read the DOM.
#![cfg(target_arch = "wasm32")]

use pagelab_web::components::{
    AddressSpace, LabProvider, Memory, NoticeBar, Processes, StepBar, Story, Timeline, Translate,
};
use pagelab_web::hooks::{use_lab, use_lab_by};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, EventInit, HtmlElement, HtmlInputElement};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Properties, PartialEq)]
struct HarnessProps {
    fragment: String,
}

thread_local! {
    /// How often each counting component below has been drawn.
    static DRAWS: std::cell::RefCell<[u32; 2]> = const { std::cell::RefCell::new([0, 0]) };
}

/// Draws the step shown, and counts its draws in `DRAWS[0]`; asks to be
/// redrawn only when the step changes.
#[component]
fn CountsStep() -> Html {
    let lab = use_lab_by(|l| l.current());
    DRAWS.with(|d| d.borrow_mut()[0] += 1);
    html! { <span class="counts-step">{ lab.current() }</span> }
}

/// Draws the address field's text, and counts its draws in `DRAWS[1]`;
/// redrawn on any change.
#[component]
fn CountsAll() -> Html {
    let lab = use_lab();
    DRAWS.with(|d| d.borrow_mut()[1] += 1);
    html! { <span class="counts-all">{ lab.address_text.clone() }</span> }
}

#[component]
fn Harness(props: &HarnessProps) -> Html {
    html! {
        <LabProvider fragment={Some(props.fragment.clone())}>
            <CountsStep />
            <CountsAll />
            <StepBar />
            <NoticeBar />
            <Story />
            <Processes />
            <Translate />
            <AddressSpace />
            <Memory />
            <Timeline />
        </LabProvider>
    }
}

/// Mount the lab opened on `fragment` in a fresh element; returns that element.
async fn mount(fragment: &str) -> Element {
    let doc = gloo_document();
    let root = doc.create_element("div").expect("a div");
    doc.body().expect("a body").append_child(&root).expect("appended");
    yew::Renderer::<Harness>::with_root_and_props(root.clone(), HarnessProps { fragment: fragment.into() }).render();
    yew::scheduler::flush().await;
    // The machine boots and the link replays after the first paint, in slices from timers.
    assert!(count(&root, ".starting") == 1, "the lab starts after its first paint");
    for _ in 0..500 {
        if count(&root, ".starting") == 0 {
            break;
        }
        next_task().await;
        yew::scheduler::flush().await;
    }
    assert_eq!(count(&root, ".starting"), 0, "the lab did not open");
    root
}

/// A new task from the browser's timer queue.
async fn next_task() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window().expect("a window").set_timeout_with_callback(&resolve);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

fn gloo_document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("a document")
}

fn find(root: &Element, sel: &str) -> Element {
    root.query_selector(sel).ok().flatten().unwrap_or_else(|| panic!("no {sel}"))
}

fn text(root: &Element, sel: &str) -> String {
    find(root, sel).text_content().unwrap_or_default()
}

fn count(root: &Element, sel: &str) -> u32 {
    root.query_selector_all(sel).map(|l| l.length()).unwrap_or(0)
}

async fn type_into(root: &Element, sel: &str, value: &str) {
    let input: HtmlInputElement = find(root, sel).dyn_into().expect("an input");
    input.set_value(value);
    let init = EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("input", &init).expect("an event");
    input.dispatch_event(&ev).expect("dispatched");
    yew::scheduler::flush().await;
}

async fn click(root: &Element, sel: &str) {
    let el: HtmlElement = find(root, sel).dyn_into().expect("an element");
    el.click();
    yew::scheduler::flush().await;
}

/// The scenario text as a link fragment (deflate + base64url), as the lab writes it.
fn link(text: &str) -> String {
    use base64::Engine as _;
    let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    format!("#lab={}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed))
}

const TINY_PREFIX: &str = "preset xv6-public-tiny\nuserinit\nexec 1 /init\nfork 1\nexecv 2 sh sh\nfork 2\n";

#[wasm_bindgen_test]
async fn the_address_splits_as_it_is_typed() {
    let root = mount("").await;
    // The default lab: xv6-public, pid 1 made; the field shows initcode's first
    // instruction, 0x00000000, which translates (userinit maps page 0).
    assert_eq!(text(&root, "#step-pos"), "Step 1 of 1");
    assert_eq!(find(&root, "#address").dyn_into::<web_sys::HtmlInputElement>().expect("input").value(), "0x00000000");
    assert!(root.query_selector("#pa").expect("query").is_some());
    // 0x00403abc: PDX 1, PTX 3, offset 0xabc.
    type_into(&root, "#address", "0x00403abc").await;
    assert_eq!(text(&root, "[data-field=\"PDX\"] .fhex"), "0x1");
    assert_eq!(text(&root, "[data-field=\"PTX\"] .fhex"), "0x3");
    assert_eq!(text(&root, "[data-field=\"offset\"] .fhex"), "0xabc");
    // 0x80400123: PDX 0x201 (bit 31 and bit 22), PTX 0, offset 0x123.
    type_into(&root, "#address", "0x80400123").await;
    assert_eq!(text(&root, "[data-field=\"PDX\"] .fhex"), "0x201");
    assert_eq!(text(&root, "[data-field=\"PTX\"] .fhex"), "0x0");
    assert_eq!(text(&root, "[data-field=\"offset\"] .fhex"), "0x123");
    // A bad address: a message next to the field, the last good one kept.
    type_into(&root, "#address", "0xnope").await;
    assert!(text(&root, "#address-error").contains("n is not a hex digit"));
    assert_eq!(text(&root, "#address-error code"), "n", "the digit is shown as code, without backticks");
    assert_eq!(text(&root, "[data-field=\"PDX\"] .fhex"), "0x201");
}

#[wasm_bindgen_test]
async fn exec_shows_the_stack_words() {
    let root = mount(&link(&format!("{TINY_PREFIX}exec 3 echo hello world\n"))).await;
    assert_eq!(text(&root, "#step-pos"), "Step 6 of 6");
    // From core/tests/exec.rs: sp = 0x2fcc holds the fake return PC, then argc = 3.
    let rows = root.query_selector_all("#stack tbody tr").expect("rows");
    assert_eq!(rows.length(), 2 + 13);
    let row = |i: u32| rows.get(i).and_then(|n| n.text_content()).unwrap_or_default();
    assert!(row(2).starts_with("0x00002fcc0xfffffffffake return PC"), "{}", row(2));
    assert!(row(3).starts_with("0x00002fd00x00000003argc"), "{}", row(3));
    assert!(row(14).starts_with("0x00002ffc0x00000000argv[0] bytes"), "{}", row(14));
}

/// A component is redrawn when what it shows of the lab changes, and not
/// for every change: typing an address leaves the step's views alone.
#[wasm_bindgen_test]
async fn a_keystroke_redraws_only_what_shows_the_address() {
    let root = mount(&link(TINY_PREFIX)).await;
    let draws = || DRAWS.with(|d| *d.borrow());
    let [step0, all0] = draws();
    type_into(&root, "#address", "0x1234").await;
    type_into(&root, "#address", "0x12345").await;
    assert_eq!(text(&root, ".counts-all"), "0x12345");
    assert_eq!(draws(), [step0, all0 + 2], "two keystrokes: the step's view is not redrawn");
    click(&root, "#back").await;
    assert_eq!(text(&root, ".counts-step"), "4");
    let [step1, all1] = draws();
    assert_eq!((step1, all1), (step0 + 1, all0 + 3), "Back: both are redrawn once");
}

#[wasm_bindgen_test]
async fn fork_adds_a_step_and_frames() {
    let root = mount(&link(TINY_PREFIX)).await;
    let users = count(&root, "#framemap .fk-user");
    click(&root, "#fork").await;
    assert_eq!(text(&root, "#step-pos"), "Step 6 of 6");
    // pid 3 is a copy of sh: 4 user pages.
    assert_eq!(count(&root, "#framemap .fk-user"), users + 4);
    // pids go 1, 2, 3 in the prefix: the child is pid 4.
    assert!(text(&root, "#info-text").starts_with("fork 3 returned 4"), "{}", text(&root, "#info-text"));
    // The operation is shown as code, not between literal backticks.
    assert_eq!(text(&root, "#info-text code"), "fork 3");
    click(&root, "#back").await;
    assert_eq!(text(&root, "#step-pos"), "Step 5 of 6");
    assert_eq!(count(&root, "#framemap .fk-user"), users);
    click(&root, "#forward").await;
    assert_eq!(text(&root, "#step-pos"), "Step 6 of 6");
}

#[wasm_bindgen_test]
async fn a_bad_request_shows_an_error_and_keeps_the_lab() {
    let root = mount(&link(TINY_PREFIX)).await;
    type_into(&root, "#sbrk-0", "lots").await;
    click(&root, "#sbrk-run").await;
    assert!(text(&root, "#error-text").contains("not a whole number"));
    assert_eq!(text(&root, "#step-pos"), "Step 5 of 5");
    click(&root, "#wait").await;
    assert!(text(&root, "#error-text").contains("no children"), "{}", text(&root, "#error-text"));
}

#[wasm_bindgen_test]
async fn a_bad_link_gives_a_message_and_a_clean_lab() {
    let root = mount("#lab=%%%").await;
    assert!(text(&root, "#error-text").contains("This link could not be opened"));
    assert_eq!(text(&root, "#step-pos"), "Step 1 of 1");
}

async fn choose(root: &Element, sel: &str, value: &str) {
    let select: web_sys::HtmlSelectElement = find(root, sel).dyn_into().expect("a select");
    select.set_value(value);
    let init = EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("change", &init).expect("an event");
    select.dispatch_event(&ev).expect("dispatched");
    yew::scheduler::flush().await;
}

#[wasm_bindgen_test]
async fn kernel_addresses_show_v2p() {
    let root = mount("").await;
    type_into(&root, "#address", "0x80100000").await;
    // A user read of a kernel page: no user bit.
    assert!(text(&root, "#fault-text").contains("no user bit"));
    choose(&root, "#access", "kr").await;
    // The kernel maps KERNBASE + pa to pa: V2P(0x80100000) = 0x100000.
    assert_eq!(text(&root, "#pa"), "0x00100000");
    assert!(text(&root, "#p2v").contains("V2P(0x80100000) = va − KERNBASE = 0x00100000"));
    // PTE_ADDR between the directory entry and the page table, and for the frame.
    let lines = text(&root, "#walk");
    assert!(lines.contains("PTE_ADDR(pde) = pde & ~0xFFF ="), "{lines}");
    assert!(lines.contains("PTE_ADDR(pte) = pte & ~0xFFF = 0x00100000 → the frame"), "{lines}");
    // Device space is mapped one to one: no V2P there.
    type_into(&root, "#address", "0xfe000000").await;
    assert_eq!(text(&root, "#pa"), "0xfe000000");
    assert!(root.query_selector("#p2v").expect("query").is_none());
    assert!(text(&root, "#place").contains("mapped one to one"));
}

#[wasm_bindgen_test]
async fn a_story_opens_at_step_0_and_tells_each_step() {
    let root = mount("#b=story-x86").await;
    assert_eq!(text(&root, "#step-pos"), "Step 0 of 9");
    assert!(text(&root, "#narrative").starts_with("The notes' story on xv6-public"));
    click(&root, "#forward").await;
    assert_eq!(text(&root, "#step-pos"), "Step 1 of 9");
    assert!(text(&root, "#narrative").contains("userinit makes the first process"));
    assert!(text(&root, ".notes-say").contains("PAGE ALLOCATED HERE = 1"));
    // What happened, by function: allocproc's kernel stack, setupkvm's 65 tables, inituvm's page.
    let what = text(&root, "#what-happened");
    assert!(what.contains("setupkvm: allocated 65 page-table pages"), "{what}");
    // The panels the step changed say so.
    assert!(text(&root, "#procs-h").contains("changed in step 1"));
}

#[wasm_bindgen_test]
async fn the_tlb_line_counts_the_entries_a_miss_reads() {
    // The write runs pid 1, so its table is the one loaded.
    let root = mount(&link("preset xv6-riscv-tiny\nuserinit\nwrite 1 0x10 0x41\n")).await;
    // Page 0 is cached by the write; page 1, past initcode's one page, is a miss whose walk reads L2, L1 and L0.
    type_into(&root, "#address", "0x1000").await;
    assert!(
        text(&root, "#tlb-would").contains("reads the 3 page-table entries below"),
        "{}",
        text(&root, "#tlb-would")
    );
    // Bits 63..39 must copy bit 38: 0x4000000000 fails before any entry is read.
    type_into(&root, "#address", "0x4000000000").await;
    let t = text(&root, "#tlb-would");
    assert!(t.contains("before any page-table entry is read") && !t.contains("fills slot"), "{t}");
}

#[wasm_bindgen_test]
async fn the_timeline_gives_each_call_its_return_but_exit_none() {
    let root = mount(&link(&format!("{TINY_PREFIX}exit 3\nwait 2\nwait 2\n"))).await;
    let rets: Vec<String> = {
        let list = root.query_selector_all("#steps .sret").expect("returns");
        (0..list.length()).filter_map(|i| list.get(i).and_then(|n| n.text_content())).collect()
    };
    // The prefix's five steps, then exit 3 (no return), wait 2 (the child's pid, 3),
    // and wait 2 again (no children left: -1).
    assert_eq!(rets.len(), 8, "{rets:?}");
    assert_eq!(rets[2], " → 2", "fork returns the child's pid: {rets:?}");
    assert_eq!(rets[5], " (does not return)", "{rets:?}");
    assert_eq!(rets[6], " → 3", "wait returns the child's pid: {rets:?}");
    assert_eq!(rets[7], " → -1 (failed)", "{rets:?}");
}

/// The id of the element that has the keyboard focus ("" for none or the page).
fn focused() -> String {
    web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element()).map(|e| e.id()).unwrap_or_default()
}

async fn press(root: &Element, sel: &str) {
    let el: HtmlElement = find(root, sel).dyn_into().expect("an element");
    el.focus().expect("focusable");
    el.click();
    yew::scheduler::flush().await;
}

#[wasm_bindgen_test]
async fn a_step_button_pressed_into_its_end_hands_the_focus_on() {
    let root = mount("#b=story-x86&step=8").await;
    press(&root, "#forward").await;
    assert_eq!(text(&root, "#step-pos"), "Step 9 of 9");
    assert_eq!(focused(), "back", "Forward is disabled at the last step");
    press(&root, "#back").await;
    assert_eq!(focused(), "back", "a step back that is not the first keeps the focus");
    choose(&root, "#jump", "1").await;
    press(&root, "#back").await;
    assert_eq!(text(&root, "#step-pos"), "Step 0 of 9");
    assert_eq!(focused(), "forward", "Back is disabled at step 0");
}

#[wasm_bindgen_test]
async fn a_shared_frame_names_both_processes() {
    let root = mount(&link(&format!("{TINY_PREFIX}openshmem 3 25\nopenshmem 2 25\n"))).await;
    assert_eq!(count(&root, "#framemap .fk-shared"), 1);
    click(&root, "#framemap .fk-shared").await;
    // sh's image is 4 pages in both: the page goes at 0x4000 in each.
    let who = text(&root, "#frame-mappers");
    assert!(who.contains("pid 2 at va 0x00004000") && who.contains("pid 3 at va 0x00004000"), "{who}");
    assert!(text(&root, "#frame-refs").contains("2 processes"));
}

#[wasm_bindgen_test]
async fn a_free_frame_says_where_it_is_on_the_free_list() {
    let root = mount(&link("preset xv6-public-tiny\nuserinit\n")).await;
    // The panel prints the list from its head: "kmem.freelist → 0x… → 0x… → …".
    let list = text(&root, "#freelist");
    let fourth = list.split(" → ").nth(4).expect("four frames on the list").to_string();
    type_into(&root, "#goto-frame", &fourth).await;
    click(&root, "#goto-run").await;
    let info = text(&root, "#frame-info");
    assert_eq!(
        text(&root, "#frame-freepos"),
        "On the free list, 3 frames after the head: kalloc hands it out after 3 other frames.",
        "{fourth}: {info}"
    );
    // The head itself is position 0.
    let head = list.split(" → ").nth(1).expect("a head").to_string();
    type_into(&root, "#goto-frame", &head).await;
    click(&root, "#goto-run").await;
    assert_eq!(text(&root, "#frame-freepos"), "It is the head of the free list: the next kalloc returns it.");
}

#[wasm_bindgen_test]
async fn the_vocabulary_follows_the_machine() {
    let root = mount(&link("preset xv6-riscv-tiny\nuserinit\n")).await;
    let names: Vec<String> = {
        let list = root.query_selector_all(".field .fname").expect("fields");
        (0..list.length())
            .filter_map(|i| list.get(i).and_then(|n| n.first_child()).and_then(|n| n.text_content()))
            .collect()
    };
    assert_eq!(names, ["sign extension", "L2", "L1", "L0", "offset"]);
    assert!(text(&root, "#walk").contains("satp = "));
    choose(&root, "#jump", "0").await;
    assert_eq!(text(&root, "#step-pos"), "Step 0 of 1");
}
