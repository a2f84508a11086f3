//! The bytes of each HTTP/1.1 request head, before actix-http parses them.
//!
//! actix-http answers some requests with an empty 400 or 431 before any Kenshu code runs
//! (actix/actix-web#3102): a request target holding raw non-ASCII bytes (curl sends
//! `?post=係長` as UTF-8 without percent-encoding it), a head larger than its buffer, a header it
//! refuses. [`Intake`] sits between the socket and actix-http. It percent-encodes the raw
//! non-ASCII bytes of a request target (RFC 3986 §2.1: what a browser sends for the same
//! address), and turns a head actix-http would refuse into a request for [`REFUSED_PATH`],
//! which Kenshu answers with a problem document and closes. Bodies pass through untouched: the
//! layer follows their framing (Content-Length, chunked) only to know where the next head
//! starts, and once it cannot tell (an upgrade, a chunk it cannot read) it passes everything on
//! as it comes.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use actix_web::rt::net::TcpStream;
use kenshu_domain::Words;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::problem::ApiError;

/// The route a refused head is turned into; `{why}` is a [`Refusal`]'s key.
pub const REFUSED_PATH: &str = "/_kenshu/refused/{why}";
/// A head larger than this is answered 431 (actix-http's own bound is 128 KiB of unparsed input).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// As many header fields as actix-http reads.
const MAX_HEADERS: usize = 96;
/// A chunk-size line longer than this is not one Kenshu follows.
const MAX_CHUNK_LINE: usize = 4096;
/// Read from the socket at a time (and kept per connection, with as much again of ready bytes).
const READ_BYTES: usize = 8 * 1024;

/// Why a head was refused before it reached the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    HeadTooLarge,
    TooManyHeaders,
    Malformed,
    Target,
    Host,
    ContentLength,
    TransferEncoding,
}

impl Refusal {
    const ALL: [Refusal; 7] = [
        Refusal::HeadTooLarge,
        Refusal::TooManyHeaders,
        Refusal::Malformed,
        Refusal::Target,
        Refusal::Host,
        Refusal::ContentLength,
        Refusal::TransferEncoding,
    ];

    fn key(self) -> &'static str {
        match self {
            Refusal::HeadTooLarge => "head-too-large",
            Refusal::TooManyHeaders => "too-many-headers",
            Refusal::Malformed => "malformed",
            Refusal::Target => "target",
            Refusal::Host => "host",
            Refusal::ContentLength => "content-length",
            Refusal::TransferEncoding => "transfer-encoding",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }

    /// The problem the client gets.
    pub fn error(self) -> ApiError {
        let words = match self {
            Refusal::HeadTooLarge => return ApiError::HeadTooLarge(MAX_HEAD_BYTES),
            Refusal::TooManyHeaders => Words::fixed(
                "the request has more than 96 header fields",
                "リクエストのヘッダーが 96 個を超えています",
            ),
            Refusal::Malformed => Words::fixed(
                "the request line or a header field is not HTTP/1.1 (RFC 9112)",
                "リクエスト行またはヘッダーが HTTP/1.1（RFC 9112）の形式ではありません",
            ),
            Refusal::Target => Words::fixed(
                "the request target is not a URI; percent-encode it (RFC 3986)",
                "リクエスト先が URI の形式ではありません。パーセントエンコードしてください（RFC 3986）",
            ),
            Refusal::Host => Words::fixed(
                "an HTTP/1.1 request needs exactly one Host header",
                "HTTP/1.1 のリクエストには Host ヘッダーがちょうど一つ必要です",
            ),
            Refusal::ContentLength => Words::fixed(
                "Content-Length must be one non-negative number, without Transfer-Encoding",
                "Content-Length は一つの 0 以上の数で、Transfer-Encoding と同時には使えません",
            ),
            Refusal::TransferEncoding => Words::fixed(
                "Transfer-Encoding must be chunked, given once, on an HTTP/1.1 request",
                "Transfer-Encoding は HTTP/1.1 のリクエストで一度だけ、chunked のみ使えます",
            ),
        };
        ApiError::BadRequest(words)
    }
}

