//! The load generator's HTTP/1.1 client: one request at a time on one connection.
//!
//! hyper's client connection costs a task, channels and a header map per request;
//! at tens of thousands of requests a second that is as much CPU as signing them.
//! Here a request is the bytes the [`RequestMaker`](super::RequestMaker) wrote into
//! a reused buffer, sent with one write. The answer is parsed with `httparse` and
//! framed as RFC 9112 §6.3 says (no body for 1xx, 204 and 304; chunked; Content-Length;
//! otherwise until the server closes), and its body is discarded as it arrives, so
//! memory stays flat whatever the endpoint sends.

use std::io;
use std::mem::MaybeUninit;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::delivery::exchange::ErrorClass;

/// The longest response head (status line and headers) accepted.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header fields in one response head.
pub const MAX_HEADERS: usize = 128;
/// The longest chunk-size line (with extensions) accepted.
const MAX_CHUNK_LINE: usize = 4 * 1024;
/// Space made in the read buffer before each read.
const READ_CHUNK: usize = 8 * 1024;

/// A connection's byte stream.
pub enum Stream {
    /// Plain TCP (`http://`).
    Plain(TcpStream),
    /// TLS over TCP (`https://`).
    Tls(Box<TlsStream<TcpStream>>),
}

/// Why an exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection ended (closed, reset, or the write failed) before any byte of
    /// an answer came. On a connection that already served requests, the server most
    /// likely closed it while it was idle, and the request may be sent again on a new
    /// connection (as browsers and Go's client do).
    ClosedBeforeAnswer,
    /// Anything else, by class.
    Error(ErrorClass),
}

/// A complete answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The final status code (after any 1xx).
    pub status: u16,
    /// Whether the connection can carry the next request: HTTP/1.1 without
    /// `Connection: close` (or HTTP/1.0 with `keep-alive`), a body that did not run
    /// until the close, framing that is not faulty (not both `Transfer-Encoding` and
    /// `Content-Length`), and nothing sent after it.
    pub reusable: bool,
}

/// How the body of an answer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// One HTTP/1.1 connection: its stream and its read buffer.
pub struct Connection {
    stream: Stream,
    buf: BytesMut,
    served: u64,
    /// TLS only: the request's head and body joined.
    joined: Vec<u8>,
}

impl Connection {
    /// A connection over `stream`.
    pub fn new(stream: Stream) -> Connection {
        Connection {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
            served: 0,
            joined: Vec::new(),
        }
    }

