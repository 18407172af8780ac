//! Identities: turning an identity name from the profile into STS credentials, reusing what the
//! credential store already holds while it is fresh enough.

mod resolve;

pub use resolve::Resolver;
