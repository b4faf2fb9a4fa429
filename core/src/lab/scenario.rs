//! The scenario language: one operation per line (being written).
