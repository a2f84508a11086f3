//! The organisation structure as a file (組織表): one row per section (課・所属) with its
//! department (部), their codes and names, and their heads and acting heads by employee number.
//! A new organisation loads it before its first roster; heads are named once the staff exist
//! (a second load, or the roster's own head columns).

use std::collections::BTreeMap;

use crate::employee::EmployeeNo;
use crate::org::{parse_name, Code};
use crate::roster_import::{
    decoded_source, header_key, header_of, next_record, Encoding, FileError, LineNormalizer, RowError,
};
use crate::{FieldCode, Words};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Column {
    DepartmentCode,
    DepartmentName,
    SectionCode,
    SectionName,
    SectionHead,
    SectionActing,
    DepartmentHead,
    DepartmentActing,
}

const COLUMNS: &[(Column, &str, &[&str])] = &[
    (Column::DepartmentCode, "部コード", &["部コード", "department_code", "部局コード"]),
    (Column::DepartmentName, "部名", &["部名", "department_name", "部局名", "部"]),
    (Column::SectionCode, "所属コード", &["所属コード", "課コード", "section_code"]),
    (Column::SectionName, "所属名", &["所属名", "課名", "section_name", "所属", "課"]),
    (Column::SectionHead, "所属長", &["所属長", "所属長職員番号", "section_head"]),
    (Column::SectionActing, "所属長代理", &["所属長代理", "section_acting_head"]),
    (Column::DepartmentHead, "部長", &["部長", "部長職員番号", "department_head"]),
    (Column::DepartmentActing, "部長代理", &["部長代理", "department_acting_head"]),
];

fn column_for(h: &str) -> Option<Column> {
    let key = header_key(h);
    COLUMNS.iter().find(|(_, _, names)| names.iter().any(|n| header_key(n) == key)).map(|(c, _, _)| *c)
}

/// What loading a structure file did, or would do on a dry run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StructureCounts {
    pub departments_created: u64,
    pub departments_updated: u64,
    pub departments_unchanged: u64,
    pub sections_created: u64,
    pub sections_updated: u64,
    pub sections_unchanged: u64,
}

/// A unit's head and acting head, by employee number (none: nobody).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heads {
    pub head: Option<EmployeeNo>,
    pub acting: Option<EmployeeNo>,
}

/// A department as the file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRow {
    /// The first line naming it.
    pub line: u64,
    pub code: Code,
    pub name: String,
    pub heads: Heads,
}

/// A section as the file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRow {
    pub line: u64,
    pub department_code: Code,
    pub code: Code,
    pub name: String,
    pub heads: Heads,
}

/// Which head columns the file has: a column it lacks leaves those heads as they are (an empty
/// cell in a column it has means nobody).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HeadColumns {
    pub section_head: bool,
    pub section_acting: bool,
    pub department_head: bool,
    pub department_acting: bool,
}

/// A read structure file: departments (by code) and sections, or the rows that do not read.
#[derive(Debug, Default)]
pub struct StructureFile {
    pub departments: BTreeMap<String, DepartmentRow>,
    pub sections: Vec<SectionRow>,
    pub errors: Vec<RowError>,
    pub head_columns: HeadColumns,
}

