//! `email`: a message through an SMTP server.
//!
//! Settings: `smtp` (a URL, see [`SmtpServer::parse`]), `from` (an address, or
//! `Name <address>`), `to` (a list of addresses; one string is taken as a list of one).
//! The message: subject `[hb] DOWN: Backup PostgreSQL (exit code 3)`, a
//! multipart/alternative body with a plain-text and an HTML part, `Message-ID`
//! `<hb.{event_id}@{from's domain}>` (the same for every attempt, so mail clients can
//! drop a duplicate) and an `X-Hb-Event-Id` header.

use std::str::FromStr;
use std::sync::mpsc;
use std::time::Duration;

use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use serde_json::{Map, Value};

use super::address::{self, Policy, ResolveError};
use super::settings::Fields;
use super::{Delivery, Event, text};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://host:25`: none (a local relay).
    None,
    /// `smtp://host?tls=opportunistic`: STARTTLS when the server offers it.
    Opportunistic,
    /// `smtp://host:587?tls=required`: STARTTLS, or no message.
    StartTls,
    /// `smtps://host:465`: TLS from the first byte.
    Implicit,
}

/// A parsed `smtp` setting.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpServer {
    pub security: Security,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    /// A PEM file of CA certificates to trust besides the usual roots.
    pub ca: Option<String>,
}

const SMTP_FORMS: &str = "smtp://user:pass@host:587?tls=required (STARTTLS), smtps://user:pass@host:465 (implicit TLS) or smtp://host:25 (no TLS, a local relay), optionally with &ca=/path/to/ca.pem";

