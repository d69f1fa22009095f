//! `yardstick bench --changes N`: how fast a change reaches what a server shows. The
//! loaded records go into a host with the views a server keeps live — a month's
//! scorecards and every catalogue metric of that month for every person, team and the
//! organisation — and then: N single changes, one `apply` each (a ticket's cause, a
//! survey's score, a visit's outcome, a new survey, in turn), timed one by one; one batch
//! of 10 000 such changes; and a team move (a person's team changed).

use std::time::Instant;

use anyhow::{Result, anyhow};
use yardstick_core::data::Dataset;
use yardstick_core::engine::{Query, SubjectKinds};
use yardstick_core::host::{Change, Config, Host};
use yardstick_core::period::Period;
use yardstick_core::schema::Source;

/// The measurements of one size, as a line of the report's second table.
pub fn measure(n_tickets: u64, data: Dataset, month: Period, singles: usize) -> Result<String> {
    let config = Config::default();
    let (start, end) = (config.settings.tz.day_start(month.start), config.settings.tz.day_start(month.end));
    let ids = |source: Source, time: &str, limit: usize| -> Vec<String> {
        let table = data.table(source);
        let f = source.def().field_index(time).expect("schema");
        (0..table.len())
            .filter(|&r| (start..end).contains(&table.int(f, r)))
            .take(limit)
            .map(|r| table.key_text(r))
            .collect()
    };
    let tickets = ids(Source::Tickets, "created_at", 20_000);
    let surveys = ids(Source::Surveys, "answered_at", 20_000);
    let visits = ids(Source::Visits, "scheduled_at", 20_000);
    let agent = {
        let people = data.table(Source::People);
        let role = Source::People.def().field_index("role").expect("schema");
        (0..people.len()).find(|&p| people.text(role, p).as_deref() == Some("agent")).map(|p| people.key_text(p))
    };
    let teams: Vec<String> =
        (0..data.table(Source::Teams).len()).map(|t| data.table(Source::Teams).key_text(t)).collect();
    let host = Host::new(config, data);
    let started = Instant::now();
    host.prepare().map_err(|d| anyhow!("{d}"))?;
    host.watch_scores(month).map_err(|d| anyhow!("{d}"))?;
    let all = Query { metrics: Vec::new(), periods: vec![month], subjects: SubjectKinds::ALL };
    host.watch(&all).map_err(|d| anyhow!("{d}"))?;
    let setup = started.elapsed().as_secs_f64();
    let change = |k: usize| -> Change {
        match k % 4 {
            0 => {
                let cause = if k.is_multiple_of(8) { "product_defect" } else { "service" };
                Change::update(Source::Tickets, &tickets[k / 4 % tickets.len()], &[("cause", cause)])
            }
            1 => {
                Change::update(Source::Surveys, &surveys[k / 4 % surveys.len()], &[("csat", &(1 + k % 5).to_string())])
            }
            2 => Change::update(
                Source::Visits,
                &visits[k / 4 % visits.len()],
                &[("fixed", if k % 8 < 4 { "true" } else { "false" })],
            ),
            _ => Change::upsert(
                Source::Surveys,
                &[
                    ("survey_id", &format!("BENCH{k}")),
                    ("ticket_id", &tickets[k * 7 % tickets.len()]),
                    ("answered_at", &yardstick_core::time::format_utc(start + 86_400 * 3)),
                    ("csat", "4"),
                ],
            ),
        }
    };
    let (mut latencies, mut moved) = (Vec::with_capacity(singles), 0);
    for k in 0..singles {
        let one = [change(k)];
        let t = Instant::now();
        let applied = host.apply(&one).map_err(|d| anyhow!("{d}"))?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        moved += applied.values.len() + applied.scorecards.len();
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
    let batch: Vec<Change> = (0..10_000).map(|k| change(k + singles)).collect();
    let t = Instant::now();
    let applied = host.apply(&batch).map_err(|d| anyhow!("{d}"))?;
    let batch_s = t.elapsed().as_secs_f64();
    let move_s = match agent {
        Some(agent) => {
            let team = &teams[teams.len() / 2];
            let t = Instant::now();
            host.apply(&[Change::update(Source::People, &agent, &[("team_id", team)])]).map_err(|d| anyhow!("{d}"))?;
            format!("{:.3} s", t.elapsed().as_secs_f64())
        }
        None => "—".to_string(),
    };
    eprintln!(
        "  changes: views set up in {setup:.2} s; {singles} single changes moved {moved} values and cards; a batch of 10 000 moved {}",
        applied.values.len() + applied.scorecards.len()
    );
    Ok(format!(
        "| {n_tickets} | {setup:.2} s | {:.2} ms | {:.2} ms | {:.2} ms | {batch_s:.3} s | {move_s} |",
        at(0.5),
        at(0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    ))
}
