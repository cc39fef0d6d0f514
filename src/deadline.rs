//! Deadlines as the seeds write them: an exact day, a part of a month, a range, a
//! quarter, or an open deadline printed as written.
//!
//! Every form has a well-defined latest acceptable day, so stages can be ordered
//! and tasks counted as late; an open deadline never is.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// A part of a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthPart {
    /// 月初: the first days (latest: the 5th).
    Start,
    /// 上旬: 1st–10th.
    First,
    /// 中旬: 11th–20th.
    Middle,
    /// 下旬: 21st–end.
    Last,
    /// 月底前 / 月底: by the last day.
    End,
}

impl MonthPart {
    fn text(self) -> &'static str {
        match self {
            MonthPart::Start => "初",
            MonthPart::First => "上旬",
            MonthPart::Middle => "中旬",
            MonthPart::Last => "下旬",
            MonthPart::End => "底前",
        }
    }
}

/// A deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deadline {
    /// An exact day; `before` for "…日前".
    Day {
        /// The day.
        date: NaiveDate,
        /// Written "…日前".
        before: bool,
    },
    /// A part of a month.
    Month {
        /// The year.
        year: i32,
        /// The month, 1 to 12.
        month: u32,
        /// Which part of it.
        part: MonthPart,
    },
    /// A range of days ("8月1日至8月10日").
    Range {
        /// The first day.
        from: NaiveDate,
        /// The last day.
        to: NaiveDate,
    },
    /// By the end of a quarter ("2024年第二季度前").
    Quarter {
        /// The year.
        year: i32,
        /// The quarter, 1 to 4.
        quarter: u32,
    },
    /// No date: printed as written, never late ("按照市部署时间", "待定").
    Open(String),
}

/// Why a deadline could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineError(pub String);

impl fmt::Display for DeadlineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const QUARTERS: [&str; 4] = ["一", "二", "三", "四"];

impl Deadline {
    /// Parses the Chinese forms; `default_year` fills a year-less date.
    pub fn parse(
        text: &str,
        default_year: Option<i32>,
    ) -> Result<Deadline, DeadlineError> {
        let t: String = text.trim().chars().filter(|c| !c.is_whitespace()).collect();
        if t.is_empty() {
            return Err(DeadlineError("时限为空".into()));
        }
        if !t.chars().any(|c| c.is_ascii_digit()) && !t.contains("季度") {
            return Ok(Deadline::Open(text.trim().to_string()));
        }
        let bad = || DeadlineError(format!("无法识别的时限\"{text}\""));
        let mut p = Parser { s: &t, year: default_year };
        // range: A至B / A—B / A-B
        for sep in ["至", "—", "～", "~"] {
            if let Some((a, b)) = t.split_once(sep) {
                let from = p.day(a).ok_or_else(bad)?;
                let mut q = Parser { s: b, year: Some(from.year()) };
                let to = q.day_with_month(b, from.month()).ok_or_else(bad)?;
                if to < from {
                    return Err(DeadlineError(format!(
                        "时限\"{text}\"的结束日早于开始日"
                    )));
                }
                return Ok(Deadline::Range { from, to });
            }
        }
        if let Some(rest) = t.strip_suffix("季度前").or_else(|| t.strip_suffix("季度"))
        {
            let (year, rest) = p.take_year(rest).ok_or_else(bad)?;
            let q = rest.strip_prefix('第').unwrap_or(rest);
            let idx = QUARTERS.iter().position(|x| *x == q).ok_or_else(bad)?;
            return Ok(Deadline::Quarter { year, quarter: idx as u32 + 1 });
        }
        let (year, rest) = p.take_year(&t).ok_or_else(bad)?;
        let (month, rest) = take_num(rest, '月').ok_or_else(bad)?;
        if !(1..=12).contains(&month) {
            return Err(DeadlineError(format!("时限\"{text}\"中的月份 {month} 不存在")));
        }
        let part = match rest {
            "初" | "初前" => Some(MonthPart::Start),
            "上旬" | "上旬前" => Some(MonthPart::First),
            "中旬" | "中旬前" => Some(MonthPart::Middle),
            "下旬" | "下旬前" => Some(MonthPart::Last),
            "底" | "底前" | "末" | "" => Some(MonthPart::End),
            _ => None,
        };
        if let Some(part) = part {
            return Ok(Deadline::Month { year, month, part });
        }
        let (day, rest) = take_num(rest, '日').ok_or_else(bad)?;
        let before = match rest {
            "" => false,
            "前" => true,
            _ => return Err(bad()),
        };
        let date = NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| DeadlineError(format!("日期\"{text}\"不存在")))?;
        Ok(Deadline::Day { date, before })
    }

    /// The latest day by which the deadline is met; `None` for an open deadline.
    pub fn latest_day(&self) -> Option<NaiveDate> {
        match *self {
            Deadline::Day { date, .. } => Some(date),
            Deadline::Range { to, .. } => Some(to),
            Deadline::Month { year, month, part } => {
                let day = match part {
                    MonthPart::Start => 5,
                    MonthPart::First => 10,
                    MonthPart::Middle => 20,
                    MonthPart::Last | MonthPart::End => last_day_of_month(year, month)?,
                };
                NaiveDate::from_ymd_opt(year, month, day)
            }
            Deadline::Quarter { year, quarter } => {
                let month = quarter * 3;
                NaiveDate::from_ymd_opt(year, month, last_day_of_month(year, month)?)
            }
            Deadline::Open(_) => None,
        }
    }

    /// The first day the deadline covers, for ordering stages.
    pub fn earliest_day(&self) -> Option<NaiveDate> {
        match *self {
            Deadline::Range { from, .. } => Some(from),
            Deadline::Month { year, month, part } => {
                let day = match part {
                    MonthPart::Middle => 11,
                    MonthPart::Last => 21,
                    _ => 1,
                };
                NaiveDate::from_ymd_opt(year, month, day)
            }
            _ => self.latest_day(),
        }
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deadline::Day { date, before } => {
                write!(f, "{}", cn_date(*date))?;
                if *before {
                    f.write_str("前")?;
                }
                Ok(())
            }
            Deadline::Month { year, month, part } => {
                write!(f, "{year}年{month}月{}", part.text())
            }
            Deadline::Range { from, to } => {
                if from.year() == to.year() {
                    write!(f, "{}至{}月{}日", cn_date(*from), to.month(), to.day())
                } else {
                    write!(f, "{}至{}", cn_date(*from), cn_date(*to))
                }
            }
            Deadline::Quarter { year, quarter } => {
                write!(f, "{year}年第{}季度前", QUARTERS[(*quarter - 1) as usize])
            }
            Deadline::Open(text) => f.write_str(text),
        }
    }
}