/// Answers the requests [`Intake`] made of refused heads.
pub async fn refused(why: actix_web::web::Path<String>) -> Result<actix_web::HttpResponse, ApiError> {
    Err(Refusal::parse(&why).map_or(ApiError::NotFound, Refusal::error))
}

/// How the bytes after a head are framed (RFC 9112 §6), as actix-http reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Head,
    Body(u64),
    /// Reading a chunk-size line.
    ChunkSize,
    ChunkData(u64),
    /// The line end after a chunk's data.
    ChunkDataEnd,
    /// Trailer fields after the last chunk; whether the current line has anything on it.
    Trailer(bool),
    /// Everything passes as it comes: an upgrade, or framing Kenshu does not follow.
    Tunnel,
    /// After a refused head: nothing more is read into the request.
    Discard,
}

/// The socket as actix-http reads it. See the module's documentation.
pub struct Intake<T = TcpStream> {
    io: T,
    framing: Framing,
    scratch: Box<[u8; READ_BYTES]>,
    eof: bool,
}

impl<T> Intake<T> {
    pub fn new(io: T) -> Self {
        Intake { io, framing: Framing::default(), scratch: Box::new([0; READ_BYTES]), eof: false }
    }
}

/// Where a connection's input stands, and what of it is ready for actix-http.
#[derive(Default)]
struct Framing {
    state: State,
    /// The head read so far.
    head: Vec<u8>,
    /// Bytes for actix-http, from `ready_at`.
    ready: Vec<u8>,
    ready_at: usize,
    chunk_line: Vec<u8>,
}

impl Framing {
    /// Move `input` through the framing, into `ready`.
    fn process(&mut self, mut input: &[u8]) {
        while !input.is_empty() {
            let used = match self.state {
                State::Head => self.take_head(input),
                State::Body(left) => {
                    let n = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    self.ready.extend_from_slice(&input[..n]);
                    self.state = if left == n as u64 { State::Head } else { State::Body(left - n as u64) };
                    n
                }
                State::ChunkSize => {
                    let (line, ended) = until_line_end(input);
                    self.ready.extend_from_slice(line);
                    self.chunk_line.extend_from_slice(line);
                    if ended {
                        self.state = match chunk_size(&self.chunk_line) {
                            Some(0) => State::Trailer(false),
                            Some(n) => State::ChunkData(n),
                            None => State::Tunnel,
                        };
                        self.chunk_line.clear();
                    } else if self.chunk_line.len() > MAX_CHUNK_LINE {
                        self.state = State::Tunnel;
                    }
                    line.len()
                }
                State::ChunkData(left) => {
                    let n = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    self.ready.extend_from_slice(&input[..n]);
                    self.state = if left == n as u64 {
                        State::ChunkDataEnd
                    } else {
                        State::ChunkData(left - n as u64)
                    };
                    n
                }
                State::ChunkDataEnd => {
                    let (line, ended) = until_line_end(input);
                    self.ready.extend_from_slice(line);
                    if ended {
                        self.state = State::ChunkSize;
                    }
                    line.len()
                }
                State::Trailer(mut filled) => {
                    let mut used = 0;
                    for &b in input {
                        used += 1;
                        match b {
                            b'\n' if !filled => {
                                self.state = State::Head;
                                break;
                            }
                            b'\n' => filled = false,
                            b'\r' => {}
                            _ => filled = true,
                        }
                    }
                    if self.state != State::Head {
                        self.state = State::Trailer(filled);
                    }
                    self.ready.extend_from_slice(&input[..used]);
                    used
                }
                State::Tunnel => {
                    self.ready.extend_from_slice(input);
                    input.len()
                }
                State::Discard => input.len(),
            };
            input = &input[used..];
        }
    }

