//! DynamoDB store (placeholder; implemented in the Context API issue).
