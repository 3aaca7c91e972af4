//! The last bytes of a job's output (stdout and stderr in arrival order), kept in
//! bounded memory, and the ping body made from them. Notes that hb adds (what was
//! cut, how the job was stopped) are kept outside the output limit.

use std::collections::VecDeque;

/// Room kept for the truncation note when the whole body must fit a server's limit.
const NOTE_ROOM: usize = 64;

#[derive(Debug)]
pub struct Tail {
    limit: usize,
    kept: VecDeque<u8>,
    dropped: u64,
}

impl Tail {
    pub fn new(limit: usize) -> Self {
        Tail {
            limit,
            kept: VecDeque::with_capacity(limit.min(64 * 1024)),
            dropped: 0,
        }
    }

    /// Adds output; the oldest bytes go once more than `limit` are held.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.len() >= self.limit {
            self.dropped += (self.kept.len() + bytes.len() - self.limit) as u64;
            self.kept.clear();
            self.kept.extend(&bytes[bytes.len() - self.limit..]);
            return;
        }
        let overflow = (self.kept.len() + bytes.len()).saturating_sub(self.limit);
        self.kept.drain(..overflow);
        self.dropped += overflow as u64;
        self.kept.extend(bytes);
    }

    /// Every byte seen, kept or not.
    pub fn total(&self) -> u64 {
        self.dropped + self.kept.len() as u64
    }

    /// The ping body: a truncation note if output was cut, the kept output (at most
    /// `limit` bytes, fewer when a server limit must hold the whole body), then the
    /// `trailer` lines.
    pub fn body(&self, server_limit: Option<usize>, trailer: &[String]) -> Vec<u8> {
        let trailer = trailer_text(trailer);
        let mut keep = self.kept.len();
        if let Some(max) = server_limit {
            let whole = self.kept.len() + trailer.len() + 1;
            if self.dropped > 0 || whole > max {
                keep = keep.min(max.saturating_sub(trailer.len() + 1 + NOTE_ROOM));
            }
        }
        let mut start = self.kept.len() - keep;
        // Do not begin in the middle of a UTF-8 character.
        let cut_before = start > 0 || self.dropped > 0;
        while cut_before && start < self.kept.len() && (self.kept[start] & 0xC0) == 0x80 {
            start += 1;
        }
        let cut = self.dropped + start as u64;
        let mut body = Vec::with_capacity(self.kept.len() - start + trailer.len() + NOTE_ROOM);
        if cut > 0 {
            body.extend_from_slice(
                format!("[hb] {cut} earlier bytes of output not kept\n").as_bytes(),
            );
        }
        body.extend(self.kept.range(start..));
        if !trailer.is_empty() {
            if body.last().is_some_and(|b| *b != b'\n') {
                body.push(b'\n');
            }
            body.extend_from_slice(trailer.as_bytes());
        }
        body
    }
}

fn trailer_text(lines: &[String]) -> String {
    lines.iter().map(|line| format!("[hb] {line}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: Vec<u8>) -> String {
        String::from_utf8(body).unwrap()
    }

    #[test]
    fn keeps_everything_under_the_limit() {
        let mut tail = Tail::new(10);
        tail.push(b"out\n");
        tail.push(b"err\n");
        assert_eq!(text(tail.body(None, &[])), "out\nerr\n");
        assert_eq!(tail.total(), 8);
    }

    #[test]
    fn keeps_the_last_bytes_and_notes_the_cut_outside_the_limit() {
        let mut tail = Tail::new(5);
        tail.push(b"abc");
        tail.push(b"defg");
        assert_eq!(
            text(tail.body(None, &[])),
            "[hb] 2 earlier bytes of output not kept\ncdefg"
        );
        tail.push(b"0123456789");
        assert_eq!(
            text(tail.body(None, &[])),
            "[hb] 12 earlier bytes of output not kept\n56789"
        );
        assert_eq!(tail.total(), 17);
    }

    #[test]
    fn zero_limit_keeps_nothing() {
        let mut tail = Tail::new(0);
        tail.push(b"abc");
        assert_eq!(
            text(tail.body(None, &[])),
            "[hb] 3 earlier bytes of output not kept\n"
        );
    }

    #[test]
    fn trailer_lines_go_last_on_their_own_line() {
        let mut tail = Tail::new(100);
        tail.push(b"partial");
        let body = text(tail.body(None, &["stopped by SIGTERM".into()]));
        assert_eq!(body, "partial\n[hb] stopped by SIGTERM\n");
        let empty = Tail::new(100);
        assert_eq!(text(empty.body(None, &["x".into()])), "[hb] x\n");
    }

    #[test]
    fn a_server_limit_holds_the_whole_body() {
        let mut tail = Tail::new(10_000);
        tail.push(&[b'x'; 500]);
        let body = tail.body(Some(200), &["timed out".into()]);
        assert!(body.len() <= 200, "{}", body.len());
        assert!(text(body).starts_with("[hb] "));
        // A generous server limit changes nothing.
        assert_eq!(tail.body(Some(10_000), &[]).len(), 500);
    }

    #[test]
    fn never_starts_inside_a_utf8_character() {
        let mut tail = Tail::new(3);
        tail.push("aé€".as_bytes()); // 1 + 2 + 3 bytes: the last 3 are '€'
        assert_eq!(
            text(tail.body(None, &[])),
            "[hb] 3 earlier bytes of output not kept\n€"
        );
        let mut tail = Tail::new(4);
        tail.push("é€".as_bytes()); // kept: 2nd byte of 'é' + '€'
        assert_eq!(
            text(tail.body(None, &[])),
            "[hb] 2 earlier bytes of output not kept\n€"
        );
    }
}
