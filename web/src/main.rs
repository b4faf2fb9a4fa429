//! The pagelab web lab's entry point: Trunk builds this into the page.

fn main() {
    #[cfg(target_arch = "wasm32")]
    pagelab_web::start();
}