    /// How many answers this connection has carried.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// Sends `request` (a complete HTTP/1.1 request) and reads the whole answer.
    /// After an error, or an answer that is not [`Answer::reusable`], the connection
    /// must be dropped.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<Answer, Failure> {
        self.exchange_parts(request, &[]).await
    }

    /// [`Connection::exchange`] of the request `head` followed by `body`, sent as one
    /// write without joining them first (`writev` over TCP; over TLS they are joined
    /// in a buffer the connection reuses, so they still go as one record).
    pub async fn exchange_parts(&mut self, head: &[u8], body: &[u8]) -> Result<Answer, Failure> {
        let written = match &mut self.stream {
            Stream::Plain(stream) => write_both(stream, head, body).await,
            Stream::Tls(stream) => {
                self.joined.clear();
                self.joined.extend_from_slice(head);
                self.joined.extend_from_slice(body);
                match stream.write_all(&self.joined).await {
                    Ok(()) => stream.flush().await,
                    Err(err) => Err(err),
                }
            }
        };
        if written.is_err() {
            return Err(Failure::ClosedBeforeAnswer);
        }
        let (status, framing, keep_alive) = self.read_head().await?;
        let body = match framing {
            Framing::Empty => Ok(()),
            Framing::Length(length) => self.discard(length).await,
            Framing::Chunked => self.discard_chunked().await,
            Framing::UntilClose => self.discard_until_close().await,
        };
        body.map_err(Failure::Error)?;
        self.served += 1;
        Ok(Answer {
            status,
            reusable: keep_alive && framing != Framing::UntilClose && self.buf.is_empty(),
        })
    }

    /// Reads more bytes into the buffer; `Ok(0)` at the end of the stream.
    async fn fill(&mut self) -> io::Result<usize> {
        // Once everything read was consumed, this reuses the buffer from its front.
        self.buf.reserve(READ_CHUNK);
        match &mut self.stream {
            Stream::Plain(stream) => stream.read_buf(&mut self.buf).await,
            Stream::Tls(stream) => stream.read_buf(&mut self.buf).await,
        }
    }

    /// Reads the final response head (skipping 1xx interim answers): its status,
    /// how its body is framed, and whether the connection stays open.
    async fn read_head(&mut self) -> Result<(u16, Framing, bool), Failure> {
        let mut answered = !self.buf.is_empty();
        loop {
            // An empty buffer (the usual case right after sending) has nothing to
            // parse: read first.
            if !self.buf.is_empty() {
                // Left uninitialized: httparse writes only the fields it parses, so a
                // short answer does not pay for clearing all MAX_HEADERS slots.
                let mut headers =
                    [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
                let mut response = httparse::Response::new(&mut []);
                match httparse::ParserConfig::default().parse_response_with_uninit_headers(
                    &mut response,
                    &self.buf,
                    &mut headers,
                ) {
                    Ok(httparse::Status::Complete(length)) if length > MAX_HEAD_BYTES => {
                        return Err(Failure::Error(ErrorClass::Protocol));
                    }
                    Ok(httparse::Status::Complete(length)) => {
                        let status = response.code.unwrap_or(0);
                        let (framing, keep_alive) = framing(&response)?;
                        self.buf.advance(length);
                        match status {
                            // We never ask to switch protocols.
                            101 => return Err(Failure::Error(ErrorClass::Protocol)),
                            100..=199 => continue,
                            _ => return Ok((status, framing, keep_alive)),
                        }
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.buf.len() > MAX_HEAD_BYTES {
                            return Err(Failure::Error(ErrorClass::Protocol));
                        }
                    }
                    Err(_) => return Err(Failure::Error(ErrorClass::Protocol)),
                }
            }
            match self.fill().await {
                // Only TLS reports InvalidData: an alert (a refused client
                // certificate arrives so, after the handshake) or a bad record.
                Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                    return Err(Failure::Error(ErrorClass::Tls));
                }
                Ok(0) | Err(_) if !answered => return Err(Failure::ClosedBeforeAnswer),
                Ok(0) | Err(_) => return Err(Failure::Error(ErrorClass::Reset)),
                Ok(_) => answered = true,
            }
        }
    }

    /// Consumes `length` body bytes.
    async fn discard(&mut self, mut length: u64) -> Result<(), ErrorClass> {
        loop {
            let take = usize::try_from(length)
                .unwrap_or(usize::MAX)
                .min(self.buf.len());
            self.buf.advance(take);
            length -= take as u64;
            if length == 0 {
                return Ok(());
            }
            self.fill_or(ErrorClass::Body).await?;
        }
    }

    /// Consumes a chunked body, its chunk extensions and its trailer section.
    async fn discard_chunked(&mut self) -> Result<(), ErrorClass> {
        loop {
            // httparse takes an empty size line for 0; RFC 9112 wants 1*HEXDIG.
            if self.buf.first().is_some_and(|b| !b.is_ascii_hexdigit()) {
                return Err(ErrorClass::Protocol);
            }
            match httparse::parse_chunk_size(&self.buf) {
                Ok(httparse::Status::Complete((line, 0))) => {
                    self.buf.advance(line);
                    return self.discard_trailers().await;
                }
                Ok(httparse::Status::Complete((line, size))) => {
                    self.buf.advance(line);
                    self.discard(size).await?;
                    while self.buf.len() < 2 {
                        self.fill_or(ErrorClass::Body).await?;
                    }
                    if &self.buf[..2] != b"\r\n" {
                        return Err(ErrorClass::Protocol);
                    }
                    self.buf.advance(2);
                }
                Ok(httparse::Status::Partial) => {
                    if self.buf.len() > MAX_CHUNK_LINE {
                        return Err(ErrorClass::Protocol);
                    }
                    self.fill_or(ErrorClass::Body).await?;
                }
                Err(_) => return Err(ErrorClass::Protocol),
            }
        }
    }

    /// Consumes the trailer section after the last chunk, up to its empty line.
    async fn discard_trailers(&mut self) -> Result<(), ErrorClass> {
        loop {
            if self.buf.starts_with(b"\r\n") {
                self.buf.advance(2);
                return Ok(());
            }
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                self.buf.advance(at + 4);
                return Ok(());
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(ErrorClass::Protocol);
            }
            self.fill_or(ErrorClass::Body).await?;
        }
    }

    /// Consumes everything until the server closes.
    async fn discard_until_close(&mut self) -> Result<(), ErrorClass> {
        loop {
            self.buf.clear();
            match self.fill().await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                // A TLS server that closes without close_notify still ended its body.
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(_) => return Err(ErrorClass::Body),
            }
        }
    }

    /// Reads more, or fails with `class` at the end of the stream or on an error.
    async fn fill_or(&mut self, class: ErrorClass) -> Result<(), ErrorClass> {
        match self.fill().await {
            Ok(0) | Err(_) => Err(class),
            Ok(_) => Ok(()),
        }
    }
}

