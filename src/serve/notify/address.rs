//! Which addresses a channel may connect to.
//!
//! A channel may only reach global addresses unless the delivery's [`Policy`] allows
//! private ones (`allow_private_targets = true`, or a channel the config file declares).
//! The check is made on the address actually connected to: HTTP kinds go through
//! [`GlobalResolver`], which resolves the name and hands the connector only the addresses
//! that passed; `email` resolves the server itself ([`resolve`]) and connects to the
//! checked addresses. So a name that resolves differently later (rebinding), or a
//! `$SLUG` in a URL, cannot get round it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// What one delivery may connect to; the caller decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Loopback, private, link-local, ... addresses may be connected to: true when the
    /// server says `allow_private_targets = true`, or when the channel is the config
    /// file's (its destination as the file wrote it).
    pub allow_private: bool,
}

impl Policy {
    /// Global addresses only (the default).
    pub const GLOBAL_ONLY: Policy = Policy {
        allow_private: false,
    };
    /// Any address.
    pub const ALLOW_PRIVATE: Policy = Policy {
        allow_private: true,
    };
}

/// Whether `ip` is a global (publicly routable) address, the only kind a channel may
/// reach without `allow_private_targets`. See [`address_kind`] for what is not.
pub fn is_global(ip: IpAddr) -> bool {
    address_kind(ip).is_none()
}

/// What kind of non-global address `ip` is (`"a private address"`, ...), or `None` for a
/// global one.
///
/// Not global: IPv4 0.0.0.0/8, 10/8, 100.64/10 (shared, CGNAT), 127/8, 169.254/16,
/// 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24 (6to4 relays), 192.168/16, 198.18/15,
/// 198.51.100/24, 203.0.113/24, 224/4 (multicast), 240/4 and 255.255.255.255; IPv6 `::`,
/// `::1`, everything outside 2000::/3 (fc00::/7 unique local, fe80::/10 link-local,
/// ff00::/8 multicast, 100::/64 discard, ...), 2001::/23 (protocol assignments, Teredo),
/// 2001:db8::/32 and 3fff::/20 (documentation), 5f00::/16 (SRv6), 64:ff9b:1::/48 (local
/// NAT64). The IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`,
/// IPv4-compatible `::a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, NAT64
/// `64:ff9b::a.b.c.d` and 6to4 `2002:AABB:CCDD::`) are judged by that IPv4 address.
pub fn address_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    const RANGES: [([u8; 4], u32, &str); 16] = [
        ([0, 0, 0, 0], 8, "an unspecified address"),
        ([10, 0, 0, 0], 8, "a private address"),
        ([100, 64, 0, 0], 10, "a shared (carrier-grade NAT) address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        ([169, 254, 0, 0], 16, "a link-local address"),
        ([172, 16, 0, 0], 12, "a private address"),
        ([192, 0, 0, 0], 24, "a reserved address"),
        ([192, 0, 2, 0], 24, "a documentation address"),
        ([192, 88, 99, 0], 24, "a reserved address"),
        ([192, 168, 0, 0], 16, "a private address"),
        ([198, 18, 0, 0], 15, "a reserved address"),
        ([198, 51, 100, 0], 24, "a documentation address"),
        ([203, 0, 113, 0], 24, "a documentation address"),
        ([255, 255, 255, 255], 32, "a broadcast address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        ([240, 0, 0, 0], 4, "a reserved address"),
    ];
    RANGES
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map(|(_, _, kind)| *kind)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    let low32 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // ::a.b.c.d (compatible), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated),
    // 64:ff9b::a.b.c.d (NAT64): the IPv4 address decides.
    if in_v6(ip, [0; 8], 96)
        || in_v6(ip, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96)
        || in_v6(ip, [0, 0, 0, 0, 0xffff, 0, 0, 0], 96)
        || in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96)
    {
        return v4_kind(low32);
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        // 6to4: 2002:AABB:CCDD::/48 carries a.b.c.d.
        return v4_kind(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    const RANGES: [([u16; 8], u32, &str); 9] = [
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "a unique local address"),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "a link-local address"),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "a site-local address"),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "a multicast address"),
        (
            [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
            32,
            "a documentation address",
        ),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "a documentation address"),
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, "a reserved address"),
        ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, "a reserved address"),
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "a private address"),
    ];
    if let Some((_, _, kind)) = RANGES.iter().find(|(net, b, _)| in_v6(ip, *net, *b)) {
        return Some(kind);
    }
    // Global unicast is 2000::/3; the rest is unassigned or special.
    if !in_v6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        return Some("a reserved address");
    }
    None
}

