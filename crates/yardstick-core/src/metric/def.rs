//! Metric definitions as users write them in TOML, checked into [`MetricDef`]s.
//!
//! A metric: an id, zh/en names, a source table, an anchor (which time puts a record into
//! a period), an attribution (which person gets the record), a population filter, named
//! exclusions and an aggregate — or a formula over other metrics. See README.md
//! "Metric language" for the reference with examples.

use serde::Deserialize;
use toml::Spanned;

use crate::diag::Diagnostic;
use crate::lang::ast::Expr;
use crate::lang::parse::parse_expr;
use crate::schema::{FieldType, Source};

/// Output unit of a duration-valued metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl Unit {
    pub fn seconds(self) -> i128 {
        match self {
            Unit::Seconds => 1,
            Unit::Minutes => 60,
            Unit::Hours => 3600,
            Unit::Days => 86_400,
        }
    }
}

/// An expression with the text it came from (for explanations) and where it was written.
#[derive(Clone, Debug)]
pub struct Written {
    pub text: String,
    pub expr: Expr,
    /// Position of the text in its file, to report compile errors.
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Debug)]
pub enum Aggregate {
    Count,
    Sum(Written),
    Mean(Written),
    /// `p` as a fraction `num / den` (median = 1/2).
    Percentile {
        value: Written,
        p_num: i64,
        p_den: i64,
    },
    DistinctCount(Written),
    /// `scale × Σ numerator / Σ denominator` (denominator defaults to 1 per record).
    Ratio {
        numerator: Written,
        denominator: Option<Written>,
        scale: i64,
    },
}

/// When a record counts.
#[derive(Clone, Debug)]
pub enum Anchor {
    /// An instant expression: the record counts in the period containing it.
    Time(Written),
    /// A period-label field (ratings): the record counts in every period containing it.
    Label(String),
    /// A snapshot at the start or end of each period (`live` says which records count).
    PeriodStart,
    PeriodEnd,
}

/// A closed or open interval of instants per record: `(a, b]`, `[a, b]`, …; null = unbounded.
#[derive(Clone, Debug)]
pub struct Interval {
    pub from: Written,
    pub from_inclusive: bool,
    pub to: Written,
    pub to_inclusive: bool,
}

#[derive(Clone, Debug)]
pub struct Exclusion {
    pub when: Written,
    pub reason_zh: String,
    pub reason_en: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonSubjects {
    /// The attributed person.
    Attributed,
    /// Team metrics: a person row for each team lead, with the value of the team(s) they lead.
    TeamLead,
}

#[derive(Clone, Debug)]
pub struct MinDistinct {
    pub field: String,
    pub count: usize,
    /// The rule applies when a counted record satisfies this (all records when absent).
    pub when: Option<Written>,
}

#[derive(Clone, Debug)]
pub struct RecordMetric {
    pub source: Source,
    pub anchor: Anchor,
    /// The instant that decides the credited team (default: the anchor).
    pub credit_at: Option<Written>,
    pub attribution: String,
    pub person_subjects: PersonSubjects,
    pub filter: Option<Written>,
    pub exclusions: Vec<Exclusion>,
    pub aggregate: Aggregate,
    pub unit: Unit,
    pub live: Option<Interval>,
    pub span: Option<Interval>,
    /// Instant differences are measured in business time.
    pub business: bool,
    /// One metric per label of this field (`rating_mean:attitude`).
    pub expand: Option<String>,
    /// Set on an expanded instance: the label it is about.
    pub expanded_label: Option<String>,
    pub min_distinct: Option<MinDistinct>,
}

#[derive(Clone, Debug)]
pub enum MetricKind {
    Records(Box<RecordMetric>),
    Formula(Written),
}

#[derive(Clone, Debug)]
pub struct MetricDef {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub description: Option<String>,
    pub kind: MetricKind,
    /// Listed in the default output of `yardstick metrics` (helpers are not).
    pub listed: bool,
    pub higher_is_better: Option<bool>,
    /// Target for `attainment`.
    pub target: Option<f64>,
    /// Where it was defined.
    pub file: String,
    pub line: usize,
}

impl MetricDef {
    pub fn records(&self) -> Option<&RecordMetric> {
        match &self.kind {
            MetricKind::Records(r) => Some(r),
            MetricKind::Formula(_) => None,
        }
    }