/// Writes `head` then `body` with vectored writes (one `writev` unless the socket
/// takes less).
async fn write_both(stream: &mut TcpStream, mut head: &[u8], mut body: &[u8]) -> io::Result<()> {
    while !head.is_empty() || !body.is_empty() {
        let written = stream
            .write_vectored(&[io::IoSlice::new(head), io::IoSlice::new(body)])
            .await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let from_head = written.min(head.len());
        head = &head[from_head..];
        body = &body[written - from_head..];
    }
    Ok(())
}

/// How a response's body is framed (RFC 9112 §6.3) and whether its connection stays
/// open (RFC 9112 §9.3).
fn framing(response: &httparse::Response<'_, '_>) -> Result<(Framing, bool), Failure> {
    let protocol = Failure::Error(ErrorClass::Protocol);
    let mut keep_alive = response.version == Some(1);
    let mut chunked = None;
    let mut length: Option<u64> = None;
    for header in response.headers.iter() {
        let name = header.name;
        // Most fields are none of the three: their length tells at once.
        if !matches!(name.len(), 10 | 14 | 17) {
            continue;
        }
        if is(name.as_bytes(), b"connection") {
            for token in tokens(header.value) {
                if is(token, b"close") {
                    keep_alive = false;
                } else if is(token, b"keep-alive") && response.version == Some(0) {
                    keep_alive = true;
                }
            }
        } else if is(name.as_bytes(), b"transfer-encoding") {
            // Only the last coding of the last field counts.
            if let Some(last) = tokens(header.value).last() {
                chunked = Some(is(last, b"chunked"));
            }
        } else if is(name.as_bytes(), b"content-length") {
            if tokens(header.value).next().is_none() {
                return Err(protocol);
            }
            for token in tokens(header.value) {
                let value = decimal(token).ok_or(protocol)?;
                if length.is_some_and(|seen| seen != value) {
                    return Err(protocol);
                }
                length = Some(value);
            }
        }
    }
    // Transfer-Encoding beside a Content-Length, or in HTTP/1.0, is faulty framing
    // (RFC 9112 §6.1, §6.3): the answer is read by its Transfer-Encoding, then the
    // connection is not trusted with another request.
    if chunked.is_some() && (length.is_some() || response.version == Some(0)) {
        keep_alive = false;
    }
    let status = response.code.unwrap_or(0);
    let framing = if matches!(status, 100..=199 | 204 | 304) {
        Framing::Empty
    } else {
        match (chunked, length) {
            (Some(true), _) => Framing::Chunked,
            (Some(false), _) | (None, None) => Framing::UntilClose,
            (None, Some(length)) => Framing::Length(length),
        }
    };
    Ok((framing, keep_alive))
}

/// Whether `bytes` is `lower` (lower-case letters and `-`) in any case, for field
/// names and values httparse accepted. OR-ing 0x20 into a byte turns exactly the
/// upper-case letters into lower-case ones; the only other byte that lands on a
/// letter or on `-` is CR (0x0d), which httparse never leaves in a name or a value.
/// Cheaper than `eq_ignore_ascii_case`, which lower-cases both sides byte by byte.
fn is(bytes: &[u8], lower: &[u8]) -> bool {
    bytes.len() == lower.len() && bytes.iter().zip(lower).all(|(b, l)| b | 0x20 == *l)
}

