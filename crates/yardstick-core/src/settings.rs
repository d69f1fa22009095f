//! Organisation settings (`yardstick.toml`): time zone, uncontrollable causes, calendars,
//! targets, and the metric and holiday files to load. Parsed from text here; reading the
//! files it names is the binary's job.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::calendar::{Calendar, HOURS_FORMAT_HINT, HolidayCalendar, WeeklyHours};
use crate::diag::{Diagnostic, parse_toml};
use crate::time::OrgTimeZone;

#[derive(Clone, Debug)]
pub struct Settings {
    /// The subject id of the organisation in outputs.
    pub org_id: String,
    pub tz: OrgTimeZone,
    /// Ticket causes that are not the agent's doing (SPEC §4, attribution exclusion).
    pub uncontrollable_causes: Vec<String>,
    /// The organisation's calendar.
    pub calendar: Calendar,
    /// Calendars of particular teams (by team id), inherited by their sub-teams.
    pub team_calendars: Vec<(String, Calendar)>,
    /// Targets for `attainment`, by metric id.
    pub targets: HashMap<String, f64>,
    /// Metric files to load (paths as written, relative to the config file).
    pub metric_files: Vec<String>,
    /// Scorecard template files to load (relative to the config file).
    pub scorecard_files: Vec<String>,
    /// Custom roles beyond the built-in ones.
    pub custom_roles: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            org_id: "org".to_string(),
            tz: OrgTimeZone::shanghai(),
            uncontrollable_causes: vec!["product_defect".to_string()],
            calendar: Calendar::china_office(),
            team_calendars: Vec::new(),
            targets: HashMap::new(),
            metric_files: Vec::new(),
            scorecard_files: Vec::new(),
            custom_roles: Vec::new(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigDoc {
    #[serde(default)]
    organisation: OrganisationDoc,
    #[serde(default)]
    calendar: Option<CalendarDoc>,
    #[serde(default)]
    calendars: HashMap<String, CalendarDoc>,
    #[serde(default)]
    metrics: FilesDoc,
    #[serde(default)]
    scorecards: FilesDoc,
    #[serde(default)]
    targets: HashMap<String, f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OrganisationDoc {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    time_zone: Option<toml::Spanned<String>>,
    #[serde(default)]
    uncontrollable_causes: Option<Vec<toml::Spanned<String>>>,
    #[serde(default)]
    custom_roles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarDoc {
    #[serde(default)]
    working_hours: Option<toml::Spanned<String>>,
    #[serde(default)]
    adjusted_workday_hours: Option<toml::Spanned<String>>,
    #[serde(default)]
    holidays: Option<toml::Spanned<String>>,
    #[serde(default)]
    holiday_files: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FilesDoc {
    #[serde(default)]
    files: Vec<String>,
}

impl Settings {
    /// A fingerprint of everything a computed value can depend on (time zone, calendars,
    /// lists, targets, roles), the same on every run, build and Rust release: FNV-1a over a
    /// canonical description (targets sorted by metric). Keys of the `exists` answers kept
    /// with the records carry it, so that answers worked out under other settings are never
    /// read.
    pub fn fingerprint(&self) -> u64 {
        let mut targets: Vec<(&String, &f64)> = self.targets.iter().collect();
        targets.sort_by(|a, b| a.0.cmp(b.0));
        let text = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.org_id,
            self.tz,
            self.uncontrollable_causes,
            self.calendar,
            self.team_calendars,
            targets,
            self.custom_roles
        );
        text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
    }

    /// The settings metrics may read (`$uncontrollable_causes`).
    pub fn params(&self) -> crate::lang::compile::Params {
        let mut p = crate::lang::compile::Params::default();
        p.lists.insert("uncontrollable_causes".into(), self.uncontrollable_causes.clone());
        p
    }

    /// Parses a `yardstick.toml`. `read` loads a file the config names (holiday files),
    /// relative to the config.
    pub fn from_toml(
        file: &str,
        text: &str,
        read: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Settings, Vec<Diagnostic>> {
        let doc: ConfigDoc = parse_toml(file, text).map_err(|d| vec![d])?;
        let mut s = Settings::default();
        let mut errors = Vec::new();
        let at = |span: std::ops::Range<usize>, msg: String, fix: &str| {
            Diagnostic::at_span(file, text, span.start, msg).code("config.invalid").fix(fix)
        };
        if let Some(id) = doc.organisation.id {
            s.org_id = id;
        }
        if let Some(tz) = &doc.organisation.time_zone {
            match OrgTimeZone::named(tz.get_ref()) {
                Some(z) => s.tz = z,
                None => errors.push(at(
                    tz.span(),
                    format!("unknown time zone `{}`", tz.get_ref()),
                    "use an IANA name such as Asia/Shanghai or an offset such as +08:00",
                )),
            }
        }
        if let Some(causes) = &doc.organisation.uncontrollable_causes {
            s.uncontrollable_causes.clear();
            for c in causes {
                if !crate::schema::CAUSES.contains(&c.get_ref().as_str()) {
                    errors.push(at(
                        c.span(),
                        format!("`{}` is not a ticket cause", c.get_ref()),
                        &format!("use some of {}", crate::schema::CAUSES.join(", ")),
                    ));
                }
                s.uncontrollable_causes.push(c.get_ref().clone());
            }
        }
        s.custom_roles = doc.organisation.custom_roles;
        let mut build = |c: &CalendarDoc, name: &str| -> Option<Calendar> {
            let mut calendar = Calendar::china_office();
            calendar.name = name.to_string();
            if let Some(h) = &c.working_hours {
                match WeeklyHours::parse(h.get_ref()) {
                    Ok(w) => calendar.weekly = w,
                    Err(e) => {
                        errors.push(at(h.span(), e, HOURS_FORMAT_HINT));
                        return None;
                    }
                }
            }
            if let Some(h) = &c.adjusted_workday_hours {
                match WeeklyHours::parse(&format!("Mon {}", h.get_ref())) {
                    Ok(w) => calendar.weekly.adjusted_workday = w.days[0].clone(),
                    Err(e) => errors.push(at(h.span(), e, "write e.g. \"09:00-18:00\"")),
                }
            }
            let mut holidays = match c.holidays.as_ref().map(|h| h.get_ref().as_str()) {
                None | Some("cn") => HolidayCalendar::china(),
                Some("none") => HolidayCalendar::default(),
                Some(other) => {
                    let span = c.holidays.as_ref().map(|h| h.span()).unwrap_or(0..0);
                    errors.push(at(
                        span,
                        format!("unknown holiday calendar `{other}`"),
                        "use \"cn\" or \"none\" (and holiday_files for more years)",
                    ));
                    return None;
                }
            };
            for path in &c.holiday_files {
                match read(path) {
                    Ok(t) => {
                        if let Err(mut e) = holidays.add_file(path, &t) {
                            errors.append(&mut e);
                        }
                    }
                    Err(e) => errors.push(
                        Diagnostic::error(file, 0, 0, format!("cannot read holiday file {path}: {e}"))
                            .code("config.unreadable_file")
                            .fix("check the path (relative to the config file)"),
                    ),
                }
            }
            calendar.holidays = Some(Arc::new(holidays));
            Some(calendar)
        };
        if let Some(c) = &doc.calendar
            && let Some(cal) = build(c, "default")
        {
            s.calendar = cal;
        }
        let mut names: Vec<&String> = doc.calendars.keys().collect();
        names.sort();
        for name in names {
            let c = &doc.calendars[name];
            if let Some(cal) = build(c, name) {
                for team in &c.teams {
                    s.team_calendars.push((team.clone(), cal.clone()));
                }
            }
        }
        s.targets = doc.targets;
        s.metric_files = doc.metrics.files;
        s.scorecard_files = doc.scorecards.files;
        if errors.is_empty() { Ok(s) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_config() {
        let text = r#"
[organisation]
id = "haier-after-sales"
time_zone = "Asia/Shanghai"
uncontrollable_causes = ["product_defect", "logistics"]

[calendar]
working_hours = "Mon-Sat 08:00-20:00"
holiday_files = ["2027.toml"]

[calendars.hotline]
working_hours = "24x7"
holidays = "none"
teams = ["T-HOTLINE"]

[targets]
fcr_rate = 0.8
"#;
        let read = |p: &str| {
            if p == "2027.toml" {
                Ok("[[year]]\nyear = 2027\n[[year.festival]]\nname = \"元旦\"\noff = [\"2027-01-01\"]\n".to_string())
            } else {
                Err("missing".into())
            }
        };
        let s = Settings::from_toml("yardstick.toml", text, &read).unwrap();
        assert_eq!(s.org_id, "haier-after-sales");
        assert_eq!(s.uncontrollable_causes, ["product_defect", "logistics"]);
        assert_eq!(s.calendar.weekly.days[5], vec![(8 * 3600, 20 * 3600)]);
        assert!(s.calendar.holidays.as_ref().unwrap().years().contains(&2027));
        assert_eq!(s.team_calendars[0].0, "T-HOTLINE");
        assert_eq!(s.targets["fcr_rate"], 0.8);
    }

    #[test]
    fn config_errors_have_positions() {
        let e = Settings::from_toml("y.toml", "[organisation]\ntime_zone = \"Asia/Shanghia\"\n", &|_| Err("x".into()))
            .unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "y.toml:2:13: error: unknown time zone `Asia/Shanghia` — fix: use an IANA name such as Asia/Shanghai or an offset such as +08:00"
        );
        let e = Settings::from_toml("y.toml", "[calendar]\nworking_hours = \"Mon-Fri 9-18\"\n", &|_| Err("x".into()))
            .unwrap_err();
        assert_eq!((e[0].line, e[0].column), (2, 17));
        let e =
            Settings::from_toml("y.toml", "[organisation]\ntimezone = \"UTC\"\n", &|_| Err("x".into())).unwrap_err();
        assert_eq!(e[0].line, 2);
    }
}
