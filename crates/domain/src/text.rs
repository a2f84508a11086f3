//! Text normalisation for data typed in Japanese offices: full-width digits, letters and spaces,
//! half-width katakana and hiragana readings all arrive from Excel exports.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// The one rule every piece of text a person or system sends must pass, whatever the field, body,
/// parameter or file: no NUL (U+0000). PostgreSQL cannot store it (SQLite can, so the two
/// backends would disagree), and it means a broken export or an attack, never a name or a
/// reason. Other control characters are each field's own business (names refuse them).
pub fn check_plain(input: &str) -> Result<(), String> {
    if input.contains('\0') {
        Err("contains the control character U+0000 (NUL)".into())
    } else {
        Ok(())
    }
}

/// NFKC-normalise, trim and collapse every run of whitespace (including U+3000) to one space.
pub fn normalize(input: &str) -> String {
    // Most cells (numbers, codes, already-clean names) are NFKC already; the quick check is a
    // table lookup per char, far cheaper than decomposing and recomposing.
    if input.is_ascii() || is_nfkc_quick(input.chars()) == IsNormalized::Yes {
        collapse_spaces(input)
    } else {
        collapse_spaces(&input.nfkc().collect::<String>())
    }
}

/// Trim and collapse whitespace without NFKC: used for kanji names, where NFKC would replace
/// compatibility ideographs (異体字) that people rightly expect to keep in their name.
pub fn collapse_spaces(input: &str) -> String {
    if is_collapsed(input) {
        return input.to_owned();
    }
    let mut out = String::with_capacity(input.len());
    for word in input.split(|c: char| c.is_whitespace()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// No leading, trailing or repeated whitespace, and no whitespace but U+0020.
fn is_collapsed(input: &str) -> bool {
    let mut after_space = true;
    for c in input.chars() {
        if c.is_whitespace() {
            if c != ' ' || after_space {
                return false;
            }
            after_space = true;
        } else {
            after_space = false;
        }
    }
    !after_space || input.is_empty()
}

/// Hiragana to katakana, so a reading typed either way compares equal (やまだ = ヤマダ).
pub fn to_katakana(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The form used for search: NFKC, katakana, lower-case ASCII.
pub fn search_key(input: &str) -> String {
    to_katakana(&normalize(input)).to_lowercase()
}

#[cfg(test)]
mod tests {

    #[test]
    fn text_holds_no_nul() {
        assert_eq!(check_plain("研修報告\n\t二行目\r\n"), Ok(()));
        assert_eq!(check_plain("a\u{0}b").unwrap_err(), "contains the control character U+0000 (NUL)");
        assert_eq!(check_plain("\u{1b}"), Ok(()), "other controls are the field's business");
        assert_eq!(check_plain("全角　スペース"), Ok(()));
    }

    use super::*;

    #[test]
    fn full_width_digits_and_spaces_are_normalised() {
        assert_eq!(normalize("　１２３４５　"), "12345");
        assert_eq!(normalize("伊勢原　 太郎"), "伊勢原 太郎");
    }

    #[test]
    fn clean_text_passes_unchanged_and_unclean_text_is_collapsed() {
        for clean in ["", "S0101", "伊勢原 太郎", "イセハラ タロウ"] {
            assert_eq!(normalize(clean), clean);
        }
        for (dirty, want) in
            [(" a", "a"), ("a ", "a"), ("a  b", "a b"), ("a\tb", "a b"), ("a\u{3000}b", "a b"), (" ", "")]
        {
            assert_eq!(normalize(dirty), want, "{dirty:?}");
        }
    }

    #[test]
    fn half_width_katakana_becomes_full_width() {
        assert_eq!(normalize("ﾒﾝﾀﾙﾍﾙｽ"), "メンタルヘルス");
    }

    #[test]
    fn hiragana_becomes_katakana() {
        assert_eq!(to_katakana("いせはら たろう"), "イセハラ タロウ");
        assert_eq!(search_key("ｲｾﾊﾗ"), "イセハラ");
    }

    #[test]
    fn collapse_keeps_compatibility_ideographs() {
        // U+FA19 (神, a compatibility ideograph) must survive in names.
        assert_eq!(collapse_spaces(" \u{FA19}田 "), "\u{FA19}田");
        assert_ne!(normalize("\u{FA19}"), "\u{FA19}");
    }
}
