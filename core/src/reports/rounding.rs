//! Integer division rounded half away from zero, as money is rounded in reports.
//!
//! ```text
//! assert_eq!(div_round(1_001 * 50, 100), 501); // 500.5
//! assert_eq!(div_round(-1_001 * 50, 100), -501);
//! ```

/// `numerator / denominator` rounded half away from zero, saturated to `i64`; zero when the
/// denominator is zero.
pub(crate) fn div_round(numerator: i128, denominator: i128) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let (numerator, denominator) = if denominator < 0 {
        (-numerator, -denominator)
    } else {
        (numerator, denominator)
    };
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    let rounded = if 2 * remainder.abs() >= denominator {
        quotient + numerator.signum()
    } else {
        quotient
    };
    i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
}

/// `hours × rate` in minor units, rounded half away from zero.
pub(crate) fn hours_cost(hours: f64, rate_minor: i64) -> i64 {
    // `as` saturates; hours come from documents and may be anything a float can be.
    (hours * rate_minor as f64).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_halves_away_from_zero() {
        assert_eq!(div_round(5, 2), 3);
        assert_eq!(div_round(-5, 2), -3);
        assert_eq!(div_round(4, 3), 1);
        assert_eq!(div_round(5, 3), 2);
        assert_eq!(div_round(-5, 3), -2);
        assert_eq!(div_round(7, -2), -4);
        assert_eq!(div_round(1, 0), 0);
        assert_eq!(div_round(i128::MAX, 1), i64::MAX);
    }

    #[test]
    fn costs_hours_to_the_nearest_minor_unit() {
        assert_eq!(hours_cost(1.5, 3), 5); // 4.5
        assert_eq!(hours_cost(2.0, 2_500), 5_000);
        assert_eq!(hours_cost(f64::NAN, 2_500), 0);
    }
}
