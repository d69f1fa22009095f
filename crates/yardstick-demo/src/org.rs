//! The organisation of the generated after-sales division: an appliance maker with four
//! regions, each with hotline groups, an online chat group, field-service crews and a
//! customer-relationship team, plus a central complaint desk, QA and HR.

use crate::rng::Rng;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",
    "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "华", "玉兰", "萍", "鑫", "婷", "宇", "浩", "凯", "佳", "欣", "雪", "琳", "晨", "阳", "思远",
    "雨桐", "子涵", "梓萱", "浩然", "一诺", "建国", "海燕", "志强", "晓东", "文博", "嘉怡", "俊杰", "慧敏",
];

pub const REGIONS: &[(&str, &str)] =
    &[("EAST", "华东大区"), ("SOUTH", "华南大区"), ("NORTH", "华北大区"), ("WEST", "西部大区")];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeamKind {
    Root,
    Region,
    Hotline,
    Chat,
    Field,
    Relationship,
    ComplaintDesk,
    Quality,
    Support,
}

#[derive(Clone, Debug)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub parent: Option<usize>,
    pub lead: Option<usize>,
    pub region: Option<&'static str>,
    pub kind: TeamKind,
}

#[derive(Clone, Debug)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    /// Current team.
    pub team: usize,
    pub manager: Option<usize>,
    pub hired_at: i64,
    pub left_at: Option<i64>,
    /// Latent ability in [0, 1]: drives resolution, satisfaction, speed.
    pub skill: f64,
}

#[derive(Clone, Debug)]
pub struct Move {
    pub person: usize,
    pub from_team: usize,
    pub to_team: usize,
    pub at: i64,
    pub hired_at: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Org {
    pub teams: Vec<Team>,
    pub people: Vec<Person>,
    pub moves: Vec<Move>,
    /// Front-line agents by channel group, per region index.
    pub hotline: Vec<Vec<usize>>,
    pub chat: Vec<Vec<usize>>,
    pub technicians: Vec<Vec<usize>>,
    pub relationship: Vec<usize>,
    pub complaint_specialists: Vec<usize>,
    pub auditors: Vec<usize>,
    pub leads: Vec<usize>,
}

/// Builds the organisation for a ticket volume (front-line size follows the volume).
pub fn build(rng: &mut Rng, n_tickets: u64, year_start: i64) -> Org {
    let mut org = Org::default();
    let per_region_agents = ((n_tickets / 4500) / REGIONS.len() as u64).clamp(8, 1200) as usize;
    let root = org.team("ASD", "售后服务部", None, None, TeamKind::Root);
    let head = org.person(rng, "manager", root, None, year_start);
    org.teams[root].lead = Some(head);
    let desk = org.team("CPL", "投诉处理中心", Some(root), None, TeamKind::ComplaintDesk);
    let qa = org.team("QA", "质检组", Some(root), None, TeamKind::Quality);
    let support = org.team("HR", "人事与系统组", Some(root), None, TeamKind::Support);
    for (r, &(code, name)) in REGIONS.iter().enumerate() {
        let region = org.team(&format!("R-{code}"), name, Some(root), Some(code), TeamKind::Region);
        let manager = org.person(rng, "manager", region, Some(head), year_start);
        org.teams[region].lead = Some(manager);
        let hotline_agents = per_region_agents * 6 / 10;
        let chat_agents = per_region_agents - hotline_agents;
        let technicians = (per_region_agents / 2).max(4);
        let mut hotline = Vec::new();
        for (g, size) in group_sizes(hotline_agents, 15).into_iter().enumerate() {
            let team = org.team(
                &format!("{code}-HL{}", g + 1),
                &format!("{}热线{}组", &name[..6], chinese_number(g + 1)),
                Some(region),
                Some(code),
                TeamKind::Hotline,
            );
            hotline.extend(org.staff(rng, team, size, "agent", Some(manager), year_start));
        }
        let mut chat = Vec::new();
        for (g, size) in group_sizes(chat_agents, 15).into_iter().enumerate() {
            let team = org.team(
                &format!("{code}-CH{}", g + 1),
                &format!("{}在线客服{}组", &name[..6], chinese_number(g + 1)),
                Some(region),
                Some(code),
                TeamKind::Chat,
            );
            chat.extend(org.staff(rng, team, size, "agent", Some(manager), year_start));
        }
        let mut field = Vec::new();
        for (g, size) in group_sizes(technicians, 12).into_iter().enumerate() {
            let team = org.team(
                &format!("{code}-FS{}", g + 1),
                &format!("{}上门服务{}队", &name[..6], chinese_number(g + 1)),
                Some(region),
                Some(code),
                TeamKind::Field,
            );
            field.extend(org.staff(rng, team, size, "technician", Some(manager), year_start));
        }
        let cr = org.team(
            &format!("{code}-CR"),
            &format!("{}客户关系组", &name[..6]),
            Some(region),
            Some(code),
            TeamKind::Relationship,
        );
        let cr_people = org.staff(rng, cr, 3, "cr_specialist", Some(manager), year_start);
        org.relationship.extend(cr_people);
        org.hotline.push(hotline);
        org.chat.push(chat);
        org.technicians.push(field);
        let _ = r;
    }
    org.complaint_specialists = org.staff(rng, desk, 2 * REGIONS.len(), "complaint_specialist", Some(head), year_start);
    org.auditors = org.staff(rng, qa, 4, "auditor", Some(head), year_start);
    org.staff(rng, support, 2, "hr", Some(head), year_start);
    org.staff(rng, support, 1, "admin", Some(head), year_start);
    org.moves_and_leavers(rng, year_start);
    org
}

fn chinese_number(n: usize) -> String {
    const D: [&str; 11] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    match n {
        0..=10 => D[n].to_string(),
        11..=19 => format!("十{}", D[n - 10]),
        _ => n.to_string(),
    }
}

/// Splits `n` people into groups of about `size`.
fn group_sizes(n: usize, size: usize) -> Vec<usize> {
    let groups = n.div_ceil(size).max(1);
    (0..groups).map(|g| n / groups + usize::from(g < n % groups)).collect()
}

impl Org {
    fn team(
        &mut self,
        id: &str,
        name: &str,
        parent: Option<usize>,
        region: Option<&'static str>,
        kind: TeamKind,
    ) -> usize {
        self.teams.push(Team { id: id.to_string(), name: name.to_string(), parent, lead: None, region, kind });
        self.teams.len() - 1
    }

