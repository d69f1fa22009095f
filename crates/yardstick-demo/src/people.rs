//! Records about people rather than tickets: teams, people and moves, QA audits and
//! inspections, trainings, lead and 360° ratings, secondary sales, knowledge contributions.

use crate::org::Org;
use crate::out::Push;
use crate::rng::Rng;

const DAY: i64 = 86_400;

pub fn teams(org: &Org) -> Vec<u8> {
    let mut b = b"team_id,name,parent_team_id,lead_id,region\n".to_vec();
    for t in &org.teams {
        b.text(&t.id).comma().text(&t.name).comma().text(t.parent.map_or("", |p| org.teams[p].id.as_str())).comma();
        b.text(t.lead.map_or("", |l| org.people[l].id.as_str())).comma().text(t.region.unwrap_or("")).end();
    }
    b
}

pub fn people(org: &Org) -> Vec<u8> {
    let mut b = b"person_id,name,role,team_id,manager_id,email,hired_at,left_at\n".to_vec();
    for p in &org.people {
        b.text(&p.id).comma().text(&p.name).comma().text(p.role).comma().text(&org.teams[p.team].id).comma();
        b.text(p.manager.map_or("", |m| org.people[m].id.as_str()))
            .comma()
            .text(&p.id.to_lowercase())
            .text("@service.example.cn")
            .comma();
        b.date(p.hired_at).comma();
        if let Some(l) = p.left_at {
            b.date(l);
        }
        b.end();
    }
    b
}

pub fn memberships(org: &Org) -> Vec<u8> {
    let mut b = b"person_id,team_id,from,to\n".to_vec();
    for m in &org.moves {
        let id = &org.people[m.person].id;
        b.text(id).comma().text(&org.teams[m.from_team].id).comma().date(m.hired_at).comma().date(m.at).end();
        b.text(id).comma().text(&org.teams[m.to_team].id).comma().date(m.at).comma().end();
    }
    b
}

/// The team a person belonged to at `t`; `moves[p]` indexes `org.moves`.
fn team_at(org: &Org, moves: &[Option<usize>], person: usize, t: i64) -> usize {
    moves[person].map_or(org.people[person].team, |m| {
        let m = &org.moves[m];
        if t < m.at { m.from_team } else { m.to_team }
    })
}

fn move_index(org: &Org) -> Vec<Option<usize>> {
    let mut moves = vec![None; org.people.len()];
    for (i, m) in org.moves.iter().enumerate() {
        moves[m.person] = Some(i);
    }
    moves
}

fn front_line(org: &Org) -> Vec<usize> {
    (0..org.people.len())
        .filter(|&p| matches!(org.people[p].role, "agent" | "technician" | "complaint_specialist" | "cr_specialist"))
        .collect()
}

pub fn audits(rng: &mut Rng, org: &Org, year_start: i64, n_tickets: u64) -> Vec<u8> {
    let mut b = b"audit_id,person_id,audited_at,kind,ticket_id,auditor_id,score,items_passed,items_total,compliance_violation,handling_error,note\n".to_vec();
    let mut n = 0u64;
    for p in front_line(org) {
        let person = &org.people[p];
        for month in 0..12 {
            let kinds: &[&str] = if person.role == "technician" {
                if month % 3 == 2 { &["inspection", "mystery_shopper"] } else { &["inspection"] }
            } else {
                &["qa", "qa", "qa", "recording_sample"]
            };
            for kind in kinds {
                let at = year_start + (month * 30 + rng.range(1, 28)) * DAY + rng.range(9 * 3600, 18 * 3600);
                if !org.active(p, at) {
                    continue;
                }
                n += 1;
                let score = (55.0 + 45.0 * person.skill + 10.0 * (rng.f64() - 0.5)).clamp(40.0, 100.0);
                b.push(b'A');
                b.padded(n, 8).comma().text(&person.id).comma().time(at, false).comma().text(kind).comma();
                if *kind == "qa" && n_tickets > 0 {
                    b.push(b'T');
                    b.padded(rng.below(n_tickets) + 1, 9);
                }
                b.comma().text(&org.people[rng.pick(&org.auditors)].id).comma().num(score as u64).push(b'.');
                b.num((score.fract() * 10.0) as u64).comma();
                if matches!(*kind, "inspection" | "mystery_shopper") {
                    let total = 12u64;
                    let passed = ((total as f64) * (0.55 + 0.45 * person.skill) + rng.f64() - 0.5)
                        .round()
                        .clamp(0.0, total as f64) as u64;
                    b.num(passed).comma().num(total);
                } else {
                    b.comma();
                }
                b.comma()
                    .bool(rng.chance(0.02 * (1.5 - person.skill)))
                    .comma()
                    .bool(rng.chance(0.06 * (1.5 - person.skill)))
                    .comma();
                if rng.chance(0.05) {
                    b.text("复核：话术不规范");
                }
                b.end();
            }
        }
    }
    b
}

