//! Planning: the record metrics of one source compiled into one shared program, grouped by
//! how records are placed (anchor, credit instant, attribution), so that one pass over the
//! table computes every metric that reads it.

use super::timeline::Timeline;
use crate::data::{Column, Dataset, NULL};
use crate::diag::Diagnostic;
use crate::lang::compile::Params;
use crate::lang::eval::ExistsIndex;
use crate::lang::program::{Node, NodeId, Program, Side, Ty};
use crate::metric::{Aggregate, Anchor, CompiledMetric, MetricDef, PersonSubjects, Unit, compile_into};
use crate::period::Period;
use crate::schema::Source;
use crate::time::{Instant, OrgTimeZone};

/// How a group's records map to accumulation slots.
#[derive(Clone, Debug, PartialEq)]
pub enum Slots {
    /// Slot = atom of the anchor instant.
    Atoms { anchor: NodeId },
    /// Slot = requested period; a record counts in every period containing its label.
    Labels { field: u16, periods_of_code: Vec<Vec<u32>>, credit_of_code: Vec<Instant> },
    /// Slot = requested period; a snapshot at each period's start or end.
    Snapshot { at_end: bool, live: (NodeId, bool, NodeId, bool), span: (NodeId, bool, NodeId, bool) },
}

#[derive(Clone, Debug)]
pub struct Group {
    pub slots: Slots,
    /// The period-label field's node (label groups).
    pub label_node: Option<NodeId>,
    /// Expanded metrics (`rating_mean:attitude`): only records with this label exist for
    /// the metric — (node of the expanded field, code).
    pub label_filter: Option<(NodeId, i64)>,
    pub credit: Option<NodeId>,
    pub person: NodeId,
    /// Cells ([`super::cells::Cells`]) × slots = accumulator indexes ([`Group::acc`]).
    pub n_cells: usize,
    pub n_slots: usize,
    /// Counters per accumulator index: 1 (records placed) + the widths of its metrics.
    pub width: usize,
    /// Snapshot groups: the number of atoms, by which the scan counts records present
    /// (`State::presence`) before spreading the counts over the periods.
    pub presence_atoms: usize,
}

impl Group {
    /// The accumulator index of `(cell, slot)`. Slot-major: the rows of one atom (or
    /// period) for all cells are adjacent, so a pass over records in time order keeps the
    /// few hundred kilobytes of the current atom's counters in cache instead of touching a
    /// cache line per cell all over the state.
    #[inline]
    pub fn acc(&self, cell: u32, slot: u32) -> u32 {
        slot * self.n_cells as u32 + cell
    }

    /// `(cell, slot)` of an accumulator index.
    #[inline]
    pub fn cell_slot(&self, acc: usize) -> (usize, usize) {
        (acc % self.n_cells, acc / self.n_cells)
    }

    /// Accumulator indexes (rows of counters).
    pub fn n_accs(&self) -> usize {
        self.n_cells * self.n_slots
    }