    fn person(
        &mut self,
        rng: &mut Rng,
        role: &'static str,
        team: usize,
        manager: Option<usize>,
        year_start: i64,
    ) -> usize {
        let n = self.people.len();
        let name = format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN));
        let years_before = rng.range(30, 6 * 365) * 86_400;
        self.people.push(Person {
            id: format!("E{:05}", n + 1),
            name,
            role,
            team,
            manager,
            hired_at: (year_start - years_before).div_euclid(86_400) * 86_400 - crate::out::OFFSET,
            left_at: None,
            skill: (0.15 + 0.85 * rng.f64()).min(1.0),
        });
        n
    }

    /// A team lead and `n` members of `role`; returns the members.
    fn staff(
        &mut self,
        rng: &mut Rng,
        team: usize,
        n: usize,
        role: &'static str,
        manager: Option<usize>,
        year_start: i64,
    ) -> Vec<usize> {
        let lead = self.person(rng, "team_lead", team, manager, year_start);
        self.teams[team].lead = Some(lead);
        self.leads.push(lead);
        (0..n).map(|_| self.person(rng, role, team, Some(lead), year_start)).collect()
    }

    /// About 6% of front-line staff move to a sibling team during the year; about 8% leave.
    fn moves_and_leavers(&mut self, rng: &mut Rng, year_start: i64) {
        let pools: Vec<Vec<usize>> = self.hotline.iter().chain(&self.chat).chain(&self.technicians).cloned().collect();
        for pool in pools {
            for &p in &pool {
                if rng.chance(0.06) {
                    let from_team = self.people[p].team;
                    // A sibling team of the same region, or else the same kind of team elsewhere.
                    let same_kind = |t: usize| t != from_team && self.teams[t].kind == self.teams[from_team].kind;
                    let mut siblings: Vec<usize> = (0..self.teams.len())
                        .filter(|&t| same_kind(t) && self.teams[t].parent == self.teams[from_team].parent)
                        .collect();
                    if siblings.is_empty() {
                        siblings = (0..self.teams.len()).filter(|&t| same_kind(t)).collect();
                    }
                    if let Some(&to_team) = siblings.get(rng.below(siblings.len().max(1) as u64) as usize) {
                        let at = year_start + rng.range(30, 330) * 86_400;
                        self.moves.push(Move { person: p, from_team, to_team, at, hired_at: self.people[p].hired_at });
                        self.people[p].team = to_team;
                    }
                } else if rng.chance(0.08) {
                    self.people[p].left_at = Some(year_start + rng.range(60, 360) * 86_400);
                }
            }
        }
    }

    /// Whether a person works (is employed) at `t`.
    pub fn active(&self, person: usize, t: i64) -> bool {
        let p = &self.people[person];
        p.hired_at <= t && p.left_at.is_none_or(|l| t < l)
    }
}