impl SmtpServer {
    /// Parses `smtp://user:pass@host:587?tls=required`, `smtps://host:465`,
    /// `smtp://host:25`; `tls` is `required`, `opportunistic` or `none` (the default for
    /// `smtp://`); `ca=PATH` names a PEM CA file; user and password are percent-decoded.
    /// Default ports: 465 for `smtps`, 587 with `tls=required`, 25 otherwise. Returns what
    /// is wrong.
    pub fn parse(url: &str) -> Result<SmtpServer, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(format!("is {url:?}, which is not a URL"));
        };
        let implicit = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => false,
            "smtps" => true,
            _ => {
                return Err(format!(
                    "has the scheme {scheme:?}; only smtp:// and smtps:// are known"
                ));
            }
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        if !path.is_empty() {
            return Err(format!("has a path {path:?}; an smtp URL has none"));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (
                    Some(text::percent_decode(user)),
                    Some(text::percent_decode(pass)),
                ),
                None => (Some(text::percent_decode(u)), None),
            },
        };
        if user.as_deref() == Some("") {
            return Err("has an empty user name before @".into());
        }
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let Some((host, after)) = v6.split_once(']') else {
                return Err("has an IPv6 address without its closing ]".into());
            };
            match after {
                "" => (host.to_string(), None),
                p => match p.strip_prefix(':') {
                    Some(port) => (host.to_string(), Some(port)),
                    None => return Err(format!("has {p:?} after the IPv6 address")),
                },
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err("has no host".into());
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '%')
        {
            return Err(format!("has the host {host:?}, which is not a host name"));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(format!(
                        "has the port {p:?}; a port is a number from 1 to 65535"
                    ));
                }
            },
        };
        let mut security = if implicit {
            Security::Implicit
        } else {
            Security::None
        };
        let mut ca = None;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = text::percent_decode(value);
            match key {
                "tls" if implicit => {
                    if value != "implicit" && value != "required" {
                        return Err(format!(
                            "has tls={value} with smtps://, which always uses TLS; drop tls= or use smtp://"
                        ));
                    }
                }
                "tls" => {
                    security = match value.as_str() {
                        "required" | "starttls" => Security::StartTls,
                        "opportunistic" => Security::Opportunistic,
                        "none" => Security::None,
                        _ => {
                            return Err(format!(
                                "has tls={value:?}; tls is required, opportunistic or none"
                            ));
                        }
                    }
                }
                "ca" if value.is_empty() => return Err("has an empty ca= path".into()),
                "ca" => ca = Some(value),
                _ => {
                    return Err(format!(
                        "has an unknown parameter {key:?}; only tls and ca are known"
                    ));
                }
            }
        }
        let port = port.unwrap_or(match security {
            Security::Implicit => 465,
            Security::StartTls => 587,
            Security::None | Security::Opportunistic => 25,
        });
        Ok(SmtpServer {
            security,
            host,
            port,
            user,
            password,
            ca,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    /// The `smtp` setting as written.
    pub smtp: String,
    pub server: SmtpServer,
    pub from: String,
    pub to: Vec<String>,
}

/// The `X-Hb-Event-Id` header.
#[derive(Debug, Clone)]
struct EventIdHeader(String);

impl Header for EventIdHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Hb-Event-Id")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(EventIdHeader(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

impl Email {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Email, String> {
        f.only(&["smtp", "from", "to"])?;
        let smtp = f.req_str("smtp", SMTP_FORMS)?;
        let server =
            SmtpServer::parse(&smtp).map_err(|problem| f.wrong("smtp", &problem, SMTP_FORMS))?;
        let what_from = "the sender's address, like \"hb@example.com\" or \"hb <hb@example.com>\"";
        let from = f.req_str("from", what_from)?;
        if let Err(e) = Mailbox::from_str(&from) {
            return Err(f.wrong(
                "from",
                &format!("is {from:?}, which is not an address ({e})"),
                what_from,
            ));
        }
        let what_to = "a list of addresses, like [\"ops@example.com\"]";
        let Some(to) = f.opt_str_list("to", what_to)? else {
            return Err(format!(
                "channel field \"to\" is missing; an email channel needs {what_to}"
            ));
        };
        for address in &to {
            if let Err(e) = Mailbox::from_str(address) {
                return Err(f.wrong(
                    "to",
                    &format!("has {address:?}, which is not an address ({e})"),
                    what_to,
                ));
            }
        }
        Ok(Email {
            smtp,
            server,
            from,
            to,
        })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("smtp".into(), self.smtp.clone().into());
        map.insert("from".into(), self.from.clone().into());
        map.insert("to".into(), self.to.clone().into());
    }

    /// `[hb] DOWN: Backup PostgreSQL (exit code 3)`.
    pub fn subject(event: &Event) -> String {
        format!("[hb] {}", text::headline(event))
    }

    /// The HTML part.
    pub fn html(event: &Event) -> String {
        let e = text::html_escape;
        let mut out = String::from(
            "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif; line-height: 1.4\">\n",
        );
        out.push_str(&format!(
            "<h2 style=\"color: {}; margin: 0 0 8px\">{}</h2>\n<p>{}</p>\n<table cellpadding=\"3\">\n",
            text::colour_hex(event),
            e(&text::headline(event)),
            e(&text::sentence(event))
        ));
        for (label, value) in text::details(event) {
            out.push_str(&format!(
                "<tr><td style=\"color: #666\">{}</td><td>{}</td></tr>\n",
                e(label),
                e(&value)
            ));
        }
        out.push_str("</table>\n");
        if !event.check_url.is_empty() {
            out.push_str(&format!(
                "<p><a href=\"{}\">Open check</a></p>\n",
                e(&event.check_url)
            ));
        }
        if let Some(output) = text::output(event) {
            out.push_str(&format!(
                "<p>Last output:</p>\n<pre style=\"background: #f4f4f4; padding: 8px; white-space: pre-wrap\">{}</pre>\n",
                e(&text::tail(output.trim_end(), 20_000))
            ));
        }
        out.push_str(&format!(
            "<p style=\"color: #888; font-size: small\">hb · event {} {}</p>\n</body></html>\n",
            e(&event.event),
            e(&event.event_id)
        ));
        out
    }

    /// `<hb.{event_id}@{domain}>`, the same for every attempt at one event.
    pub fn message_id(&self, event: &Event) -> String {
        let id: String = event
            .event_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            .collect();
        let domain = Mailbox::from_str(&self.from)
            .map(|m| m.email.domain().to_string())
            .unwrap_or_else(|_| "hb.invalid".into());
        format!("<hb.{id}@{domain}>")
    }

    /// The message for `event`; an error only for an address that does not parse.
    pub fn message(&self, event: &Event) -> Result<Message, String> {
        let from = Mailbox::from_str(&self.from).map_err(|e| {
            format!(
                "the email channel's \"from\" {:?} is not an address: {e}",
                self.from
            )
        })?;
        let mut builder = Message::builder()
            .from(from)
            .subject(Self::subject(event))
            .message_id(Some(self.message_id(event)))
            .header(EventIdHeader(event.event_id.clone()))
            .user_agent(super::http::user_agent());
        for to in &self.to {
            let to = Mailbox::from_str(to)
                .map_err(|e| format!("the email channel's \"to\" {to:?} is not an address: {e}"))?;
            builder = builder.to(to);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                text::plain(event, 20_000),
                Self::html(event),
            ))
            .map_err(|e| format!("the message could not be built: {e}"))
    }

    /// The TLS parameters for the server's host name (certificate checked against the
    /// name, which is also the SNI), or `None` without TLS.
    fn tls_parameters(&self) -> Result<Option<TlsParameters>, String> {
        let s = &self.server;
        if s.security == Security::None {
            return Ok(None);
        }
        let mut params = TlsParameters::builder(s.host.clone());
        if let Some(path) = &s.ca {
            let pem = std::fs::read(path).map_err(|e| {
                format!("the CA file {path:?} named in the smtp setting cannot be read ({e}); fix ca= or the file")
            })?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                format!(
                    "the CA file {path:?} named in the smtp setting is not a PEM certificate ({e})"
                )
            })?;
            params = params.add_root_certificate(cert);
        }
        params
            .build_rustls()
            .map(Some)
            .map_err(|e| format!("TLS for {} could not be set up: {e}", s.host))
    }

    /// Sends the message once, connecting only to addresses `policy` allows; bounded by
    /// about `timeout`.
    ///
    /// The server's name is resolved here and the connection made to the addresses that
    /// passed the check (no second lookup), while TLS still checks the certificate
    /// against the name. Errors carry the SMTP reply code and its standard meaning,
    /// never the server's own words.
    pub fn send(&self, event: &Event, timeout: Duration, policy: Policy) -> Delivery {
        let message = match self.message(event) {
            Ok(m) => m,
            Err(e) => return Delivery::permanent(None, e),
        };
        let tls = match self.tls_parameters() {
            Ok(t) => t,
            Err(e) => return Delivery::permanent(None, e),
        };
        let server = self.server.clone();
        let shown = server.shown();
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("hb-smtp".into())
            .spawn(move || {
                let _ = tx.send(smtp_send(&server, tls, &message, timeout, policy));
            });
        if let Err(e) = spawned {
            return Delivery::retryable(None, format!("could not start sending: {e}"));
        }
        // Each SMTP step is bounded by `timeout`; the whole attempt by a bit more.
        match rx.recv_timeout(timeout + Duration::from_secs(1)) {
            Ok(delivery) => delivery,
            Err(_) => Delivery::retryable(
                None,
                format!(
                    "the SMTP server {shown} did not finish within {}",
                    crate::duration::format(timeout)
                ),
            ),
        }
    }
}