pub fn trainings(rng: &mut Rng, org: &Org, year_start: i64) -> Vec<u8> {
    let mut b = b"record_id,person_id,kind,course,completed_at,passed,score,due_at\n".to_vec();
    let courses = ["新品知识培训", "服务礼仪", "投诉处理技巧", "安全规范", "CRM系统操作", "空调维修实务"];
    let mut n = 0u64;
    for (p, person) in org.people.iter().enumerate() {
        let mut line = |b: &mut Vec<u8>,
                        kind: &str,
                        course: &str,
                        due: i64,
                        done: Option<i64>,
                        passed: Option<bool>,
                        score: Option<u64>| {
            n += 1;
            b.push(b'R');
            b.padded(n, 8)
                .comma()
                .text(&person.id)
                .comma()
                .text(kind)
                .comma()
                .text(course)
                .comma()
                .opt_time(done, false)
                .comma();
            if let Some(ok) = passed {
                b.bool(ok);
            }
            b.comma();
            if let Some(s) = score {
                b.num(s);
            }
            b.comma().date(due).end();
        };
        for (k, course) in courses.iter().enumerate() {
            let due = year_start + (k as i64 * 60 + rng.range(20, 55)) * DAY;
            if !org.active(p, due) {
                continue;
            }
            let done = rng
                .chance(0.82 + 0.15 * person.skill)
                .then(|| due - rng.range(0, 20) * DAY + rng.range(9 * 3600, 18 * 3600));
            line(&mut b, "training", course, due, done, None, None);
        }
        for q in 0..4 {
            let due = year_start + (q * 91 + 80) * DAY;
            if !org.active(p, due) {
                continue;
            }
            let score = (60.0 + 38.0 * person.skill + 12.0 * (rng.f64() - 0.5)).clamp(0.0, 100.0) as u64;
            line(
                &mut b,
                "exam",
                "产品知识测评",
                due,
                Some(due - rng.range(1, 10) * DAY),
                Some(score >= 60),
                Some(score),
            );
        }
        if matches!(person.role, "technician" | "agent") {
            let due = year_start + rng.range(100, 300) * DAY;
            if org.active(p, due) {
                let passed = rng.chance(0.5 + 0.45 * person.skill);
                line(
                    &mut b,
                    "certification",
                    if person.role == "technician" { "家电维修技能认证" } else { "客服专员认证" },
                    due,
                    Some(due - rng.range(0, 10) * DAY),
                    Some(passed),
                    None,
                );
            }
        }
    }
    b
}

