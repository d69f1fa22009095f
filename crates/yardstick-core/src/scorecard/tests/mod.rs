//! Scorecard tests: every scoring method, missing-data policy, veto effect, grade scheme,
//! ranking and bonus rule against values worked out by hand in the comments; template
//! checks with their positions; properties (totals within [0, cap], renormalised weights
//! sum to 1, shuffled people give identical scorecards).

mod cards;
mod checks;
mod methods;
mod scoring;

use super::read::read_templates;
use super::template::Template;
use crate::engine::Rational;
use crate::metric::Catalogue;

pub fn d(text: &str) -> Rational {
    Rational::parse_decimal(text).unwrap_or_else(|| panic!("not a decimal: {text}"))
}

/// Templates of a TOML text that must be free of errors.
pub fn templates(text: &str) -> Vec<Template> {
    let (templates, diags) = read_templates("t.toml", text, &Catalogue::builtin());
    assert!(diags.is_empty(), "{}", diags.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"));
    templates
}

/// A template with one item of weight 100, written as the item's TOML lines.
pub fn one_item(item: &str) -> Template {
    let text = format!(
        "[[template]]\nid = \"t\"\nname_zh = \"测试\"\nname_en = \"Test\"\nversion = 1\napplies_to = {{ roles = [\"agent\"] }}\n\n[[template.item]]\nweight = 100\ndimension = \"quality\"\n{item}\n"
    );
    templates(&text).remove(0)
}
