//! The 2.0 symbol table an encoder builds: each distinct string once, `""` first.

use foldhash::{HashMap, HashMapExt};

/// Strings borrowed from the series being encoded, numbered in first-use order.
pub(super) struct SymbolTable<'a> {
    index: HashMap<&'a str, u32>,
    symbols: Vec<&'a str>,
}

impl<'a> SymbolTable<'a> {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        let mut table = SymbolTable {
            index: HashMap::with_capacity(capacity),
            symbols: Vec::with_capacity(capacity),
        };
        table.symbol("");
        table
    }

    /// The reference of `s`, adding it if new.
    pub(super) fn symbol(&mut self, s: &'a str) -> u32 {
        let next = self.symbols.len() as u32;
        let r = *self.index.entry(s).or_insert(next);
        if r == next {
            self.symbols.push(s);
        }
        r
    }

    pub(super) fn symbols(&self) -> &[&'a str] {
        &self.symbols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_deduplicated_with_the_empty_string_first() {
        let mut table = SymbolTable::with_capacity(4);
        let refs: Vec<u32> = ["__name__", "up", "job", "up", "", "__name__"]
            .into_iter()
            .map(|s| table.symbol(s))
            .collect();
        assert_eq!(refs, [1, 2, 3, 2, 0, 1]);
        assert_eq!(table.symbols(), ["", "__name__", "up", "job"]);
    }
}
