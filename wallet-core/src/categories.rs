//! Spending categories: a default tree, the MCC-to-category map (ISO 18245
//! groups), and the user's own categories (create, rename, merge, delete).
//!
//! Each ledger entry keeps its automatic category (from the MCC or what the
//! payment said) and a user override in `category_overrides`; the entry's
//! `category` column holds the effective one, after overrides and merges, so
//! budgets and insights can group on it without resolving anything per row.
//!
//! For sync, a category is a record of the `categories` collection with the
//! fields `name` (string), `parent` and `merged_into` (category id or null)
//! and `_deleted` (bool); see `replica`.

use std::collections::{BTreeMap, HashMap, HashSet};

use billfold_protocol::{Collection, TOMBSTONE_FIELD};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::replica::{
    as_bool, as_opt_id, as_str, newest_text, write_local, Rebuilt, Register, RejectReason,
};
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

    /// An entry's category: the user's choice if it still leads to a live
    /// category, else its automatic one, else Other.
    pub(crate) fn effective(&self, chosen: Option<&str>, auto: &str) -> String {
        chosen
            .and_then(|c| self.resolve(c))
            .or_else(|| self.resolve(auto))
            .or_else(|| self.resolve(OTHER))
            .unwrap_or_else(|| OTHER.to_string())
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
        let now = self.now_ms();
        let stamp = crate::hlc::tick(&tx, now)?;
        tx.execute(
            "INSERT INTO categories (id, parent_id, name, updated_hlc) VALUES (?1, ?2, ?3, ?4)",
            params![id, parent, name, crate::hlc::text(&stamp)],
        )?;
        write_local(
            &tx,
            Collection::Categories,
            &id,
            &stamp,
            vec![
                ("name", json!(name)),
                ("parent", json!(parent)),
                ("merged_into", Value::Null),
                (TOMBSTONE_FIELD, json!(false)),
            ],
            now,
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
        if tree.name(&id) == name {
            return Ok(tree.category(&id));
        }
        let now = self.now_ms();
        let stamp = crate::hlc::tick(&tx, now)?;
        tx.execute(
            "UPDATE categories SET name = ?2, updated_hlc = ?3 WHERE id = ?1",
            params![id, name, crate::hlc::text(&stamp)],
        )?;
        write_local(
            &tx,
            Collection::Categories,
            &id,
            &stamp,
            // A deleted category is merged too: an edit undoes both, so
            // against a concurrent delete the later of the two wins.
            vec![
                ("name", json!(name)),
                ("merged_into", Value::Null),
                (TOMBSTONE_FIELD, json!(false)),
            ],
            now,
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
        // What moves, as records for sync: each is its own field write.
        let ids = |sql: &str| -> Result<Vec<String>> {
            let mut stmt = tx.prepare(sql)?;
            let rows = stmt.query_map([&from], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        let children = ids("SELECT id FROM categories WHERE parent_id = ?1 AND deleted = 0")?;
        let overrides =
            ids("SELECT entry_id FROM category_overrides WHERE category_id = ?1 AND deleted = 0")?;
        let budgets = ids("SELECT id FROM budgets WHERE category_id = ?1 AND deleted = 0")?;
        let stamp = crate::hlc::tick(&tx, now)?;
        let hlc = crate::hlc::text(&stamp);
        tx.execute(
            "UPDATE categories SET merged_into = ?2, deleted = 1, updated_hlc = ?3 WHERE id = ?1",
            params![from, into, hlc],
        )?;
        write_local(
            &tx,
            Collection::Categories,
            &from,
            &stamp,
            vec![("merged_into", json!(into)), (TOMBSTONE_FIELD, json!(true))],
            now,
        )?;
        for (collection, field, records) in [
            (Collection::Categories, "parent", &children),
            (Collection::Notes, "category", &overrides),
            (Collection::Budgets, "category", &budgets),
        ] {
            for id in records {
                write_local(&tx, collection, id, &stamp, vec![(field, json!(into))], now)?;
            }
        }
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

    /// Deletes a category. Nothing is lost: it is merged into its parent
    /// (or into Other, for a top-level category), so its transactions,
    /// sub-categories and budgets move there. Returns where they went.
    /// Other itself cannot be deleted: it is where everything else falls.
    pub fn delete_category(&self, category: &str) -> Result<Category> {
        self.keys()?;
        let into = {
            let tree = CategoryTree::load(&self.conn())?;
            let id = tree.find(category)?;
            let other = tree.resolve(OTHER).ok_or(Error::CategoryNotFound)?;
            if id == other {
                return Err(Error::InvalidText {
                    field: "category",
                    reason: "Other cannot be deleted; transactions without a category go there",
                });
            }
            let parent = tree.nodes.get(&id).and_then(|n| n.parent.clone());
            parent.and_then(|p| tree.resolve(&p)).unwrap_or(other)
        };
        // Another call may change the tree in between; the merge checks
        // it again in its own transaction.
        self.merge_categories(category, &into)
    }
}

/// Where entries go when nothing else says.
const OTHER: &str = "other";

/// One parsed field of a synced category.
pub(crate) enum Field {
    Name(String),
    Parent(Option<String>),
    MergedInto(Option<String>),
    Deleted(bool),
}

/// Parses a pulled (or stored) field of category `id`, with the checks a
/// local edit gets. A category cannot be its own parent or merge target.
pub(crate) fn parse_field(
    id: &str,
    field: &str,
    v: &Value,
) -> std::result::Result<Field, RejectReason> {
    let not_self = |r: Option<String>| match r {
        Some(r) if r == id => Err(RejectReason::InvalidValue),
        r => Ok(r),
    };
    Ok(match field {
        "name" => Field::Name(validate_name(as_str(v)?).map_err(|_| RejectReason::InvalidValue)?),
        "parent" => Field::Parent(not_self(as_opt_id(v)?)?),
        "merged_into" => Field::MergedInto(not_self(as_opt_id(v)?)?),
        TOMBSTONE_FIELD => Field::Deleted(as_bool(v)?),
        _ => return Err(RejectReason::UnknownField),
    })
}

/// Rebuilds a category's row from its registers. Returns whether the
/// tree's shape changed (a new category, a parent, a merge or a delete),
/// which moves entries and changes category budgets' scopes.
pub(crate) fn rebuild(
    tx: &Transaction<'_>,
    id: &str,
    regs: &BTreeMap<String, Register>,
) -> Result<(Rebuilt, bool)> {
    type Row = (Option<String>, Option<String>, Option<String>, bool);
    let old: Option<Row> = tx
        .prepare_cached(
            "SELECT name, parent_id, merged_into, deleted FROM categories WHERE id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let (mut name, mut parent, mut merged, mut deleted) =
        old.clone().unwrap_or((None, None, None, false));
    for (field, reg) in regs {
        match parse_field(id, field, &reg.value) {
            Ok(Field::Name(v)) => name = Some(v),
            Ok(Field::Parent(v)) => parent = v,
            Ok(Field::MergedInto(v)) => merged = v,
            Ok(Field::Deleted(v)) => deleted = v,
            Err(_) => {}
        }
    }
    if name.is_none() {
        return Ok((Rebuilt::Incomplete, false));
    }
    let new: Row = (name, parent, merged, deleted);
    if old.as_ref() == Some(&new) {
        return Ok((Rebuilt::Unchanged, false));
    }
    let structural = match &old {
        None => true,
        Some(o) => (&o.1, &o.2, o.3) != (&new.1, &new.2, new.3),
    };
    tx.prepare_cached(
        "INSERT INTO categories (id, parent_id, name, merged_into, updated_hlc, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, name = excluded.name,
            merged_into = excluded.merged_into, updated_hlc = excluded.updated_hlc,
            deleted = excluded.deleted",
    )?
    .execute(params![id, new.1, new.0, new.2, newest_text(regs), new.3])?;
    Ok((Rebuilt::Changed, structural))
}

/// After categories were merged, deleted, restored or moved by another
/// device: gives each entry in or pointing at one of `changed` its
/// effective category again (its override, else its automatic category,
/// each followed through merges; Other if neither is live). Category
/// budgets' totals must be recomputed afterwards.
pub(crate) fn rederive_entries(
    tx: &Transaction<'_>,
    tree: &CategoryTree,
    changed: &[String],
) -> Result<()> {
    let list = serde_json::to_string(changed).map_err(|_| Error::Corrupt("a category list"))?;
    let moves: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT e.id, e.auto_category, e.category, o.category_id
             FROM ledger_entries e
             LEFT JOIN category_overrides o ON o.entry_id = e.id AND o.deleted = 0
             WHERE e.category IN (SELECT value FROM json_each(?1))
                OR e.auto_category IN (SELECT value FROM json_each(?1))
                OR o.category_id IN (SELECT value FROM json_each(?1))",
        )?;
        let rows = stmt.query_map([list], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut moves = Vec::new();
        for row in rows {
            let (id, auto, current, chosen) = row?;
            let effective = tree.effective(chosen.as_deref(), &auto);
            if effective != current {
                moves.push((id, effective));
            }
        }
        moves
    };
    let mut update = tx.prepare_cached("UPDATE ledger_entries SET category = ?2 WHERE id = ?1")?;
    for (id, category) in moves {
        update.execute(params![id, category])?;
    }
    Ok(())
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