    /// The index in [`super::scan::State::presence`] of `(cell, atom)`: the layout of
    /// [`Group::acc`], with atoms for slots ([`Group::cell_slot`] takes it apart).
    #[inline]
    pub fn presence_index(&self, cell: u32, atom: u32) -> usize {
        self.acc(cell, atom) as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggKind {
    Count,
    Sum,
    Mean,
    Percentile { p_num: i64, p_den: i64 },
    Distinct,
    Ratio { scale: i64 },
}

#[derive(Clone, Debug)]
pub struct PlannedMetric {
    /// Index of the metric in the query's metric list.
    pub metric: usize,
    pub compiled: CompiledMetric,
    pub group: usize,
    pub agg: AggKind,
    pub unit: Unit,
    pub team_lead: bool,
    /// The field whose distinct values the minimum-distinct rule counts.
    pub min_distinct_key: Option<NodeId>,
    /// A percentile metric collecting exactly the same values as an earlier one (median
    /// and p90 of the same times) uses that metric's values instead of its own.
    pub shares_values_with: Option<usize>,
    /// Where this metric's counters are in its group's rows: `first` the count, numerator
    /// or sum; `second` the denominator, or the number of values of a sum or mean. A count,
    /// or the denominator of a share (`ratio` without `denominator`), over every record
    /// placed — no `where`, no exclusion, not a snapshot — is counter 0 itself: fewer
    /// counters per row keep the rows the scan is filling in cache.
    pub first: Option<usize>,
    pub second: Option<usize>,
    /// The min-distinct flag's counter.
    pub applies_offset: Option<usize>,
    /// The first metric of the plan with the same population (`where` and exclusions): the
    /// scan computes one mask per population.
    pub population: usize,
}

#[derive(Clone, Debug)]
pub struct SourcePlan {
    pub source: Source,
    pub prog: Program,
    pub metrics: Vec<PlannedMetric>,
    pub groups: Vec<Group>,
}

impl SourcePlan {
    /// The nodes a pass evaluates: those the groups and metrics read, and what they are
    /// computed from. An `exists` whose answers are known (`answered[i]`) is read from
    /// them, so the nodes only its probe would read (key, window) are left out.
    pub fn needed_nodes(&self, answered: &[bool]) -> Vec<bool> {
        let mut roots: Vec<NodeId> = Vec::new();
        for g in &self.groups {
            roots
                .extend([Some(g.person), g.credit, g.label_node, g.label_filter.map(|(n, _)| n)].into_iter().flatten());
            match &g.slots {
                Slots::Atoms { anchor } => roots.push(*anchor),
                Slots::Labels { .. } => {}
                Slots::Snapshot { live, span, .. } => roots.extend([live.0, live.2, span.0, span.2]),
            }
        }
        for m in &self.metrics {
            let c = &m.compiled;
            roots.extend([c.filter, c.numerator, c.denominator, c.value, m.min_distinct_key].into_iter().flatten());
            roots.extend(&c.exclusions);
            roots.extend(c.min_distinct.and_then(|(_, _, when)| when));
        }
        self.prog.reachable(roots, |i| !answered.get(i).copied().unwrap_or(false))
    }

    /// The indexes that answer the program's `exists` conditions row by row.
    pub fn exists_indexes(&self, data: &Dataset) -> Vec<ExistsIndex> {
        self.prog
            .exists
            .iter()
            .map(|plan| ExistsIndex::build(data.table(plan.inner), plan.key_field, plan.time_field))
            .collect()
    }
}

/// Plans the record metrics of `source` among `metrics` (indices into it are kept).
pub fn plan_source(
    source: Source,
    metrics: &[MetricDef],
    data: &Dataset,
    params: &Params,
    timeline: &Timeline,
    tz: &OrgTimeZone,
    n_cells: usize,
) -> Result<Option<SourcePlan>, Diagnostic> {
    let mut prog = Program::new(source);
    let mut planned = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for (i, m) in metrics.iter().enumerate() {
        let Some(r) = m.records() else { continue };
        if r.source != source {
            continue;
        }
        let compiled = compile_into(&mut prog, m, r, data, params)?;
        let person = prog.add(
            Node::Field { side: Side::Row, field: compiled.attribution_field },
            Ty::Row(crate::schema::Source::People),
        );
        let slots = match &r.anchor {
            Anchor::Time(_) => Slots::Atoms { anchor: compiled.anchor.expect("time anchor") },
            Anchor::Label(field) => label_slots(data, source, field, timeline, tz),
            Anchor::PeriodStart | Anchor::PeriodEnd => Slots::Snapshot {
                at_end: matches!(r.anchor, Anchor::PeriodEnd),
                live: compiled.live.expect("snapshot has live"),
                span: compiled.span.expect("snapshot has span"),
            },
        };
        let n_slots = match slots {
            Slots::Atoms { .. } => timeline.n_atoms(),
            _ => timeline.periods.len(),
        };
        let label_node = match &slots {
            Slots::Labels { field, .. } => Some(prog.add(Node::Field { side: Side::Row, field: *field }, Ty::Int)),
            _ => None,
        };
        let label_filter =
            compiled.label.map(|(field, code)| (prog.add(Node::Field { side: Side::Row, field }, Ty::Int), code));
        let presence_atoms = if matches!(slots, Slots::Snapshot { .. }) { timeline.n_atoms() } else { 0 };
        let group = Group {
            slots,
            label_node,
            label_filter,
            credit: compiled.credit_at,
            person,
            n_cells,
            n_slots,
            width: 1,
            presence_atoms,
        };
        let same = |x: &Group| {
            x.slots == group.slots
                && x.credit == group.credit
                && x.person == group.person
                && x.label_filter == group.label_filter
        };
        let g = groups.iter().position(same).unwrap_or_else(|| {
            groups.push(group);
            groups.len() - 1
        });
        let agg = match &r.aggregate {
            Aggregate::Count => AggKind::Count,
            Aggregate::Sum(_) => AggKind::Sum,
            Aggregate::Mean(_) => AggKind::Mean,
            Aggregate::Percentile { p_num, p_den, .. } => AggKind::Percentile { p_num: *p_num, p_den: *p_den },
            Aggregate::DistinctCount(_) => AggKind::Distinct,
            Aggregate::Ratio { scale, .. } => AggKind::Ratio { scale: *scale },
        };
        let field_node = |prog: &mut Program, field: u16| prog.add(Node::Field { side: Side::Row, field }, Ty::Int);
        let min_distinct_key = compiled.min_distinct.map(|(field, _, _)| field_node(&mut prog, field));
        planned.push(PlannedMetric {
            metric: i,
            compiled,
            group: g,
            agg,
            unit: r.unit,
            team_lead: r.person_subjects == PersonSubjects::TeamLead,
            min_distinct_key,
            shares_values_with: None,
            first: None,
            second: None,
            applies_offset: None,
            population: planned.len(),
        });
    }
    if planned.is_empty() {
        return Ok(None);
    }
    for m in planned.iter_mut() {
        let group = &mut groups[m.group];
        let every_placed = !matches!(group.slots, Slots::Snapshot { .. })
            && m.compiled.filter.is_none()
            && m.compiled.exclusions.is_empty();
        let w = group.width;
        (m.first, m.second, group.width) = match m.agg {
            AggKind::Count if every_placed => (Some(0), None, w),
            AggKind::Count => (Some(w), None, w + 1),
            AggKind::Ratio { .. } if every_placed && m.compiled.denominator.is_none() => (Some(w), Some(0), w + 1),
            AggKind::Ratio { .. } | AggKind::Sum | AggKind::Mean => (Some(w), Some(w + 1), w + 2),
            AggKind::Percentile { .. } | AggKind::Distinct => (None, None, w),
        };
        if m.compiled.min_distinct.is_some() {
            m.applies_offset = Some(group.width);
            group.width += 1;
        }
    }
    let value_lists = |m: &PlannedMetric| {
        matches!(m.agg, AggKind::Percentile { .. } | AggKind::Distinct) && m.compiled.min_distinct.is_none()
    };
    for j in 0..planned.len() {
        let same = |i: usize| {
            let (a, b) = (&planned[i], &planned[j]);
            value_lists(a)
                && value_lists(b)
                && a.group == b.group
                && a.compiled.value == b.compiled.value
                && a.compiled.filter == b.compiled.filter
                && a.compiled.exclusions == b.compiled.exclusions
        };
        planned[j].shares_values_with = (0..j).find(|&i| same(i) && planned[i].shares_values_with.is_none());
    }
    for j in 0..planned.len() {
        let (filter, exclusions) = (planned[j].compiled.filter, &planned[j].compiled.exclusions);
        planned[j].population = (0..j)
            .find(|&i| planned[i].compiled.filter == filter && planned[i].compiled.exclusions == *exclusions)
            .unwrap_or(j);
    }
    Ok(Some(SourcePlan { source, prog, metrics: planned, groups }))
}

/// For a period-label field: which requested periods contain each label's period, and the
/// instant (the label period's start) that decides the credited team.
fn label_slots(data: &Dataset, source: Source, field: &str, timeline: &Timeline, tz: &OrgTimeZone) -> Slots {
    let table = data.table(source);
    let f = table.def().field_index(field).expect("label field") as u16;
    let (mut periods_of_code, mut credit_of_code) = (Vec::new(), Vec::new());
    if let Column::Coded { dict, .. } = &table.columns[f as usize] {
        for code in 0..dict.len() as u32 {
            match Period::parse(&dict.get(code)) {
                Some(label) => {
                    periods_of_code.push(
                        (0..timeline.periods.len() as u32)
                            .filter(|&k| timeline.periods[k as usize].contains(&label))
                            .collect(),
                    );
                    credit_of_code.push(tz.day_start(label.start));
                }
                None => {
                    periods_of_code.push(Vec::new());
                    credit_of_code.push(NULL);
                }
            }
        }
    }
    Slots::Labels { field: f, periods_of_code, credit_of_code }
}
