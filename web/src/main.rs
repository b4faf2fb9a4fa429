//! The pagelab web lab.
fn main() {}