pub fn ratings(rng: &mut Rng, org: &Org, year: i64, year_start: i64) -> Vec<u8> {
    let mut b = b"rating_id,ratee_id,rater_id,period,item,score,relation\n".to_vec();
    let mut n = 0u64;
    let members = front_line(org);
    let moves = move_index(org);
    // Who is in which team at each quarter's review, for choosing 360° raters.
    let quarter_teams: Vec<std::collections::HashMap<usize, Vec<usize>>> = (1..=4)
        .map(|q| {
            let at = year_start + ((q - 1) * 91 + 80) * DAY;
            let mut by_team: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
            for &o in &members {
                if org.active(o, at) {
                    by_team.entry(team_at(org, &moves, o, at)).or_default().push(o);
                }
            }
            by_team
        })
        .collect();
    for &p in &members {
        let person = &org.people[p];
        for month in 1..=12 {
            let at = year_start + ((month - 1) * 30 + 15) * DAY;
            if !org.active(p, at) {
                continue;
            }
            let Some(lead) = org.teams[team_at(org, &moves, p, at)].lead else { continue };
            for item in ["attitude", "communication"] {
                n += 1;
                let score = (2.0 + 3.0 * person.skill + rng.f64() - 0.5).clamp(1.0, 5.0);
                b.push(b'G');
                b.padded(n, 8)
                    .comma()
                    .text(&person.id)
                    .comma()
                    .text(&org.people[lead].id)
                    .comma()
                    .padded(year as u64, 4)
                    .text("-")
                    .padded(month as u64, 2)
                    .comma()
                    .text(item)
                    .comma()
                    .num(score as u64)
                    .text(".")
                    .num(((score.fract() * 2.0).floor() * 5.0) as u64)
                    .comma()
                    .text("manager")
                    .end();
            }
        }
        // Quarterly 360° feedback on teamwork from three to five peers of the same team.
        for q in 1..=4 {
            let at = year_start + ((q - 1) * 91 + 80) * DAY;
            if !org.active(p, at) {
                continue;
            }
            let team = team_at(org, &moves, p, at);
            let peers: Vec<usize> = quarter_teams[q as usize - 1]
                .get(&team)
                .map_or(Vec::new(), |ps| ps.iter().copied().filter(|&o| o != p).collect());
            let k = (3 + rng.below(3) as usize).min(peers.len());
            for j in 0..k {
                let rater = peers[(rng.below(peers.len() as u64) as usize + j) % peers.len()];
                n += 1;
                let score = (2.5 + 2.5 * person.skill + rng.f64() - 0.5).clamp(1.0, 5.0).round() as u64;
                b.push(b'G');
                b.padded(n, 8)
                    .comma()
                    .text(&person.id)
                    .comma()
                    .text(&org.people[rater].id)
                    .comma()
                    .padded(year as u64, 4)
                    .text("-Q")
                    .num(q as u64)
                    .comma()
                    .text("teamwork")
                    .comma()
                    .num(score)
                    .comma()
                    .text("peer")
                    .end();
            }
        }
    }
    b
}

pub fn sales(rng: &mut Rng, org: &Org, year_start: i64, n_customers: u64) -> Vec<u8> {
    let mut b = b"sale_id,person_id,customer_id,closed_at,amount,kind\n".to_vec();
    let mut n = 0u64;
    for (p, person) in org.people.iter().enumerate() {
        let per_month = match person.role {
            "cr_specialist" => 25.0,
            "technician" => 3.0,
            "agent" => 0.8,
            _ => 0.0,
        };
        for month in 0..12 {
            let count = rng.exp(per_month * (0.5 + person.skill)) as u64;
            for _ in 0..count {
                let at = year_start + (month * 30 + rng.range(0, 30)) * DAY + rng.range(9 * 3600, 20 * 3600);
                if !org.active(p, at) {
                    continue;
                }
                n += 1;
                let kind = rng.pick(&["延保服务", "清洗保养套餐", "滤芯复购", "以旧换新"]);
                b.push(b'X');
                b.padded(n, 8).comma().text(&person.id).comma().push(b'C');
                b.padded(rng.below(n_customers.max(1)) + 1, 8)
                    .comma()
                    .time(at, false)
                    .comma()
                    .money((rng.lognormal(600.0, 0.7) * 100.0) as i64)
                    .comma()
                    .text(kind)
                    .end();
            }
        }
    }
    b
}

pub fn knowledge(rng: &mut Rng, org: &Org, year_start: i64) -> Vec<u8> {
    let mut b = b"contribution_id,person_id,adopted_at,kind,reuse_count\n".to_vec();
    let mut n = 0u64;
    for (p, person) in org.people.iter().enumerate() {
        if !matches!(person.role, "agent" | "technician" | "team_lead") {
            continue;
        }
        for month in 0..12 {
            if !rng.chance(0.15 + 0.4 * person.skill) {
                continue;
            }
            let at = year_start + (month * 30 + rng.range(0, 30)) * DAY + rng.range(9 * 3600, 18 * 3600);
            if !org.active(p, at) {
                continue;
            }
            n += 1;
            b.push(b'K');
            b.padded(n, 8)
                .comma()
                .text(&person.id)
                .comma()
                .time(at, false)
                .comma()
                .text(rng.pick(&["解决方案", "故障案例", "话术模板"]))
                .comma()
                .num(rng.exp(12.0) as u64)
                .end();
        }
    }
    b
}
