//! Spending categories: a default tree, the MCC-to-category map (ISO 18245
//! groups), and the user's own categories (create, rename, merge).
//!
//! Each ledger entry keeps its automatic category (from the MCC or what the
//! payment said) and a user override in `category_overrides`; the entry's
//! `category` column holds the effective one, after overrides and merges, so
//! budgets and insights can group on it without resolving anything per row.

use std::collections::{HashMap, HashSet};

use rusqlite::params;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::wallet::{new_id, Wallet};

/// A category as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// "Food & drink / Groceries".
    pub path: String,
}

/// The category an entry gets when nothing else says: the ISO 18245 group
/// of its merchant category code.
pub fn category_for_mcc(mcc: u16) -> &'static str {
    match mcc {
        3000..=3350 => "travel.airlines",
        3351..=3500 => "travel.car_rental",
        3501..=3999 => "travel.lodging",
        4111 | 4112 | 4131 | 4011 | 4789 => "transport.transit",
        4121 => "transport.taxi",
        4784 => "transport.parking",
        4411 | 4722 => "travel",
        4511 | 4582 => "travel.airlines",
        4000..=4799 => "transport",
        4812 | 4814 | 4816 | 4899 => "home.telecom",
        4800..=4999 => "home.utilities",
        5411 | 5422 | 5441 | 5451 | 5462 | 5499 => "food.groceries",
        5811..=5813 => "food.restaurants",
        5814 => "food.fast_food",
        5541 | 5542 | 5983 => "transport.fuel",
        5511 | 5521 | 5531..=5533 | 5571 | 5599 => "transport.car",
        5600..=5699 => "shopping.clothing",
        5045 | 5732 | 5734 | 5946 => "shopping.electronics",
        5200 | 5211 | 5231 | 5251 | 5261 | 5712..=5719 => "home.furnishing",
        5912 => "health.pharmacy",
        5815..=5818 => "entertainment.media",
        5000..=5999 => "shopping.general",
        6000..=6999 => "cash",
        7011 => "travel.lodging",
        7512 => "travel.car_rental",
        7523 => "transport.parking",
        7531..=7549 => "transport.car",
        7832 | 7841 | 7911..=7999 => "entertainment.events",
        7800..=7910 => "entertainment",
        7000..=7299 => "services.personal",
        7300..=7799 => "services.professional",
        8011..=8099 => "health.medical",
        8200..=8299 => "education",
        8000..=8999 => "services.professional",
        9000..=9999 => "government",
        _ => "other",
    }
}

pub(crate) struct Node {
    pub(crate) parent: Option<String>,
    pub(crate) name: String,
    pub(crate) merged_into: Option<String>,
    pub(crate) deleted: bool,
}

/// The whole category table in memory: it has tens of rows.
pub(crate) struct CategoryTree {
    nodes: HashMap<String, Node>,
}

impl CategoryTree {
    pub(crate) fn load(conn: &rusqlite::Connection) -> Result<Self> {
        let mut stmt = conn
            .prepare_cached("SELECT id, parent_id, name, merged_into, deleted FROM categories")?;
        let nodes = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Node {
                        parent: r.get(1)?,
                        name: r.get(2)?,
                        merged_into: r.get(3)?,
                        deleted: r.get(4)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<HashMap<_, _>>>()?;
        Ok(CategoryTree { nodes })
    }

    /// The live category an id stands for, following merges. `None` for an
    /// unknown or deleted-without-merge id.
    pub(crate) fn resolve(&self, id: &str) -> Option<String> {
        let mut id = id.to_string();
        // A merge chain is at most as long as the table; the bound also
        // stops a cycle that a bad sync could create.
        for _ in 0..=self.nodes.len() {
            let node = self.nodes.get(&id)?;
            match (&node.merged_into, node.deleted) {
                (Some(next), _) => id = next.clone(),
                (None, false) => return Some(id),
                (None, true) => return None,
            }
        }
        None
    }

    /// Resolves an id or a (case-insensitive) name to a live category id.
    pub(crate) fn find(&self, selector: &str) -> Result<String> {
        if let Some(id) = self.resolve(selector) {
            return Ok(id);
        }
        let wanted = selector.trim().to_lowercase();
        let mut hits = self
            .nodes
            .iter()
            .filter(|(_, n)| !n.deleted && n.name.to_lowercase() == wanted)
            .map(|(id, _)| id.clone());
        match (hits.next(), hits.next()) {
            (Some(id), None) => Ok(id),
            (Some(_), Some(_)) => Err(Error::InvalidText {
                field: "category",
                reason: "the name matches several categories; use the id",
            }),
            _ => Err(Error::CategoryNotFound),
        }
    }

    /// The category and everything under it, for budgets that roll up
    /// sub-categories.
    pub(crate) fn subtree(&self, root: &str) -> HashSet<String> {
        let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
        for (id, n) in &self.nodes {
            if let (Some(p), false) = (&n.parent, n.deleted) {
                children.entry(p.as_str()).or_default().push(id);
            }
        }
        let mut out = HashSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if out.insert(id.to_string()) {
                stack.extend(children.get(id).into_iter().flatten().copied());
            }
        }
        out
    }

