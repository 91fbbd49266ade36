//! Answer parser table (spec §7.4) and rule extraction.

use crate::dup::answer::{
    extract_by_rule, gsm8k_label, is_correct, normalise, number_tokens, Answer, AnswerKind,
};
use AnswerKind::*;

fn num(s: &str) -> Option<f64> {
    match normalise(Number, s) {
        Some(Answer::Number(x)) => Some(x),
        _ => None,
    }
}

#[test]
fn spec_parser_table() {
    assert_eq!(num("70,000"), Some(70000.0));
    assert_eq!(num("$18"), Some(18.0));
    assert!(is_correct(
        normalise(Number, "18.0").as_ref(),
        &Answer::Number(18.0)
    ));
    assert_eq!(num("-3"), Some(-3.0));
    assert_eq!(
        normalise(Letter, "(A) complete job"),
        Some(Answer::Letter('A'))
    );
    assert_eq!(normalise(Yesno, "no."), Some(Answer::YesNo(false)));
    assert_eq!(
        normalise(Text, "\"bererl\""),
        Some(Answer::Text("bererl".into()))
    );
    assert_eq!(normalise(Number, ""), None);
    assert!(!is_correct(
        normalise(Number, "").as_ref(),
        &Answer::Number(0.0)
    ));
    assert_eq!(num("3/4"), Some(0.75));
}

#[test]
fn more_normalisers() {
    assert_eq!(num(" 18 "), Some(18.0));
    assert_eq!(num("18."), Some(18.0));
    assert_eq!(num("1/0"), None);
    assert_eq!(num("eighteen"), None);
    assert_eq!(num("nan"), None);
    assert_eq!(num("inf"), None);
    assert_eq!(normalise(Letter, "A"), Some(Answer::Letter('A')));
    assert_eq!(normalise(Letter, "B) 12"), Some(Answer::Letter('B')));
    assert_eq!(
        normalise(Letter, "the answer (C)"),
        Some(Answer::Letter('C'))
    );
    assert_eq!(normalise(Letter, "Answer"), None);
    assert_eq!(normalise(Yesno, "Yes"), Some(Answer::YesNo(true)));
    assert_eq!(normalise(Yesno, "maybe"), None);
    assert_eq!(normalise(Text, "yajo"), Some(Answer::Text("yajo".into())));
    // tolerance 1e-9
    assert!(is_correct(
        Some(&Answer::Number(0.1 + 0.2)),
        &Answer::Number(0.3)
    ));
    assert!(!is_correct(
        Some(&Answer::Number(18.000001)),
        &Answer::Number(18.0)
    ));
}

#[test]
fn gsm8k_labels() {
    assert_eq!(
        gsm8k_label("so 2,125 total\n#### 2,125").as_deref(),
        Some("2125")
    );
    assert_eq!(gsm8k_label("#### -3").as_deref(), Some("-3"));
    assert_eq!(gsm8k_label("no marker"), None);
}

#[test]
fn gsm8k_file_labels_match_spec_counts() {
    let text =
        std::fs::read_to_string(crate::crate_dir().join("data/gsm8k_test.jsonl")).expect("gsm8k");
    let (mut n, mut commas, mut neg) = (0, 0, 0);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let a = v["answer"].as_str().expect("answer");
        let raw = a.rsplit_once("####").expect("####").1.trim();
        commas += usize::from(raw.contains(','));
        let l = num(&gsm8k_label(a).expect("label")).expect("numeric label");
        neg += usize::from(l < 0.0);
        assert_eq!(l.fract(), 0.0, "spec: 0 decimal labels");
        n += 1;
    }
    assert_eq!((n, commas, neg), (1319, 14, 2));
}

#[test]
fn number_tokens_and_rule_extraction() {
    assert_eq!(
        number_tokens("16-3=13, so $1,250.50 or 3/4"),
        ["16", "3", "13", "1250.50", "3/4"]
    );
    assert_eq!(number_tokens("list 1,2,3 and -7"), ["1", "2", "3", "-7"]);
    assert_eq!(
        extract_by_rule(Number, "9 * 2 = 18. The answer is $18."),
        "18"
    );
    assert_eq!(extract_by_rule(Number, "x is 5, then 7"), "7");
    assert_eq!(
        extract_by_rule(Number, "The final answer is: 70,000 dollars (not 5)"),
        "70000"
    );
    assert_eq!(extract_by_rule(Number, "\\boxed{42} and 7"), "42");
    assert_eq!(extract_by_rule(Number, "nothing here"), "");
    assert_eq!(
        extract_by_rule(Letter, "(A) is wrong, so the answer is (C)."),
        "C"
    );
    assert_eq!(extract_by_rule(Letter, "I pick (B)"), "B");
    assert_eq!(
        extract_by_rule(Yesno, "No doubt. So the answer is yes."),
        "yes"
    );
    assert_eq!(extract_by_rule(Yesno, "Yes, it is. Therefore no"), "no");
    assert_eq!(extract_by_rule(Text, "The answer is \"yajo\"."), "\"yajo\"");
}

#[test]
fn replay_scoring_of_repr_lines() {
    use crate::dup::replay::{score_lines, unrepr};
    assert_eq!(unrepr("'18'"), "18");
    assert_eq!(unrepr("\"it's\""), "it's");
    assert_eq!(unrepr("'a\\'b\\n'"), "a'b\n");
    assert_eq!(unrepr("  42 "), "42");
    // Parser-table answers in the official files' one-repr-per-line layout.
    let answers = "'70,000'\n'$18'\n'18.0'\n'-3'\n''\n'3/4'\n'abc'\n";
    let labels = "'70000'\n'18'\n'18'\n'-3'\n'5'\n'0.75'\n'1'\n";
    let r = score_lines(answers, labels, Number).expect("score");
    assert_eq!((r.n, r.correct, r.unparsable.clone()), (7, 5, vec![5, 7]));
    assert!(score_lines("'1'\n", "", Number).is_err());
}

#[test]
fn dup_s_json_answer_parsing() {
    use crate::dup::method::dup_s_answer;
    assert_eq!(
        dup_s_answer("Output Json: {\"final_answer\": 18}").as_deref(),
        Some("18")
    );
    assert_eq!(
        dup_s_answer("x\nOutput Json: {'final_answer': '$1,250'}").as_deref(),
        Some("1,250")
    );
    assert_eq!(
        dup_s_answer("Output Json: {\"final_answer\": 2.5, }").as_deref(),
        Some("2.5")
    );
    assert_eq!(dup_s_answer("Output Json: {}"), None);
    assert_eq!(dup_s_answer("The answer is 3"), None);
    assert_eq!(normalise(Number, "1,250"), Some(Answer::Number(1250.0)));
}

#[test]
fn data_files_match_spec_hashes() {
    use sha2::Digest;
    for (file, prefix, bytes) in [
        ("gsm8k_test.jsonl", "3730d312f6e34405", 749_738),
        ("humanevalpack_python.jsonl", "b1376d72be4bd016", 537_907),
    ] {
        let data = std::fs::read(crate::crate_dir().join("data").join(file)).expect("data");
        let hex: String = sha2::Sha256::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!((data.len(), &hex[..16]), (bytes, prefix), "{file}");
    }
}
