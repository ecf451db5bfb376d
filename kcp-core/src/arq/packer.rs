//! Packs segments into MTU-sized datagrams, emitting each one as it fills.

use super::segment::{SegmentHeader, HEADER_LEN};

/// Writes segments into one reusable buffer after `reserved` bytes of
/// headroom, handing the buffer to `out` whenever the next segment would not fit.
pub(super) struct Packer<'a> {
    buf: &'a mut [u8],
    len: usize,
    reserved: usize,
    /// Datagrams handed to `out` so far.
    pub datagrams: u64,
    /// Bytes of segments packed so far (headroom not counted).
    pub packed: usize,
}

impl<'a> Packer<'a> {
    /// `buf` is exactly one MTU long.
    pub fn new(buf: &'a mut [u8], reserved: usize) -> Self {
        Self {
            buf,
            len: reserved,
            reserved,
            datagrams: 0,
            packed: 0,
        }
    }

    /// Appends a header and its data, emitting the current datagram first if
    /// they would not fit. `header.len` must equal `data.len()`.
    #[inline]
    pub fn push<F: FnMut(&mut [u8])>(&mut self, header: &SegmentHeader, data: &[u8], out: &mut F) {
        let need = HEADER_LEN + data.len();
        if self.len + need > self.buf.len() && self.len > self.reserved {
            self.emit(out);
        }
        self.put(header, data);
        self.packed += need;
    }

    /// Room left in the datagram being packed; 0 when none is started.
    pub fn room(&self) -> usize {
        if self.len > self.reserved {
            self.buf.len() - self.len
        } else {
            0
        }
    }

    /// Appends a segment to the datagram being packed only if one is
    /// started and the segment fits: it never makes a datagram of its own.
    pub fn append_within_room(&mut self, header: &SegmentHeader, data: &[u8]) -> bool {
        if HEADER_LEN + data.len() > self.room() {
            return false;
        }
        self.put(header, data);
        true
    }

    /// Writes a segment at the end of the datagram being packed.
    #[inline]
    fn put(&mut self, header: &SegmentHeader, data: &[u8]) {
        header.encode(&mut self.buf[self.len..]);
        self.len += HEADER_LEN;
        self.buf[self.len..self.len + data.len()].copy_from_slice(data);
        self.len += data.len();
    }

    /// Emits what is buffered, if anything.
    pub fn finish<F: FnMut(&mut [u8])>(&mut self, out: &mut F) {
        if self.len > self.reserved {
            self.emit(out);
        }
    }

    fn emit<F: FnMut(&mut [u8])>(&mut self, out: &mut F) {
        out(&mut self.buf[..self.len]);
        self.datagrams += 1;
        self.len = self.reserved;
    }
}
