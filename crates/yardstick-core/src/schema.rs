//! The canonical record kinds of SPEC §3: every source table, its fields, their types and
//! the checks a row must pass. Import, the metric language and the engine all read this.

/// A source table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Teams,
    People,
    Memberships,
    Tickets,
    Visits,
    Surveys,
    Complaints,
    Audits,
    Trainings,
    Ratings,
    Sales,
    Knowledge,
    Parts,
}

impl Source {
    /// In dependency order: a table only refers to tables before it.
    pub const ALL: [Source; 13] = [
        Source::Teams,
        Source::People,
        Source::Memberships,
        Source::Tickets,
        Source::Visits,
        Source::Surveys,
        Source::Complaints,
        Source::Audits,
        Source::Trainings,
        Source::Ratings,
        Source::Sales,
        Source::Knowledge,
        Source::Parts,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The table's name, which is also its file stem (`tickets` → `tickets.csv`).
    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn parse(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn def(self) -> &'static TableDef {
        &TABLES[self.index()]
    }
}

/// Key spaces that are shared by several tables without being a table themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeySpace {
    Customers,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// The table's natural key.
    Id,
    /// The natural key of a row of another table (or of this one: `parent_team_id`).
    Ref(Source),
    /// A key shared across tables (`customer_id`).
    Key(KeySpace),
    Instant,
    Int {
        min: i64,
        max: i64,
    },
    /// A decimal number, held exactly in millionths, from `min` to `max` (whole units).
    Decimal {
        min: i64,
        max: i64,
    },
    Bool,
    /// A closed set of values.
    Enum(&'static [&'static str]),
    /// An open set of labels (category, product, course, …), dictionary-coded.
    Category,
    Text,
    /// A period label such as `2025-03` (ratings).
    Period,
}

#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: bool,
}

/// `later` must not be before `earlier` when both are present.
#[derive(Clone, Copy, Debug)]
pub struct OrderCheck {
    pub earlier: &'static str,
    pub later: &'static str,
}

#[derive(Debug)]
pub struct TableDef {
    pub source: Source,
    pub name: &'static str,
    pub fields: &'static [FieldDef],
    /// Fields that together form the natural key (one `Id` field, or e.g. person + from).
    pub key: &'static [&'static str],
    pub order_checks: &'static [OrderCheck],
    /// Fields whose empty value is filled from the referenced ticket (`agent_id` of
    /// surveys and complaints defaults to the ticket's agent).
    pub defaults_from_ticket: &'static [&'static str],
}

