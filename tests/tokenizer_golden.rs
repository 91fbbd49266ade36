//! SentencePiece-BPE tokenizer vs two independent oracles: the `sentencepiece` package
//! (0.2.0) and llama.cpp (through llama-cpp-python 0.3.16), on a 400-piece byte-fallback
//! BPE vocabulary exported to GGUF as llama.cpp's converter does. Golden data and the script
//! that made it: `tests/golden/tokenizer/` (`make_golden.py`, `vocab.gguf`, `cases.txt`).
//! Tolerance: none — ids and bytes must be identical.

use picoformer::gguf::File;
use picoformer::tokenizer::{Bytes, Symbol, TokenKind, Tokenizer, Vocab};
use picoformer::Error;

const VOCAB: &[u8] = include_bytes!("golden/tokenizer/vocab.gguf");
const CASES: &str = include_str!("golden/tokenizer/cases.txt");

fn hex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn ids(s: &str) -> Option<Vec<u32>> {
    match s {
        "?" => None,
        "-" => Some(Vec::new()),
        _ => Some(s.split(',').map(|x| x.parse().unwrap()).collect()),
    }
}

struct Case {
    text: Vec<u8>,
    sp: Vec<u32>,
    llama: Option<Vec<u32>>,
    sp_decode: Vec<u8>,
    llama_detok: Option<Vec<u8>>,
    llama_detok_bos: Option<Vec<u8>>,
}

fn cases() -> Vec<Case> {
    CASES
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "bad golden line {l}");
            let opt = |s: &str| (s != "?").then(|| hex(s));
            Case {
                text: hex(f[0]),
                sp: ids(f[1]).unwrap(),
                llama: ids(f[2]),
                sp_decode: hex(f[3]),
                llama_detok: opt(f[4]),
                llama_detok_bos: opt(f[5]),
            }
        })
        .collect()
}

