//! Organisation structure: codes and the ordered job-grade ladder (職級).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::text::normalize;

/// A code from another system (organisation, department or section code): NFKC-normalised,
/// 1–32 characters of letters, digits, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Code(String);

impl Code {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = normalize(input);
        if s.is_empty() || s.chars().count() > 32 {
            return Err("must be 1 to 32 characters".into());
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err("may contain only letters, digits, '-' and '_'".into());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name (department, section, organisation): 1–100 characters, whitespace collapsed.
pub fn parse_name(field: &str, input: &str) -> Result<String, FieldError> {
    let s = crate::text::collapse_spaces(input);
    let len = s.chars().count();
    if len == 0 || len > 100 {
        return Err(FieldError::length(field, "must be 1 to 100 characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::format(field, "must not contain control characters"));
    }
    Ok(s)
}

/// 職級: one rung of the ladder, with the other names personnel systems use for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grade {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The ordered grades of one organisation, lowest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeLadder {
    grades: Vec<Grade>,
}

impl Default for GradeLadder {
    /// The ladder of DOMAIN.md: 一般(主事・技師) < 主任 < 主査 < 係長 < 課長補佐 < 課長 < 部長.
    fn default() -> Self {
        let g = |name: &str, aliases: &[&str]| Grade {
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
        };
        Self {
            grades: vec![
                g("一般", &["主事", "技師", "一般(主事・技師)", "主事・技師"]),
                g("主任", &[]),
                g("主査", &[]),
                g("係長", &[]),
                g("課長補佐", &[]),
                g("課長", &[]),
                g("部長", &[]),
            ],
        }
    }
}

impl GradeLadder {
    /// Build a ladder, checking that names are present and no name or alias is used twice.
    pub fn new(grades: Vec<Grade>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut seen = std::collections::HashSet::new();
        if grades.is_empty() || grades.len() > 30 {
            errors.push(FieldError::length("grades", "must hold 1 to 30 grades"));
        }
        let mut clean = Vec::with_capacity(grades.len());
        for (i, grade) in grades.into_iter().enumerate() {
            let name = normalize(&grade.name);
            let mut names = vec![name.clone()];
            names.extend(grade.aliases.iter().map(|a| normalize(a)));
            for n in &names {
                if n.is_empty() || n.chars().count() > 30 {
                    errors
                        .push(FieldError::length(format!("grades[{i}]"), "names must be 1 to 30 characters"));
                } else if !seen.insert(n.clone()) {
                    errors
                        .push(FieldError::duplicate(format!("grades[{i}]"), format!("'{n}' is used twice")));
                }
            }
            clean.push(Grade { name, aliases: names[1..].to_vec() });
        }
        if errors.is_empty() {
            Ok(Self { grades: clean })
        } else {
            Err(errors)
        }
    }

    pub fn grades(&self) -> &[Grade] {
        &self.grades
    }

    /// The canonical grade name for a name or alias (NFKC; a trailing 級 is ignored: 課長級 = 課長).
    pub fn resolve(&self, input: &str) -> Option<&str> {
        let s = normalize(input);
        let candidates = [s.as_str(), s.strip_suffix('級').unwrap_or(&s)];
        self.grades
            .iter()
            .find(|g| candidates.iter().any(|c| g.name == *c || g.aliases.iter().any(|a| a == c)))
            .map(|g| g.name.as_str())
    }

    /// Position on the ladder, 0 = lowest.
    pub fn rank(&self, name: &str) -> Option<usize> {
        self.grades.iter().position(|g| g.name == name)
    }
}

/// A unit someone heads (所属長・部長) or stands in for (代理).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedUnit {
    Section(uuid::Uuid),
    Department(uuid::Uuid),
}

/// Whether a unit someone leads lies outside where they now sit (`section`, of `department`).
/// After a transfer (人事異動) that is either a concurrent post (兼務) or a head the office has not
/// replaced yet, and the roster cannot tell which: it is reported for the office to check, never
/// changed by the service (a leaver, by contrast, is taken off).
pub fn leads_elsewhere(unit: LedUnit, section: uuid::Uuid, department: uuid::Uuid) -> bool {
    match unit {
        LedUnit::Section(id) => id != section,
        LedUnit::Department(id) => id != department,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ladder_is_ordered() {
        let l = GradeLadder::default();
        assert!(l.rank("主任") < l.rank("係長"));
        assert!(l.rank("課長") < l.rank("部長"));
        assert_eq!(l.rank("部長"), Some(6));
    }

    #[test]
    fn aliases_and_suffixes_resolve() {
        let l = GradeLadder::default();
        assert_eq!(l.resolve("主事"), Some("一般"));
        assert_eq!(l.resolve("課長級"), Some("課長"));
        assert_eq!(l.resolve(" 係長 "), Some("係長"));
        assert_eq!(l.resolve("社長"), None);
    }

    #[test]
    fn ladder_rejects_duplicates() {
        let g = |n: &str| Grade { name: n.into(), aliases: vec![] };
        assert!(GradeLadder::new(vec![g("主任"), g("主任")]).is_err());
        assert!(GradeLadder::new(vec![]).is_err());
        assert!(GradeLadder::new(vec![g("A"), g("B")]).is_ok());
    }

    #[test]
    fn codes_normalise() {
        assert_eq!(Code::parse("ＡＢ１２").unwrap().as_str(), "AB12");
        assert!(Code::parse("a b").is_err());
        assert!(Code::parse("").is_err());
    }

    #[test]
    fn a_head_who_moved_out_of_their_unit_leads_elsewhere() {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let (s1, s2, d1, d2) = (id(1), id(2), id(10), id(20));
        assert!(!leads_elsewhere(LedUnit::Section(s1), s1, d1), "still in the section");
        assert!(leads_elsewhere(LedUnit::Section(s1), s2, d1), "moved to another section");
        assert!(!leads_elsewhere(LedUnit::Department(d1), s2, d1), "another section of the department");
        assert!(leads_elsewhere(LedUnit::Department(d1), s1, d2), "moved to another department");
    }
}
