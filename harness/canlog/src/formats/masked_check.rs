//! Test support for the fast paths (masked or not): random lines near the format's usual layout, each
//! checked against the general parser (a line the masked path takes must read to the same frame
//! and end where the line ends).

use crate::frame::Frame;
use crate::parse::LineResult;
use crate::record::Record;

/// A small deterministic generator (xorshift64*), so failures reproduce.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `k` in `n`.
    pub(crate) fn chance(&mut self, k: usize, n: usize) -> bool {
        self.below(n) < k
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` random hex digits, mixed case.
    pub(crate) fn hex(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| *self.pick(b"0123456789abcdefABCDEF"))
            .collect()
    }

    /// `n` random decimal digits.
    pub(crate) fn digits(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| b'0' + self.below(10) as u8).collect()
    }
}

/// A line terminator: LF or CRLF, and with `lone_cr` also a lone CR (which the reader takes as
/// a terminator too).
pub(crate) fn terminator(rng: &mut Rng, lone_cr: bool) -> &'static [u8] {
    let ends: [&'static [u8]; 3] = [b"\n", b"\r\n", b"\r"];
    ends[rng.below(if lone_cr { 3 } else { 2 })]
}

/// Break `line` one time in six: a byte replaced, inserted or removed at a random place, with a
/// byte that matters to parsers (a digit, a separator, a blank, a terminator, a dot, a letter).
pub(crate) fn mutate(rng: &mut Rng, line: &mut Vec<u8>) {
    if line.is_empty() || !rng.chance(1, 6) {
        return;
    }
    let at = rng.below(line.len());
    let b = *rng.pick(b"0 9aFgx,.;\t\r\n#-");
    match rng.below(3) {
        0 => line[at] = b,
        1 => line.insert(at, b),
        _ => {
            line.remove(at);
        }
    }
}

/// How the reader's line splitting ends the first line of `buf`: the index after its terminator
/// (LF, CRLF or a lone CR) and the line without it.
fn first_line(buf: &[u8]) -> Option<(usize, &[u8])> {
    let t = buf.iter().position(|&c| c == b'\n' || c == b'\r')?;
    let len = if buf[t] == b'\r' && buf.get(t + 1) == Some(&b'\n') {
        t + 2
    } else {
        t + 1
    };
    Some((len, &buf[..t]))
}

/// Check one buffer (a line, its terminator and whatever follows): if `masked` takes it, it took
/// exactly the first line (as the reader splits lines) and `general` reads that line to the same
/// frame.
/// Returns whether `masked` took it.
pub(crate) fn check_buffer(
    buf: &[u8],
    masked: impl Fn(&[u8], &mut Frame) -> Option<usize>,
    general: impl Fn(&[u8]) -> LineResult<Option<Record>>,
) -> bool {
    let mut out = super::poisoned_frame();
    let Some(n) = masked(buf, &mut out) else {
        return false;
    };
    let text = String::from_utf8_lossy(buf).into_owned();
    let (len, line) =
        first_line(buf).unwrap_or_else(|| panic!("took a line without end: {text:?}"));
    assert_eq!(n, len, "{text:?}");
    assert_eq!(general(line), Ok(Some(Record::Frame(out))), "{text:?}");
    true
}

/// Run `cases` random lines from `gen` (each followed by a random tail so that 64 bytes are
/// buffered, or not) through [`check_buffer`]; panics unless at least `min_taken` of them were
/// taken (so the generator reaches the path under test).
pub(crate) fn check_random(
    seed: u64,
    cases: usize,
    min_taken: usize,
    gen: impl Fn(&mut Rng) -> Vec<u8>,
    masked: impl Fn(&[u8], &mut Frame) -> Option<usize>,
    general: impl Fn(&[u8]) -> LineResult<Option<Record>>,
) {
    let mut rng = Rng::new(seed);
    let mut taken = 0;
    for _ in 0..cases {
        let mut buf = gen(&mut rng);
        mutate(&mut rng, &mut buf);
        let tail = 20 + rng.below(60);
        for _ in 0..tail {
            let b = *rng.pick(b"0123456789 ABCDEF,.\n\rRT");
            buf.push(b);
        }
        if check_buffer(&buf, &masked, &general) {
            taken += 1;
        }
    }
    assert!(
        taken >= min_taken,
        "only {taken} of {cases} random lines took the masked path"
    );
}