/// The forms a deadline may take, for hints in messages.
pub const FORMS_HINT: &str = "可写 2023年9月底前、2023年10月上旬、2023年8月1日至8月10日、2024年第二季度前 或 按照市部署时间";

/// Whether a deadline text names its year (`2023年…`); year-less dates take the
/// case's year.
pub fn names_year(text: &str) -> bool {
    text.contains('年') && text.chars().filter(char::is_ascii_digit).count() >= 4
}

/// `2023年8月31日`: Arabic numerals, no zero padding (GB/T 9704 成文日期).
pub fn cn_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

fn last_day_of_month(year: i32, month: u32) -> Option<u32> {
    let (y, m) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    Some(NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()?.day())
}

/// Reads `N<unit>` from the front of `s`.
fn take_num(s: &str, unit: char) -> Option<(u32, &str)> {
    let (num, rest) = s.split_once(unit)?;
    if num.is_empty() || num.len() > 4 || !num.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((num.parse().ok()?, rest))
}

struct Parser<'a> {
    #[expect(dead_code, reason = "kept for error messages that quote the whole text")]
    s: &'a str,
    year: Option<i32>,
}

impl Parser<'_> {
    /// Reads an optional `YYYY年`; without one the default year is used.
    fn take_year<'b>(&mut self, s: &'b str) -> Option<(i32, &'b str)> {
        match take_num(s, '年') {
            Some((y, rest)) if (1900..=2200).contains(&y) => {
                self.year = Some(y as i32);
                Some((y as i32, rest))
            }
            Some(_) => None,
            None => Some((self.year?, s)),
        }
    }

    fn day(&mut self, s: &str) -> Option<NaiveDate> {
        let (year, rest) = self.take_year(s)?;
        let (month, rest) = take_num(rest, '月')?;
        let (day, rest) = take_num(rest, '日')?;
        if !rest.is_empty() {
            return None;
        }
        NaiveDate::from_ymd_opt(year, month, day)
    }

    /// A day whose year and month may be left out ("至10日").
    fn day_with_month(&mut self, s: &str, month: u32) -> Option<NaiveDate> {
        let s = s.strip_suffix('前').unwrap_or(s);
        if let Some(d) = self.day(s) {
            return Some(d);
        }
        let (day, rest) = take_num(s, '日')?;
        if !rest.is_empty() {
            return None;
        }
        NaiveDate::from_ymd_opt(self.year?, month, day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn seed_forms_round_trip() {
        for text in [
            "2023年9月初",
            "2023年9月底前",
            "2023年10月上旬",
            "2023年10月中旬",
            "2023年10月下旬",
            "2023年8月31日",
            "2023年7月31日前",
            "2023年8月1日至8月10日",
            "2024年第二季度前",
            "按照市部署时间",
            "具体时间待定",
        ] {
            let parsed = Deadline::parse(text, None).unwrap();
            assert_eq!(parsed.to_string(), text, "{parsed:?}");
        }
    }

    #[test]
    fn latest_day_rules() {
        let p = |t| Deadline::parse(t, None).unwrap().latest_day();
        assert_eq!(p("2023年9月底前"), Some(d(2023, 9, 30)));
        assert_eq!(p("2024年2月底前"), Some(d(2024, 2, 29)));
        assert_eq!(p("2023年2月底前"), Some(d(2023, 2, 28)));
        assert_eq!(p("2023年12月下旬"), Some(d(2023, 12, 31)));
        assert_eq!(p("2023年9月上旬"), Some(d(2023, 9, 10)));
        assert_eq!(p("2023年9月中旬"), Some(d(2023, 9, 20)));
        assert_eq!(p("2024年第二季度前"), Some(d(2024, 6, 30)));
        assert_eq!(p("2024年第四季度"), Some(d(2024, 12, 31)));
        assert_eq!(p("2023年8月1日至8月10日"), Some(d(2023, 8, 10)));
        assert_eq!(p("按照市部署时间"), None);
    }

    #[test]
    fn year_less_dates_take_the_default_year() {
        let parsed = Deadline::parse("8月25日", Some(2020)).unwrap();
        assert_eq!(parsed.latest_day(), Some(d(2020, 8, 25)));
        assert!(Deadline::parse("8月25日", None).is_err());
    }

    #[test]
    fn nonsense_is_rejected() {
        for text in [
            "2023年13月",
            "2023年2月30日",
            "2023年9月八日",
            "9999年1月1日",
            "2023年9月1日至8月1日",
        ] {
            assert!(Deadline::parse(text, None).is_err(), "{text}");
        }
    }

    #[test]
    fn cn_date_has_no_padding() {
        assert_eq!(cn_date(d(2023, 8, 1)), "2023年8月1日");
    }
}
