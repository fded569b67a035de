//! Adaptive campaigns (filled in below).
