//! An HTTP answer before it goes on the wire, and the two ways of putting it there: whole (the
//! connection closing after it), or with its body cut off half-way (the `TruncatedBody` fault).
//!
//! It knows nothing about AWS error formats (see `wire_error`) or which fault applies (see
//! `fault`); it only builds and sends bytes.

use std::io::Write;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
}

pub enum Framing {
    Whole,
    /// Send half the body, then break the chunked framing. tiny_http owns the socket and keeps it
    /// open, so a real hang-up is impossible; a corrupt chunk makes the client see the body end
    /// early at once instead of waiting for bytes that never come.
    Truncated,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
            framing: Framing::Whole,
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply::new(status, "application/json", value.to_string().into_bytes())
    }

    pub fn xml(status: u16, body: String) -> Reply {
        Reply::new(status, "text/xml", body.into_bytes())
    }

    pub fn html(status: u16, body: String) -> Reply {
        Reply::new(status, "text/html; charset=utf-8", body.into_bytes())
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Keeps the status and headers but cuts the body to a prefix that no parser accepts.
    pub fn mangle(mut self) -> Reply {
        let keep = self.body.len() / 2;
        self.body.truncate(keep);
        if self.body.is_empty() {
            self.body = b"{".to_vec();
        }
        self
    }

    pub fn send(self, request: tiny_http::Request) {
        // Write errors mean the client went away (for example it timed out on a Delay fault);
        // there is nobody left to tell.
        let bytes = match self.framing {
            Framing::Whole => self.whole_bytes(),
            Framing::Truncated => self.truncated_bytes(),
        };
        let mut writer = request.into_writer();
        let _ = writer.write_all(&bytes).and_then(|()| writer.flush());
    }

    /// The whole answer, which closes the connection. tiny_http gives each connection a thread
    /// from a pool that can leave a new connection queued, unread, while other connections stay
    /// open; a client that opens many at once (concurrent listings) would then wait on it for
    /// its own timeout. A connection that ends with each answer frees its thread at once, and
    /// tiny_http would drop a `Connection` header given to it, so the answer is written here.
    fn whole_bytes(&self) -> Vec<u8> {
        let reason = tiny_http::StatusCode(self.status).default_reason_phrase();
        let mut out = format!("HTTP/1.1 {} {reason}\r\n", self.status).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.body);
        out
    }

    fn truncated_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} Emulated\r\n", self.status).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        let half = &self.body[..self.body.len() / 2];
        out.extend_from_slice(format!("{:x}\r\n", half.len()).as_bytes());
        out.extend_from_slice(half);
        // Not a hex chunk size: the framing is broken here, where the rest should follow.
        out.extend_from_slice(b"\r\nBROKEN\r\n");
        out
    }
}