    /// Take what belongs to the head from `input`; on its last byte, pass the head on.
    fn take_head(&mut self, input: &[u8]) -> usize {
        // Empty lines before a request line are allowed (RFC 9112 §2.2); actix-http skips them.
        if self.head.is_empty() {
            let blank = input.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            if blank > 0 {
                self.ready.extend_from_slice(&input[..blank]);
                return blank;
            }
        }
        let before = self.head.len();
        self.head.extend_from_slice(input);
        match head_end(&self.head, before.saturating_sub(3)) {
            Some(end) => {
                self.head.truncate(end);
                let head = std::mem::take(&mut self.head);
                if end > MAX_HEAD_BYTES {
                    self.refuse(&head, Refusal::HeadTooLarge);
                } else {
                    self.finish_head(&head);
                }
                end - before
            }
            None => {
                if self.head.len() > MAX_HEAD_BYTES {
                    let head = std::mem::take(&mut self.head);
                    self.refuse(&head, Refusal::HeadTooLarge);
                }
                input.len()
            }
        }
    }

    fn finish_head(&mut self, head: &[u8]) {
        match checked(head) {
            Ok((rewritten, state)) => {
                self.ready.extend_from_slice(rewritten.as_deref().unwrap_or(head));
                self.state = state;
            }
            Err(why) => self.refuse(head, why),
        }
    }

    /// Instead of `head`, a request for the refusal's problem; the rest of the connection goes
    /// unread (the answer closes it).
    fn refuse(&mut self, head: &[u8], why: Refusal) {
        let mut request =
            format!("GET /_kenshu/refused/{} HTTP/1.1\r\nHost: kenshu\r\nConnection: close\r\n", why.key())
                .into_bytes();
        // The problem speaks the language asked for and carries the client's request id.
        for name in ["accept-language", "x-request-id"] {
            if let Some(value) = header_line(head, name) {
                request.extend_from_slice(name.as_bytes());
                request.extend_from_slice(b": ");
                request.extend_from_slice(value);
                request.extend_from_slice(b"\r\n");
            }
        }
        request.extend_from_slice(b"\r\n");
        self.ready.extend_from_slice(&request);
        self.state = State::Discard;
    }
}

/// Where the head ends (after its empty line), searching from `from`.
fn head_end(head: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < head.len() {
        if head[i] == b'\n' {
            if head[i + 1..].starts_with(b"\r\n") {
                return Some(i + 3);
            }
            if head[i + 1..].starts_with(b"\n") {
                return Some(i + 2);
            }
        }
        i += 1;
    }
    None
}

/// `input` up to and including its first line feed, and whether it had one.
fn until_line_end(input: &[u8]) -> (&[u8], bool) {
    match input.iter().position(|b| *b == b'\n') {
        Some(at) => (&input[..=at], true),
        None => (input, false),
    }
}

/// A chunk-size line's size (hex, before any extension).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(line).ok()?;
    let size = text.split(';').next()?.trim();
    u64::from_str_radix(size, 16).ok()
}

/// A header's value as the head has it, when it is short visible ASCII.
fn header_line<'h>(head: &'h [u8], name: &str) -> Option<&'h [u8]> {
    head.split(|b| *b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|b| *b == b':')?;
        let value = line[colon + 1..].trim_ascii();
        (line[..colon].eq_ignore_ascii_case(name.as_bytes())
            && value.len() <= 200
            && value.iter().all(|b| (0x20..0x7f).contains(b)))
        .then_some(value)
    })
}

