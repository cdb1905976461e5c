//! Deterministic demo history (placeholder until the generator lands).
