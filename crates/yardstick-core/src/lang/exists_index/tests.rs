//! Tests of the `exists` index: its groups against a plain grouping, the window search
//! against a filter, and grouped self-join answers against row-by-row probes.

use super::*;
use crate::data::Org;
use crate::lang::compile::{Compiler, Options, Params};
use crate::lang::eval::Clocks;
use crate::lang::parse::parse_expr;
use crate::schema::Source;
use crate::settings::Settings;
use crate::testkit::{Rng, dataset};

/// The index holds every row with a key and a time, grouped by key and ordered by
/// (time, row) within a group, whatever the number of threads (ranges of rows) —
/// with null keys and times, equal times, and times out of row order.
#[test]
fn index_groups_rows_by_key_in_time_order() {
    index_groups_rows_by_key_in_time_order_with(false);
    // Times spanning more than 2³² seconds: kept as they are.
    index_groups_rows_by_key_in_time_order_with(true);
}

fn index_groups_rows_by_key_in_time_order_with(far: bool) {
    use std::collections::BTreeMap;
    let settings = Settings::default();
    let mut rng = Rng(5);
    let mut tickets = String::from("ticket_id,created_at,customer_id,agent_id,first_response_at\n");
    let mut far_ids = Vec::new();
    let mut people = String::from("person_id,name,role,team_id\n");
    for p in 0..300 {
        people.push_str(&format!("P{p},坐席{p},agent,A\n"));
    }
    for i in 0..5000 {
        let agent = match rng.below(20) {
            0 => String::new(),
            _ => format!("P{}", rng.below(300)),
        };
        let response = match rng.below(8) {
            0 => String::new(),
            _ if far && i % 1000 == 7 => {
                far_ids.push(format!("T{i}"));
                "2025-03-01T00:00:00+08:00".to_string()
            }
            _ => format!("2025-03-{:02}T{:02}:00:00+08:00", 1 + rng.below(28), rng.below(24)),
        };
        // Customers of the usual shape (numbers up to 140 000: keys within a bucket
        // above 2¹⁶ if buckets were wider), and a few that are not (coded from 2²⁴ on:
        // more than 256 buckets of 2¹⁶ keys).
        let customer = match rng.below(40) {
            0 => format!("散客{}", rng.below(7)),
            _ => format!("C{}", rng.below(200) * 701),
        };
        tickets.push_str(&format!("T{i},2025-03-01T00:00:00+08:00,{customer},{agent},{response}\n"));
    }
    let teams = "team_id,name,parent_team_id\nA,热线组,\n";
    let mut data = dataset(&[("teams", teams), ("people", &people), ("tickets", &tickets)], &settings);
    make_far(&mut data, &far_ids);
    let table = data.table(Source::Tickets);
    let def = Source::Tickets.def();
    let field = |name: &str| def.field_index(name).unwrap() as u16;
    let time = field("first_response_at");
    for key in [field("agent_id"), field("customer_id")] {
        let mut timed: BTreeMap<i64, Vec<(i64, u32)>> = BTreeMap::new();
        let mut untimed: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        for row in 0..table.len() {
            let (k, t) = (table.int(key as usize, row), table.int(time as usize, row));
            if k != NULL {
                untimed.entry(k).or_default().push(row as u32);
                if t != NULL {
                    timed.entry(k).or_default().push((t, row as u32));
                }
            }
        }
        for group in timed.values_mut() {
            group.sort_unstable();
        }
        assert!(timed.values().any(|g| g.len() > 2 && g.windows(2).any(|w| w[0].1 > w[1].1)), "out of row order");
        let top = *timed.keys().last().unwrap();
        let top_untimed = *untimed.keys().last().unwrap();
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let idx = pool.install(|| ExistsIndex::build(table, key, Some(time)));
            assert_eq!(idx.offsets.len() as i64, top + 2, "key {key}, {threads} threads");
            assert_eq!(idx.rows.len(), timed.values().map(Vec::len).sum::<usize>());
            for (k, want) in &timed {
                let got: Vec<(i64, u32)> = idx.group(*k).map(|i| (idx.time(i), idx.rows[i])).collect();
                assert_eq!(&got, want, "key {k}, {threads} threads");
            }
            assert_eq!(matches!(idx.times, Times::Wide(_)), far);
            let without_time = pool.install(|| ExistsIndex::build(table, key, None));
            assert_eq!(without_time.offsets.len() as i64, top_untimed + 2);
            for (k, want) in &untimed {
                let rows: Vec<u32> = without_time.group(*k).map(|i| without_time.rows[i]).collect();
                assert_eq!(&rows, want, "key {k} without a time, {threads} threads");
            }
            assert!(idx.group(top + 1).is_empty() && idx.group(-1).is_empty());
        }
    }
}

