//! Fake identifiers and secrets for everything the emulator issues.
//!
//! Every value is unique per issue and says `EMULATOR` in it, so a leak scanner (or a human) can
//! tell it from a real AWS credential. The mint also remembers every secret it ever produced, which
//! is what leak tests compare program output against. It never decides *what* to issue: callers do.

use std::collections::hash_map::{DefaultHasher, RandomState};
use std::hash::{BuildHasher, Hash, Hasher};

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Device-flow user codes avoid vowels and look-alikes, as real ones do, so no word is spelt out.
const USER_CODE_LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

pub struct Mint {
    /// A randomly keyed hasher from std: unpredictable across runs without a `rand` dependency.
    hasher: RandomState,
    counter: u64,
    issued: Vec<String>,
}

impl Mint {
    pub fn new() -> Mint {
        Mint {
            hasher: RandomState::new(),
            counter: 0,
            issued: Vec::new(),
        }
    }

    /// A public identifier: `prefix` followed by upper-case letters and digits up to `len` chars.
    pub fn id(&mut self, prefix: &str, len: usize) -> String {
        self.fill(prefix, len, UPPER_ALNUM)
    }

    /// A secret value (recorded for leak tests): `prefix` followed by base62 up to `len` chars.
    pub fn secret(&mut self, prefix: &str, len: usize) -> String {
        let value = self.fill(prefix, len, BASE62);
        self.issued.push(value.clone());
        value
    }

    /// Records a secret the client made up and sent (a PKCE code verifier), so leak tests
    /// look for it too.
    pub fn witness(&mut self, secret: &str) {
        if !self.issued.iter().any(|s| s == secret) {
            self.issued.push(secret.to_owned());
        }
    }

    /// A request id shaped like the UUIDs AWS puts in `x-amzn-RequestId`.
    pub fn request_id(&mut self) -> String {
        let hex = format!("{:016x}{:016x}", self.next_word(), self.next_word());
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// A device-flow user code, `XXXX-XXXX`.
    pub fn user_code(&mut self) -> String {
        let letters = self.fill("", 8, USER_CODE_LETTERS);
        format!("{}-{}", &letters[..4], &letters[4..])
    }

    /// Every secret issued so far, oldest first.
    pub fn issued(&self) -> &[String] {
        &self.issued
    }

    fn fill(&mut self, prefix: &str, len: usize, alphabet: &[u8]) -> String {
        let mut out = String::from(prefix);
        while out.len() < len {
            let mut word = self.next_word();
            for _ in 0..8 {
                if out.len() == len {
                    break;
                }
                out.push(alphabet[(word % alphabet.len() as u64) as usize] as char);
                word /= alphabet.len() as u64;
            }
        }
        out
    }

    fn next_word(&mut self) -> u64 {
        self.counter += 1;
        let mut hasher = self.hasher.build_hasher();
        hasher.write_u64(self.counter);
        hasher.finish()
    }
}

/// An identifier derived from `seed` alone, for things AWS keeps stable across calls (a role's
/// unique id, the suffix of an SSO reserved role name): `prefix` plus upper-case hex/alnum.
pub fn stable_id(prefix: &str, seed: &str, len: usize) -> String {
    let mut out = String::from(prefix);
    let mut round = 0u64;
    while out.len() < len {
        // `DefaultHasher::new()` has fixed keys, so the same seed gives the same id in every run.
        let mut hasher = DefaultHasher::new();
        (seed, round).hash(&mut hasher);
        out.push_str(&format!("{:016X}", hasher.finish()));
        round += 1;
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_unique_marked_and_recorded() {
        let mut mint = Mint::new();
        let a = mint.secret("EMULATORSECRET", 40);
        let b = mint.secret("EMULATORSECRET", 40);
        assert_ne!(a, b);
        assert_eq!(a.len(), 40);
        assert_eq!(mint.issued(), [a, b]);
        let key = mint.id("ASIAEMULATOR", 20);
        assert!(
            key.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert!(
            mint.issued().iter().all(|s| s != &key),
            "ids are not secrets"
        );
        let code = mint.user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
    }
}