impl SmtpServer {
    /// `host:port` (`[::1]:25`), as errors show the server.
    pub fn shown(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The SMTP step an error happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Connect,
    Login,
    Send,
}

/// One attempt, on the calling thread: resolve, check, connect, STARTTLS, log in, send.
fn smtp_send(
    server: &SmtpServer,
    tls: Option<TlsParameters>,
    message: &Message,
    timeout: Duration,
    policy: Policy,
) -> Delivery {
    let shown = server.shown();
    let addresses = match address::resolve(&server.host, server.port, timeout, policy) {
        Ok(a) => a,
        Err(ResolveError::Refused(refused)) => {
            return Delivery::permanent(None, refused.to_string());
        }
        Err(ResolveError::NotFound) => {
            return Delivery::retryable(
                None,
                format!("the host of the SMTP server {shown} was not found"),
            );
        }
        Err(ResolveError::TimedOut) => {
            return Delivery::retryable(
                None,
                format!(
                    "looking up the SMTP server {shown} took longer than {}",
                    crate::duration::format(timeout)
                ),
            );
        }
    };
    let hello = ClientId::default();
    let wrapper = tls
        .as_ref()
        .filter(|_| server.security == Security::Implicit);
    let mut conn =
        match SmtpConnection::connect(&addresses[..], Some(timeout), &hello, wrapper, None) {
            Ok(c) => c,
            Err(e) => return smtp_error(&e, Step::Connect, &shown, timeout),
        };
    let upgraded = match (&tls, server.security) {
        (Some(t), Security::StartTls) => conn.starttls(t, &hello),
        (Some(t), Security::Opportunistic) if conn.can_starttls() => conn.starttls(t, &hello),
        _ => Ok(()),
    };
    if let Err(e) = upgraded {
        return smtp_error(&e, Step::Connect, &shown, timeout);
    }
    if let Some(user) = &server.user {
        let credentials =
            Credentials::new(user.clone(), server.password.clone().unwrap_or_default());
        if let Err(e) = conn.auth(DEFAULT_MECHANISMS, &credentials) {
            return smtp_error(&e, Step::Login, &shown, timeout);
        }
    }
    let result = conn.send(message.envelope(), &message.formatted());
    conn.abort();
    match result {
        Ok(response) => Delivery::success(Some(u16::from(response.code()))),
        Err(e) => smtp_error(&e, Step::Send, &shown, timeout),
    }
}

/// The standard meaning of an SMTP reply code (RFC 5321, 3207, 4954), for errors.
pub fn reply_meaning(code: u16) -> Option<&'static str> {
    Some(match code {
        421 => "service not available",
        450 => "mailbox unavailable",
        451 => "local error in processing",
        452 => "insufficient storage",
        454 => "temporary authentication or TLS failure",
        500 => "command not recognized",
        501 => "syntax error in parameters",
        502 => "command not implemented",
        503 => "bad sequence of commands",
        504 => "parameter not implemented",
        521 | 556 => "the domain does not accept mail",
        523 => "the message is too big",
        530 => "authentication required",
        534 => "authentication mechanism too weak",
        535 => "authentication failed",
        538 => "encryption required",
        550 => "mailbox unavailable",
        551 => "user not local",
        552 => "storage exceeded",
        553 => "mailbox name not allowed",
        554 => "transaction failed",
        555 => "parameters not recognized",
        _ => return None,
    })
}