/// A connection refused by the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The host as written (a name or an address).
    pub host: String,
    /// The first address it resolved to, which is not global.
    pub ip: IpAddr,
}

impl fmt::Display for Refused {
    /// `refused to connect to 10.0.0.5 (a private address); set allow_private_targets = true to allow it`,
    /// with the name first when there was one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = address_kind(self.ip).unwrap_or("a non-global address");
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        if host.parse::<IpAddr>().ok() == Some(self.ip) {
            write!(f, "refused to connect to {} ({kind})", self.ip)?;
        } else {
            write!(f, "refused to connect to {host} ({}, {kind})", self.ip)?;
        }
        f.write_str("; set allow_private_targets = true to allow it")
    }
}

impl std::error::Error for Refused {}

/// Keeps the addresses `policy` allows; refuses when none is left.
pub fn filter(
    host: &str,
    addresses: impl IntoIterator<Item = SocketAddr>,
    policy: Policy,
) -> Result<Vec<SocketAddr>, Refused> {
    let mut kept = Vec::new();
    let mut first_refused = None;
    for address in addresses {
        if policy.allow_private || is_global(address.ip()) {
            kept.push(address);
        } else if first_refused.is_none() {
            first_refused = Some(address.ip());
        }
    }
    match (kept.is_empty(), first_refused) {
        (true, Some(ip)) => Err(Refused {
            host: host.to_string(),
            ip,
        }),
        _ => Ok(kept),
    }
}

/// Why [`resolve`] gave no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// The name has no address (or the lookup failed).
    NotFound,
    /// The lookup took longer than the timeout.
    TimedOut,
    /// Every address it has is one the policy refuses.
    Refused(Refused),
}

/// Resolves `host` (a name or an IP address, IPv6 with or without brackets) and `port`,
/// within about `timeout`, keeping the addresses `policy` allows. Blocking.
pub fn resolve(
    host: &str,
    port: u16,
    timeout: Duration,
    policy: Policy,
) -> Result<Vec<SocketAddr>, ResolveError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = if let Ok(ip) = bare.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else {
        let (tx, rx) = mpsc::channel();
        let name = bare.to_string();
        let spawned = std::thread::Builder::new()
            .name("hb-resolve".into())
            .spawn(move || {
                let found = (name.as_str(), port)
                    .to_socket_addrs()
                    .map(|a| a.collect::<Vec<_>>());
                let _ = tx.send(found);
            });
        if spawned.is_err() {
            return Err(ResolveError::NotFound);
        }
        match rx.recv_timeout(timeout) {
            Ok(Ok(found)) => found,
            Ok(Err(_)) => return Err(ResolveError::NotFound),
            Err(_) => return Err(ResolveError::TimedOut),
        }
    };
    if addresses.is_empty() {
        return Err(ResolveError::NotFound);
    }
    filter(host, addresses, policy).map_err(ResolveError::Refused)
}

/// A ureq resolver that resolves as ureq does, then drops the addresses the policy
/// refuses, so the connector only ever sees checked addresses. When none is left the
/// error is `ureq::Error::Other` holding a [`Refused`].
#[derive(Default)]
pub struct GlobalResolver {
    lookup: DefaultResolver,
    policy: Policy,
}

impl GlobalResolver {
    pub fn new(policy: Policy) -> GlobalResolver {
        GlobalResolver {
            lookup: DefaultResolver::default(),
            policy,
        }
    }
}

impl fmt::Debug for GlobalResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GlobalResolver({:?})", self.policy)
    }
}

impl Resolver for GlobalResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let found = self.lookup.resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or_default();
        match filter(host, found.iter().copied(), self.policy) {
            Ok(kept) => {
                let mut out = self.empty();
                for address in kept {
                    out.push(address);
                }
                Ok(out)
            }
            Err(refused) => Err(ureq::Error::Other(Box::new(refused))),
        }
    }
}

/// The [`Refused`] inside a ureq error, if that is why it failed.
pub fn refused_in(e: &ureq::Error) -> Option<&Refused> {
    match e {
        ureq::Error::Other(inner) => inner.downcast_ref::<Refused>(),
        _ => None,
    }
}

