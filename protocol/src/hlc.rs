//! Hybrid logical clock stamps, which order writes to user-editable data
//! (budgets, categories, notes) across devices for per-field
//! last-writer-wins merging.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// One HLC stamp: physical milliseconds, a logical counter for events in
/// the same millisecond, and the writing node's id to break exact ties, so
/// any two stamps from different writers are ordered the same way on every
/// device and on the server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
    pub node: String,
}

impl Hlc {
    pub fn new(wall_ms: u64, counter: u32, node: impl Into<String>) -> Self {
        Hlc {
            wall_ms,
            counter,
            node: node.into(),
        }
    }
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter, self.node.as_str()).cmp(&(
            other.wall_ms,
            other.counter,
            other.node.as_str(),
        ))
    }
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order() {
        let a = Hlc::new(10, 0, "b");
        assert!(Hlc::new(11, 0, "a") > a);
        assert!(Hlc::new(10, 1, "a") > a);
        assert!(Hlc::new(10, 0, "c") > a);
        assert_eq!(Hlc::new(10, 0, "b").cmp(&a), Ordering::Equal);
    }
}