/// The rows of a window are those a plain filter finds, with times held after a base
/// (narrow) or as they are, with bounds inclusive or not, missing, on equal times.
#[test]
fn window_holds_the_rows_a_filter_finds() {
    let mut rng = Rng(3);
    for _ in 0..300 {
        let mut times: Vec<i64> = (0..rng.below(12)).map(|_| 1_000 + rng.below(30) as i64).collect();
        times.sort_unstable();
        let rows: Vec<u32> = (0..times.len() as u32).collect();
        let bound = |rng: &mut Rng| (rng.below(4) > 0).then(|| (995 + rng.below(40) as i64, rng.below(2) == 0));
        let (lower, upper) = (bound(&mut rng), bound(&mut rng));
        let inside = |t: i64| {
            lower.is_none_or(|(lo, inc)| if inc { t >= lo } else { t > lo })
                && upper.is_none_or(|(hi, inc)| if inc { t <= hi } else { t < hi })
        };
        let want: Vec<u32> = rows.iter().copied().filter(|&r| inside(times[r as usize])).collect();
        let since: Vec<u32> = times.iter().map(|&t| (t - 990) as u32).collect();
        for narrow in [false, true] {
            let mut seen = Vec::new();
            let found = |r: u32| {
                seen.push(r);
                false
            };
            if narrow {
                first_in_window(since.len(), |j| 990 + since[j] as i64, |j| rows[j], lower, upper, found);
            } else {
                first_in_window(times.len(), |j| times[j], |j| rows[j], lower, upper, found);
            }
            assert_eq!(seen, want, "{times:?} {lower:?} {upper:?}");
        }
    }
}

/// The answers of a same-table `exists` worked out bucket by bucket equal those of probing
/// every row on its own through the index, with null keys (agent), null window times (rows
/// the index leaves out, which still look into their group), equal times and records on
/// the window's edges.
#[test]
fn self_join_answers_equal_row_by_row_probes() {
    self_join_answers_equal_row_by_row_probes_with(false);
    // Times spanning more than 2³² seconds: kept as they are.
    self_join_answers_equal_row_by_row_probes_with(true);
}