/// A non-empty run of ASCII digits as a `u64`; `None` for anything else or an
/// overflow.
fn decimal(token: &[u8]) -> Option<u64> {
    if token.is_empty() {
        return None;
    }
    token.iter().try_fold(0u64, |value, byte| {
        let digit = byte.checked_sub(b'0').filter(|d| *d < 10)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// The comma-separated, trimmed, non-empty elements of a field value.
fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|b| *b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use proptest::prelude::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use crate::load::http1::*;

    const REQUEST: &[u8] = b"POST /hook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\n\r\nhi";

    /// A loopback server for one connection: for each answer, it reads one
    /// [`REQUEST`], then writes the answer's pieces one by one (pausing between them,
    /// so the client sees them in separate reads). Then it closes.
    async fn server(answers: Vec<Vec<Vec<u8>>>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            for pieces in answers {
                let mut seen = Vec::new();
                while !seen.ends_with(b"\r\n\r\nhi") {
                    let mut buf = [0u8; 1024];
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                assert_eq!(seen, REQUEST, "the client sends the request bytes as given");
                let count = pieces.len();
                for (index, piece) in pieces.into_iter().enumerate() {
                    if stream.write_all(&piece).await.is_err() {
                        return;
                    }
                    if index + 1 < count {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
            }
        });
        addr
    }

    async fn connect(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Connection::new(Stream::Plain(stream))
    }

    fn whole(text: &str) -> Vec<Vec<u8>> {
        vec![text.as_bytes().to_vec()]
    }

    /// Exchanges on one connection against a server answering `answers` in turn
    /// (each exchange fails the test after 10 s rather than hang).
    async fn exchanges(answers: Vec<Vec<Vec<u8>>>) -> Vec<Result<Answer, Failure>> {
        let count = answers.len();
        let mut conn = connect(server(answers).await).await;
        let mut results = Vec::new();
        for _ in 0..count {
            let result = tokio::time::timeout(Duration::from_secs(10), conn.exchange(REQUEST))
                .await
                .expect("the exchange ends");
            let go_on = matches!(result, Ok(Answer { reusable: true, .. }));
            results.push(result);
            if !go_on {
                break;
            }
        }
        results
    }

    fn ok(status: u16, reusable: bool) -> Result<Answer, Failure> {
        Ok(Answer { status, reusable })
    }

    fn error(class: ErrorClass) -> Result<Answer, Failure> {
        Err(Failure::Error(class))
    }

    #[tokio::test]
    async fn content_length_answers_keep_the_connection_for_the_next_request() {
        let results = exchanges(vec![
            whole("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
            vec![
                b"HTTP/1.1 400 Bad Re".to_vec(),
                b"quest\r\ncontent-length: 3\r\n\r\nb".to_vec(),
                b"ad".to_vec(),
            ],
            whole("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"),
        ])
        .await;
        assert_eq!(results, vec![ok(200, true), ok(400, true), ok(202, true)]);
    }

    #[tokio::test]
    async fn chunked_bodies_with_extensions_and_trailers_are_read_to_their_end() {
        let results = exchanges(vec![
            vec![
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nhel"
                    .to_vec(),
                b"lo\r\n1".to_vec(),
                b"0\r\n0123456789abcdef\r\n0\r\nX-Checksum: 1\r".to_vec(),
                b"\nX-Other: 2\r\n\r\n".to_vec(),
            ],
            whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            whole("HTTP/1.1 204 No Content\r\n\r\n"),
        ])
        .await;
        assert_eq!(results, vec![ok(200, true), ok(200, true), ok(204, true)]);
    }

    #[tokio::test]
    async fn interim_answers_are_skipped_and_bodiless_statuses_read_no_body() {
        let results = exchanges(vec![
            whole(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                 HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            ),
            // A 304 or 204 may name a length; no body follows either.
            whole("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"),
            whole("HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n"),
            whole("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n."),
        ])
        .await;
        assert_eq!(
            results,
            vec![ok(201, true), ok(304, true), ok(204, true), ok(200, true)]
        );
    }

    #[tokio::test]
    async fn closing_answers_end_the_connection() {
        for (answer, status) in [
            (
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                200,
            ),
            (
                "HTTP/1.1 500 Oops\r\nConnection: keep-alive, Close\r\n\r\n",
                500,
            ),
            ("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200),
            // No length and not chunked: the body runs until the server closes.
            ("HTTP/1.1 200 OK\r\n\r\nuntil the end", 200),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nuntil the end",
                200,
            ),
            // Both framings: chunked counts, and the connection is not reused.
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                200,
            ),
            (
                "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                200,
            ),
            // More bytes than the answer: not safe to send another request after.
            ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", 200),
        ] {
            // One answer, then the server closes (which ends the bodies without a length).
            let results = exchanges(vec![whole(answer)]).await;
            assert_eq!(results, vec![ok(status, false)], "{answer:?}");
        }
        let results = exchanges(vec![
            whole("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"),
            whole("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        ])
        .await;
        assert_eq!(results, vec![ok(200, true), ok(200, false)]);
    }

    #[tokio::test]
    async fn a_huge_body_is_discarded_as_it_arrives() {
        let size = 32 * 1024 * 1024;
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n");
        let mut pieces = vec![head.into_bytes()];
        pieces.extend((0..size / (1024 * 1024)).map(|_| vec![b'x'; 1024 * 1024]));
        let mut conn = connect(server(vec![pieces]).await).await;
        assert_eq!(conn.exchange(REQUEST).await, ok(200, true));
        assert!(
            conn.buf.capacity() <= 64 * 1024,
            "read buffer grew to {} bytes",
            conn.buf.capacity()
        );
    }

    #[tokio::test]
    async fn answers_that_are_not_http_are_protocol_errors() {
        let huge_head = format!(
            "HTTP/1.1 200 OK\r\nX-Big: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES + 1)
        );
        let many_fields = format!(
            "HTTP/1.1 200 OK\r\n{}\r\n",
            "X-A: b\r\n".repeat(MAX_HEADERS + 1)
        );
        for answer in [
            "SSH-2.0-OpenSSH_9.6\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
            &huge_head,
            &many_fields,
        ] {
            let results = exchanges(vec![whole(answer)]).await;
            let start: String = answer.chars().take(60).collect();
            assert_eq!(results, vec![error(ErrorClass::Protocol)], "{start:?}");
        }
    }

    #[tokio::test]
    async fn answers_cut_short_are_reset_or_body_errors() {
        let cases = [
            ("", Err(Failure::ClosedBeforeAnswer)),
            ("HTTP/1.1 200 OK\r\nContent-Le", error(ErrorClass::Reset)),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                error(ErrorClass::Body),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                error(ErrorClass::Body),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n",
                error(ErrorClass::Body),
            ),
        ];
        for (answer, expected) in cases {
            let results = exchanges(vec![whole(answer)]).await;
            assert_eq!(results, vec![expected], "{answer:?}");
        }
    }

    /// A chunked body split into chunks and written in pieces, both at random.
    fn chunked(body: &[u8], chunk_sizes: &[usize]) -> Vec<u8> {
        let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let mut rest = body;
        for size in chunk_sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*size).min(rest.len()));
            out.extend_from_slice(format!("{:X}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
            rest = tail;
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut pieces = Vec::new();
        let mut rest = bytes;
        for cut in cuts {
            if rest.is_empty() {
                break;
            }
            let (piece, tail) = rest.split_at((*cut).min(rest.len()));
            pieces.push(piece.to_vec());
            rest = tail;
        }
        if !rest.is_empty() {
            pieces.push(rest.to_vec());
        }
        pieces
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// However the server frames and splits an answer, the client reads exactly
        /// that answer: the connection then carries a second request correctly.
        #[test]
        fn framing_consumes_exactly_one_answer(
            // Any bytes, or bytes that look like framing (CRLFs, sizes, extensions).
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..3000),
                proptest::collection::vec(proptest::sample::select(b"\r\n0;a".to_vec()), 0..3000),
            ],
            chunk_sizes in proptest::collection::vec(1usize..700, 1..6),
            cuts in proptest::collection::vec(1usize..900, 0..6),
            use_chunked in any::<bool>(),
        ) {
            let answer = if use_chunked {
                chunked(&body, &chunk_sizes)
            } else {
                let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                    .into_bytes();
                out.extend_from_slice(&body);
                out
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let results = runtime.block_on(exchanges(vec![
                split(&answer, &cuts),
                whole("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"),
            ]));
            prop_assert_eq!(results, vec![ok(200, true), ok(202, true)]);
        }
    }
    proptest! {
        /// The Content-Length reader takes what `str::parse::<u64>` takes from a
        /// non-empty run of digits, and nothing else.
        #[test]
        fn decimal_reads_exactly_digit_runs(token in "[0-9+a -]{0,25}") {
            let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
            let expected = if digits { token.parse::<u64>().ok() } else { None };
            prop_assert_eq!(decimal(token.as_bytes()), expected);
        }
    }
    proptest! {
        /// For anything but CR, the framing's case-insensitive match is
        /// `eq_ignore_ascii_case`.
        #[test]
        fn framing_names_match_in_any_case(
            bytes in proptest::collection::vec(any::<u8>().prop_filter("no CR", |b| *b != b'\r'), 0..20),
            target in proptest::sample::select(vec![
                &b"connection"[..], b"transfer-encoding", b"content-length", b"close",
                b"keep-alive", b"chunked",
            ]),
            case in proptest::collection::vec(any::<bool>(), 20),
        ) {
            prop_assert_eq!(is(&bytes, target), bytes.eq_ignore_ascii_case(target));
            // The target itself in a random mix of cases.
            let mixed: Vec<u8> = target
                .iter()
                .zip(&case)
                .map(|(b, upper)| if *upper { b.to_ascii_uppercase() } else { *b })
                .collect();
            prop_assert!(is(&mixed, target));
        }
    }
}
