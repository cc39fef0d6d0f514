//! Progress between two notices: who is done, who is late.
//!
//! Each indicator's 完成时限 is read as a [`Deadline`]; its 完成情况 (或 责任单位
//! 栏的"已完成") says whether it is done. An open deadline (按照市部署时间) is
//! never late.

use chrono::NaiveDate;

use crate::deadline::Deadline;
use crate::diag::Diagnostic;
use crate::model::{Case, Indicator};
use crate::registry::Role;

/// Where a task stands on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Finished (optionally on a known day).
    Done,
    /// Not finished; the deadline is ahead, or open.
    Open {
        /// Days left until the deadline, if it has one.
        days_left: Option<i64>,
    },
    /// Not finished and the deadline has passed.
    Overdue {
        /// Days since the deadline.
        days: i64,
    },
}

/// A task's deadline and state.
#[derive(Debug, Clone)]
pub struct TaskState<'a> {
    /// The indicator.
    pub indicator: &'a Indicator,
    /// Its deadline, if any.
    pub deadline: Option<Deadline>,
    /// Its state on the day asked.
    pub state: State,
}

/// The state of every indicator on `as_of`, from the deadlines and 完成情况
/// typed when the case was loaded ([`Indicator::due`], [`Indicator::done`]). A
/// year-less deadline that took the notice's year and then falls before the
/// notice is an error at its cell: the next year is likelier, so it is asked.
pub fn task_states<'a>(
    case: &'a Case,
    as_of: NaiveDate,
) -> Result<Vec<TaskState<'a>>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for ind in &case.indicators {
        if let (Some(due), Some(written)) = (&ind.due, &ind.deadline)
            && !due.names_year
            && due.deadline.latest_day().is_some_and(|l| l < case.notice.date.value)
        {
            diags.push(
                Diagnostic::error(
                    written.loc.clone(),
                    format!(
                        "时限\"{}\"按当年算早于成文日期，是否指次年？",
                        written.value
                    ),
                )
                .with_hint("写明年份，如 2025年1月15日"),
            );
            continue;
        }
        let deadline = ind.due.as_ref().map(|d| d.deadline.clone());
        let state = if ind.done {
            State::Done
        } else {
            match deadline.as_ref().and_then(Deadline::latest_day) {
                Some(last) if last < as_of => {
                    State::Overdue { days: (as_of - last).num_days() }
                }
                Some(last) => State::Open { days_left: Some((last - as_of).num_days()) },
                None => State::Open { days_left: None },
            }
        };
        out.push(TaskState { indicator: ind, deadline, state });
    }
    if diags.is_empty() { Ok(out) } else { Err(diags) }
}

/// Counts of one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitProgress {
    /// The unit.
    pub unit: String,
    /// Finished tasks.
    pub done: usize,
    /// Unfinished, not late.
    pub open: usize,
    /// Late: (indicator number, days late).
    pub overdue: Vec<(String, i64)>,
    /// Due within seven days: (indicator number, days left).
    pub due_soon: Vec<(String, i64)>,
}

/// Progress per unit (lead and supporting roles both count).
pub fn by_unit(case: &Case, states: &[TaskState<'_>]) -> Vec<UnitProgress> {
    let units = crate::compose::assign::tasks_by_unit(&case.registry, &case.indicators);
    units
        .into_iter()
        .map(|(unit, tasks)| {
            let mut p = UnitProgress { unit, ..Default::default() };
            for (ind, _role) in tasks.iter().map(|(i, r): &(&Indicator, Role)| (*i, *r)) {
                let Some(s) = states.iter().find(|s| std::ptr::eq(s.indicator, ind))
                else {
                    continue;
                };
                let number = crate::compose::assign::indicator_number(ind);
                match s.state {
                    State::Done => p.done += 1,
                    State::Overdue { days } => p.overdue.push((number, days)),
                    State::Open { days_left } => {
                        p.open += 1;
                        if let Some(d) = days_left.filter(|d| *d <= 7) {
                            p.due_soon.push((number, d));
                        }
                    }
                }
            }
            p
        })
        .filter(|p| p.done + p.open + p.overdue.len() > 0)
        .collect()
}
