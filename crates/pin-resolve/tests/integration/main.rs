//! Integration tests for pin-resolve against a real `docker-registry` on loopback.
//!
//! One test binary (modules below) so the crate links once. Requires `docker-registry`,
//! `skopeo` and `openssl` on PATH; a missing one fails the test with the install command.

#![allow(clippy::unwrap_used)]

mod auth;
mod catalogs;
mod faults;
mod registry;

use pin_test_support as support;

use std::time::Duration;

use pin_resolve::{CredentialSources, ImageName, Resolver, ResolverOptions};

/// Options for talking to loopback registries: plain HTTP allowed there, no ambient
/// credentials, short timeouts and backoff so fault tests stay quick.
pub fn loopback_options(insecure: &[&str]) -> ResolverOptions {
    ResolverOptions {
        insecure_registries: insecure.iter().map(|s| (*s).to_owned()).collect(),
        timeout: Duration::from_secs(5),
        retries: 2,
        backoff_base: Duration::from_millis(20),
        credentials: CredentialSources::none(),
        ..ResolverOptions::default()
    }
}

/// A resolver for loopback registries.
pub fn loopback_resolver(insecure: &[&str]) -> Resolver {
    Resolver::new(loopback_options(insecure)).unwrap()
}

/// `addr/repo:tag` parsed.
pub fn name(addr: &str, rest: &str) -> ImageName {
    ImageName::parse(&format!("{addr}/{rest}")).unwrap()
}
