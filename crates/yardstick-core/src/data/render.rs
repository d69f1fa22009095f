//! A stored value written back as the text an import takes (`2025-03-01T01:30:00Z`,
//! `12.5`, `true`, a referenced record's id): what a partial update starts from, and what
//! a change feed or an audit log shows as "before" and "after".

use super::Dataset;
use super::column::NULL;
use crate::schema::{FieldType, KeySpace, Source};
use crate::time::format_utc;

impl Dataset {
    /// The text of a field of a row as an import would take it; None when empty.
    pub fn field_text(&self, source: Source, field: usize, row: usize) -> Option<String> {
        let table = self.table(source);
        let ty = source.def().fields[field].ty;
        let int = || Some(table.int(field, row)).filter(|&v| v != NULL);
        match ty {
            FieldType::Id | FieldType::Enum(_) | FieldType::Category | FieldType::Period | FieldType::Text => {
                table.text(field, row).map(|t| t.into_owned())
            }
            FieldType::Instant => int().map(format_utc),
            FieldType::Int { .. } => int().map(|v| v.to_string()),
            FieldType::Decimal { .. } => int().map(millionths_text),
            FieldType::Bool => int().map(|v| if v != 0 { "true" } else { "false" }.to_string()),
            FieldType::Ref(target) => int().map(|r| self.table(target).key_text(r as usize)),
            FieldType::Key(KeySpace::Customers) => int().map(|c| self.customers.get(c as u32).into_owned()),
        }
    }

    /// Every field of a row as import text (empty for an empty field), in schema order.
    pub fn row_texts(&self, source: Source, row: usize) -> Vec<String> {
        (0..source.def().fields.len()).map(|f| self.field_text(source, f, row).unwrap_or_default()).collect()
    }
}

/// A decimal held in millionths, written with as few decimals as it needs (`-12.5`).
fn millionths_text(v: i64) -> String {
    let (sign, abs) = if v < 0 { ("-", v.unsigned_abs()) } else { ("", v as u64) };
    let (whole, frac) = (abs / 1_000_000, abs % 1_000_000);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{frac:06}");
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::millionths_text;
    use crate::settings::Settings;

    #[test]
    fn decimals_keep_only_the_digits_they_need() {
        assert_eq!(millionths_text(12_500_000), "12.5");
        assert_eq!(millionths_text(-1), "-0.000001");
        assert_eq!(millionths_text(0), "0");
        assert_eq!(millionths_text(i64::MIN + 1), "-9223372036854.775807");
    }

    /// Every field written back parses to the same record.
    #[test]
    fn texts_round_trip_through_the_parser() {
        let data = crate::testkit::dataset(
            &[
                ("teams", "team_id,name\nT1,热线"),
                ("people", "person_id,name,role,team_id\nP1,张三,agent,T1"),
                (
                    "tickets",
                    "ticket_id,created_at,customer_id,agent_id,channel,handle_seconds,requires_visit\n\
                 K1,2025-03-01T09:30:00+08:00,C9,P1,chat,90,是",
                ),
                ("sales", "sale_id,person_id,customer_id,closed_at,amount\nS1,P1,C9,2025-03-02,1234.56"),
            ],
            &Settings::default(),
        );
        let ticket = crate::schema::Source::Tickets;
        let texts = data.row_texts(ticket, 0);
        let def = ticket.def();
        let at = |name: &str| texts[def.field_index(name).unwrap()].as_str();
        assert_eq!(at("created_at"), "2025-03-01T01:30:00Z");
        assert_eq!(at("customer_id"), "C9");
        assert_eq!(at("agent_id"), "P1");
        assert_eq!(at("requires_visit"), "true");
        assert_eq!(at("first_response_at"), "");
        let sale = data.row_texts(crate::schema::Source::Sales, 0);
        assert!(sale.contains(&"1234.56".to_string()), "{sale:?}");
    }
}
