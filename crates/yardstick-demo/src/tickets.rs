//! Tickets and what hangs off them (visits, parts, surveys, complaints), generated in
//! independent blocks so that ten million tickets are written in parallel. Ticket `i`'s
//! creation day follows the year's volume curve (618 and 双11 peaks, the Spring Festival
//! dip, summer air-conditioner season), so ids increase with time as in a real export.

use crate::org::Org;
use crate::out::Push;
use crate::rng::Rng;

pub const TICKETS_HEADER: &str = "ticket_id,created_at,customer_id,agent_id,channel,category,product,priority,first_response_at,resolved_at,closed_at,reopen_count,contact_count,handle_seconds,requires_visit,cause,status,customer_tier,fields_complete\n";
pub const VISITS_HEADER: &str =
    "visit_id,ticket_id,technician_id,visit_seq,scheduled_at,arrived_at,finished_at,fixed,cancelled,parts_cost\n";
pub const PARTS_HEADER: &str = "usage_id,visit_id,part,quantity,unit_cost,old_part_returned,compliant\n";
pub const SURVEYS_HEADER: &str =
    "survey_id,ticket_id,answered_at,agent_id,csat,nps,attitude,skill,speed,standards,comment\n";
pub const COMPLAINTS_HEADER: &str =
    "complaint_id,ticket_id,received_at,agent_id,severity,responded_at,resolved_at,satisfied,recovered\n";

const CHANNELS: &[(&str, f64)] =
    &[("phone", 0.42), ("chat", 0.30), ("app", 0.12), ("email", 0.04), ("onsite", 0.10), ("other", 0.02)];
const CATEGORIES: &[(&str, f64)] =
    &[("咨询", 0.32), ("维修", 0.30), ("安装", 0.16), ("退换货", 0.08), ("投诉", 0.06), ("保养", 0.08)];
const PRODUCTS: &[(&str, f64)] = &[
    ("空调", 0.28),
    ("冰箱", 0.18),
    ("洗衣机", 0.17),
    ("热水器", 0.12),
    ("电视", 0.10),
    ("厨电", 0.10),
    ("净水器", 0.05),
];
const PRIORITIES: &[(&str, f64)] = &[("normal", 0.80), ("high", 0.15), ("urgent", 0.05)];
const TIERS: &[(&str, f64)] = &[("regular", 0.70), ("silver", 0.17), ("gold", 0.09), ("vip", 0.04)];
const PARTS: &[&str] = &["压缩机", "电路板", "电机", "温控器", "密封圈", "排水泵", "遥控器", "滤网"];
const COMMENTS: &[&str] = &[
    "师傅很专业，态度很好",
    "响应很快，问题一次解决",
    "等了很久才有人回复",
    "上门迟到了，不过修得不错",
    "产品质量有问题，希望改进",
    "客服很耐心，点赞！",
    "电话一直占线, 打了三次才通",
    "\"服务之星\"名副其实",
    "Great service, thank you",
    "问题没有解决，还要再来一次",
];

/// Region weights (east, south, north, west).
const REGION_SHARE: &[f64] = &[0.35, 0.30, 0.20, 0.15];

/// The daily volume curve of the year and its cumulative sum.
pub struct Calendar {
    pub year_start: i64,
    pub n_days: usize,
    cumulative: Vec<f64>,
    /// Slowdown factor per day (peaks stretch response and resolution times).
    pub load: Vec<f64>,
}

impl Calendar {
    pub fn new(year: i64, year_start: i64) -> Calendar {
        let n_days = if yardstick_core::time::is_leap_year(year) { 366 } else { 365 };
        let mut weights = Vec::with_capacity(n_days);
        for d in 0..n_days {
            let (_, m, day) =
                yardstick_core::time::civil_from_days((year_start + crate::out::OFFSET).div_euclid(86_400) + d as i64);
            let weekday =
                yardstick_core::time::iso_weekday((year_start + crate::out::OFFSET).div_euclid(86_400) + d as i64);
            let mut w = if weekday >= 6 { 0.85 } else { 1.0 };
            // 618 shopping festival: June 1–20, peak on the 18th.
            if m == 6 && day <= 20 {
                w *= if (16..=19).contains(&day) { 2.0 } else { 1.45 };
            }
            // 双11: November 1–14, peak 11–13.
            if m == 11 && day <= 14 {
                w *= if (11..=13).contains(&day) { 2.5 } else { 1.6 };
            }
            // Spring Festival (around late January / early February): fewer tickets.
            if (m == 1 && day >= 27) || (m == 2 && day <= 5) {
                w *= 0.45;
            }
            // Air-conditioner season.
            if m == 7 || m == 8 {
                w *= 1.25;
            }
            // National Day golden week.
            if m == 10 && day <= 8 {
                w *= 0.7;
            }
            weights.push(w);
        }
        let mean = weights.iter().sum::<f64>() / n_days as f64;
        let load = weights.iter().map(|w| (w / mean).max(1.0)).collect();
        let mut cumulative = Vec::with_capacity(n_days);
        let mut total = 0.0;
        for w in &weights {
            total += w;
            cumulative.push(total);
        }
        for c in &mut cumulative {
            *c /= total;
        }
        Calendar { year_start, n_days, cumulative, load }
    }