/// A host a channel connects to, as its settings write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The setting it comes from: `url`, `server`, `api_url` or `smtp`.
    pub field: &'static str,
    /// A name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

/// `host` and `port` of an http(s) URL; `None` when it has none to check yet (a
/// template in the host) or does not parse.
fn http_target(field: &'static str, url: &str) -> Option<Target> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit('@').next()?;
    let default = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        match after.strip_prefix(':') {
            Some(p) => (host, p.parse().ok()?),
            None => (host, default),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (hostport, default),
        }
    };
    if host.is_empty() || host.contains('$') {
        return None;
    }
    Some(Target {
        field,
        host: host.to_string(),
        port,
    })
}

impl super::ChannelKind {
    /// The hosts this channel connects to, as far as its settings say before an event
    /// fills in templates (a webhook `url` whose host is a template has none yet).
    /// `command` channels have none.
    pub fn targets(&self) -> Vec<Target> {
        use super::ChannelKind as K;
        let http = |field, url: &str| http_target(field, url).into_iter().collect();
        match self {
            K::Webhook(c) => http("url", &c.url),
            K::Slack(c) => http("url", &c.url),
            K::Discord(c) => http("url", &c.url),
            K::Msteams(c) => http("url", &c.url),
            K::Ntfy(c) => http("server", &c.server),
            K::Gotify(c) => http("server", &c.server),
            K::Telegram(c) => http("api_url", &c.api_url),
            K::Pushover(c) => http("api_url", &c.api_url),
            K::Pagerduty(c) => http("api_url", &c.api_url),
            K::Email(c) => vec![Target {
                field: "smtp",
                host: c.server.host.clone(),
                port: c.server.port,
            }],
            K::Command(_) => vec![],
        }
    }

