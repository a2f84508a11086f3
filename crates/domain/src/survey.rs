//! 受講後アンケート: the questions HR sets per course, the answers of trainees who attended (once
//! each), and the aggregate HR reads. The aggregate never names who answered what.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{FieldCode, FieldError};

pub const MAX_QUESTIONS: usize = 30;
pub const QUESTION_MAX: usize = 200;
pub const OPTION_MAX: usize = 100;
pub const TEXT_ANSWER_MAX: usize = 2000;
/// Ratings run from 1 (poor) to 5 (excellent).
pub const RATING_MAX: u8 = 5;

/// What kind of answer a question takes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// 1–5 (5 is best).
    Rating,
    /// One of the options.
    Choice,
    /// Free text (自由記述).
    Text,
}

/// One question of a survey.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub text: String,
    pub kind: QuestionKind,
    /// A choice's options (2 to 10, distinct); none for other kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

/// Check and tidy a course's questions: 1 to 30, each with text; a choice has 2 to 10 distinct
/// options. Errors name `questions[i].field`.
pub fn validate_questions(questions: Vec<Question>) -> Result<Vec<Question>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        errors.push(FieldError::length("questions", format!("give 1 to {MAX_QUESTIONS} questions")));
    }
    let mut out = Vec::with_capacity(questions.len());
    for (i, q) in questions.into_iter().enumerate() {
        let field = |f: &str| format!("questions[{i}].{f}");
        let text = q.text.trim().to_string();
        if text.is_empty() || q.text.chars().count() > QUESTION_MAX {
            errors.push(FieldError::length(field("text"), format!("1 to {QUESTION_MAX} characters")));
        }
        let options: Vec<String> = q.options.iter().map(|o| o.trim().to_string()).collect();
        let distinct: HashSet<&String> = options.iter().collect();
        let fits = match q.kind {
            QuestionKind::Choice => {
                (2..=10).contains(&options.len())
                    && distinct.len() == options.len()
                    && options.iter().all(|o| !o.is_empty() && o.chars().count() <= OPTION_MAX)
            }
            _ => options.is_empty(),
        };
        if !fits {
            let (code, why) = match q.kind {
                QuestionKind::Choice => {
                    (FieldCode::Length, format!("2 to 10 distinct options of 1 to {OPTION_MAX} characters"))
                }
                _ => (FieldCode::Conflict, "only a choice has options".to_string()),
            };
            errors.push(FieldError::new(field("options"), code, why));
        }
        out.push(Question { text, kind: q.kind, options, required: q.required });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// One answer, to question `question` (numbered from 1): the field that fits its kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 30))]
    pub question: u32,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Check a trainee's answers against the questions: each question at most once, in the field
/// its kind takes, with a rating of 1–5, one of the options, or text of at most 2,000
/// characters; every required question answered. Empty text counts as no answer. Errors name
/// `answers[i].field` (or `answers` for a required question left out).
pub fn validate_answers(
    questions: &[Question],
    answers: Vec<Answer>,
) -> Result<Vec<Answer>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, a) in answers.into_iter().enumerate() {
        let field = |f: &str| format!("answers[{i}].{f}");
        let Some(q) =
            usize::try_from(a.question).ok().and_then(|n| n.checked_sub(1)).and_then(|n| questions.get(n))
        else {
            errors.push(FieldError::not_found(
                field("question"),
                format!("no question {} on this survey", a.question),
            ));
            continue;
        };
        if !seen.insert(a.question) {
            errors.push(FieldError::duplicate(
                field("question"),
                format!("question {} is answered twice", a.question),
            ));
            continue;
        }
        let text = a.text.as_ref().map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        let tidy =
            Answer { question: a.question, rating: a.rating, choice: a.choice.clone(), text: text.clone() };
        let ok = match &q.kind {
            QuestionKind::Rating => match (a.rating, &a.choice, &a.text) {
                (Some(r), None, None) if (1..=RATING_MAX).contains(&r) => true,
                _ => {
                    errors.push(FieldError::range(field("rating"), "a rating of 1 to 5, and nothing else"));
                    false
                }
            },
            QuestionKind::Choice => match (a.rating, &a.choice, &a.text) {
                (None, Some(c), None) if q.options.iter().any(|o| o == c.trim()) => true,
                _ => {
                    errors.push(FieldError::unknown_value(
                        field("choice"),
                        format!("one of: {}", q.options.join(", ")),
                    ));
                    false
                }
            },
            QuestionKind::Text => {
                if a.rating.is_some() || a.choice.is_some() {
                    errors.push(FieldError::conflict(field("text"), "this question takes text"));
                    false
                } else if a.text.as_ref().is_some_and(|t| t.chars().count() > TEXT_ANSWER_MAX) {
                    errors.push(FieldError::length(
                        field("text"),
                        format!("at most {TEXT_ANSWER_MAX} characters"),
                    ));
                    false
                } else if text.is_none() && q.required {
                    errors.push(FieldError::required(
                        field("text"),
                        format!("question {} is required", a.question),
                    ));
                    false
                } else {
                    text.is_some()
                }
            }
        };
        if ok {
            let choice = tidy.choice.map(|c| c.trim().to_string());
            out.push(Answer { choice, ..tidy });
        }
    }
    for (n, q) in questions.iter().enumerate() {
        let number = n as u32 + 1;
        if q.required && !seen.contains(&number) {
            errors.push(FieldError::required("answers", format!("question {number} is required")));
        }
    }
    if errors.is_empty() {
        out.sort_by_key(|a| a.question);
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceCount {
    pub option: String,
    pub count: u32,
}

/// The aggregate of one question.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionResult {
    pub question: u32,
    pub text: String,
    pub kind: QuestionKind,
    /// How many answered it.
    pub answered: u32,
    /// Rating: how many gave 1, 2, 3, 4, 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratings: Option<[u32; 5]>,
    /// Rating: the mean, to two decimals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Choice: how many chose each option, in the options' order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<ChoiceCount>>,
    /// Text: the answers, in the order they came, without names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<String>>,
}