/// Check a whole head as actix-http will, and find how its body is framed. Returns the head
/// rewritten when its target had to be percent-encoded.
fn checked(head: &[u8]) -> Result<(Option<Vec<u8>>, State), Refusal> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(Refusal::Malformed),
        Err(httparse::Error::TooManyHeaders) => return Err(Refusal::TooManyHeaders),
        Err(_) => return Err(Refusal::Malformed),
    }
    let (Some(method), Some(target), Some(version)) = (request.method, request.path, request.version) else {
        return Err(Refusal::Malformed);
    };
    let rewritten = encoded_target(head, target.as_bytes())?;
    let (mut hosts, mut lengths, mut encodings) = (0, Vec::new(), Vec::new());
    let mut websocket = false;
    for field in request.headers.iter() {
        let name = field.name;
        if name.eq_ignore_ascii_case("host") {
            hosts += 1;
        } else if name.eq_ignore_ascii_case("content-length") {
            lengths.push(field.value);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            encodings.push(field.value);
        } else if name.eq_ignore_ascii_case("upgrade") {
            websocket |= field.value.trim_ascii().eq_ignore_ascii_case(b"websocket");
        }
    }
    if hosts > 1 || (version == 1 && hosts == 0) {
        return Err(Refusal::Host);
    }
    let length = match lengths[..] {
        [] => None,
        [value] => Some(
            std::str::from_utf8(value)
                .ok()
                .map(str::trim)
                .filter(|v| !v.starts_with('+'))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(Refusal::ContentLength)?,
        ),
        _ => return Err(Refusal::ContentLength),
    };
    let chunked = match encodings[..] {
        [] => false,
        [value] if version == 1 && value.trim_ascii().eq_ignore_ascii_case(b"chunked") => true,
        _ => return Err(Refusal::TransferEncoding),
    };
    if chunked && length.is_some() {
        return Err(Refusal::ContentLength);
    }
    if version == 0 && method == "POST" && length.is_none() {
        return Err(Refusal::ContentLength);
    }
    let state = if chunked {
        State::ChunkSize
    } else if websocket || (method == "CONNECT" && length.unwrap_or(0) == 0) {
        State::Tunnel
    } else {
        match length {
            Some(n) if n > 0 => State::Body(n),
            _ => State::Head,
        }
    };
    Ok((rewritten, state))
}

/// The head with its request target percent-encoded where it holds bytes a URI cannot (raw
/// UTF-8, say); `None` when the target is a URI as it is.
fn encoded_target(head: &[u8], target: &[u8]) -> Result<Option<Vec<u8>>, Refusal> {
    use actix_web::http::Uri;
    if Uri::try_from(target).is_ok() {
        return Ok(None);
    }
    let mut encoded = Vec::with_capacity(target.len() * 3);
    for &b in target {
        if b >= 0x80 || matches!(b, b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}') {
            encoded.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            encoded.push(b);
        }
    }
    Uri::try_from(&encoded[..]).map_err(|_| Refusal::Target)?;
    // The target is a slice of the head: its place there.
    let start = target.as_ptr() as usize - head.as_ptr() as usize;
    let mut out = Vec::with_capacity(head.len() + encoded.len());
    out.extend_from_slice(&head[..start]);
    out.extend_from_slice(&encoded);
    out.extend_from_slice(&head[start + target.len()..]);
    Ok(Some(out))
}