    /// The day of the `i`-th of `n` tickets.
    pub fn day_of(&self, i: u64, n: u64) -> usize {
        let q = (i as f64 + 0.5) / n as f64;
        self.cumulative.partition_point(|&c| c < q).min(self.n_days - 1)
    }
}

/// Output of one block, per file.
#[derive(Default)]
pub struct BlockOut {
    pub tickets: Vec<u8>,
    pub visits: Vec<u8>,
    pub parts: Vec<u8>,
    pub surveys: Vec<u8>,
    pub complaints: Vec<u8>,
    pub counts: [u64; 5],
}

/// Local seconds after midnight of an hour of the day, weighted towards office hours.
fn time_of_day(rng: &mut Rng) -> i64 {
    const HOURS: [f64; 24] = [
        0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4.0, 7.0, 8.0, 8.0, 6.0, 6.5, 7.5, 7.5, 7.0, 6.0, 5.0, 4.5, 4.0, 3.0,
        1.5, 0.6,
    ];
    let total: f64 = HOURS.iter().sum();
    let mut x = rng.f64() * total;
    let mut h = 0;
    while h < 23 && x >= HOURS[h] {
        x -= HOURS[h];
        h += 1;
    }
    h as i64 * 3600 + rng.below(3600) as i64
}

fn person_id(org: &Org, p: Option<usize>) -> &str {
    p.map_or("", |p| org.people[p].id.as_str())
}

/// Picks an active member of a pool at `t` (a few tries, else nobody).
fn assign(rng: &mut Rng, org: &Org, pool: &[usize], t: i64) -> Option<usize> {
    if pool.is_empty() {
        return None;
    }
    for _ in 0..6 {
        let p = rng.pick(pool);
        if org.active(p, t) {
            return Some(p);
        }
    }
    None
}

