//! The XLSX export of a period's scorecards: a summary sheet, then one sheet per team laid
//! out like the paper 考核表 (a block per person: items with weight, target, value, score,
//! weighted score; then total, grade, rank, bonus). Chinese headers; numbers are numbers;
//! text a spreadsheet would execute (`= + - @`, tab, CR at the start) is neutralised.

use std::collections::BTreeMap;

use anyhow::Result;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use yardstick_core::engine::Rational;
use yardstick_core::scorecard::{Group, Scorecard, Scored, Scoring, TemplateSet};

use yardstick_core::engine::neutralise;

use crate::sheet::{Cell, Names, sheet};

fn zh_header(key: &str, set: &TemplateSet) -> String {
    let item_name = |m: &str| {
        set.templates.iter().flat_map(|t| &t.items).find(|i| i.metric == m).map_or(m.to_string(), |i| i.name_zh.clone())
    };
    let fixed = [
        ("person_id", "工号"),
        ("name", "姓名"),
        ("team_id", "团队编号"),
        ("template", "考核表"),
        ("version", "版本"),
        ("total", "总分"),
        ("grade", "等级"),
        ("subject", "对象"),
        ("team_name", "团队"),
        ("role", "岗位"),
        ("rank_team", "团队排名"),
        ("rank_role", "岗位排名"),
        ("rank_org", "全员排名"),
        ("veto", "否决项"),
        ("bonus", "奖金"),
        ("weight_counted", "计分权重"),
        ("insufficient", "不足以评定"),
        ("quantitative", "定量小计"),
        ("qualitative", "定性小计"),
        ("results", "结果指标小计"),
        ("process", "过程指标小计"),
    ];
    if let Some((_, zh)) = fixed.iter().find(|(k, _)| *k == key) {
        return zh.to_string();
    }
    if let Some(d) = key.strip_prefix("dimension:") {
        return format!("{}小计", dimension_zh(d));
    }
    if let Some(m) = key.strip_prefix("value:") {
        return format!("{}（实际值）", item_name(m));
    }
    if let Some(m) = key.strip_prefix("score:") {
        return format!("{}（得分）", item_name(m));
    }
    key.to_string()
}

pub fn dimension_zh(d: &str) -> &str {
    match d {
        "quality" => "服务质量",
        "efficiency" => "服务效率",
        "experience" => "客户体验",
        "growth" => "能力成长",
        "cost" => "成本控制",
        "financial" => "财务",
        "customer" => "客户",
        "process" => "内部流程",
        "learning" => "学习与成长",
        other => other,
    }
}

fn write_cell(ws: &mut Worksheet, row: u32, col: u16, cell: &Cell, formats: &Formats) -> Result<()> {
    match cell {
        Cell::Text(s) => {
            ws.write_string_with_format(row, col, neutralise(s), &formats.text)?;
        }
        Cell::Number(v, places) => {
            let f = if *places == 0 {
                &formats.int
            } else if *places <= 2 {
                &formats.two
            } else {
                &formats.six
            };
            ws.write_number_with_format(row, col, v.round(*places).to_f64(), f)?;
        }
        Cell::Empty => {}
    }
    Ok(())
}

struct Formats {
    title: Format,
    head: Format,
    text: Format,
    int: Format,
    two: Format,
    six: Format,
    total: Format,
}

fn formats() -> Formats {
    let border = |f: Format| f.set_border(FormatBorder::Thin);
    Formats {
        title: Format::new().set_bold().set_font_size(14),
        head: border(Format::new().set_bold().set_background_color("#DDEBF7").set_align(FormatAlign::Center)),
        text: border(Format::new()),
        int: border(Format::new().set_num_format("0")),
        two: border(Format::new().set_num_format("0.00")),
        six: border(Format::new().set_num_format("0.0000##")),
        total: border(Format::new().set_bold().set_num_format("0.00")),
    }
}

/// Sheet names: at most 31 characters, none of `[]:*?/\`, unique.
fn sheet_name(base: &str, used: &mut Vec<String>) -> String {
    let clean: String = base.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(28).collect();
    let mut name = clean.clone();
    let mut k = 2;
    while used.contains(&name) {
        name = format!("{clean}~{k}");
        k += 1;
    }
    used.push(name.clone());
    name
}

