//! Shared start-up of the Lambda functions (placeholder; implemented in the Lambda issue).