fn with_tokenizer(f: impl FnOnce(&Tokenizer<'_>)) {
    let file = File::parse(VOCAB).unwrap();
    let mut index = vec![0u32; Tokenizer::index_len(&file)];
    assert_eq!(index.len(), 800);
    let tok = Tokenizer::from_gguf(&file, &mut index).unwrap();
    f(&tok)
}

fn encode(tok: &Tokenizer<'_>, text: &[u8], bos: bool) -> Vec<u32> {
    let mut scratch = vec![Symbol::EMPTY; Tokenizer::scratch_len(text.len())];
    let mut out = vec![0u32; Tokenizer::max_tokens(text.len())];
    let n = tok.encode(text, bos, &mut scratch, &mut out).unwrap();
    out.truncate(n);
    out
}

fn decode(tok: &Tokenizer<'_>, ids: &[u32]) -> Vec<u8> {
    let mut out = vec![0u8; 16 * ids.len() + 16];
    let n = tok.decode(ids, &mut out).unwrap();
    out.truncate(n);
    out
}

#[test]
fn metadata() {
    with_tokenizer(|tok| {
        assert_eq!(tok.bos(), Some(1));
        assert_eq!(tok.eos(), Some(2));
        assert!(tok.add_bos_default());
        let spm = tok.spm().unwrap();
        assert_eq!(spm.unk(), Some(0));
        assert!(spm.add_space_prefix());
        let v = spm.vocab();
        assert_eq!(v.len(), 400);
        assert_eq!(v.piece(3), Some(&b"<0x00>"[..]));
        assert_eq!(v.kind(3), TokenKind::Byte);
        assert_eq!(v.kind(1), TokenKind::Control);
        assert_eq!(v.kind(0), TokenKind::Unknown);
        assert_eq!(v.find(b"<0x41>".iter().copied()), Some(3 + 0x41));
        assert_eq!(v.find(b"no such piece".iter().copied()), None);
        // every piece is found at its own id (the vocabulary has no duplicates)
        for id in 0..v.len() as u32 {
            assert_eq!(v.find(v.piece(id).unwrap().iter().copied()), Some(id));
        }
    });
}

#[test]
fn encode_matches_sentencepiece_and_llama_cpp() {
    let cases = cases();
    assert!(cases.len() >= 50);
    let mut llama_checked = 0;
    with_tokenizer(|tok| {
        for c in &cases {
            let got = encode(tok, &c.text, false);
            let shown = String::from_utf8_lossy(&c.text);
            assert_eq!(got, c.sp, "sentencepiece ids for {shown:?}");
            if let Some(l) = &c.llama {
                assert_eq!(&got, l, "llama.cpp ids for {shown:?}");
                llama_checked += 1;
            }
            let with_bos = encode(tok, &c.text, true);
            assert_eq!(with_bos.first(), Some(&1));
            assert_eq!(&with_bos[1..], &c.sp[..]);
        }
    });
    eprintln!(
        "{} cases, {llama_checked} also checked against llama.cpp",
        cases.len()
    );
}

#[test]
fn decode_matches_sentencepiece_and_llama_cpp() {
    with_tokenizer(|tok| {
        for c in &cases() {
            let shown = String::from_utf8_lossy(&c.text);
            let got = decode(tok, &c.sp);
            assert_eq!(got, c.sp_decode, "sp.decode of {shown:?}");
            if !shown.contains('\u{2581}') {
                assert_eq!(got, c.text, "round trip of {shown:?}");
            }
            if let Some(d) = &c.llama_detok {
                assert_eq!(&got, d, "llama_detokenize of {shown:?}");
            }
            if let Some(d) = &c.llama_detok_bos {
                let mut with_bos = vec![1];
                with_bos.extend_from_slice(&c.sp);
                assert_eq!(
                    &decode(tok, &with_bos),
                    d,
                    "llama_detokenize of [BOS]+{shown:?}"
                );
            }
        }
    });
}

#[test]
fn scratch_bound_is_exact_and_checked() {
    with_tokenizer(|tok| {
        let spm = tok.spm().unwrap();
        let text = b"   ";
        assert_eq!(spm.scratch_needed(text), Tokenizer::scratch_len(text.len()));
        let mut scratch = vec![Symbol::EMPTY; Tokenizer::scratch_len(3) - 1];
        let mut out = [0u32; 16];
        assert!(matches!(
            tok.encode(text, false, &mut scratch, &mut out),
            Err(Error::Capacity { needed: 12, .. })
        ));
        let mut scratch = vec![Symbol::EMPTY; 64];
        let mut out = [0u32; 2];
        assert!(matches!(
            tok.encode(b"Hello world", false, &mut scratch, &mut out),
            Err(Error::Capacity { .. })
        ));
        let mut text_out = [0u8; 4];
        assert!(matches!(
            tok.decode(&[286, 308, 343, 338, 274, 284, 343, 344], &mut text_out),
            Err(Error::Capacity { .. })
        ));
        assert!(matches!(
            tok.decode(&[400], &mut [0u8; 8]),
            Err(Error::InvalidParam { .. })
        ));
    });
}

#[test]
fn malformed_vocabularies_are_errors() {
    // two pieces "a", "bc", the second's length runs past the payload
    let mut s = Vec::new();
    s.extend_from_slice(&1u64.to_le_bytes());
    s.push(b'a');
    s.extend_from_slice(&3u64.to_le_bytes());
    s.extend_from_slice(b"bc");
    let mut index = [0u32; 4];
    assert!(matches!(
        Vocab::new(&s, 2, &[], &[], &mut index),
        Err(Error::Malformed { offset: 9, .. })
    ));
    let mut index = [0u32; 3];
    assert!(matches!(
        Vocab::new(&s, 2, &[], &[], &mut index),
        Err(Error::Capacity { needed: 4, .. })
    ));
    let ok = &s[..s.len() - 2];
    let mut fixed = ok.to_vec();
    fixed[9] = 0; // second piece empty
    let nan = [0u8, 0, 0xc0, 0x7f, 0, 0, 0, 0];
    let mut index = [0u32; 4];
    assert!(matches!(
        Vocab::new(&fixed, 2, &nan, &[], &mut index),
        Err(Error::NonFinite { .. })
    ));
    let mut index = [0u32; 4];
    assert!(matches!(
        Vocab::new(&fixed, 2, &nan[..4], &[], &mut index),
        Err(Error::Shape { .. })
    ));
    let mut index = [0u32; 4];
    let v = Vocab::new(&fixed, 2, &[], &[], &mut index).unwrap();
    assert_eq!(v.piece(0), Some(&b"a"[..]));
    assert_eq!(v.piece(1), Some(&b""[..]));
    assert_eq!(v.piece(2), None);
}

#[test]
fn byte_tokenizer() {
    let tok = Tokenizer::from_bytes(Bytes::new(Some(256), Some(257)).unwrap(), true);
    let text = "héllo \u{1F600}".as_bytes();
    let mut out = vec![0u32; text.len() + 1];
    let n = tok.encode(text, true, &mut [], &mut out).unwrap();
    assert_eq!(n, text.len() + 1);
    assert_eq!(out[0], 256);
    assert!(out[1..].iter().zip(text).all(|(&i, &b)| i == u32::from(b)));
    let mut back = vec![0u8; 64];
    let mut with_eos = out.clone();
    with_eos.push(257);
    let m = tok.decode(&with_eos, &mut back).unwrap();
    assert_eq!(&back[..m], text);
    assert!(Bytes::new(Some(10), None).is_err());
    assert!(matches!(
        tok.encode(text, true, &mut [], &mut out[..3]),
        Err(Error::Capacity { .. })
    ));
}

#[test]
fn invalid_utf8_matches_llama_cpp() {
    let cases = include_str!("golden/tokenizer/cases_invalid_utf8.txt");
    with_tokenizer(|tok| {
        for l in cases.lines() {
            let (text, want) = l.split_once('\t').unwrap();
            let text = hex(text);
            assert_eq!(encode(tok, &text, false), ids(want).unwrap(), "{text:x?}");
        }
    });
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Any bytes (invalid UTF-8 included) encode within the `const fn` bounds without
    /// panicking.
    #[test]
    fn any_bytes_encode_within_bounds(text in proptest::collection::vec(
        proptest::prop_oneof![proptest::num::u8::ANY, proptest::strategy::Just(b' ')],
        0..64,
    )) {
        with_tokenizer(|tok| {
            let ids = encode(tok, &text, false);
            assert!(ids.len() < Tokenizer::max_tokens(text.len()));
            let _ = decode(tok, &ids);
        });
    }

    /// Valid UTF-8 decodes back to itself (byte fallback covers every character) unless it
    /// contains a literal `▁`, which decodes as a space.
    #[test]
    fn utf8_round_trips(text in "[ a-z\\PC]{0,40}") {
        with_tokenizer(|tok| {
            let ids = encode(tok, text.as_bytes(), false);
            if !text.contains('\u{2581}') {
                assert_eq!(decode(tok, &ids), text.as_bytes());
            }
        });
    }
}
