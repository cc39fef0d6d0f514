//! Units in one place: 字号, millimetres, points and twips.

/// Points per millimetre.
pub const PT_PER_MM: f64 = 72.0 / 25.4;

/// Millimetres to twips (1/20 pt), rounded.
pub fn mm_to_twip(mm: f64) -> i32 {
    (mm * PT_PER_MM * 20.0).round() as i32
}

/// Points to twips, rounded.
pub fn pt_to_twip(pt: f64) -> i32 {
    (pt * 20.0).round() as i32
}

/// Chinese type sizes in points: 2号 22, 3号 16, 4号 14.
pub fn hao_to_pt(hao: u32) -> Option<f64> {
    match hao {
        1 => Some(26.0),
        2 => Some(22.0),
        3 => Some(16.0),
        4 => Some(14.0),
        5 => Some(10.5),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbt9704_margins_in_twips() {
        assert_eq!(mm_to_twip(37.0), 2098);
        assert_eq!(mm_to_twip(35.0), 1984);
        assert_eq!(mm_to_twip(28.0), 1587);
        assert_eq!(mm_to_twip(26.0), 1474);
        assert_eq!(hao_to_pt(3), Some(16.0));
    }
}
