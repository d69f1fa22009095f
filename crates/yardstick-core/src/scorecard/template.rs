//! Scorecard templates (考核表模板) as checked values: who a template applies to, its items
//! and how each is scored, grades, ranking groups, bonus rules and peak-season overrides.
//! Read from TOML by `read.rs`; every number is an exact decimal.

use crate::engine::Rational;
use crate::time::DayNumber as Day;

/// Which way an item's value is good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// How a value becomes a score (SPEC §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// 0 at or beyond the threshold, 100 at the target, linear between; beyond the target
    /// up to `cap` at `stretch` (100 flat without a stretch).
    Linear,
    /// 100 × value / target (lower is better: 100 × target / value), capped.
    Ratio,
    /// Value bands → points, best band first: higher is better means `value ≥ bound`,
    /// lower is better `value ≤ bound`. Below every band: 0.
    Steps(Vec<Step>),
    /// 100 when the target is met, else 0.
    PassFail,
    /// 100 − points_per_unit × value, floor 0.
    Deduction { points_per_unit: Rational },
    /// A rating on `[min, max]` mapped linearly onto 0–100.
    Rating { min: Rational, max: Rational },
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::Linear => "linear",
            Method::Ratio => "ratio",
            Method::Steps(_) => "steps",
            Method::PassFail => "pass_fail",
            Method::Deduction { .. } => "deduction",
            Method::Rating { .. } => "rating",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub bound: Rational,
    pub points: Rational,
}

/// What an item without a usable value counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Left out; the other items' weights renormalise (the default).
    Exclude,
    /// Scored 0 with its full weight.
    Zero,
    /// Scored this (default 60) with its full weight.
    Neutral(Rational),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Greater,
    GreaterEq,
    Less,
    LessEq,
    Equal,
    NotEqual,
}

impl CmpOp {
    pub fn holds(self, a: Rational, b: Rational) -> bool {
        match self {
            CmpOp::Greater => a > b,
            CmpOp::GreaterEq => a >= b,
            CmpOp::Less => a < b,
            CmpOp::LessEq => a <= b,
            CmpOp::Equal => a == b,
            CmpOp::NotEqual => a != b,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Greater => ">",
            CmpOp::GreaterEq => ">=",
            CmpOp::Less => "<",
            CmpOp::LessEq => "<=",
            CmpOp::Equal => "==",
            CmpOp::NotEqual => "!=",
        }
    }
}

/// `metric op bound`, e.g. `compliance_violations > 0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub metric: String,
    pub op: CmpOp,
    pub bound: Rational,
}

impl Condition {
    pub fn text(&self) -> String {
        format!("{} {} {}", self.metric, self.op.symbol(), self.bound.format6())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VetoEffect {
    /// The total becomes 0.
    Zero,
    /// The grade can be no better than this one.
    GradeCap(String),
    /// Shown, nothing else changes.
    Flag,
}

/// 否决: a condition on the item's value and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Veto {
    pub op: CmpOp,
    pub bound: Rational,
    pub effect: VetoEffect,
}

/// Whose value an item reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Of {
    /// The person's own records.
    Person,
    /// The records of the team the person leads (team-lead and manager templates).
    Team,
}

/// Empirical-Bayes (credibility) shrinkage of a thin sample towards the team's value:
/// `(n × value + k × team) / (n + k)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shrink {
    /// Prior strength `k` in records (default: the minimum sample).
    pub strength: Rational,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Metric id as the engine knows it (`fcr_rate`, `fcr_rate.change`, `rating_mean:attitude`).
    pub metric: String,
    pub name_zh: String,
    pub name_en: String,
    /// Weight in points; a template's weights add up to 100.
    pub weight: Rational,
    /// quality, efficiency, experience, growth, cost — or a BSC perspective.
    pub dimension: String,
    pub qualitative: bool,
    /// Result (结果) or process (过程) indicator.
    pub process: bool,
    pub of: Of,
    pub direction: Direction,
    pub method: Method,
    pub target: Option<Rational>,
    pub threshold: Option<Rational>,
    pub stretch: Option<Rational>,
    /// Highest score (default 100).
    pub cap: Rational,
    pub min_sample: Option<i128>,
    pub shrink: Option<Shrink>,
    pub missing: Missing,
    pub veto: Option<Veto>,
    /// The metric's values are rates (fractions in [0, 1]).
    pub is_rate: bool,
    pub line: usize,
}

