//! HTTP layer (placeholder; implemented in the Context API issue).