    pub(crate) fn name(&self, id: &str) -> String {
        self.nodes
            .get(id)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The top-level ancestor, for charts that group by main category.
    pub(crate) fn top(&self, id: &str) -> String {
        let mut id = id.to_string();
        for _ in 0..=self.nodes.len() {
            match self.nodes.get(&id).and_then(|n| n.parent.clone()) {
                Some(p) => id = p,
                None => break,
            }
        }
        id
    }

    pub(crate) fn path(&self, id: &str) -> String {
        let mut parts = vec![self.name(id)];
        let mut cur = id.to_string();
        for _ in 0..self.nodes.len() {
            match self.nodes.get(&cur).and_then(|n| n.parent.clone()) {
                Some(p) => {
                    parts.push(self.name(&p));
                    cur = p;
                }
                None => break,
            }
        }
        parts.reverse();
        parts.join(" / ")
    }

    pub(crate) fn category(&self, id: &str) -> Category {
        Category {
            id: id.to_string(),
            name: self.name(id),
            parent_id: self.nodes.get(id).and_then(|n| n.parent.clone()),
            path: self.path(id),
        }
    }

    fn live(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter().filter(|(_, n)| !n.deleted)
    }
}

fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
        return Err(Error::InvalidText {
            field: "category name",
            reason: "use 1 to 40 printable characters",
        });
    }
    Ok(name.to_string())
}

impl Wallet {
    /// All live categories, ordered by path.
    pub fn categories(&self) -> Result<Vec<Category>> {
        self.keys()?;
        let tree = CategoryTree::load(&self.conn())?;
        let mut all: Vec<Category> = tree.live().map(|(id, _)| tree.category(id)).collect();
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    /// Creates a category, optionally under a parent (id or name).
    pub fn create_category(&self, name: &str, parent: Option<&str>) -> Result<Category> {
        self.keys()?;
        let name = validate_name(name)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let tree = CategoryTree::load(&tx)?;
        let parent = parent.map(|p| tree.find(p)).transpose()?;
        ensure_unique_name(&tree, &name, None)?;
        let id = format!("u.{}", &new_id()?[..12]);
        let hlc = crate::hlc::next(&tx, self.now_ms())?;
        tx.execute(
            "INSERT INTO categories (id, parent_id, name, updated_hlc) VALUES (?1, ?2, ?3, ?4)",
            params![id, parent, name, hlc],
        )?;
        let tree = CategoryTree::load(&tx)?;
        tx.commit()?;
        Ok(tree.category(&id))
    }

    pub fn rename_category(&self, category: &str, name: &str) -> Result<Category> {
        self.keys()?;
        let name = validate_name(name)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let tree = CategoryTree::load(&tx)?;
        let id = tree.find(category)?;
        ensure_unique_name(&tree, &name, Some(&id))?;
        let hlc = crate::hlc::next(&tx, self.now_ms())?;
        tx.execute(
            "UPDATE categories SET name = ?2, updated_hlc = ?3 WHERE id = ?1",
            params![id, name, hlc],
        )?;
        let tree = CategoryTree::load(&tx)?;
        tx.commit()?;
        Ok(tree.category(&id))
    }

    /// Merges `from` into `into`: its entries, sub-categories, overrides and
    /// budgets move to `into`, and `from` becomes a tombstone that points
    /// there (so an entry synced later with the old id still lands right).
    pub fn merge_categories(&self, from: &str, into: &str) -> Result<Category> {
        self.keys()?;
        let now = self.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let tree = CategoryTree::load(&tx)?;
        let from = tree.find(from)?;
        let into = tree.find(into)?;
        if from == into || tree.subtree(&from).contains(&into) {
            return Err(Error::InvalidText {
                field: "category",
                reason: "a category cannot be merged into itself or one of its sub-categories",
            });
        }
        let hlc = crate::hlc::next(&tx, now)?;
        tx.execute(
            "UPDATE categories SET merged_into = ?2, deleted = 1, updated_hlc = ?3 WHERE id = ?1",
            params![from, into, hlc],
        )?;
        tx.execute(
            "UPDATE categories SET parent_id = ?2, updated_hlc = ?3 WHERE parent_id = ?1 AND deleted = 0",
            params![from, into, hlc],
        )?;
        tx.execute(
            "UPDATE category_overrides SET category_id = ?2, updated_hlc = ?3 WHERE category_id = ?1",
            params![from, into, hlc],
        )?;
        tx.execute(
            "UPDATE budgets SET category_id = ?2, updated_hlc = ?3 WHERE category_id = ?1",
            params![from, into, hlc],
        )?;
        tx.execute(
            "UPDATE ledger_entries SET category = ?2 WHERE category = ?1",
            params![from, into],
        )?;
        // Category budgets' scopes changed: their totals are derived, so
        // rebuild them (an edit, rare enough to afford a scan).
        let tree = CategoryTree::load(&tx)?;
        crate::budgets::recompute_all_category_budgets(&tx, &tree)?;
        tx.commit()?;
        Ok(tree.category(&into))
    }
}

fn ensure_unique_name(tree: &CategoryTree, name: &str, except: Option<&str>) -> Result<()> {
    let lower = name.to_lowercase();
    if tree
        .live()
        .any(|(id, n)| Some(id.as_str()) != except && n.name.to_lowercase() == lower)
    {
        return Err(Error::InvalidText {
            field: "category name",
            reason: "another category already has this name",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcc_groups_map_to_categories() {
        assert_eq!(category_for_mcc(5411), "food.groceries");
        assert_eq!(category_for_mcc(5812), "food.restaurants");
        assert_eq!(category_for_mcc(5542), "transport.fuel");
        assert_eq!(category_for_mcc(3005), "travel.airlines");
        assert_eq!(category_for_mcc(3700), "travel.lodging");
        assert_eq!(category_for_mcc(6011), "cash");
        assert_eq!(category_for_mcc(5999), "shopping.general");
        assert_eq!(category_for_mcc(0), "other");
    }
}
