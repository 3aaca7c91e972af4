//! Tokens made from the monitor's secret (kept in the database, so restarts and other
//! nodes agree): dashboard sessions, CSRF tokens and badge tokens. Pure: the time and
//! the configured keys are passed in.
//!
//! - A session cookie is `v1.<key id>.<expiry>.<mac>`: the key id is a MAC of the key
//!   (never the key itself), so a session ends when its key leaves the config; the
//!   expiry is Unix seconds; the MAC covers both.
//! - A CSRF token is a MAC of who is asking (the session, the proxy's user, or the
//!   open monitor), so a page's forms work only for the one who loaded it.
//! - A badge token is a MAC of the badge's scope: unguessable, one per scope.

use ring::hmac;

use super::store::to_hex;

/// How long a dashboard session lasts.
pub const SESSION_SECONDS: i64 = 30 * 86_400;

/// The keys derived from the one secret, one per use.
#[derive(Clone)]
pub struct Secrets {
    session: hmac::Key,
    csrf: hmac::Key,
    badge: hmac::Key,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(…)")
    }
}

fn derive(secret: &[u8], purpose: &str) -> hmac::Key {
    let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&root, purpose.as_bytes());
    hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref())
}

/// The first `hex_len` hex digits of a MAC of `message`.
fn mac(key: &hmac::Key, message: &str, hex_len: usize) -> String {
    let mut hex = to_hex(hmac::sign(key, message.as_bytes()).as_ref());
    hex.truncate(hex_len);
    hex
}

/// Compares two strings in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// A verified session: which configured key it was made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey<'a> {
    pub key: &'a str,
}

impl Secrets {
    pub fn new(secret: &[u8]) -> Secrets {
        Secrets {
            session: derive(secret, "hb session v1"),
            csrf: derive(secret, "hb csrf v1"),
            badge: derive(secret, "hb badge v1"),
        }
    }

    /// The id of a key in a session cookie: a MAC, so the key cannot be read back.
    pub fn key_id(&self, key: &str) -> String {
        mac(&self.session, &format!("key:{key}"), 20)
    }

    /// A session cookie's value for `key`, valid until `now + SESSION_SECONDS`.
    pub fn session_token(&self, key: &str, now_s: i64) -> String {
        let kid = self.key_id(key);
        let expiry = now_s.saturating_add(SESSION_SECONDS);
        let tag = mac(&self.session, &format!("session:{kid}.{expiry}"), 32);
        format!("v1.{kid}.{expiry}.{tag}")
    }

    /// The configured key a session cookie was made with, if the cookie is genuine,
    /// unexpired, and its key is still one of `keys`.
    pub fn verify_session<'k>(
        &self,
        token: &str,
        now_s: i64,
        keys: impl IntoIterator<Item = &'k String>,
    ) -> Option<&'k str> {
        let mut parts = token.split('.');
        let (Some("v1"), Some(kid), Some(expiry), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let expected = mac(&self.session, &format!("session:{kid}.{expiry}"), 32);
        if !same(tag, &expected) {
            return None;
        }
        if expiry.parse::<i64>().ok()? <= now_s {
            return None;
        }
        let mut found = None;
        for key in keys {
            if same(&self.key_id(key), kid) && found.is_none() {
                found = Some(key.as_str());
            }
        }
        found
    }

    /// The CSRF token of whoever `identity` names.
    pub fn csrf_token(&self, identity: &str) -> String {
        mac(&self.csrf, &format!("csrf:{identity}"), 32)
    }

    pub fn csrf_ok(&self, identity: &str, given: &str) -> bool {
        same(&self.csrf_token(identity), given)
    }

    /// The token in a badge's URL for `scope` (a slug, a tag, or `all`).
    pub fn badge_token(&self, scope: &str) -> String {
        mac(&self.badge, &format!("badge:{scope}"), 24)
    }

    pub fn badge_ok(&self, scope: &str, given: &str) -> bool {
        same(&self.badge_token(scope), given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn a_session_names_its_key_without_showing_it_and_ends_with_it() {
        let s = Secrets::new(&[7; 32]);
        let token = s.session_token("full-key", 1_000);
        assert!(!token.contains("full-key"));
        let configured = keys(&["other", "full-key"]);
        assert_eq!(
            s.verify_session(&token, 1_001, &configured),
            Some("full-key")
        );
        // The key left the config: the session is over.
        assert_eq!(s.verify_session(&token, 1_001, &keys(&["other"])), None);
        // Expired.
        assert_eq!(
            s.verify_session(&token, 1_000 + SESSION_SECONDS, &configured),
            None
        );
        // Tampered expiry or id, another secret, garbage.
        let later = token.replace(
            &format!(".{}.", 1_000 + SESSION_SECONDS),
            &format!(".{}.", 9_000 + SESSION_SECONDS),
        );
        assert_ne!(later, token);
        assert_eq!(s.verify_session(&later, 1_001, &configured), None);
        let other = Secrets::new(&[8; 32]);
        assert_eq!(other.verify_session(&token, 1_001, &configured), None);
        for junk in [
            "",
            "v1",
            "v1.a.b.c",
            "v1...",
            "v2.x.1.y",
            &format!("{token}.x"),
        ] {
            assert_eq!(s.verify_session(junk, 1_001, &configured), None, "{junk}");
        }
    }

    #[test]
    fn csrf_tokens_belong_to_one_identity() {
        let s = Secrets::new(&[1; 32]);
        let t = s.csrf_token("session:abc");
        assert!(s.csrf_ok("session:abc", &t));
        assert!(!s.csrf_ok("session:abd", &t));
        assert!(!s.csrf_ok("session:abc", ""));
        assert!(!s.csrf_ok("session:abc", &t[..31]));
        assert_eq!(t.len(), 32);
    }

    #[test]
    fn badge_tokens_differ_per_scope_and_secret() {
        let s = Secrets::new(&[1; 32]);
        let a = s.badge_token("backup");
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, s.badge_token("all"));
        assert_ne!(a, Secrets::new(&[2; 32]).badge_token("backup"));
        assert!(s.badge_ok("backup", &a));
        assert!(!s.badge_ok("all", &a));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("ab", "abc"));
    }
}