    /// Is the value a rate — a fraction from 0 to 1 (a ratio without a scale, or a formula
    /// `ratio(a, b)`)? Targets, thresholds and stretches of a rate are fractions too.
    pub fn is_rate(&self) -> bool {
        match &self.kind {
            MetricKind::Records(r) => matches!(r.aggregate, Aggregate::Ratio { scale: 1, .. }),
            MetricKind::Formula(w) => matches!(&w.expr, crate::lang::ast::Expr::Call(name, ..) if name == "ratio"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileDoc {
    #[serde(default)]
    pub metric: Vec<Spanned<MetricDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricDoc {
    id: Spanned<String>,
    name_zh: String,
    name_en: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    source: Option<Spanned<String>>,
    #[serde(default)]
    anchor: Option<Spanned<String>>,
    #[serde(default)]
    credit_at: Option<Spanned<String>>,
    #[serde(default)]
    attribution: Option<Spanned<String>>,
    #[serde(default)]
    person_subjects: Option<Spanned<String>>,
    #[serde(default, rename = "where")]
    filter: Option<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<ExclusionDoc>,
    #[serde(default)]
    aggregate: Option<Spanned<String>>,
    #[serde(default)]
    value: Option<Spanned<String>>,
    #[serde(default)]
    numerator: Option<Spanned<String>>,
    #[serde(default)]
    denominator: Option<Spanned<String>>,
    #[serde(default)]
    scale: Option<i64>,
    #[serde(default)]
    p: Option<Spanned<f64>>,
    #[serde(default)]
    unit: Option<Spanned<String>>,
    #[serde(default)]
    live: Option<Spanned<String>>,
    #[serde(default)]
    span: Option<Spanned<String>>,
    #[serde(default)]
    business_variant: Option<VariantDoc>,
    #[serde(default)]
    expand: Option<Spanned<String>>,
    #[serde(default)]
    min_distinct: Option<MinDistinctDoc>,
    #[serde(default)]
    formula: Option<Spanned<String>>,
    #[serde(default = "yes")]
    listed: bool,
    #[serde(default)]
    higher_is_better: Option<bool>,
    #[serde(default)]
    target: Option<f64>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExclusionDoc {
    when: Spanned<String>,
    reason_zh: String,
    reason_en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantDoc {
    id: String,
    name_zh: String,
    name_en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MinDistinctDoc {
    field: Spanned<String>,
    count: usize,
    #[serde(default)]
    when: Option<Spanned<String>>,
}

/// Reads the metric definitions of a file. Returns the metrics that are well-formed and
/// a diagnostic for each problem (syntax, unknown source or field, missing key).
pub fn read_metrics(file: &str, text: &str) -> (Vec<MetricDef>, Vec<Diagnostic>) {
    let doc: FileDoc = match crate::diag::parse_toml(file, text) {
        Ok(doc) => doc,
        Err(d) => return (Vec::new(), vec![d]),
    };
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for spanned in doc.metric {
        let line = crate::diag::line_column(text, spanned.span().start).0;
        let reader = Reader { file, text };
        match reader.metric(spanned.into_inner(), line) {
            Ok(defs) => out.extend(defs),
            Err(d) => diags.push(d),
        }
    }
    (out, diags)
}

struct Reader<'a> {
    file: &'a str,
    text: &'a str,
}

impl Reader<'_> {
    fn error<T>(&self, at: usize, message: impl Into<String>, fix: &str) -> Result<T, Diagnostic> {
        let d = Diagnostic::at_span(self.file, self.text, at, message).code("metric.invalid");
        Err(if fix.is_empty() { d } else { d.fix(fix) })
    }

    /// Parses an expression written in a TOML string; errors point into the file.
    fn expr(&self, s: &Spanned<String>) -> Result<Written, Diagnostic> {
        let value_start = s.span().start;
        // The string's content starts after its opening quote(s).
        let quote = if self.text[value_start..].starts_with("\"\"\"") || self.text[value_start..].starts_with("'''") {
            3
        } else {
            1
        };
        let content_start = value_start + quote;
        let (line, column) = crate::diag::line_column(self.text, content_start);
        match parse_expr(s.get_ref()) {
            Ok(expr) => Ok(Written { text: s.get_ref().clone(), expr, file: self.file.to_string(), line, column }),
            Err(e) => self.error(content_start + e.offset, format!("in `{}`: {}", excerpt(s.get_ref()), e.message), ""),
        }
    }

    fn interval(&self, s: &Spanned<String>) -> Result<Interval, Diagnostic> {
        let t = s.get_ref().trim();
        let fix = "write an interval such as \"(created_at + 3d, resolved_at]\" or \"[hired_at, left_at]\"";
        let (Some(open), Some(close)) = (t.chars().next(), t.chars().last()) else {
            return self.error(s.span().start, "empty interval", fix);
        };
        if !matches!(open, '(' | '[') || !matches!(close, ')' | ']') {
            return self.error(s.span().start, format!("`{t}` is not an interval"), fix);
        }
        let inner = &t[1..t.len() - 1];
        let Some(comma) = top_level_comma(inner) else {
            return self.error(s.span().start, format!("`{t}` needs two bounds separated by a comma"), fix);
        };
        let part = |text: &str| self.expr(&Spanned::new(s.span(), text.trim().to_string()));
        Ok(Interval {
            from: part(&inner[..comma])?,
            from_inclusive: open == '[',
            to: part(&inner[comma + 1..])?,
            to_inclusive: close == ']',
        })
    }

    fn metric(&self, doc: MetricDoc, line: usize) -> Result<Vec<MetricDef>, Diagnostic> {
        let id = doc.id.get_ref().clone();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return self.error(
                doc.id.span().start,
                format!("metric id `{id}` must be lowercase letters, digits and _"),
                "rename it, e.g. first_response_24h_rate",
            );
        }
        let base = |kind| MetricDef {
            id: id.clone(),
            name_zh: doc.name_zh.clone(),
            name_en: doc.name_en.clone(),
            description: doc.description.clone(),
            kind,
            listed: doc.listed,
            higher_is_better: doc.higher_is_better,
            target: doc.target,
            file: self.file.to_string(),
            line,
        };
        if let Some(formula) = &doc.formula {
            if doc.source.is_some() || doc.aggregate.is_some() {
                return self.error(
                    formula.span().start,
                    "a metric has either a formula or a source and aggregate, not both",
                    "remove `formula` or `source`/`aggregate`",
                );
            }
            return Ok(vec![base(MetricKind::Formula(self.expr(formula)?))]);
        }
        let need = |field: &Option<Spanned<String>>, name: &str| -> Result<Spanned<String>, Diagnostic> {
            field.clone().ok_or_else(|| {
                Diagnostic::at_span(self.file, self.text, doc.id.span().start, format!("metric {id} needs `{name}`"))
                    .code("metric.missing_key")
                    .fix(format!("add {name} = \"…\" (see README, Metric language)"))
            })
        };
        let source_name = need(&doc.source, "source")?;
        let Some(source) = Source::parse(source_name.get_ref()) else {
            let names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
            return self.error(
                source_name.span().start,
                format!("`{}` is not a source", source_name.get_ref()),
                &format!("use one of {}", names.join(", ")),
            );
        };
        let def = source.def();
        let anchor_text = need(&doc.anchor, "anchor")?;
        let anchor = match anchor_text.get_ref().as_str() {
            "period_start" => Anchor::PeriodStart,
            "period_end" => Anchor::PeriodEnd,
            name if matches!(def.field(name).map(|f| f.ty), Some(FieldType::Period)) => Anchor::Label(name.to_string()),
            _ => Anchor::Time(self.expr(&anchor_text)?),
        };
        let snapshot = matches!(anchor, Anchor::PeriodStart | Anchor::PeriodEnd);
        let attribution = need(&doc.attribution, "attribution")?;
        match def.field(attribution.get_ref()).map(|f| f.ty) {
            Some(FieldType::Ref(Source::People)) => {}
            Some(FieldType::Id) if source == Source::People => {}
            _ => {
                let persons: Vec<&str> = def
                    .fields
                    .iter()
                    .filter(|f| {
                        matches!(f.ty, FieldType::Ref(Source::People))
                            || (source == Source::People && f.ty == FieldType::Id)
                    })
                    .map(|f| f.name)
                    .collect();
                return self.error(
                    attribution.span().start,
                    format!("`{}` is not a person field of {}", attribution.get_ref(), def.name),
                    &format!("use one of {}", persons.join(", ")),
                );
            }
        }
        let person_subjects = match doc.person_subjects.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("attributed") => PersonSubjects::Attributed,
            Some("team_lead") => PersonSubjects::TeamLead,
            Some(other) => {
                let at = doc.person_subjects.as_ref().map_or(0, |s| s.span().start);
                return self.error(
                    at,
                    format!("person_subjects `{other}` is unknown"),
                    "use \"attributed\" or \"team_lead\"",
                );
            }
        };
        let aggregate_name = need(&doc.aggregate, "aggregate")?;
        let value = || need(&doc.value, "value").and_then(|v| self.expr(&v));
        let aggregate = match aggregate_name.get_ref().as_str() {
            "count" => Aggregate::Count,
            "sum" => Aggregate::Sum(value()?),
            "mean" => Aggregate::Mean(value()?),
            "median" => Aggregate::Percentile { value: value()?, p_num: 1, p_den: 2 },
            "percentile" => {
                let p = doc.p.as_ref().ok_or_else(|| {
                    Diagnostic::at_span(self.file, self.text, aggregate_name.span().start, "percentile needs p")
                        .code("metric.invalid")
                        .fix("add p = 0.9")
                })?;
                let v = *p.get_ref();
                let p_num = (v * 1_000_000.0).round() as i64;
                if !(0.0..=1.0).contains(&v) || (p_num as f64 - v * 1_000_000.0).abs() > 1e-6 {
                    return self.error(
                        p.span().start,
                        format!("p = {v} must be between 0 and 1 with at most 6 decimals"),
                        "write e.g. p = 0.9",
                    );
                }
                Aggregate::Percentile { value: value()?, p_num, p_den: 1_000_000 }
            }
            "distinct_count" => Aggregate::DistinctCount(value()?),
            "ratio" => Aggregate::Ratio {
                numerator: self.expr(&need(&doc.numerator, "numerator")?)?,
                denominator: doc.denominator.as_ref().map(|d| self.expr(d)).transpose()?,
                scale: doc.scale.unwrap_or(1),
            },
            other => {
                return self.error(
                    aggregate_name.span().start,
                    format!("aggregate `{other}` is unknown"),
                    "use count, sum, mean, median, percentile, distinct_count or ratio",
                );
            }
        };
        let unit = match doc.unit.as_ref().map(|u| u.get_ref().as_str()) {
            None | Some("seconds") => Unit::Seconds,
            Some("minutes") => Unit::Minutes,
            Some("hours") => Unit::Hours,
            Some("days") => Unit::Days,
            Some(other) => {
                let at = doc.unit.as_ref().map_or(0, |u| u.span().start);
                return self.error(at, format!("unit `{other}` is unknown"), "use seconds, minutes, hours or days");
            }
        };
        let live = doc.live.as_ref().map(|l| self.interval(l)).transpose()?;
        if snapshot != live.is_some() {
            let at = doc.live.as_ref().map_or(anchor_text.span().start, |l| l.span().start);
            return self.error(
                at,
                "`live` goes with anchor = \"period_start\" or \"period_end\" (and only with them)",
                "add or remove live = \"[from, to)\"",
            );
        }
        if let Some(expand) = &doc.expand
            && !matches!(def.field(expand.get_ref()).map(|f| f.ty), Some(FieldType::Category | FieldType::Enum(_)))
        {
            return self.error(
                expand.span().start,
                format!("`{}` is not a label field of {}", expand.get_ref(), def.name),
                "expand over a category field such as item",
            );
        }
        let min_distinct = match &doc.min_distinct {
            None => None,
            Some(m) => {
                if def.field(m.field.get_ref()).is_none() {
                    return self.error(
                        m.field.span().start,
                        format!("`{}` is not a field of {}", m.field.get_ref(), def.name),
                        "",
                    );
                }
                Some(MinDistinct {
                    field: m.field.get_ref().clone(),
                    count: m.count,
                    when: m.when.as_ref().map(|w| self.expr(w)).transpose()?,
                })
            }
        };
        let record = RecordMetric {
            source,
            anchor,
            credit_at: doc.credit_at.as_ref().map(|c| self.expr(c)).transpose()?,
            attribution: attribution.get_ref().clone(),
            person_subjects,
            filter: doc.filter.as_ref().map(|f| self.expr(f)).transpose()?,
            exclusions: doc
                .exclude
                .iter()
                .map(|e| {
                    Ok(Exclusion {
                        when: self.expr(&e.when)?,
                        reason_zh: e.reason_zh.clone(),
                        reason_en: e.reason_en.clone(),
                    })
                })
                .collect::<Result<_, Diagnostic>>()?,
            aggregate,
            unit,
            span: doc.span.as_ref().map(|s| self.interval(s)).transpose()?.or_else(|| live.clone()),
            live,
            business: false,
            expand: doc.expand.as_ref().map(|e| e.get_ref().clone()),
            expanded_label: None,
            min_distinct,
        };
        let mut defs = Vec::new();
        if let Some(variant) = &doc.business_variant {
            let mut v = base(MetricKind::Records(Box::new(RecordMetric { business: true, ..record.clone() })));
            v.id = variant.id.clone();
            v.name_zh = variant.name_zh.clone();
            v.name_en = variant.name_en.clone();
            v.listed = false;
            defs.push(v);
        }
        defs.insert(0, base(MetricKind::Records(Box::new(record))));
        Ok(defs)
    }
}

fn top_level_comma(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// An expression as quoted in a message: whole when short, else its start.
pub(crate) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
