//! Cutting a byte stream into numbered lines (JSON Lines), in bounded
//! memory: a line longer than [`MAX_LINE_BYTES`] is not kept but reported as
//! too long, and whatever chunk sizes the bytes arrive in, the lines are
//! the same.

/// Longest line taken. A record with the longest hash any format allows is
/// a few kilobytes.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// One line of input, without its line ending.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    Text(Vec<u8>),
    /// Longer than [`MAX_LINE_BYTES`]; its bytes were dropped.
    TooLong,
}

#[derive(Debug, Default)]
pub(super) struct LineSplitter {
    partial: Vec<u8>,
    overlong: bool,
    /// Lines completed so far.
    count: u64,
}

impl LineSplitter {
    /// Appends to `out` every line `chunk` completes, numbered from 1.
    pub(super) fn split(&mut self, mut chunk: &[u8], out: &mut Vec<(u64, Line)>) {
        while let Some(end) = memchr::memchr(b'\n', chunk) {
            self.append(&chunk[..end]);
            self.end_line(out);
            chunk = &chunk[end + 1..];
        }
        self.append(chunk);
    }

    /// The last line, when the input does not end with a line ending.
    pub(super) fn finish(&mut self, out: &mut Vec<(u64, Line)>) {
        if !self.partial.is_empty() || self.overlong {
            self.end_line(out);
        }
    }

    fn append(&mut self, piece: &[u8]) {
        if self.overlong {
            return;
        }
        if self.partial.len() + piece.len() > MAX_LINE_BYTES {
            self.overlong = true;
            self.partial = Vec::new();
        } else {
            self.partial.extend_from_slice(piece);
        }
    }

    fn end_line(&mut self, out: &mut Vec<(u64, Line)>) {
        self.count += 1;
        let line = if std::mem::take(&mut self.overlong) {
            Line::TooLong
        } else {
            let mut text = std::mem::take(&mut self.partial);
            if text.last() == Some(&b'\r') {
                text.pop();
            }
            if self.count == 1 && text.starts_with(b"\xEF\xBB\xBF") {
                text.drain(..3);
            }
            Line::Text(text)
        };
        out.push((self.count, line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<(u64, Line)> {
        let mut splitter = LineSplitter::default();
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.split(chunk, &mut out);
        }
        splitter.finish(&mut out);
        out
    }

    fn text(line: &str) -> Line {
        Line::Text(line.as_bytes().to_vec())
    }

    #[test]
    fn import_lines_are_the_same_whatever_the_chunks() {
        let whole = lines(&[b"\xEF\xBB\xBF{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}"]);
        let bytewise: Vec<&[u8]> = b"\xEF\xBB\xBF{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}".chunks(1).collect();
        assert_eq!(lines(&bytewise), whole);
        assert_eq!(
            whole,
            vec![(1, text("{\"a\":1}")), (2, text("")), (3, text("{\"b\":2}")), (4, text("{\"c\":3}"))]
        );
        assert_eq!(lines(&[b"x\n"]), vec![(1, text("x"))], "a final line ending adds no line");
        assert!(lines(&[]).is_empty());
    }

    #[test]
    fn an_import_line_over_the_limit_is_dropped_but_counted() {
        let long = vec![b'x'; MAX_LINE_BYTES + 1];
        let out = lines(&[&long[..10], &long[10..], b"\nnext\n"]);
        assert_eq!(out, vec![(1, Line::TooLong), (2, text("next"))]);
        let exact = vec![b'x'; MAX_LINE_BYTES];
        assert_eq!(lines(&[&exact]), vec![(1, Line::Text(exact.clone()))]);
    }
}