    /// For a channel written through the API: refuses one whose host is, or resolves
    /// only to, addresses `policy` does not allow. A name that does not resolve (or not
    /// within `timeout`) is accepted: deliveries check again, every time. Blocking (it
    /// looks names up): call it off the async threads. With `policy.allow_private` it
    /// accepts everything at once.
    ///
    /// The error, for a 400: `channel field "url" points to 10.0.0.5 (a private
    /// address); channels may only reach global addresses unless allow_private_targets =
    /// true`.
    pub fn check_targets(&self, timeout: Duration, policy: Policy) -> Result<(), String> {
        if policy.allow_private {
            return Ok(());
        }
        for target in self.targets() {
            if let Err(ResolveError::Refused(r)) =
                resolve(&target.host, target.port, timeout, policy)
            {
                let kind = address_kind(r.ip).unwrap_or("a non-global address");
                let place = if target.host.parse::<IpAddr>().is_ok() {
                    format!("{} ({kind})", r.ip)
                } else {
                    format!("{}, which resolves to {} ({kind})", target.host, r.ip)
                };
                return Err(format!(
                    "channel field {:?} points to {place}; channels may only reach global addresses unless allow_private_targets = true",
                    target.field
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ip: &str) -> Option<&'static str> {
        address_kind(ip.parse().unwrap())
    }

    #[test]
    fn global_addresses() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.169.0.1",
            "198.20.0.1",
            "223.255.255.254",
            "2606:4700:4700::1111",
            "2a00:1450:4007:80f::200e",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
            assert!(is_global(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn non_global_addresses() {
        let cases = [
            ("0.0.0.0", "an unspecified address"),
            ("0.1.2.3", "an unspecified address"),
            ("10.0.0.5", "a private address"),
            ("100.64.0.1", "a shared (carrier-grade NAT) address"),
            ("100.127.255.255", "a shared (carrier-grade NAT) address"),
            ("127.0.0.1", "a loopback address"),
            ("127.255.0.9", "a loopback address"),
            ("169.254.169.254", "a link-local address"),
            ("172.16.0.1", "a private address"),
            ("172.31.255.255", "a private address"),
            ("192.168.1.1", "a private address"),
            ("192.0.0.8", "a reserved address"),
            ("192.0.2.1", "a documentation address"),
            ("198.18.0.1", "a reserved address"),
            ("198.51.100.7", "a documentation address"),
            ("203.0.113.9", "a documentation address"),
            ("224.0.0.1", "a multicast address"),
            ("239.255.255.250", "a multicast address"),
            ("240.0.0.1", "a reserved address"),
            ("255.255.255.255", "a broadcast address"),
            ("::", "an unspecified address"),
            ("::1", "a loopback address"),
            ("fe80::1", "a link-local address"),
            ("febf::1", "a link-local address"),
            ("fc00::1", "a unique local address"),
            ("fd12:3456::1", "a unique local address"),
            ("fec0::1", "a site-local address"),
            ("ff02::1", "a multicast address"),
            ("2001:db8::1", "a documentation address"),
            ("3fff::1", "a documentation address"),
            ("2001::1", "a reserved address"),
            ("100::1", "a reserved address"),
            ("64:ff9b:1::1", "a private address"),
            ("4000::1", "a reserved address"),
            // IPv4 inside IPv6.
            ("::ffff:127.0.0.1", "a loopback address"),
            ("::ffff:10.0.0.5", "a private address"),
            ("::ffff:169.254.169.254", "a link-local address"),
            ("::127.0.0.1", "a loopback address"),
            ("::10.1.2.3", "a private address"),
            ("::ffff:0:192.168.0.1", "a private address"),
            ("64:ff9b::10.0.0.1", "a private address"),
            ("64:ff9b::7f00:1", "a loopback address"),
            ("2002:a00:1::", "a private address"),
            ("2002:7f00:1::1", "a loopback address"),
        ];
        for (ip, expected) in cases {
            assert_eq!(kind(ip), Some(expected), "{ip}");
            assert!(!is_global(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn refusals_say_what_and_how_to_allow() {
        let r = Refused {
            host: "10.0.0.5".into(),
            ip: "10.0.0.5".parse().unwrap(),
        };
        assert_eq!(
            r.to_string(),
            "refused to connect to 10.0.0.5 (a private address); set allow_private_targets = true to allow it"
        );
        let r = Refused {
            host: "[::1]".into(),
            ip: "::1".parse().unwrap(),
        };
        assert_eq!(
            r.to_string(),
            "refused to connect to ::1 (a loopback address); set allow_private_targets = true to allow it"
        );
        let r = Refused {
            host: "intranet.example".into(),
            ip: "192.168.0.3".parse().unwrap(),
        };
        assert_eq!(
            r.to_string(),
            "refused to connect to intranet.example (192.168.0.3, a private address); set allow_private_targets = true to allow it"
        );
    }

    #[test]
    fn filtering_keeps_global_addresses_only() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let mixed = [a("10.0.0.1:80"), a("93.184.216.34:80"), a("[::1]:80")];
        assert_eq!(
            filter("h", mixed, Policy::GLOBAL_ONLY),
            Ok(vec![a("93.184.216.34:80")])
        );
        assert_eq!(
            filter("h", mixed, Policy::ALLOW_PRIVATE),
            Ok(mixed.to_vec())
        );
        assert_eq!(
            filter("h", [a("[::1]:80"), a("10.0.0.1:80")], Policy::GLOBAL_ONLY),
            Err(Refused {
                host: "h".into(),
                ip: "::1".parse().unwrap()
            })
        );
        assert_eq!(filter("h", [], Policy::GLOBAL_ONLY), Ok(vec![]));
    }

    #[test]
    fn resolving_checks_literals_and_names() {
        let t = Duration::from_secs(5);
        assert_eq!(
            resolve("127.0.0.1", 25, t, Policy::ALLOW_PRIVATE),
            Ok(vec!["127.0.0.1:25".parse().unwrap()])
        );
        assert_eq!(
            resolve("[::1]", 25, t, Policy::ALLOW_PRIVATE),
            Ok(vec!["[::1]:25".parse().unwrap()])
        );
        assert!(matches!(
            resolve("10.1.1.1", 25, t, Policy::GLOBAL_ONLY),
            Err(ResolveError::Refused(Refused { ip, .. })) if ip == IpAddr::from([10, 1, 1, 1])
        ));
        // `localhost` is looked up (from /etc/hosts) and refused.
        match resolve("localhost", 25, t, Policy::GLOBAL_ONLY) {
            Err(ResolveError::Refused(r)) => {
                assert_eq!(r.host, "localhost");
                assert!(r.ip.is_loopback(), "{r:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(resolve("localhost", 25, t, Policy::ALLOW_PRIVATE).is_ok());
        assert!(matches!(
            resolve("no-such-host.invalid", 25, t, Policy::ALLOW_PRIVATE),
            Err(ResolveError::NotFound | ResolveError::TimedOut)
        ));
    }

    #[test]
    fn targets_and_their_check() {
        use super::super::ChannelKind;
        use serde_json::json;
        let c = |v| ChannelKind::from_json(&v).unwrap();
        let t = |field, host: &str, port| Target {
            field,
            host: host.into(),
            port,
        };
        assert_eq!(
            c(json!({"kind": "webhook", "url": "https://u:p@Hooks.example.com/x?y"})).targets(),
            [t("url", "Hooks.example.com", 443)]
        );
        assert_eq!(
            c(json!({"kind": "webhook", "url": "http://[::1]:8080"})).targets(),
            [t("url", "::1", 8080)]
        );
        assert_eq!(
            c(json!({"kind": "webhook", "url": "https://$SLUG.example.com/"})).targets(),
            []
        );
        assert_eq!(
            c(json!({"kind": "ntfy", "topic": "t"})).targets(),
            [t("server", "ntfy.sh", 443)]
        );
        assert_eq!(
            c(json!({"kind": "email", "smtp": "smtp://u:p@10.0.0.2?tls=required", "from": "a@b.c", "to": ["a@b.c"]})).targets(),
            [t("smtp", "10.0.0.2", 587)]
        );
        assert_eq!(c(json!({"kind": "command", "argv": ["x"]})).targets(), []);

        let timeout = Duration::from_secs(5);
        let strict = Policy::GLOBAL_ONLY;
        let e = c(json!({"kind": "webhook", "url": "http://10.0.0.5/x"}))
            .check_targets(timeout, strict)
            .unwrap_err();
        assert_eq!(
            e,
            "channel field \"url\" points to 10.0.0.5 (a private address); channels may only reach global addresses unless allow_private_targets = true"
        );
        let e = c(json!({"kind": "gotify", "server": "http://localhost:1", "token": "t"}))
            .check_targets(timeout, strict)
            .unwrap_err();
        assert!(
            e.starts_with("channel field \"server\" points to localhost, which resolves to "),
            "{e}"
        );
        let e = c(
            json!({"kind": "email", "smtp": "smtp://[fe80::1]", "from": "a@b.c", "to": ["a@b.c"]}),
        )
        .check_targets(timeout, strict)
        .unwrap_err();
        assert!(e.contains("fe80::1 (a link-local address)"), "{e}");
        // Allowed, unresolvable, templated, global: accepted.
        for (v, policy) in [
            (
                json!({"kind": "webhook", "url": "http://10.0.0.5/x"}),
                Policy::ALLOW_PRIVATE,
            ),
            (
                json!({"kind": "webhook", "url": "http://no-such-host.invalid/x"}),
                strict,
            ),
            (
                json!({"kind": "webhook", "url": "http://$SLUG.internal/x"}),
                strict,
            ),
            (
                json!({"kind": "webhook", "url": "http://93.184.216.34/x"}),
                strict,
            ),
            (json!({"kind": "command", "argv": ["x"]}), strict),
        ] {
            assert_eq!(c(v.clone()).check_targets(timeout, policy), Ok(()), "{v}");
        }
    }

    #[test]
    fn the_resolver_hands_over_checked_addresses_only() {
        let resolve = |policy: Policy, url: &str| {
            let uri: Uri = url.parse().unwrap();
            GlobalResolver::new(policy)
                .resolve(&uri, &Config::default(), NextTimeout::default())
                .map(|a| a.iter().copied().collect::<Vec<_>>())
        };
        let e = resolve(Policy::GLOBAL_ONLY, "http://127.0.0.1:9/x").unwrap_err();
        assert_eq!(
            refused_in(&e).map(|r| r.ip),
            Some("127.0.0.1".parse().unwrap())
        );
        let e = resolve(Policy::GLOBAL_ONLY, "http://[::ffff:10.0.0.1]/x").unwrap_err();
        assert!(refused_in(&e).is_some(), "{e}");
        let e = resolve(Policy::GLOBAL_ONLY, "http://localhost:9/x").unwrap_err();
        assert_eq!(refused_in(&e).map(|r| r.host.as_str()), Some("localhost"));
        assert_eq!(
            resolve(Policy::ALLOW_PRIVATE, "http://127.0.0.1:9/x").unwrap(),
            ["127.0.0.1:9".parse().unwrap()]
        );
        assert_eq!(
            resolve(Policy::GLOBAL_ONLY, "https://93.184.216.34/x").unwrap(),
            ["93.184.216.34:443".parse().unwrap()]
        );
    }
}
