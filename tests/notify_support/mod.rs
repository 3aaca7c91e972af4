//! Helpers for the alert-channel tests: a recording HTTP/1.1 receiver on loopback and
//! a sample event.

use hb::serve::notify::Event;
use serde_json::json;

use crate::support::ping_server::{PingServer, Reply};
pub(crate) use crate::support::ping_server::{Recorded, form_decode};

/// A loopback HTTP server that answers every request with one status and body and
/// records what it got.
pub(crate) struct Receiver {
    server: PingServer,
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl Receiver {
    pub(crate) fn start(status: u16, body: &str) -> Receiver {
        Self::with(Reply::Answer(status, body.to_string()))
    }

    /// A receiver that reads requests and never answers.
    pub(crate) fn silent() -> Receiver {
        Self::with(Reply::Hang)
    }

    fn with(reply: Reply) -> Receiver {
        let server = PingServer::start();
        server.reply(reply);
        let port = server.addr().port();
        Receiver {
            server,
            port,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }

    /// The one request received; fails when there were none or several.
    pub(crate) fn only(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected one request, got {requests:#?}");
        requests.into_iter().next().unwrap()
    }
}

/// A `down` event for a check whose name and output need escaping everywhere.
pub(crate) fn event(kind: &str) -> Event {
    Event {
        event_id: "0b6f5a4e-7c1d-4c55-9a44-3f2b9f6f2a10".into(),
        event: kind.into(),
        check: json!({
            "uuid": "5c3e7d59-2d0a-4a4b-8f5e-6c1d2e3f4a5b",
            "name": "Backup \"prod\" <db> & co",
            "slug": "backup-prod-db-co",
            "status": if kind == "up" { "up" } else { "down" },
            "last_ping": "2025-01-31T02:59:00Z",
            "next_due": null,
            "ping_url": "http://hb.example.com/api/v1/ping/5c3e7d59-2d0a-4a4b-8f5e-6c1d2e3f4a5b",
            "tags": ["db"],
        }),
        reason: match kind {
            "down" => Some("exit code 3".into()),
            "slow" => Some("ran 2h, 3× the median 40m".into()),
            _ => None,
        },
        at: "2025-01-31T03:00:00Z".parse().unwrap(),
        repeat: 0,
        body: Some("pg_dump: error: \"connection\" refused\n\\ <script>alert(1)</script>\n".into()),
        check_url: "http://hb.example.com/api/v1/heartbeats/5c3e7d59-2d0a-4a4b-8f5e-6c1d2e3f4a5b"
            .into(),
        missed_slots: None,
    }
}

pub(crate) const NAME: &str = "Backup \"prod\" <db> & co";
pub(crate) const UUID: &str = "5c3e7d59-2d0a-4a4b-8f5e-6c1d2e3f4a5b";
pub(crate) const EVENT_ID: &str = "0b6f5a4e-7c1d-4c55-9a44-3f2b9f6f2a10";
