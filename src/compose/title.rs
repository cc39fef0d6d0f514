//! Breaking a 2号 title into balanced lines (GB/T 9704 7.3.1: break at meaning
//! boundaries, keep the lines of similar length).

/// Characters of 2号 小标宋 that fit on one 156 mm line.
pub const TITLE_LINE_CHARS: usize = 20;

/// Splits a title into lines. An explicit `\n` in the text is the user's choice and
/// wins; otherwise the title is split into as few lines as fit, breaking where the
/// lines come out most even and preferring a break after 》，、 or before 的通知/工作/方案.
pub fn balance_title(text: &str) -> Vec<String> {
    if text.contains('\n') {
        return text
            .split('\n')
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
    }
    let chars: Vec<char> = text.trim().chars().collect();
    let width = |c: &char| if c.is_ascii() { 0.5 } else { 1.0 };
    let total: f64 = chars.iter().map(width).sum();
    let n = (total / TITLE_LINE_CHARS as f64).ceil().max(1.0) as usize;
    if n == 1 {
        return vec![chars.iter().collect()];
    }
    let mut lines = Vec::new();
    let mut start = 0;
    for k in 1..n {
        let target = total * k as f64 / n as f64;
        let mut best = (f64::MAX, start + 1);
        let mut acc: f64 = chars[..start].iter().map(width).sum();
        for i in start + 1..chars.len() {
            acc += width(&chars[i - 1]);
            if acc - chars[..start].iter().map(width).sum::<f64>()
                > TITLE_LINE_CHARS as f64
            {
                break;
            }
            if !can_break(&chars, i) {
                continue;
            }
            let mut cost = (acc - target).abs();
            if !preferred_break(&chars, i) {
                cost += 2.5;
            }
            if cost < best.0 {
                best = (cost, i);
            }
        }
        lines.push(chars[start..best.1].iter().collect());
        start = best.1;
    }
    lines.push(chars[start..].iter().collect());
    lines
}

/// A break before `chars[i]` must not put closing punctuation at a line start,
/// opening punctuation at a line end, or split a number.
fn can_break(chars: &[char], i: usize) -> bool {
    let (a, b) = (chars[i - 1], chars[i]);
    !("，。、；：？！）》”’〕】".contains(b)
        || "（《“‘〔【".contains(a)
        || (a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric()))
}

fn preferred_break(chars: &[char], i: usize) -> bool {
    let a = chars[i - 1];
    let rest: String = chars[i..].iter().take(3).collect();
    "》，、".contains(a)
        || rest.starts_with("的通知")
        || rest.starts_with("工作")
        || rest.starts_with("实施")
        || rest.starts_with("示范")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_breaks_win() {
        assert_eq!(balance_title("甲乙\n丙丁"), vec!["甲乙", "丙丁"]);
    }

    #[test]
    fn short_titles_stay_on_one_line() {
        assert_eq!(
            balance_title("关于开展督察工作的通知"),
            vec!["关于开展督察工作的通知"]
        );
    }

    #[test]
    fn long_titles_are_balanced_and_fit() {
        let t = "关于印发《陵川县创建法治政府建设示范县实施方案》的通知";
        let lines = balance_title(t);
        assert_eq!(lines.concat(), t);
        assert_eq!(lines.len(), 2);
        for l in &lines {
            assert!(l.chars().count() <= TITLE_LINE_CHARS, "{l}");
        }
        let (a, b) = (lines[0].chars().count() as i32, lines[1].chars().count() as i32);
        assert!((a - b).abs() <= 6, "{lines:?}");
        assert!(!lines[1].starts_with('》'));
    }
}