impl<T: AsyncRead + Unpin> AsyncRead for Intake<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let f = &mut this.framing;
            if f.ready_at < f.ready.len() {
                let n = buf.remaining().min(f.ready.len() - f.ready_at);
                buf.put_slice(&f.ready[f.ready_at..f.ready_at + n]);
                f.ready_at += n;
                if f.ready_at == f.ready.len() {
                    f.ready.clear();
                    f.ready_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            let mut read = ReadBuf::new(&mut this.scratch[..]);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            let n = read.filled().len();
            if n == 0 {
                this.eof = true;
                // A head cut short goes on as it came: actix-http sees the connection end in it.
                let head = std::mem::take(&mut this.framing.head);
                this.framing.ready.extend_from_slice(&head);
                continue;
            }
            this.framing.process(&this.scratch[..n]);
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Intake<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(input: &[u8], piece: usize) -> Vec<u8> {
        let mut f = Framing::default();
        for part in input.chunks(piece) {
            f.process(part);
        }
        f.ready
    }

    const BODY: &str = "{\"a\": \"GET /x?係長 HTTP/1.1\\r\\n\\r\\n\"}";

    fn requests() -> Vec<u8> {
        let mut s = Vec::new();
        s.extend_from_slice(b"\r\nGET /e?grade=\xE4\xBF\x82\xE9\x95\xB7&q={x} HTTP/1.1\r\nHost: k\r\n\r\n");
        s.extend_from_slice(
            format!("POST /e HTTP/1.1\r\nHost: k\r\nContent-Length: {}\r\n\r\n{BODY}", BODY.len()).as_bytes(),
        );
        s.extend_from_slice(b"POST /e HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n");
        s.extend_from_slice(format!("{:X};ext=1\r\n{BODY}\r\n0\r\nT: 1\r\n\r\n", BODY.len()).as_bytes());
        s.extend_from_slice(b"GET /\xE4\xBF\x82 HTTP/1.1\nHost: k\n\n");
        s
    }

    #[test]
    fn targets_are_percent_encoded_and_bodies_pass_untouched_however_the_bytes_arrive() {
        let whole = through(&requests(), usize::MAX);
        let text = String::from_utf8(whole.clone()).unwrap();
        assert!(text.starts_with("\r\nGET /e?grade=%E4%BF%82%E9%95%B7&q=%7Bx%7D HTTP/1.1\r\n"), "{text}");
        assert_eq!(text.matches(BODY).count(), 2, "both bodies as they were: {text}");
        assert!(text.ends_with("GET /%E4%BF%82 HTTP/1.1\nHost: k\n\n"), "{text}");
        for piece in [1, 2, 3, 7, 64] {
            assert_eq!(through(&requests(), piece), whole, "in pieces of {piece}");
        }
    }

    #[test]
    fn a_refused_head_becomes_a_request_for_its_problem_and_the_rest_is_not_read() {
        let mut head = b"GET / HTTP/1.1\r\nHost: k\r\nAccept-Language: ja\r\nX-Pad: ".to_vec();
        head.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES));
        head.extend_from_slice(b"\r\n\r\nGET / HTTP/1.1\r\nHost: k\r\n\r\n");
        for piece in [1000, usize::MAX] {
            let out = String::from_utf8(through(&head, piece)).unwrap();
            assert_eq!(
                out,
                "GET /_kenshu/refused/head-too-large HTTP/1.1\r\nHost: kenshu\r\nConnection: close\r\n\
                 accept-language: ja\r\n\r\n"
            );
        }
        let refused = |head: &[u8]| String::from_utf8(through(head, usize::MAX)).unwrap();
        assert!(refused(b"GET / HTTP/1.1\r\n\r\n").starts_with("GET /_kenshu/refused/host "));
        assert!(refused(b"POST / HTTP/1.0\r\n\r\n").starts_with("GET /_kenshu/refused/content-length "));
        assert!(refused(
            b"GET / HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
        )
        .starts_with("GET /_kenshu/refused/content-length "));
        assert!(refused(b"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")
            .starts_with("GET /_kenshu/refused/transfer-encoding "));
        assert!(
            refused(b"GET / HTTP/1.1 x\r\nHost: k\r\n\r\n").starts_with("GET /_kenshu/refused/malformed ")
        );
        for key in Refusal::ALL {
            assert_eq!(Refusal::parse(key.key()), Some(key));
        }
    }

    #[test]
    fn an_upgrade_and_an_unreadable_chunk_pass_everything_on() {
        let upgrade = b"GET /ws HTTP/1.1\r\nHost: k\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\xFF\x00GET /\xE4 ";
        assert_eq!(through(upgrade, 5), upgrade);
        let chunked = b"POST / HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /\xE4 HTTP/1.1\r\n\r\n";
        assert_eq!(through(chunked, usize::MAX), chunked);
    }
}