pub fn workbook(names: &Names, set: &TemplateSet, scoring: &Scoring) -> Result<Vec<u8>> {
    let f = formats();
    let mut wb = Workbook::new();
    let mut used = Vec::new();
    // Summary.
    let (header, rows) = sheet(names, set, scoring);
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name("汇总", &mut used))?;
    ws.write_string_with_format(0, 0, format!("{} 绩效考核汇总", scoring.period), &f.title)?;
    for (c, key) in header.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, zh_header(key, set), &f.head)?;
        ws.set_column_width(c as u16, 12)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            write_cell(ws, r as u32 + 2, c as u16, cell, &f)?;
        }
    }
    ws.set_freeze_panes(2, 2)?;
    // One sheet per team: team scorecards first, then people by id.
    let mut by_team: BTreeMap<String, Vec<&Scorecard>> = BTreeMap::new();
    for c in &scoring.cards {
        by_team.entry(names.team_id(c.team)).or_default().push(c);
    }
    for (team_id, cards) in by_team {
        let team = cards[0].team;
        let ws = wb.add_worksheet();
        let title =
            if team_id.is_empty() { "无团队".to_string() } else { format!("{team_id} {}", names.team_name(team)) };
        ws.set_name(sheet_name(&title, &mut used))?;
        for (c, w) in [6.0, 10.0, 28.0, 8.0, 8.0, 10.0, 10.0, 12.0, 9.0, 10.0, 60.0].iter().enumerate() {
            ws.set_column_width(c as u16, *w)?;
        }
        ws.write_string_with_format(
            0,
            0,
            format!("{} {} 绩效考核表", scoring.period, names.team_name(team)),
            &f.title,
        )?;
        let mut row = 2u32;
        let mut ordered = cards.clone();
        ordered.sort_by_key(|c| (matches!(c.scored, Scored::Person(_)), c.scored));
        for card in ordered {
            row = person_block(ws, row, names, set, card, &f)? + 1;
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// One scorecard as a paper form; returns the next free row.
fn person_block(
    ws: &mut Worksheet,
    mut row: u32,
    names: &Names,
    set: &TemplateSet,
    c: &Scorecard,
    f: &Formats,
) -> Result<u32> {
    let t = &set.templates[c.template];
    let who: Vec<Cell> = match c.scored {
        Scored::Person(p) => vec![
            Cell::Text("工号".into()),
            Cell::Text(names.person_id(p)),
            Cell::Text("姓名".into()),
            Cell::Text(names.person_name(p)),
            Cell::Text("岗位".into()),
            Cell::Text(names.role(p)),
            Cell::Text("考核表".into()),
            Cell::Text(format!("{} v{}", t.name_zh, t.version)),
        ],
        Scored::Team(_) => vec![
            Cell::Text("团队".into()),
            Cell::Text(names.team_id(c.team)),
            Cell::Text("名称".into()),
            Cell::Text(names.team_name(c.team)),
            Cell::Text("考核表".into()),
            Cell::Text(format!("{} v{}（团队）", t.name_zh, t.version)),
        ],
    };
    for (col, cell) in who.iter().enumerate() {
        write_cell(ws, row, col as u16, cell, f)?;
    }
    row += 1;
    let head =
        ["序号", "维度", "考核指标", "类型", "权重", "目标值", "门槛值", "实际值", "得分", "加权得分", "计分说明"];
    for (col, h) in head.iter().enumerate() {
        ws.write_string_with_format(row, col as u16, *h, &f.head)?;
    }
    row += 1;
    for (k, (item, r)) in t.items.iter().zip(&c.items).enumerate() {
        let kind = if item.qualitative { "定性" } else { "定量" };
        let cells = [
            Cell::Number(Rational::int(k as i128 + 1), 0),
            Cell::Text(crate::xlsx::dimension_zh(&item.dimension).to_string()),
            Cell::Text(item.name_zh.clone()),
            Cell::Text(kind.into()),
            Cell::Number(r.weight, 2),
            r.target.map_or(Cell::Empty, |v| Cell::Number(v, 6)),
            r.threshold.map_or(Cell::Empty, |v| Cell::Number(v, 6)),
            r.value.and_then(|v| v.value).map_or(Cell::Text("—".into()), |v| Cell::Number(v, 6)),
            r.score.map_or(Cell::Text("不计".into()), |v| Cell::Number(v, 2)),
            r.contribution.map_or(Cell::Empty, |v| Cell::Number(v.round(2), 2)),
            Cell::Text(r.arithmetic.clone()),
        ];
        for (col, cell) in cells.iter().enumerate() {
            write_cell(ws, row, col as u16, cell, f)?;
        }
        row += 1;
    }
    let rank =
        |g: Group| c.ranks.iter().find(|r| r.group == g).map(|r| format!("{}/{}", r.rank, r.of)).unwrap_or_default();
    ws.write_string_with_format(row, 0, "总分", &f.head)?;
    match c.total {
        Some(total) => ws.write_number_with_format(row, 1, total.to_f64(), &f.total)?,
        None => ws.write_string_with_format(row, 1, "—", &f.text)?,
    };
    ws.write_string_with_format(row, 2, "等级", &f.head)?;
    let grade = match &c.insufficient {
        Some(_) => "不足以评定".to_string(),
        None => c.grade.clone().unwrap_or_default(),
    };
    ws.write_string_with_format(row, 3, grade, &f.text)?;
    ws.write_string_with_format(row, 4, "团队排名", &f.head)?;
    ws.write_string_with_format(row, 5, rank(Group::Team), &f.text)?;
    ws.write_string_with_format(row, 6, "全员排名", &f.head)?;
    ws.write_string_with_format(row, 7, rank(Group::Org), &f.text)?;
    ws.write_string_with_format(row, 8, "奖金", &f.head)?;
    match &c.bonus {
        Some(b) => ws.write_number_with_format(row, 9, b.amount.to_f64(), &f.two)?,
        None => ws.write_string_with_format(row, 9, "", &f.text)?,
    };
    if !c.vetoes.is_empty() {
        ws.write_string_with_format(row, 10, neutralise(&format!("否决：{}", c.vetoes.join("、"))), &f.text)?;
    }
    Ok(row + 2)
}
