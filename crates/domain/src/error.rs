use std::borrow::Cow;

use serde::Serialize;

/// What is wrong with a field, as a stable machine code: an SPA shows its own words for it, and
/// the words of `reason` may change from release to release.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
    /// Missing or blank where a value is needed (入力必須).
    Required,
    /// Too short or too long: the characters of a text, or the items of a list (文字数・件数).
    Length,
    /// A number, amount, date or time outside what is allowed (範囲外).
    Range,
    /// Not in the form the field takes: a date, a URL, kana, a cursor, a code (形式).
    Format,
    /// Not one of the values the field knows: a category, a grade, an option (選択肢外).
    UnknownValue,
    /// Names something that does not exist here: an employee, a section, a course, a session
    /// (該当なし).
    NotFound,
    /// Given twice, or already taken (重複).
    Duplicate,
    /// Valid on its own, but not with the record as it stands or with the other fields (矛盾).
    Conflict,
}

impl FieldCode {
    pub const ALL: [FieldCode; 8] = [
        Self::Required,
        Self::Length,
        Self::Range,
        Self::Format,
        Self::UnknownValue,
        Self::NotFound,
        Self::Duplicate,
        Self::Conflict,
    ];

    /// What the code says, in Japanese: what a problem's error says when the client asks for
    /// Japanese, before the reason in English.
    pub fn japanese(self) -> &'static str {
        match self {
            Self::Required => "入力してください",
            Self::Length => "文字数または件数が範囲外です",
            Self::Range => "値が範囲外です",
            Self::Format => "形式が正しくありません",
            Self::UnknownValue => "選択できない値です",
            Self::NotFound => "該当するものがありません",
            Self::Duplicate => "重複しています",
            Self::Conflict => "現在の内容と矛盾します",
        }
    }
}

/// Words for a person in both languages Kenshu writes: what a problem's `detail` says about the
/// situation (a conflict), in English and in Japanese, chosen by the client's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub en: Cow<'static, str>,
    pub ja: Cow<'static, str>,
}

impl Words {
    /// Fixed words, usable in a `const`.
    pub const fn fixed(en: &'static str, ja: &'static str) -> Self {
        Words { en: Cow::Borrowed(en), ja: Cow::Borrowed(ja) }
    }

    pub fn new(en: impl Into<String>, ja: impl Into<String>) -> Self {
        Words { en: Cow::Owned(en.into()), ja: Cow::Owned(ja.into()) }
    }
}

impl std::fmt::Display for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// One field that failed validation: its code, and the reason in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: FieldCode,
    pub reason: String,
}

macro_rules! shorthand {
    ($($name:ident => $code:ident),* $(,)?) => {
        $(
            #[doc = concat!("A field error with the code `", stringify!($name), "`.")]
            pub fn $name(field: impl Into<String>, reason: impl Into<String>) -> Self {
                Self::new(field, FieldCode::$code, reason)
            }
        )*
    };
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, reason: impl Into<String>) -> Self {
        Self { field: field.into(), code, reason: reason.into() }
    }

    shorthand! {
        required => Required,
        length => Length,
        range => Range,
        format => Format,
        unknown_value => UnknownValue,
        not_found => NotFound,
        duplicate => Duplicate,
        conflict => Conflict,
    }

    /// The same error, named by `field` (a nested field under its parent's path).
    pub fn at(self, field: impl Into<String>) -> Self {
        Self { field: field.into(), ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_each_has_its_japanese() {
        let codes: Vec<String> = FieldCode::ALL
            .iter()
            .map(|c| serde_json::to_value(c).unwrap().as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            codes,
            ["required", "length", "range", "format", "unknown_value", "not_found", "duplicate", "conflict"]
        );
        let japanese: std::collections::BTreeSet<_> = FieldCode::ALL.iter().map(|c| c.japanese()).collect();
        assert_eq!(japanese.len(), FieldCode::ALL.len());
        let e = FieldError::length("name", "1 to 60 characters").at("members[0].name");
        assert_eq!((e.field.as_str(), e.code), ("members[0].name", FieldCode::Length));
    }
}