/// Read the structure CSV (UTF-8 or Shift_JIS). 部コード, 部名, 所属コード and 所属名 are required;
/// the head columns optional (an empty cell: nobody). A department named on several rows must
/// read the same on each; a section code appears once.
pub fn read_csv(bytes: &[u8], encoding: Encoding) -> Result<StructureFile, FileError> {
    let source = LineNormalizer::new(decoded_source(bytes, encoding)?);
    let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(source);
    let columns: Vec<Option<Column>> = header_of(&mut csv)?.iter().map(column_for).collect();
    let required = [Column::DepartmentCode, Column::DepartmentName, Column::SectionCode, Column::SectionName];
    if required.iter().any(|c| !columns.contains(&Some(*c))) {
        return Err(FileError::Header(Words::fixed(
            "the columns 部コード, 部名, 所属コード and 所属名 are required",
            "部コード・部名・所属コード・所属名の列が必要です",
        )));
    }
    let label = |c: Column| COLUMNS.iter().find(|(k, _, _)| *k == c).map_or("", |(_, l, _)| *l);
    let has = |c: Column| columns.contains(&Some(c));
    let mut out = StructureFile {
        head_columns: HeadColumns {
            section_head: has(Column::SectionHead),
            section_acting: has(Column::SectionActing),
            department_head: has(Column::DepartmentHead),
            department_acting: has(Column::DepartmentActing),
        },
        ..StructureFile::default()
    };
    let mut record = csv::StringRecord::new();
    while let Some(line) = next_record(&mut csv, &mut record, &mut out.errors) {
        let cell =
            |c: Column| columns.iter().position(|k| *k == Some(c)).and_then(|i| record.get(i)).unwrap_or("");
        let mut errors = Vec::new();
        let mut bad = |c: Column, code: FieldCode, reason: String| {
            errors.push(RowError::new(line, label(c), code, reason))
        };
        type Bad<'b> = &'b mut dyn FnMut(Column, FieldCode, String);
        let code = |c: Column, bad: Bad| Code::parse(cell(c)).map_err(|e| bad(c, FieldCode::Format, e)).ok();
        let name =
            |c: Column, bad: Bad| parse_name(label(c), cell(c)).map_err(|e| bad(c, e.code, e.reason)).ok();
        let person = |c: Column, bad: Bad| -> Option<EmployeeNo> {
            let v = cell(c).trim();
            if v.is_empty() {
                return None;
            }
            EmployeeNo::parse(v).map_err(|e| bad(c, FieldCode::Format, e)).ok()
        };
        let department_code = code(Column::DepartmentCode, &mut bad);
        let department_name = name(Column::DepartmentName, &mut bad);
        let section_code = code(Column::SectionCode, &mut bad);
        let section_name = name(Column::SectionName, &mut bad);
        let section_heads = Heads {
            head: person(Column::SectionHead, &mut bad),
            acting: person(Column::SectionActing, &mut bad),
        };
        let department_heads = Heads {
            head: person(Column::DepartmentHead, &mut bad),
            acting: person(Column::DepartmentActing, &mut bad),
        };
        let (Some(dc), Some(dn), Some(sc), Some(sn)) =
            (department_code, department_name, section_code, section_name)
        else {
            out.errors.extend(errors);
            continue;
        };
        if out.sections.iter().any(|s| s.code == sc) {
            bad(Column::SectionCode, FieldCode::Duplicate, format!("{} appears twice", sc.as_str()));
        }
        match out.departments.get(dc.as_str()) {
            Some(d) if d.name != dn || d.heads != department_heads => bad(
                Column::DepartmentCode,
                FieldCode::Conflict,
                format!("{} reads differently on line {} (name or heads)", dc.as_str(), d.line),
            ),
            Some(_) => {}
            None => {
                out.departments.insert(
                    dc.as_str().to_string(),
                    DepartmentRow { line, code: dc.clone(), name: dn, heads: department_heads },
                );
            }
        }
        if errors.is_empty() {
            out.sections.push(SectionRow {
                line,
                department_code: dc,
                code: sc,
                name: sn,
                heads: section_heads,
            });
        } else {
            out.errors.extend(errors);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_structure_file_reads_departments_sections_and_heads() {
        let text = "部コード,部名,所属コード,所属名,所属長,所属長代理,部長\n\
            D01,企画部,S0101,企画政策課,１０００２,,10001\n\
            D01,企画部,S0102,情報政策課,,,10001\n\
            D02,総務部,S0201,人事課,10033,10034,\n";
        let f = read_csv(text.as_bytes(), Encoding::Auto).unwrap();
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!(f.departments.len(), 2);
        assert_eq!(f.departments["D01"].heads.head.as_ref().map(EmployeeNo::as_str), Some("10001"));
        assert_eq!(f.sections.len(), 3);
        assert_eq!(f.sections[0].heads.head.as_ref().map(EmployeeNo::as_str), Some("10002"), "全角 digits");
        assert_eq!(f.sections[2].heads.acting.as_ref().map(EmployeeNo::as_str), Some("10034"));
        assert!(f.sections[1].heads.head.is_none());
        let cols = f.head_columns;
        assert!(cols.section_head && cols.section_acting && cols.department_head && !cols.department_acting);
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_column() {
        let text = "部コード,部名,所属コード,所属名,部長\n\
            D01,企画部,S0101,企画政策課,10001\n\
            D01,企画部(誤),S0102,情報政策課,10001\n\
            D02,総務部,S0101,人事課,\n\
            D 3,,S0301,戸籍住民課,\n";
        let f = read_csv(text.as_bytes(), Encoding::Auto).unwrap();
        let errs: Vec<(u64, &str)> = f.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(errs, vec![(3, "部コード"), (4, "所属コード"), (5, "部コード"), (5, "部名")]);
        assert!(read_csv("部コード,部名\nD01,企画部\n".as_bytes(), Encoding::Auto).is_err());
    }
}