/// The delivery for a failed step. A reply code and its meaning are shown, never the
/// server's text (it is stored and shown through the API); local causes (connection,
/// TLS, lettre's own checks) are described.
fn smtp_error(
    e: &lettre::transport::smtp::Error,
    step: Step,
    server: &str,
    timeout: Duration,
) -> Delivery {
    let code = e.status().map(u16::from);
    if let Some(code) = code {
        let meaning = reply_meaning(code)
            .map(|m| format!(" {m}"))
            .unwrap_or_default();
        let (what, hint) = match step {
            Step::Connect => ("the connection", ""),
            Step::Login => (
                "the login",
                "; check the user and password in the smtp setting",
            ),
            Step::Send => ("the message", ""),
        };
        return if e.is_permanent() {
            Delivery::permanent(
                Some(code),
                format!("the SMTP server {server} refused {what} ({code}{meaning}){hint}"),
            )
        } else {
            Delivery::retryable(
                Some(code),
                format!("the SMTP server {server} deferred {what} ({code}{meaning}){hint}"),
            )
        };
    }
    if e.is_response() {
        return Delivery::retryable(
            None,
            format!("the SMTP server {server} answered something that is not SMTP"),
        );
    }
    // Local causes: lettre's own words and the OS's.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    let mut timed_out = false;
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            timed_out |= matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            );
        }
        let words = cause.to_string();
        if !detail.contains(&words) {
            detail.push_str(": ");
            detail.push_str(&words);
        }
        source = cause.source();
    }
    let detail = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    if e.is_client() {
        Delivery::permanent(None, format!("sending through {server} failed: {detail}"))
    } else if timed_out || e.is_timeout() {
        Delivery::retryable(
            None,
            format!(
                "the SMTP server {server} did not answer within {}",
                crate::duration::format(timeout)
            ),
        )
    } else if detail.contains("certificate") {
        Delivery::retryable(
            None,
            format!(
                "could not send through {server}: {detail}; for a server with a private CA add &ca=/path/to/ca.pem to the smtp URL"
            ),
        )
    } else {
        Delivery::retryable(None, format!("could not send through {server}: {detail}"))
    }
}
