//! Merchant category codes (ISO 18245) grouped into the spending
//! categories a wallet shows and budgets by. The grouping follows the
//! ranges card networks publish; it is deliberately coarse.

use serde::Serialize;

/// A spending category. `id()` is stable: it is stored and synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Groceries,
    Restaurants,
    Transport,
    Travel,
    Utilities,
    Telecom,
    Health,
    Shopping,
    Clothing,
    Home,
    Automotive,
    Entertainment,
    Education,
    Government,
    Financial,
    Services,
    Charity,
    /// MCC 0000: codes that carry no category, as person-to-person codes
    /// (Pix, PayNow, KHQR) do.
    Unspecified,
    Other,
}

impl Category {
    pub const ALL: [Category; 19] = [
        Category::Groceries,
        Category::Restaurants,
        Category::Transport,
        Category::Travel,
        Category::Utilities,
        Category::Telecom,
        Category::Health,
        Category::Shopping,
        Category::Clothing,
        Category::Home,
        Category::Automotive,
        Category::Entertainment,
        Category::Education,
        Category::Government,
        Category::Financial,
        Category::Services,
        Category::Charity,
        Category::Unspecified,
        Category::Other,
    ];

    /// The stable snake_case identifier.
    pub fn id(self) -> &'static str {
        match self {
            Category::Groceries => "groceries",
            Category::Restaurants => "restaurants",
            Category::Transport => "transport",
            Category::Travel => "travel",
            Category::Utilities => "utilities",
            Category::Telecom => "telecom",
            Category::Health => "health",
            Category::Shopping => "shopping",
            Category::Clothing => "clothing",
            Category::Home => "home",
            Category::Automotive => "automotive",
            Category::Entertainment => "entertainment",
            Category::Education => "education",
            Category::Government => "government",
            Category::Financial => "financial",
            Category::Services => "services",
            Category::Charity => "charity",
            Category::Unspecified => "unspecified",
            Category::Other => "other",
        }
    }

    /// An English label for display.
    pub fn label(self) -> &'static str {
        match self {
            Category::Groceries => "Groceries",
            Category::Restaurants => "Restaurants and bars",
            Category::Transport => "Transport and fuel",
            Category::Travel => "Travel",
            Category::Utilities => "Utilities",
            Category::Telecom => "Phone and internet",
            Category::Health => "Health",
            Category::Shopping => "Shopping",
            Category::Clothing => "Clothing",
            Category::Home => "Home",
            Category::Automotive => "Car",
            Category::Entertainment => "Entertainment",
            Category::Education => "Education",
            Category::Government => "Government and taxes",
            Category::Financial => "Financial",
            Category::Services => "Services",
            Category::Charity => "Charity and religion",
            Category::Unspecified => "Unspecified",
            Category::Other => "Other",
        }
    }

    /// The category with this id, if any.
    pub fn from_id(id: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.id() == id)
    }
}

/// The category of a four-digit MCC string; anything else is `Other`.
pub fn category_for_mcc(mcc: &str) -> Category {
    if mcc.len() != 4 || !mcc.bytes().all(|b| b.is_ascii_digit()) {
        return Category::Other;
    }
    mcc.parse().map_or(Category::Other, category)
}

/// The category of a numeric MCC. Specific codes are matched before the
/// ranges that contain them (5912 drug stores sit inside 5900-5999 retail).
pub fn category(mcc: u16) -> Category {
    use Category::*;
    match mcc {
        0 => Unspecified,
        // Groceries: supermarkets, freezer and meat, candy, dairy, bakeries,
        // miscellaneous food stores.
        5411 | 5422 | 5441 | 5451 | 5462 | 5499 => Groceries,
        // Eating places, bars, fast food, caterers.
        5811..=5814 => Restaurants,
        // Railways, commuter transport, taxis, buses, tolls, parking, fuel.
        4011 | 4111 | 4112 | 4121 | 4131 | 4784 | 4789 | 5541 | 5542 | 5552 | 7523 => Transport,
        // Airlines, car rental and hotel chains, cruises, travel agencies.
        3000..=3999
        | 4411
        | 4511
        | 4582
        | 4722
        | 4723
        | 7011
        | 7012
        | 7032
        | 7033
        | 7512
        | 7513
        | 7519 => Travel,
        4900 => Utilities,
        4812..=4816 | 4821 | 4899 => Telecom,
        // Ambulances, drug stores, opticians, medical services.
        4119 | 5122 | 5912 | 5975 | 5976 | 8011..=8099 => Health,
        // Money transfer, cash, quasi-cash, securities, insurance.
        4829 | 6010..=6012 | 6050 | 6051 | 6211 | 6300 | 6381 | 6399 | 6513 | 6529..=6540 => {
            Financial
        }
        // Contractors, home supply, furnishing, utilities-adjacent repairs.
        1520..=1799 | 5200..=5299 | 5712..=5719 => Home,
        // Vehicle dealers, parts, tyres, repairs, car washes.
        5511..=5599 | 7531..=7549 => Automotive,
        5600..=5699 => Clothing,
        // Digital goods, cinemas, theatre, sport, recreation, gambling.
        5815..=5818 | 7829..=7999 => Entertainment,
        8211..=8299 | 8351 => Education,
        // Court costs, fines, taxes, government services, postal services.
        9211..=9402 | 9405 | 9950 => Government,
        8398 | 8641 | 8651 | 8661 => Charity,
        // Personal, business, repair and professional services.
        7210..=7299 | 7311..=7399 | 7622..=7699 | 8111 | 8675 | 8699 | 8734 | 8911..=8999 => {
            Services
        }
        // Department, discount and variety stores, electronics, books,
        // sporting goods, miscellaneous retail and direct marketing.
        5300..=5399 | 5700..=5799 | 5900..=5999 | 5044..=5199 => Shopping,
        _ => Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups() {
        for (mcc, cat) in [
            ("5411", Category::Groceries),
            ("5499", Category::Groceries),
            ("5812", Category::Restaurants),
            ("5814", Category::Restaurants),
            ("4111", Category::Transport),
            ("5541", Category::Transport),
            ("3001", Category::Travel),
            ("7011", Category::Travel),
            ("4511", Category::Travel),
            ("4900", Category::Utilities),
            ("5912", Category::Health),
            ("5311", Category::Shopping),
            ("5999", Category::Shopping),
            ("9311", Category::Government),
            ("8398", Category::Charity),
            ("0000", Category::Unspecified),
            ("0001", Category::Other),
            ("12", Category::Other),
            ("abcd", Category::Other),
        ] {
            assert_eq!(category_for_mcc(mcc), cat, "{mcc}");
        }
    }

    #[test]
    fn ids_are_unique_and_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::from_id(c.id()), Some(c));
        }
        let mut ids: Vec<_> = Category::ALL.iter().map(|c| c.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Category::ALL.len());
    }
}
