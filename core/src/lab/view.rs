//! Views of a machine for display (being written).
