//! Name resolution for pings without a thread where none is needed: an IP
//! address is used as it is, and a host name is looked up once a minute at most
//! (the start and end pings of a run share one lookup). Names still go through
//! ureq's resolver, which bounds a slow lookup by the try's timeout.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

const KEEP: Duration = Duration::from_secs(60);

/// `L` does the actual lookups (ureq's own resolver; the tests count them).
#[derive(Default)]
pub(super) struct QuickResolver<L = DefaultResolver> {
    lookup: L,
    last: Mutex<Option<(String, Instant, ResolvedSocketAddrs)>>,
}

impl<L> fmt::Debug for QuickResolver<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QuickResolver")
    }
}

impl<L: Resolver> Resolver for QuickResolver<L> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host_port = uri
            .scheme()
            .zip(uri.authority())
            .and_then(|(scheme, authority)| DefaultResolver::host_and_port(scheme, authority));
        let Some(host_port) = host_port else {
            return self.lookup.resolve(uri, config, timeout);
        };
        if let Ok(address) = host_port.parse::<SocketAddr>() {
            let mut addresses = self.empty();
            addresses.push(address);
            return Ok(addresses);
        }
        {
            let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((name, at, addresses)) = last.as_ref()
                && *name == host_port
                && at.elapsed() < KEEP
            {
                return Ok(addresses.clone());
            }
        }
        let addresses = self.lookup.resolve(uri, config, timeout)?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((host_port, Instant::now(), addresses.clone()));
        Ok(addresses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve<L: Resolver>(resolver: &QuickResolver<L>, url: &str) -> Vec<SocketAddr> {
        let uri: Uri = url.parse().unwrap();
        resolver
            .resolve(&uri, &Config::default(), NextTimeout::default())
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    #[test]
    fn addresses_need_no_lookup() {
        let resolver = <QuickResolver>::default();
        assert_eq!(
            resolve(&resolver, "http://127.0.0.1:8080/p"),
            ["127.0.0.1:8080".parse().unwrap()]
        );
        assert_eq!(
            resolve(&resolver, "http://[::1]/p"),
            ["[::1]:80".parse().unwrap()]
        );
        assert_eq!(
            resolve(&resolver, "https://10.0.0.1/p"),
            ["10.0.0.1:443".parse().unwrap()]
        );
        assert!(resolver.last.lock().unwrap().is_none());
    }

    /// ureq's resolver, counting the lookups it is asked for.
    #[derive(Debug, Default)]
    struct Counting {
        inner: DefaultResolver,
        lookups: std::sync::atomic::AtomicUsize,
    }

    impl Resolver for Counting {
        fn resolve(
            &self,
            uri: &Uri,
            config: &Config,
            timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.lookups
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.resolve(uri, config, timeout)
        }
    }

    fn lookups(resolver: &QuickResolver<Counting>) -> usize {
        resolver
            .lookup
            .lookups
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn names_are_looked_up_once() {
        let resolver = QuickResolver::<Counting>::default();
        let first = resolve(&resolver, "http://localhost:9/p");
        assert!(!first.is_empty());
        assert_eq!(lookups(&resolver), 1);
        // The end ping of the run: same host and port, no new lookup.
        assert_eq!(resolve(&resolver, "http://localhost:9/q"), first);
        assert_eq!(lookups(&resolver), 1);
        // Another host or port is looked up.
        resolve(&resolver, "http://localhost:10/p");
        assert_eq!(lookups(&resolver), 2);
        // An address needs no lookup at all.
        resolve(&resolver, "http://127.0.0.1:9/p");
        assert_eq!(lookups(&resolver), 2);
    }

    #[test]
    fn a_kept_lookup_expires_after_a_minute() {
        let resolver = QuickResolver::<Counting>::default();
        resolve(&resolver, "http://localhost:9/p");
        {
            let mut last = resolver.last.lock().unwrap();
            let kept = last.as_mut().unwrap();
            kept.1 = Instant::now()
                .checked_sub(KEEP + Duration::from_secs(1))
                .expect("the clock has run for more than a minute");
        }
        resolve(&resolver, "http://localhost:9/p");
        assert_eq!(lookups(&resolver), 2);
    }
}