/// Aggregate stored answers (each response's validated answers) per question.
pub fn aggregate(questions: &[Question], responses: &[Vec<Answer>]) -> Vec<QuestionResult> {
    questions
        .iter()
        .enumerate()
        .map(|(n, q)| {
            let number = n as u32 + 1;
            let answers: Vec<&Answer> =
                responses.iter().filter_map(|r| r.iter().find(|a| a.question == number)).collect();
            let mut out = QuestionResult {
                question: number,
                text: q.text.clone(),
                kind: q.kind,
                answered: answers.len() as u32,
                ratings: None,
                mean: None,
                choices: None,
                comments: None,
            };
            match &q.kind {
                QuestionKind::Rating => {
                    let mut counts = [0u32; 5];
                    for r in answers.iter().filter_map(|a| a.rating) {
                        counts[usize::from(r.clamp(1, RATING_MAX)) - 1] += 1;
                    }
                    let total: u32 = counts.iter().enumerate().map(|(i, c)| (i as u32 + 1) * c).sum();
                    let n: u32 = counts.iter().sum();
                    // Hundredths rounded half up from integers, then shown as a number.
                    out.mean = (n > 0).then(|| f64::from((total * 200 + n) / (2 * n)) / 100.0);
                    out.ratings = Some(counts);
                }
                QuestionKind::Choice => {
                    let chosen: Vec<&String> = answers.iter().filter_map(|a| a.choice.as_ref()).collect();
                    out.choices = Some(
                        q.options
                            .iter()
                            .map(|o| ChoiceCount {
                                option: o.clone(),
                                count: chosen.iter().filter(|c| **c == o).count() as u32,
                            })
                            .collect(),
                    );
                }
                QuestionKind::Text => {
                    out.comments = Some(answers.iter().filter_map(|a| a.text.clone()).collect());
                }
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str, kind: QuestionKind, options: &[&str], required: bool) -> Question {
        Question {
            text: text.into(),
            kind,
            options: options.iter().map(|o| o.to_string()).collect(),
            required,
        }
    }

    fn questions() -> Vec<Question> {
        vec![
            q("研修の満足度", QuestionKind::Rating, &[], true),
            q("業務に役立つか", QuestionKind::Choice, &["役立つ", "どちらでもない", "役立たない"], false),
            q("ご意見", QuestionKind::Text, &[], false),
        ]
    }

    fn rating(q: u32, r: u8) -> Answer {
        Answer { question: q, rating: Some(r), choice: None, text: None }
    }

    #[test]
    fn questions_need_text_and_distinct_options() {
        assert_eq!(validate_questions(questions()).unwrap().len(), 3);
        let bad = vec![
            q(" ", QuestionKind::Rating, &[], false),
            q("x", QuestionKind::Choice, &["a", " a"], false),
            q("y", QuestionKind::Text, &["a"], false),
        ];
        let fields: Vec<String> = validate_questions(bad).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["questions[0].text", "questions[1].options", "questions[2].options"]);
        assert_eq!(validate_questions(vec![]).unwrap_err()[0].field, "questions");
    }

    #[test]
    fn answers_fit_their_questions_and_required_ones_are_given() {
        let q = questions();
        let ok = validate_answers(
            &q,
            vec![
                Answer {
                    question: 3, rating: None, choice: None, text: Some("  演習が良かった ".into())
                },
                rating(1, 5),
                Answer { question: 2, rating: None, choice: Some("役立つ".into()), text: None },
            ],
        )
        .unwrap();
        assert_eq!(ok.iter().map(|a| a.question).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(ok[2].text.as_deref(), Some("演習が良かった"));
        let missing = validate_answers(&q, vec![]).unwrap_err();
        assert_eq!(
            (missing[0].field.as_str(), missing[0].reason.as_str()),
            ("answers", "question 1 is required")
        );
        let bad = validate_answers(
            &q,
            vec![
                rating(1, 6),
                Answer { question: 2, rating: None, choice: Some("その他".into()), text: None },
                rating(9, 3),
                Answer { question: 3, rating: Some(2), choice: None, text: None },
            ],
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["answers[0].rating", "answers[1].choice", "answers[2].question", "answers[3].text"]
        );
        let twice = validate_answers(&q, vec![rating(1, 3), rating(1, 4)]).unwrap_err();
        assert_eq!(twice[0].field, "answers[1].question");
    }

    #[test]
    fn the_aggregate_counts_ratings_choices_and_keeps_comments_without_names() {
        let q = questions();
        let responses = vec![
            vec![rating(1, 5), Answer { question: 3, rating: None, choice: None, text: Some("良い".into()) }],
            vec![
                rating(1, 4),
                Answer { question: 2, rating: None, choice: Some("役立つ".into()), text: None },
            ],
            vec![rating(1, 4)],
        ];
        let r = aggregate(&q, &responses);
        assert_eq!((r[0].answered, r[0].ratings, r[0].mean), (3, Some([0, 0, 0, 2, 1]), Some(4.33)));
        let choices: Vec<(&str, u32)> =
            r[1].choices.as_ref().unwrap().iter().map(|c| (c.option.as_str(), c.count)).collect();
        assert_eq!(
            choices,
            vec![("役立つ", 1), ("どちらでもない", 0), ("役立たない", 0)],
            "in the options' order"
        );
        assert_eq!(r[1].answered, 1);
        assert_eq!(r[2].comments.as_deref(), Some(&["良い".to_string()][..]));
        assert_eq!(aggregate(&q, &[])[0].mean, None);
    }

    #[test]
    fn questions_read_from_json_with_their_kind() {
        let q: Vec<Question> = serde_json::from_str(
            r#"[{"text": "満足度", "kind": "rating", "required": true},
                {"text": "役立つか", "kind": "choice", "options": ["はい", "いいえ"]},
                {"text": "ご意見", "kind": "text"}]"#,
        )
        .unwrap();
        assert_eq!((q[1].kind, q[1].options.len()), (QuestionKind::Choice, 2));
        assert!(q[0].required && !q[2].required);
        assert!(serde_json::from_str::<Question>(r#"{"text": "x", "kind": "scale"}"#).is_err());
        assert!(serde_json::from_str::<Question>(r#"{"text": "x", "kind": "rating", "colour": 1}"#).is_err());
        let a: Answer = serde_json::from_str(r#"{"question": 1, "rating": 4}"#).unwrap();
        assert_eq!(a, rating(1, 4));
        assert!(serde_json::from_str::<Answer>(r#"{"question": 1, "stars": 4}"#).is_err());
    }
}