/// Writes a text cell, quoted when it holds a comma, quote or line break.
fn quoted(out: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n']) {
        out.push(b'"');
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Generates tickets `[first, end)` of `n`.
pub fn block(seed: u64, block: u64, first: u64, end: u64, n: u64, org: &Org, cal: &Calendar) -> BlockOut {
    let mut rng = Rng::new(seed, 1_000 + block);
    let mut out = BlockOut::default();
    let n_customers = (n * 10 / 26).max(10);
    let mut recent_customers: Vec<u64> = Vec::new();
    for i in first..end {
        let day = cal.day_of(i, n);
        let created = cal.year_start + day as i64 * 86_400 + time_of_day(&mut rng);
        let load = cal.load[day];
        let channel = rng.weighted(CHANNELS);
        let category = rng.weighted(CATEGORIES);
        let product = rng.weighted(PRODUCTS);
        // Customers come back: some tickets reuse a recent customer of this block.
        let customer = if !recent_customers.is_empty() && rng.chance(0.09) {
            rng.pick(&recent_customers)
        } else {
            rng.below(n_customers) + 1
        };
        if recent_customers.len() < 512 {
            recent_customers.push(customer);
        } else {
            let k = rng.below(512) as usize;
            recent_customers[k] = customer;
        }
        let region = rng.weighted(&[
            (0usize, REGION_SHARE[0]),
            (1, REGION_SHARE[1]),
            (2, REGION_SHARE[2]),
            (3, REGION_SHARE[3]),
        ]);
        let pool = match channel {
            "chat" | "app" | "email" => &org.chat[region],
            _ => &org.hotline[region],
        };
        let agent = if rng.chance(0.004) { None } else { assign(&mut rng, org, pool, created) };
        let skill = agent.map_or(0.5, |a| org.people[a].skill);
        let no_response = rng.chance(0.02);
        let response_median = match channel {
            "phone" => 25.0,
            "chat" => 35.0,
            "app" => 1_800.0,
            "email" => 7_200.0,
            _ => 3_600.0,
        } * load
            * (1.6 - skill);
        let first_response = (!no_response).then(|| created + rng.lognormal(response_median, 1.1) as i64 + 1);
        let resolved_median = match category {
            "咨询" => 1_800.0,
            "维修" => 26.0 * 3600.0,
            "安装" => 40.0 * 3600.0,
            "退换货" => 70.0 * 3600.0,
            "投诉" => 20.0 * 3600.0,
            _ => 8.0 * 3600.0,
        } * load
            * (1.5 - 0.6 * skill);
        let unresolved = rng.chance(0.03);
        let resolved =
            (!unresolved).then(|| first_response.unwrap_or(created) + rng.lognormal(resolved_median, 0.9) as i64 + 60);
        let closed = resolved.filter(|_| rng.chance(0.85)).map(|r| r + rng.range(0, 3 * 86_400));
        let fcr = rng.chance(0.55 + 0.35 * skill);
        let contact_count = if fcr { 1 } else { 2 + rng.below(3) };
        let reopen_count = u64::from(rng.chance(0.06 - 0.04 * skill));
        let handle =
            matches!(channel, "phone" | "chat").then(|| rng.lognormal(330.0 * (1.4 - 0.5 * skill), 0.5) as u64 + 20);
        let requires_visit = matches!(category, "维修" | "安装" | "保养") && channel != "chat" && rng.chance(0.85);
        let cause = match category {
            "维修" => rng.weighted(&[
                ("service", 0.35),
                ("product_defect", 0.50),
                ("customer", 0.08),
                ("logistics", 0.04),
                ("other", 0.03),
            ]),
            "退换货" => {
                rng.weighted(&[("service", 0.3), ("product_defect", 0.3), ("logistics", 0.35), ("other", 0.05)])
            }
            _ => rng.weighted(&[("service", 0.75), ("product_defect", 0.10), ("customer", 0.10), ("other", 0.05)]),
        };
        let status = if resolved.is_none() {
            "open"
        } else if closed.is_some() {
            "closed"
        } else {
            "resolved"
        };
        let tier = rng.weighted(TIERS);
        // Every other VIP phone call goes to the region's customer-relationship team.
        let agent = match org.relationship.get(region * 3 + (i % 3) as usize) {
            Some(&cr) if tier == "vip" && channel == "phone" && i % 2 == 0 && org.active(cr, created) => Some(cr),
            _ => agent,
        };
        let fields_complete = rng.chance(0.86 + 0.12 * skill);
        // A few timestamps are exported in UTC, as some CRM connectors do.
        let utc = rng.chance(0.02);
        let t = &mut out.tickets;
        t.push(b'T');
        t.padded(i + 1, 9).comma().time(created, utc).comma();
        t.push(b'C');
        t.padded(customer, 8)
            .comma()
            .text(person_id(org, agent))
            .comma()
            .text(channel)
            .comma()
            .text(category)
            .comma()
            .text(product)
            .comma()
            .text(rng.weighted(PRIORITIES))
            .comma();
        t.opt_time(first_response, utc).comma().opt_time(resolved, utc).comma().opt_time(closed, utc).comma();
        t.num(reopen_count).comma().num(contact_count).comma();
        if let Some(h) = handle {
            t.num(h);
        }
        t.comma()
            .bool(requires_visit)
            .comma()
            .text(cause)
            .comma()
            .text(status)
            .comma()
            .text(tier)
            .comma()
            .bool(fields_complete)
            .end();
        out.counts[0] += 1;

        if requires_visit {
            visits(&mut rng, &mut out, org, i, region, created, cal.year_start + cal.n_days as i64 * 86_400);
        }
        if let Some(r) = resolved
            && rng.chance(0.27)
        {
            survey(&mut rng, &mut out, org, i, r, skill, cause, agent);
        }
        let complaint_chance = 0.012 + 0.05 * (1.0 - skill) + if cause == "product_defect" { 0.02 } else { 0.0 };
        if rng.chance(complaint_chance) {
            let received = complaint(&mut rng, &mut out, org, i, created, 0);
            // A customer who is still unhappy complains again about the same ticket.
            if rng.chance(0.12) {
                complaint(&mut rng, &mut out, org, i, received, 1);
            }
        }
    }
    out
}

fn visits(rng: &mut Rng, out: &mut BlockOut, org: &Org, ticket: u64, region: usize, created: i64, year_end: i64) {
    let crews = &org.technicians[region];
    let mut scheduled = created + rng.range(4 * 3600, 72 * 3600);
    for seq in 1..=3u64 {
        let Some(tech) = assign(rng, org, crews, scheduled) else { return };
        let skill = org.people[tech].skill;
        let cancelled = rng.chance(0.04);
        let arrived = (!cancelled && !rng.chance(0.02))
            .then(|| scheduled + rng.range(-15 * 60, 10 * 60) + (rng.exp(12.0 * 60.0 * (1.2 - skill))) as i64);
        let finished = arrived.map(|a| a + rng.range(30 * 60, 150 * 60));
        let fixed = finished.is_some() && rng.chance(0.62 + 0.33 * skill);
        let parts_cents =
            if finished.is_some() && rng.chance(0.45) { (rng.lognormal(180.0, 0.8) * 100.0) as i64 } else { 0 };
        let visit_number = ticket * 4 + seq;
        let v = &mut out.visits;
        v.push(b'V');
        v.padded(visit_number, 10).comma().push(b'T');
        v.padded(ticket + 1, 9)
            .comma()
            .text(&org.people[tech].id)
            .comma()
            .num(seq)
            .comma()
            .time(scheduled, false)
            .comma();
        v.opt_time(arrived, false).comma().opt_time(finished, false).comma();
        if finished.is_some() {
            v.bool(fixed);
        }
        v.comma();
        if cancelled {
            v.text("true");
        }
        v.comma();
        if finished.is_some() {
            v.money(parts_cents);
        }
        v.end();
        out.counts[1] += 1;
        if parts_cents > 0 {
            let p = &mut out.parts;
            p.push(b'U');
            p.padded(visit_number, 10).comma().push(b'V');
            p.padded(visit_number, 10)
                .comma()
                .text(rng.pick(PARTS))
                .comma()
                .num(1)
                .comma()
                .money(parts_cents)
                .comma()
                .bool(rng.chance(0.9))
                .comma()
                .bool(rng.chance(0.95))
                .end();
        }
        // Another visit when this one did not fix it, sometimes even when it did (rework).
        let again = cancelled || !fixed || rng.chance(0.05);
        if !again {
            return;
        }
        scheduled = finished.unwrap_or(scheduled) + rng.range(86_400, 40 * 86_400);
        if scheduled >= year_end {
            return;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn survey(
    rng: &mut Rng,
    out: &mut BlockOut,
    org: &Org,
    ticket: u64,
    resolved: i64,
    skill: f64,
    cause: &str,
    agent: Option<usize>,
) {
    let answered = resolved + rng.exp(20.0 * 3600.0) as i64 + 60;
    let mood = 0.35 + 0.55 * skill - if cause == "product_defect" { 0.25 } else { 0.0 } + 0.25 * (rng.f64() - 0.5);
    let csat = (1.0 + (mood * 5.0).clamp(0.0, 4.0)).round() as u64;
    let nps = ((mood * 11.0).clamp(0.0, 10.0) + rng.f64() - 0.5).round().clamp(0.0, 10.0) as u64;
    let sub = |rng: &mut Rng| (csat as i64 + rng.range(-1, 2)).clamp(1, 5) as u64;
    let s = &mut out.surveys;
    s.push(b'S');
    s.padded(ticket + 1, 9).comma().push(b'T');
    s.padded(ticket + 1, 9).comma().time(answered, false).comma();
    // Mostly empty (the ticket's agent); now and then a colleague who took the call back.
    if rng.chance(0.02) {
        let pool: Vec<usize> = org.hotline.iter().flatten().copied().collect();
        if let Some(&other) = pool.get(rng.below(pool.len() as u64) as usize)
            && Some(other) != agent
        {
            s.text(&org.people[other].id);
        }
    }
    s.comma();
    if rng.chance(0.97) {
        s.num(csat);
    }
    s.comma();
    if rng.chance(0.85) {
        s.num(nps);
    }
    s.comma().num(sub(rng)).comma().num(sub(rng)).comma().num(sub(rng)).comma().num(sub(rng)).comma();
    if rng.chance(0.12) {
        quoted(s, rng.pick(COMMENTS));
    }
    s.end();
    out.counts[2] += 1;
}

/// Writes a complaint received after `after`; `k` numbers the complaints of one ticket.
fn complaint(rng: &mut Rng, out: &mut BlockOut, org: &Org, ticket: u64, after: i64, k: u64) -> i64 {
    let received = after + rng.exp(36.0 * 3600.0) as i64 + 600;
    let major = rng.chance(0.2);
    let handler = if major && rng.chance(0.5) { Some(rng.pick(&org.complaint_specialists)) } else { None };
    let responded = received + rng.lognormal(1_800.0, 0.9) as i64 + 30;
    let resolved = (!rng.chance(0.04))
        .then(|| received + rng.lognormal(if major { 3.2 * 3600.0 } else { 18.0 * 3600.0 }, 0.8) as i64 + 300);
    let c = &mut out.complaints;
    c.push(b'Q');
    c.padded((ticket + 1) * 2 + k, 10).comma().push(b'T');
    c.padded(ticket + 1, 9)
        .comma()
        .time(received, false)
        .comma()
        .text(person_id(org, handler))
        .comma()
        .text(if major { "major" } else { "minor" })
        .comma();
    c.time(responded, false).comma().opt_time(resolved, false).comma();
    if resolved.is_some() {
        c.bool(rng.chance(0.72)).comma().bool(rng.chance(0.36));
    } else {
        c.comma();
    }
    c.end();
    out.counts[3] += 1;
    received
}
