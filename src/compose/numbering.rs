//! GB/T 9704 structure numbers: 一、 （一） 1. （1）, and the heading font of each level.

use crate::doc::FontRole;

const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// A number in Chinese numerals as headings write it (1 → 一, 10 → 十, 12 → 十二, 20 → 二十).
pub fn cn_number(n: u32) -> String {
    match n {
        0..=9 => DIGITS[n as usize].to_string(),
        10..=19 => format!("十{}", if n == 10 { "" } else { DIGITS[(n - 10) as usize] }),
        20..=99 => {
            let (t, u) = (n / 10, n % 10);
            format!(
                "{}十{}",
                DIGITS[t as usize],
                if u == 0 { "" } else { DIGITS[u as usize] }
            )
        }
        100..=999 => {
            let (h, rest) = (n / 100, n % 100);
            let tail = match rest {
                0 => String::new(),
                1..=9 => format!("零{}", DIGITS[rest as usize]),
                // 110 is 一百一十, not 一百十
                10..=19 => format!("一{}", cn_number(rest)),
                _ => cn_number(rest),
            };
            format!("{}百{tail}", DIGITS[h as usize])
        }
        _ => n.to_string(),
    }
}

/// The number of the `n`th (1-based) heading on `level` (1–4).
pub fn heading_number(level: usize, n: u32) -> String {
    match level {
        1 => format!("{}、", cn_number(n)),
        2 => format!("（{}）", cn_number(n)),
        3 => format!("{n}."),
        _ => format!("（{n}）"),
    }
}

/// The font of a heading on `level`: 黑体, 楷体, then 仿宋.
pub fn heading_role(level: usize) -> FontRole {
    match level {
        1 => FontRole::Hei,
        2 => FontRole::Kai,
        _ => FontRole::Fang,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_per_level() {
        assert_eq!(heading_number(1, 1), "一、");
        assert_eq!(heading_number(1, 10), "十、");
        assert_eq!(heading_number(1, 12), "十二、");
        assert_eq!(heading_number(2, 3), "（三）");
        assert_eq!(heading_number(2, 20), "（二十）");
        assert_eq!(heading_number(2, 21), "（二十一）");
        assert_eq!(heading_number(3, 7), "7.");
        assert_eq!(heading_number(4, 2), "（2）");
        // a hundred and more in one consistent form, never （100）
        assert_eq!(heading_number(2, 100), "（一百）");
        assert_eq!(heading_number(2, 101), "（一百零一）");
        assert_eq!(heading_number(2, 110), "（一百一十）");
        assert_eq!(heading_number(2, 104), "（一百零四）");
        assert_eq!(heading_number(2, 999), "（九百九十九）");
    }

    #[test]
    fn fonts_per_level() {
        assert_eq!(heading_role(1), FontRole::Hei);
        assert_eq!(heading_role(2), FontRole::Kai);
        assert_eq!(heading_role(3), FontRole::Fang);
        assert_eq!(heading_role(4), FontRole::Fang);
    }
}