fn self_join_answers_equal_row_by_row_probes_with(far: bool) {
    let settings = Settings::default();
    let mut rng = Rng(11);
    let mut tickets = String::from("ticket_id,created_at,customer_id,agent_id,first_response_at,resolved_at\n");
    let mut far_ids = Vec::new();
    for i in 0..3000 {
        let created = 1 + rng.below(28);
        let later = |rng: &mut Rng| created + rng.below(3);
        // One ticket in four is its customer's only one: a lone row in its group (with a
        // time or not), which no window holds another record of.
        let customer = match rng.below(4) {
            0 => format!("L{i}"),
            _ => format!("C{}", rng.below(300)),
        };
        let agent = match rng.below(10) {
            0 => String::new(),
            _ => format!("P{}", rng.below(40)),
        };
        let at = |d: u64, h: u64| format!("2025-03-{d:02}T{h:02}:00:00+08:00");
        let response = match rng.below(5) {
            0 => String::new(),
            _ if far && i % 500 == 3 => {
                far_ids.push(format!("T{i}"));
                at(created, 1)
            }
            _ => at(later(&mut rng), rng.below(3)),
        };
        let resolved = match rng.below(6) {
            0 => String::new(),
            _ => at(later(&mut rng), rng.below(3)),
        };
        tickets.push_str(&format!("T{i},{},{customer},{agent},{response},{resolved}\n", at(created, 0)));
    }
    let mut people = String::from("person_id,name,role,team_id\n");
    for p in 0..40 {
        people.push_str(&format!("P{p},坐席{p},agent,A\n"));
    }
    let teams = "team_id,name,parent_team_id\nA,热线组,\n";
    let mut data = dataset(&[("teams", teams), ("people", &people), ("tickets", &tickets)], &settings);
    make_far(&mut data, &far_ids);
    let (org, _) = Org::build(&data);
    let clocks = Clocks {
        default: std::sync::Arc::new(crate::calendar::BusinessClock::with_range(
            &settings.calendar,
            &settings.tz,
            0,
            0,
        )),
        by_team: Vec::new(),
    };
    for text in [
        "exists(tickets where customer_id = this.customer_id and ticket_id != this.ticket_id and first_response_at > this.resolved_at and first_response_at <= this.resolved_at + 2d)",
        "exists(tickets where agent_id = this.agent_id and first_response_at >= this.created_at and first_response_at < this.created_at + 1d)",
        "exists(tickets where agent_id = this.agent_id and ticket_id != this.ticket_id)",
        // A window without an end: rows without a time, last in their group, stay out.
        "exists(tickets where customer_id = this.customer_id and first_response_at > this.resolved_at + 1d)",
    ] {
        let params = Params::default();
        let compiler = Compiler { data: &data, params: &params, options: Options::default() };
        let mut prog = Program::new(Source::Tickets);
        let (node, _) = compiler.compile(&mut prog, &parse_expr(text).expect("parses")).expect("compiles");
        let indexes: Vec<ExistsIndex> =
            prog.exists.iter().map(|p| ExistsIndex::build(data.table(p.inner), p.key_field, p.time_field)).collect();
        let env = Env { data: &data, org: &org, clocks: &clocks, indexes: &indexes, flags: &[] };
        assert!(self_join::applies(&prog, 0), "{text}: a self-join");
        let grouped = exists_flags(&prog, &env, 0);
        let mut ev = Evaluator::default();
        let n = data.table(Source::Tickets).len();
        ev.run(&prog, &env, Rows::Range { start: 0, len: n });
        let probed: Vec<u8> = ev.values(node).iter().map(|&v| v as u8).collect();
        assert_eq!(grouped, probed, "{text}");
        assert!(probed.contains(&1) && probed.contains(&0), "{text}: both answers occur");
    }
}

/// A residual that only asks for another record of the same table (its id differs, either
/// way round) is decided by comparing rows; any other residual is evaluated.
#[test]
fn another_record_is_told_by_its_row() {
    let settings = Settings::default();
    let tickets = "ticket_id,created_at,customer_id,agent_id\nT1,2025-03-01T00:00:00Z,C1,\n";
    let data = dataset(&[("tickets", tickets)], &settings);
    let (org, _) = Org::build(&data);
    let clock = crate::calendar::BusinessClock::with_range(&settings.calendar, &settings.tz, 0, 0);
    let clocks = Clocks { default: std::sync::Arc::new(clock), by_team: Vec::new() };
    let env = Env { data: &data, org: &org, clocks: &clocks, indexes: &[], flags: &[] };
    let table = data.table(Source::Tickets);
    for (text, other_record) in [
        ("exists(tickets where customer_id = this.customer_id and ticket_id != this.ticket_id)", true),
        ("exists(tickets where customer_id = this.customer_id and this.ticket_id != ticket_id)", true),
        ("exists(tickets where customer_id = this.customer_id and agent_id != this.agent_id)", false),
        ("exists(tickets where customer_id = this.customer_id and ticket_id = this.ticket_id)", false),
    ] {
        let params = Params::default();
        let compiler = Compiler { data: &data, params: &params, options: Options::default() };
        let mut prog = Program::new(Source::Tickets);
        compiler.compile(&mut prog, &parse_expr(text).expect("parses")).expect("compiles");
        let pair = Pair::new(&prog, &env, &prog.exists[0], table, table);
        assert_eq!(pair.other_record, other_record, "{text}");
    }
}

/// Times beyond what a load accepts (2170), written straight into the table: an index
/// holds times as they are when they span more than 136 years.
fn make_far(data: &mut crate::data::Dataset, ids: &[String]) {
    let f = Source::Tickets.def().field_index("first_response_at").unwrap();
    for id in ids {
        let r = data.table(Source::Tickets).find(id).unwrap();
        let mut cells = data.table(Source::Tickets).row_cells(r);
        cells[f] = crate::data::Cell::Int(6_311_433_600);
        data.upsert(Source::Tickets, cells);
    }
}
