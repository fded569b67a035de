//! The virtual QPU (filled in on the foundation branch).