impl TableDef {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

pub const ROLES: &[&str] =
    &["agent", "technician", "complaint_specialist", "cr_specialist", "team_lead", "manager", "auditor", "hr", "admin"];
pub const CHANNELS: &[&str] = &["phone", "chat", "email", "app", "onsite", "other"];
pub const CAUSES: &[&str] = &["service", "product_defect", "customer", "logistics", "other"];
pub const SEVERITIES: &[&str] = &["minor", "major"];
pub const TRAINING_KINDS: &[&str] = &["training", "certification", "exam"];
pub const RELATIONS: &[&str] = &["manager", "peer", "cross_department", "self", "customer"];

const fn f(name: &'static str, ty: FieldType) -> FieldDef {
    FieldDef { name, ty, required: false }
}

const fn req(name: &'static str, ty: FieldType) -> FieldDef {
    FieldDef { name, ty, required: true }
}

const COUNT: FieldType = FieldType::Int { min: 0, max: 1_000_000_000 };
/// Scores on a 0–100 scale (QA audits, exams, ratings).
const SCORE_100: FieldType = FieldType::Decimal { min: 0, max: 100 };
/// Money of one record, in yuan.
const MONEY: FieldType = FieldType::Decimal { min: 0, max: 100_000_000 };
const SCORE_1_5: FieldType = FieldType::Int { min: 1, max: 5 };
const fn check(earlier: &'static str, later: &'static str) -> OrderCheck {
    OrderCheck { earlier, later }
}

use FieldType::*;

pub static TABLES: [TableDef; 13] = [
    TableDef {
        source: Source::Teams,
        name: "teams",
        fields: &[
            req("team_id", Id),
            req("name", Text),
            // Resolved when the whole file is in: a parent may be listed after its children.
            f("parent_team_id", Text),
            // People are loaded after teams; the lead is resolved when people are in.
            f("lead_id", Text),
            f("region", Category),
        ],
        key: &["team_id"],
        order_checks: &[],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::People,
        name: "people",
        fields: &[
            req("person_id", Id),
            req("name", Text),
            req("role", Category),
            req("team_id", Ref(Source::Teams)),
            // Managers may appear later in the file than the people they manage.
            f("manager_id", Text),
            f("email", Text),
            f("hired_at", Instant),
            f("left_at", Instant),
        ],
        key: &["person_id"],
        order_checks: &[check("hired_at", "left_at")],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::Memberships,
        name: "memberships",
        fields: &[
            req("person_id", Ref(Source::People)),
            req("team_id", Ref(Source::Teams)),
            req("from", Instant),
            f("to", Instant),
        ],
        key: &["person_id", "from"],
        order_checks: &[check("from", "to")],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::Tickets,
        name: "tickets",
        fields: &[
            req("ticket_id", Id),
            req("created_at", Instant),
            req("customer_id", Key(KeySpace::Customers)),
            f("agent_id", Ref(Source::People)),
            f("channel", Enum(CHANNELS)),
            f("category", Category),
            f("product", Category),
            f("priority", Category),
            f("first_response_at", Instant),
            f("resolved_at", Instant),
            f("closed_at", Instant),
            f("reopen_count", COUNT),
            f("contact_count", COUNT),
            // A week of handling is already beyond any real ticket.
            f("handle_seconds", Int { min: 0, max: 604_800 }),
            f("requires_visit", Bool),
            f("cause", Enum(CAUSES)),
            f("status", Category),
            f("customer_tier", Category),
            f("fields_complete", Bool),
        ],
        key: &["ticket_id"],
        order_checks: &[
            check("created_at", "first_response_at"),
            check("created_at", "resolved_at"),
            check("created_at", "closed_at"),
        ],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::Visits,
        name: "visits",
        fields: &[
            req("visit_id", Id),
            req("ticket_id", Ref(Source::Tickets)),
            req("technician_id", Ref(Source::People)),
            req("visit_seq", Int { min: 1, max: 10_000 }),
            req("scheduled_at", Instant),
            f("arrived_at", Instant),
            f("finished_at", Instant),
            f("fixed", Bool),
            f("cancelled", Bool),
            f("parts_cost", MONEY),
        ],
        key: &["visit_id"],
        order_checks: &[check("arrived_at", "finished_at")],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::Surveys,
        name: "surveys",
        fields: &[
            req("survey_id", Id),
            req("ticket_id", Ref(Source::Tickets)),
            req("answered_at", Instant),
            f("agent_id", Ref(Source::People)),
            f("csat", SCORE_1_5),
            f("nps", Int { min: 0, max: 10 }),
            f("attitude", SCORE_1_5),
            f("skill", SCORE_1_5),
            f("speed", SCORE_1_5),
            f("standards", SCORE_1_5),
            f("comment", Text),
        ],
        key: &["survey_id"],
        order_checks: &[],
        defaults_from_ticket: &["agent_id"],
    },
    TableDef {
        source: Source::Complaints,
        name: "complaints",
        fields: &[
            req("complaint_id", Id),
            req("ticket_id", Ref(Source::Tickets)),
            req("received_at", Instant),
            f("agent_id", Ref(Source::People)),
            f("severity", Enum(SEVERITIES)),
            f("responded_at", Instant),
            f("resolved_at", Instant),
            f("satisfied", Bool),
            f("recovered", Bool),
        ],
        key: &["complaint_id"],
        order_checks: &[check("received_at", "responded_at"), check("received_at", "resolved_at")],
        defaults_from_ticket: &["agent_id"],
    },
    TableDef {
        source: Source::Audits,
        name: "audits",
        fields: &[
            req("audit_id", Id),
            req("person_id", Ref(Source::People)),
            req("audited_at", Instant),
            req("kind", Category),
            f("ticket_id", Ref(Source::Tickets)),
            f("auditor_id", Ref(Source::People)),
            f("score", SCORE_100),
            f("items_passed", COUNT),
            f("items_total", COUNT),
            f("compliance_violation", Bool),
            f("handling_error", Bool),
            f("note", Text),
        ],
        key: &["audit_id"],
        order_checks: &[check("items_passed", "items_total")],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::Trainings,
        name: "trainings",
        fields: &[
            req("record_id", Id),
            req("person_id", Ref(Source::People)),
            req("kind", Enum(TRAINING_KINDS)),
            req("course", Category),
            f("completed_at", Instant),
            f("passed", Bool),
            f("score", SCORE_100),
            // Not in SPEC §3: when an assigned training is due. With it, trainings that
            // were never completed count against completion (see the catalogue).
            f("due_at", Instant),
        ],
        key: &["record_id"],
        order_checks: &[],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::Ratings,
        name: "ratings",
        fields: &[
            req("rating_id", Id),
            req("ratee_id", Ref(Source::People)),
            req("rater_id", Ref(Source::People)),
            req("period", Period),
            req("item", Category),
            req("score", SCORE_100),
            f("relation", Enum(RELATIONS)),
        ],
        key: &["rating_id"],
        order_checks: &[],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::Sales,
        name: "sales",
        fields: &[
            req("sale_id", Id),
            req("person_id", Ref(Source::People)),
            req("customer_id", Key(KeySpace::Customers)),
            req("closed_at", Instant),
            // Refunds are negative.
            req("amount", Decimal { min: -100_000_000, max: 100_000_000 }),
            f("kind", Category),
        ],
        key: &["sale_id"],
        order_checks: &[],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::Knowledge,
        name: "knowledge",
        fields: &[
            req("contribution_id", Id),
            req("person_id", Ref(Source::People)),
            req("adopted_at", Instant),
            f("kind", Category),
            f("reuse_count", COUNT),
        ],
        key: &["contribution_id"],
        order_checks: &[],
        defaults_from_ticket: &[],
    },
    TableDef {
        source: Source::Parts,
        name: "parts",
        fields: &[
            req("usage_id", Id),
            req("visit_id", Ref(Source::Visits)),
            req("part", Category),
            req("quantity", Decimal { min: 0, max: 100_000 }),
            req("unit_cost", MONEY),
            f("old_part_returned", Bool),
            f("compliant", Bool),
        ],
        key: &["usage_id"],
        order_checks: &[],
        defaults_from_ticket: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_in_dependency_order_and_checks_name_real_fields() {
        for (i, def) in TABLES.iter().enumerate() {
            assert_eq!(def.source.index(), i);
            assert_eq!(Source::parse(def.name), Some(def.source));
            for field in def.fields {
                if let FieldType::Ref(target) = field.ty {
                    assert!(target.index() <= i, "{}.{} refers forward", def.name, field.name);
                }
            }
            for key in def.key {
                assert!(def.field(key).is_some_and(|f| f.required), "{}.{key}", def.name);
            }
            for c in def.order_checks {
                assert!(def.field(c.earlier).is_some() && def.field(c.later).is_some());
            }
        }
    }
}