/// A peak-season change of weights, targets and thresholds for the days of `[from, to]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub name: String,
    pub from: Day,
    /// Inclusive.
    pub to: Day,
    pub weights: Vec<(String, Rational)>,
    pub targets: Vec<(String, Rational)>,
    pub thresholds: Vec<(String, Rational)>,
}

/// Where people are compared: ranks, forced distributions, bonus pools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    Team,
    Role,
    Org,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Team => "team",
            Group::Role => "role",
            Group::Org => "org",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GradeScheme {
    /// Grade = the first band whose minimum the total reaches (best first); the last band
    /// takes everything below.
    Bands(Vec<(String, Rational)>),
    /// Quotas in percent (best first) within each calibration group, by total, then by
    /// the score of `tie_break`, then by person id.
    Forced { quotas: Vec<(String, Rational)>, group: Group, tie_break: Option<String> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grades {
    pub scheme: GradeScheme,
    /// Bonus coefficient per grade.
    pub coefficients: Vec<(String, Rational)>,
}

impl Grades {
    /// Grades from best to worst.
    pub fn order(&self) -> Vec<&str> {
        match &self.scheme {
            GradeScheme::Bands(b) => b.iter().map(|(g, _)| g.as_str()).collect(),
            GradeScheme::Forced { quotas, .. } => quotas.iter().map(|(g, _)| g.as_str()).collect(),
        }
    }

    pub fn coefficient(&self, grade: &str) -> Option<Rational> {
        self.coefficients.iter().find(|(g, _)| g == grade).map(|(_, c)| *c)
    }

    /// A+ ≥ 95, A ≥ 85, B ≥ 70, C ≥ 60, D below; coefficients 1.5 / 1.2 / 1.0 / 0.8 / 0.5.
    pub fn default_bands() -> Grades {
        let r = |t: &str| Rational::parse_decimal(t).expect("decimal");
        let bands = [("A+", "95"), ("A", "85"), ("B", "70"), ("C", "60"), ("D", "0")];
        let coefficients = [("A+", "1.5"), ("A", "1.2"), ("B", "1"), ("C", "0.8"), ("D", "0.5")];
        Grades {
            scheme: GradeScheme::Bands(bands.iter().map(|(g, m)| (g.to_string(), r(m))).collect()),
            coefficients: coefficients.iter().map(|(g, c)| (g.to_string(), r(c))).collect(),
        }
    }
}

/// "+5 % bonus for each +1 point of the item's value above target".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BonusRule {
    pub metric: String,
    /// One step of value (0.01 = one percentage point of a rate).
    pub per: Rational,
    /// Percent of the bonus per whole step above target.
    pub percent: Rational,
    /// Highest total percent from this rule.
    pub max_percent: Option<Rational>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BonusBase {
    /// base × grade coefficient.
    Base(Rational),
    /// A pool split by total within each group (largest remainder, to the cent).
    Pool { amount: Rational, group: Group },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bonus {
    pub base: BonusBase,
    pub rules: Vec<BonusRule>,
}

/// Who a template applies to. A person matches when any list names them (by id, by a
/// team of theirs or an ancestor team, by role) and `when` holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppliesTo {
    pub roles: Vec<String>,
    pub teams: Vec<String>,
    pub people: Vec<String>,
    pub when: Option<Condition>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cycle {
    Month,
    Quarter,
    Half,
    Year,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub version: u32,
    pub cycles: Vec<Cycle>,
    pub applies_to: AppliesTo,
    pub items: Vec<Item>,
    pub overrides: Vec<Override>,
    pub grades: Grades,
    /// Ranks to compute (default team, role, org).
    pub ranking: Vec<Group>,
    pub bonus: Option<Bonus>,
    /// Also score each team its people lead (team-lead and manager templates).
    pub team_scorecard: bool,
    /// The least share of the weight that items with data must carry for a card to be
    /// graded (default 0.6): below it the card is "insufficient data" (不足以评定) — no
    /// total, grade, rank or bonus.
    pub min_data_share: Rational,
    pub builtin: bool,
    pub file: String,
    pub line: usize,
}

impl Template {
    pub fn item(&self, metric: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.metric == metric)
    }
}
