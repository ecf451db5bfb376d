//! The sliding replay window over packet counters (RFC 6479's bitmap).
//!
//! A counter is accepted once, and only if it is newer than the highest
//! seen minus [`WINDOW`]: reordering up to that depth is tolerated, and
//! every replay, however late, is refused. Checking is separate from
//! marking, so a packet is marked only after it authenticated: a forged
//! counter cannot move the window.

/// Counters behind the highest still accepted: 8192, four times WireGuard's
/// 2048 (a window of 1024 segments, retransmitted, reorders further).
pub const WINDOW: u64 = 8192 - 64;

const WORDS: usize = 8192 / 64;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    /// The highest counter marked, plus one (0: none yet).
    next: u64,
    bits: Box<[u64; WORDS]>,
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self {
            next: 0,
            bits: Box::new([0; WORDS]),
        }
    }
}

impl ReplayWindow {
    /// Whether `counter` may be accepted (new, and not too old).
    pub fn check(&self, counter: u64) -> bool {
        if counter >= self.next {
            return true;
        }
        if self.next - 1 - counter >= WINDOW {
            return false;
        }
        let (word, bit) = position(counter);
        self.bits[word] & bit == 0
    }

    /// Records `counter` as seen; false if it was not acceptable.
    pub fn mark(&mut self, counter: u64) -> bool {
        if !self.check(counter) {
            return false;
        }
        if counter >= self.next {
            // Clear the words the window slides over.
            let old_word = if self.next == 0 {
                None
            } else {
                Some((self.next - 1) / 64)
            };
            let new_word = counter / 64;
            match old_word {
                Some(old) if new_word - old < WORDS as u64 => {
                    for w in old + 1..=new_word {
                        self.bits[(w % WORDS as u64) as usize] = 0;
                    }
                }
                _ => self.bits.fill(0),
            }
            self.next = counter + 1;
        }
        let (word, bit) = position(counter);
        self.bits[word] |= bit;
        true
    }

    /// The highest counter marked, if any.
    pub fn highest(&self) -> Option<u64> {
        self.next.checked_sub(1)
    }
}

fn position(counter: u64) -> (usize, u64) {
    (
        ((counter / 64) % WORDS as u64) as usize,
        1 << (counter % 64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_counter_once_within_the_window_and_nothing_older() {
        let mut w = ReplayWindow::default();
        assert!(w.mark(0));
        assert!(!w.mark(0));
        assert!(w.mark(5));
        assert!(w.mark(3), "reordered but new");
        assert!(!w.mark(3));
        assert!(w.mark(WINDOW + 5));
        assert!(!w.check(5), "replayed");
        assert!(!w.check(4), "older than the window");
        assert!(w.check(6), "inside the window, never seen");
        assert!(w.mark(u64::MAX - 1));
        assert!(!w.check(WINDOW + 5));
        assert_eq!(w.highest(), Some(u64::MAX - 1));
    }

    #[test]
    fn matches_a_set_model_under_random_reordering() {
        let mut rng = crate::sim::Rng::new(7);
        let mut w = ReplayWindow::default();
        let mut seen = std::collections::HashSet::new();
        let mut highest: Option<u64> = None;
        for i in 0..200_000u64 {
            // Mostly forward, sometimes far back or far ahead.
            let c = match rng.next_u64() % 10 {
                0 => i.saturating_sub(rng.next_u64() % 20_000),
                1 => i + rng.next_u64() % 300,
                _ => i.saturating_sub(rng.next_u64() % 100),
            };
            let expect = !seen.contains(&c) && highest.map_or(true, |h| c > h || h - c < WINDOW);
            assert_eq!(w.mark(c), expect, "counter {c} at step {i}");
            if expect {
                seen.insert(c);
                highest = Some(highest.map_or(c, |h| h.max(c)));
            }
        }
    }
}
