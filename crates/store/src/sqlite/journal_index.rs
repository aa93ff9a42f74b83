//! The in-memory index of SQLite's token journal: token hash → the row's
//! sequence number, kept in generations (a few seconds of rows each) so that
//! a merge forgets whole generations at once instead of sifting one map.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The first 16 bytes of a token's SHA-256: collision-free in practice, and
/// half the memory of the whole hash. The lookup checks the row's full hash.
type Key = [u8; 16];

fn key(hash: &[u8; 32]) -> Key {
    let mut key = [0; 16];
    key.copy_from_slice(&hash[..16]);
    key
}

pub(super) struct JournalIndex {
    /// Oldest first; the last one takes new rows until it is sealed.
    generations: VecDeque<Generation>,
    generation_rows: usize,
    generation_age: Duration,
    /// Every journal row up to this sequence number is indexed or merged.
    pub(super) through: i64,
}

struct Generation {
    seqs: HashMap<Key, i64>,
    started: Instant,
    /// When its newest row was added.
    newest: Instant,
    max_seq: i64,
}

impl JournalIndex {
    pub(super) fn new(generation_rows: usize, generation_age: Duration) -> Self {
        Self {
            generations: VecDeque::new(),
            generation_rows: generation_rows.max(1),
            generation_age,
            through: 0,
        }
    }

    pub(super) fn get(&self, hash: &[u8; 32]) -> Option<i64> {
        let key = key(hash);
        self.generations.iter().rev().find_map(|g| g.seqs.get(&key)).copied()
    }

    pub(super) fn insert(&mut self, hash: &[u8; 32], seq: i64, now: Instant) {
        let sealed = |g: &Generation| self.is_sealed(g, now);
        if self.generations.back().is_none_or(sealed) {
            self.generations.push_back(Generation {
                seqs: HashMap::new(),
                started: now,
                newest: now,
                max_seq: 0,
            });
        }
        if let Some(generation) = self.generations.back_mut() {
            generation.seqs.insert(key(hash), seq);
            generation.newest = now;
            generation.max_seq = generation.max_seq.max(seq);
        }
    }

    fn is_sealed(&self, generation: &Generation, now: Instant) -> bool {
        generation.seqs.len() >= self.generation_rows || now - generation.started >= self.generation_age
    }

    pub(super) fn len(&self) -> usize {
        self.generations.iter().map(|g| g.seqs.len()).sum()
    }

    /// The highest sequence number to merge now, if any: that of every
    /// sealed generation whose newest row is `age` old, oldest first, and of
    /// as many more as it takes to bring the index below `rows` rows.
    pub(super) fn due(&self, now: Instant, age: Duration, rows: usize) -> Option<i64> {
        let mut remaining = self.len();
        let mut through = None;
        for (i, generation) in self.generations.iter().enumerate() {
            let sealed = i + 1 < self.generations.len() || self.is_sealed(generation, now);
            if !sealed || (now - generation.newest < age && remaining < rows) {
                break;
            }
            remaining -= generation.seqs.len();
            through = through.max(Some(generation.max_seq));
        }
        through
    }

    /// Every journal row up to `seq` has been merged (and deleted): forgets
    /// the generations that point at nothing newer.
    pub(super) fn merged_through(&mut self, seq: i64) {
        while self.generations.front().is_some_and(|g| g.max_seq <= seq) {
            self.generations.pop_front();
        }
        self.through = self.through.max(seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn finds_rows_in_any_generation_until_merged() {
        let start = Instant::now();
        let mut index = JournalIndex::new(2, Duration::from_secs(5));
        for n in 1..=5 {
            index.insert(&hash(n), i64::from(n), start);
        }
        assert_eq!(index.generations.len(), 3, "two rows per generation");
        assert_eq!(index.get(&hash(1)), Some(1));
        assert_eq!(index.get(&hash(5)), Some(5));
        assert_eq!(index.get(&hash(9)), None);
        index.merged_through(3);
        // The second generation (3, 4) still points at row 4.
        assert_eq!(index.get(&hash(1)), None);
        assert_eq!(index.get(&hash(4)), Some(4));
        assert_eq!(index.through, 3);
    }

    #[test]
    fn merges_sealed_generations_once_old_or_crowded() {
        let start = Instant::now();
        let age = Duration::from_secs(30);
        let mut index = JournalIndex::new(2, Duration::from_secs(5));
        for n in 1..=3 {
            index.insert(&hash(n), i64::from(n), start);
        }
        assert_eq!(index.due(start + Duration::from_secs(1), age, 100), None, "young");
        assert_eq!(index.due(start + Duration::from_secs(31), age, 100), Some(3), "old, all sealed by time");
        assert_eq!(index.due(start + Duration::from_secs(1), age, 3), Some(2), "crowded: the oldest first");
        for n in 4..=7 {
            index.insert(&hash(n), i64::from(n), start);
        }
        assert_eq!(index.due(start + Duration::from_secs(1), age, 6), Some(2), "just below the limit");
        assert_eq!(index.due(start + Duration::from_secs(1), age, 4), Some(4), "two generations over");
    }
}
