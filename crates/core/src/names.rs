//! Principal names: the one form a name is stored and looked up in (NFC), the
//! key under which two names count as the same (case-folded), and the rules
//! that keep look-alike and invisible characters from making a second
//! principal that passes for the first.
//!
//! Why this matters beyond tidiness: the name is what the APIs behind see in
//! `X-Auth-Name` and what operators read in the audit log. `аdmin` (Cyrillic
//! а), `admin\u{200B}` or `ａｄｍｉｎ` must not become a principal that a human
//! or an ACL takes for `admin`, and `café` typed on two keyboards (NFC and
//! NFD) must be one principal, not two.
//!
//! Three doors, three functions: [`canonical_new_name`] for creating a name
//! (CLI, admin API, import) refuses what is dangerous and says why;
//! [`login_name`] for every login turns what was typed into the stored form,
//! or `None` for a name that cannot exist; [`collision_key`] is what
//! uniqueness is checked on.
//!
//! The Unicode data comes from crates at one Unicode version (18.0 as built):
//! a character assigned in a later version counts as unassigned until the
//! crates are upgraded, which refuses it rather than guessing.

use std::borrow::Cow;
use std::fmt;

use icu_casemap::CaseMapper;
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};
use thiserror::Error;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_script::{Script, UnicodeScript};
use unicode_security::mixed_script::AugmentedScriptSet;

/// The longest name, in bytes of UTF-8 after NFC. Long enough for any real
/// user or service name, e-mail addresses included; short enough to sit in a
/// header and an index without thought.
pub const MAX_NAME_BYTES: usize = 256;

/// Past this many input bytes a login name cannot normalize to a stored one:
/// NFC shrinks text at most threefold (a Hangul syllable typed as three
/// conjoining jamo), so 3 × [`MAX_NAME_BYTES`] would do; the margin is free.
const MAX_LOGIN_INPUT_BYTES: usize = 4 * MAX_NAME_BYTES;

/// Why a name cannot be given to a new principal. The messages are for the
/// operator who typed it (CLI, admin API, an import report).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    /// Longer than [`MAX_NAME_BYTES`] after NFC.
    #[error("the name is {bytes} bytes long (UTF-8, NFC); at most {MAX_NAME_BYTES} are allowed")]
    TooLong { bytes: usize },
    /// Leading or trailing white space: invisible in most displays, and
    /// usually a copy-and-paste accident.
    #[error("the name starts or ends with white space; remove it")]
    SurroundingWhitespace,
    /// A control (Cc) or format (Cf) character: invisible, or changing how
    /// the text around it is shown (U+202E reverses it).
    #[error(
        "the name holds {}, a control or format character (invisible, or changing how the text \
         around it is shown); names may not contain one",
        Cp(*code_point)
    )]
    ControlOrFormat { code_point: u32 },
    /// A character that shows as nothing or as a blank: a separator other
    /// than the ASCII space, or another default-ignorable character.
    #[error(
        "the name holds {}, an invisible or blank character; the only space allowed is U+0020 \
         between other characters",
        Cp(*code_point)
    )]
    Invisible { code_point: u32 },
    /// Unassigned (as of the built-in Unicode version), a noncharacter, or
    /// private use: no font and no reader agrees on what it looks like.
    #[error(
        "the name holds {}, which is unassigned, a noncharacter or for private use",
        Cp(*code_point)
    )]
    Unassigned { code_point: u32 },
    /// A styled or compatibility form (full-width, mathematical, circled,
    /// super- or subscript, ligature, …) of Latin or common characters.
    #[error(
        "the name holds {}, a full-width, styled or compatibility form of {}; write the plain \
         character(s) instead",
        Cp(*code_point),
        Plain(*code_point)
    )]
    CompatibilityForm { code_point: u32 },
    /// Letters from scripts that are not written together, like Cyrillic
    /// `а` in `аdmin`: the UTS #39 single-script rule.
    #[error(
        "the name mixes scripts: {} ({}) next to {} ({}); letters must come from one script \
         (digits, punctuation and combining marks go with any)",
        Cp(*code_point),
        ScriptOf(*code_point),
        Cp(*earlier),
        ScriptOf(*earlier)
    )]
    MixedScript {
        /// The first character that shares no script with those before it.
        code_point: u32,
        /// An earlier character it cannot be written with.
        earlier: u32,
    },
}

impl NameError {
    /// The offending character, when the refusal is about one.
    pub fn code_point(&self) -> Option<u32> {
        match self {
            Self::ControlOrFormat { code_point }
            | Self::Invisible { code_point }
            | Self::Unassigned { code_point }
            | Self::CompatibilityForm { code_point }
            | Self::MixedScript { code_point, .. } => Some(*code_point),
            Self::Empty | Self::TooLong { .. } | Self::SurroundingWhitespace => None,
        }
    }
}

/// For creating a principal (CLI, admin API, import): the NFC form, or why
/// not.
///
/// Refuses:
/// - an empty name, or one longer than [`MAX_NAME_BYTES`] after NFC;
/// - white space at either end (spaces inside, as in `first last`, are fine);
/// - control (Cc) and format (Cf) characters — U+0000, tab and newline,
///   U+00AD soft hyphen, U+200B–U+200F (zero-width and direction marks),
///   U+202A–U+202E and U+2066–U+2069 (bidirectional overrides and isolates),
///   U+FEFF, tag characters — because they are invisible or rearrange the
///   text around them, so two names that display alike would differ;
/// - the other invisible or blank characters: space separators other than
///   U+0020 (U+00A0, U+2000–U+200A, U+3000, …), U+2028/U+2029 line and
///   paragraph separators, every other Default_Ignorable_Code_Point
///   (U+034F combining grapheme joiner, variation selectors, Hangul fillers
///   U+115F/U+1160/U+3164/U+FFA0, …) and U+2800 braille blank;
/// - unassigned code points, noncharacters (U+FDD0–U+FDEF, U+xxFFFE/F) and
///   private-use characters: they have no agreed look, and an unassigned
///   one may gain a meaning later. Surrogates cannot occur in a `&str`;
/// - compatibility characters (those NFKC would rewrite) of the Latin,
///   Common or Inherited scripts: full-width `ａ`, mathematical `𝖺`,
///   circled `ⓐ`, `ﬁ`, `ĳ`, `ſ`, `ª`, `²`, `™`, `…`. They are styled copies
///   of plain characters and would slip past the script rule, since `𝖺` is
///   Common and `ａ` is Latin. Compatibility characters of other scripts
///   stay allowed because everyday spelling uses them (Thai U+0E33, Lao
///   U+0EB3, Armenian U+0587, half-width katakana);
/// - mixed-script names (UTS #39 single-script rule): once Common and
///   Inherited characters (digits, punctuation, combining marks) are set
///   aside, the letters must share a script. `аdmin` mixes Cyrillic and
///   Latin; Han with Hiragana/Katakana (Japanese), Han with Hangul (Korean)
///   and Han with Bopomofo count as one script, as UTS #39 says.
///
/// Names are not lowercased: `Alice` stays `Alice`. Uniqueness is checked
/// on [`collision_key`].
pub fn canonical_new_name(raw: &str) -> Result<String, NameError> {
    if raw.is_empty() {
        return Err(NameError::Empty);
    }
    if is_printable_ascii(raw) {
        // ASCII is NFC and single-script; only length and ends can be wrong.
        check_length_and_ends(raw)?;
        return Ok(raw.to_owned());
    }
    let name = nfc(raw);
    check_length_and_ends(&name)?;
    if let Some(refused) = name.chars().find_map(refused_char) {
        return Err(refused);
    }
    check_single_script(&name)?;
    Ok(name.into_owned())
}

/// For a login: the NFC form to look up, or `None` when the name holds a
/// character that [`canonical_new_name`] refuses on its own (control,
/// format, invisible, unassigned, compatibility form) — such a name cannot
/// belong to any principal, so it is simply unknown (the contract's 401).
///
/// Length, surrounding white space and mixed scripts are not checked: such a
/// name finds no principal anyway. Input too long to normalize to a stored
/// name also gives `None`, without normalizing it.
///
/// Runs on every password and API-key login: printable ASCII comes back
/// borrowed without allocating (ASCII is already NFC), and so does any name
/// already in NFC.
pub fn login_name(raw: &str) -> Option<Cow<'_, str>> {
    if is_printable_ascii(raw) {
        return Some(Cow::Borrowed(raw));
    }
    if raw.len() > MAX_LOGIN_INPUT_BYTES {
        return None;
    }
    let name = nfc(raw);
    if name.chars().any(|c| refused_char(c).is_some()) {
        return None;
    }
    Some(name)
}

/// The key two names collide under: Unicode default (full) case folding of
/// the NFC form, then NFC again — folding can leave text denormalized
/// (U+01F0 `ǰ` folds to `j` and U+030C). So `Straße` and `STRASSE`, `USER`
/// and `user`, NFC and NFD `café` share a key. Not Turkic-aware, on purpose: `I` folds
/// to `i` for everyone, so uniqueness does not depend on a locale.
///
/// Meant for a [`canonical_new_name`] result; any other string is put in NFC
/// first, so the key is the same either way.
pub fn collision_key(canonical: &str) -> String {
    if is_printable_ascii(canonical) {
        // ASCII's full case folding is exactly ASCII lowercase.
        return canonical.to_ascii_lowercase();
    }
    let name = nfc(canonical);
    let folded = CaseMapper::new().fold_string(&name);
    nfc(&folded).into_owned()
}

fn is_printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' '..=b'~'))
}

/// NFC, borrowing when the quick check already proves the text is NFC.
fn nfc(s: &str) -> Cow<'_, str> {
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => Cow::Borrowed(s),
        IsNormalized::No | IsNormalized::Maybe => Cow::Owned(s.nfc().collect()),
    }
}

fn check_length_and_ends(name: &str) -> Result<(), NameError> {
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong { bytes: name.len() });
    }
    let starts = name.chars().next().is_some_and(char::is_whitespace);
    let ends = name.chars().next_back().is_some_and(char::is_whitespace);
    if starts || ends {
        return Err(NameError::SurroundingWhitespace);
    }
    Ok(())
}

/// Why `c` may never appear in a name, whatever surrounds it; `None` if it
/// may. `c` is taken from NFC text.
fn refused_char(c: char) -> Option<NameError> {
    let code_point = u32::from(c);
    if c.is_ascii() {
        return (!matches!(c, ' '..='~')).then_some(NameError::ControlOrFormat { code_point });
    }
    match CodePointMapData::<GeneralCategory>::new().get(c) {
        GeneralCategory::Control | GeneralCategory::Format => {
            return Some(NameError::ControlOrFormat { code_point });
        }
        GeneralCategory::Unassigned | GeneralCategory::PrivateUse | GeneralCategory::Surrogate => {
            return Some(NameError::Unassigned { code_point });
        }
        GeneralCategory::SpaceSeparator
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator => return Some(NameError::Invisible { code_point }),
        _ => {}
    }
    // U+2800 is an ordinary symbol to Unicode but prints as a blank, and is
    // the usual way to fake an empty or space-padded name.
    if c == '\u{2800}' || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c) {
        return Some(NameError::Invisible { code_point });
    }
    if is_plain_script_compatibility_form(c) {
        return Some(NameError::CompatibilityForm { code_point });
    }
    None
}

/// Whether NFKC would rewrite `c` and `c` belongs to Latin, Common or
/// Inherited — the scripts whose styled copies impersonate plain ASCII.
fn is_plain_script_compatibility_form(c: char) -> bool {
    matches!(c.script(), Script::Latin | Script::Common | Script::Inherited)
        && !std::iter::once(c).nfd().eq(std::iter::once(c).nfkd())
}

/// The UTS #39 single-script rule on the resolved script set, naming the
/// first character that breaks it.
fn check_single_script(name: &str) -> Result<(), NameError> {
    let mut resolved = AugmentedScriptSet::default();
    for (at, c) in name.char_indices() {
        let own = AugmentedScriptSet::for_char(c);
        resolved.intersect_with(own);
        if resolved.is_empty() {
            let before = &name[..at];
            // Name a character that cannot go with `c` by itself; failing
            // that (only several characters together, through their
            // Script_Extensions, rule `c` out), the first that narrowed the
            // scripts at all.
            let earlier = before
                .chars()
                .find(|&e| {
                    let mut both = AugmentedScriptSet::for_char(e);
                    both.intersect_with(own);
                    both.is_empty()
                })
                .or_else(|| before.chars().find(|&e| !AugmentedScriptSet::for_char(e).is_all()))
                .unwrap_or(c);
            return Err(NameError::MixedScript { code_point: u32::from(c), earlier: u32::from(earlier) });
        }
    }
    Ok(())
}

/// `U+XXXX`, the way operators and the Unicode charts write a code point.
struct Cp(u32);

impl fmt::Display for Cp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", self.0)
    }
}

/// The script of a code point, by its Unicode name (`Cyrillic`).
struct ScriptOf(u32);

impl fmt::Display for ScriptOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let script = char::from_u32(self.0).map_or(Script::Unknown, |c| c.script());
        f.write_str(script.full_name())
    }
}

/// What NFKC makes of a code point, as `U+0061` or `U+0066 U+0069`.
struct Plain(u32);

impl fmt::Display for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(c) = char::from_u32(self.0) else { return f.write_str("another character") };
        for (n, p) in std::iter::once(c).nfkc().enumerate() {
            if n > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}", Cp(u32::from(p)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> NameError {
        match canonical_new_name(raw) {
            Ok(name) => panic!("{raw:?} was accepted as {name:?}"),
            Err(err) => err,
        }
    }

    #[test]
    fn ordinary_names_are_accepted_as_they_are() {
        for name in [
            "John.Doo",
            "user",
            "partner",
            "svc-01",
            "first last",
            "a@b.example",
            "Alice",
            "O'Brien",
            "x",
            "12345",
            "---",
            "Zoë",
            "Ærøskøbing",
            "col·lecció",
        ] {
            assert_eq!(canonical_new_name(name).as_deref(), Ok(name), "{name:?}");
        }
    }

    #[test]
    fn single_script_names_in_other_scripts_are_accepted() {
        for name in [
            "админ",
            "Ёжик-2",
            "αλέξανδρος",
            "Σωκράτης 99",
            "שלום",
            "محمد",
            "山田太郎",
            "やまだ たろう",
            "山田たろう",
            "カタカナ",
            "김민준",
            "한국語",
            "ทำงาน",
            "नमस्ते",
        ] {
            let nfc: String = name.nfc().collect();
            assert_eq!(canonical_new_name(name), Ok(nfc), "{name:?}");
        }
        assert!(matches!(refused("user_名前@例.jp"), NameError::MixedScript { .. }));
    }

    #[test]
    fn cyrillic_a_among_latin_letters_is_refused_naming_both_code_points() {
        let err = refused("аdmin");
        assert_eq!(err, NameError::MixedScript { code_point: 0x64, earlier: 0x430 });
        let message = err.to_string();
        assert!(message.contains("U+0430 (Cyrillic)"), "{message}");
        assert!(message.contains("U+0064 (Latin)"), "{message}");

        assert_eq!(refused("admin\u{430}"), NameError::MixedScript { code_point: 0x430, earlier: 0x61 });
        assert!(matches!(refused("pаypal"), NameError::MixedScript { .. }));
        assert!(matches!(refused("Ωmega"), NameError::MixedScript { .. }));
    }

    #[test]
    fn japanese_mixtures_pass_but_kana_with_hangul_does_not() {
        assert!(canonical_new_name("東京タワー").is_ok());
        assert!(matches!(refused("漢字かな한글"), NameError::MixedScript { code_point: 0xD55C, .. }));
    }

    #[test]
    fn common_characters_go_with_any_one_script() {
        assert!(canonical_new_name("админ-01@пример.рф").is_ok());
        assert!(canonical_new_name("12345").is_ok());
        assert!(canonical_new_name("#1 (α)").is_ok());
        assert!(canonical_new_name("!!!").is_ok());
    }

    #[test]
    fn nfd_cafe_becomes_nfc() {
        let nfd = "cafe\u{301}";
        assert_eq!(canonical_new_name(nfd).as_deref(), Ok("caf\u{e9}"));
        assert_eq!(canonical_new_name("caf\u{e9}").as_deref(), Ok("caf\u{e9}"));
        assert_eq!(login_name(nfd).as_deref(), Some("caf\u{e9}"));
        // U+212B ANGSTROM SIGN is a canonical singleton: NFC makes it Å.
        assert_eq!(canonical_new_name("\u{212B}ngstr\u{f6}m").as_deref(), Ok("\u{c5}ngstr\u{f6}m"));
    }

    #[test]
    fn invisible_and_direction_characters_are_refused_naming_their_code_points() {
        for (raw, cp) in [
            ("ad\u{200B}min", 0x200B),
            ("admin\u{202E}nimda", 0x202E),
            ("ad\u{0}min", 0x0),
            ("\u{FEFF}admin", 0xFEFF),
            ("ad\u{AD}min", 0xAD),
            ("ad\u{7F}min", 0x7F),
            ("ad\u{85}min", 0x85),
            ("a\u{2066}dmin", 0x2066),
            ("a\u{E0061}dmin", 0xE0061),
        ] {
            let err = refused(raw);
            assert_eq!(err, NameError::ControlOrFormat { code_point: cp }, "{raw:?}");
            assert!(err.to_string().contains(&format!("U+{cp:04X}")), "{err}");
            assert_eq!(login_name(raw), None, "{raw:?}");
        }
        assert_eq!(refused("ad\tmin"), NameError::ControlOrFormat { code_point: 9 });
        assert_eq!(refused("ad\nmin"), NameError::ControlOrFormat { code_point: 10 });
    }

    #[test]
    fn blank_look_alikes_are_refused() {
        for (raw, cp) in [
            ("first\u{A0}last", 0xA0),
            ("first\u{3000}last", 0x3000),
            ("first\u{2009}last", 0x2009),
            ("a\u{2028}b", 0x2028),
            ("a\u{2029}b", 0x2029),
            ("\u{3164}", 0x3164),
            ("한\u{115F}", 0x115F),
            ("a\u{34F}b", 0x34F),
            ("a\u{FE0F}", 0xFE0F),
            ("\u{2800}", 0x2800),
            ("a\u{2800}b", 0x2800),
        ] {
            assert_eq!(refused(raw), NameError::Invisible { code_point: cp }, "{raw:?}");
            assert_eq!(login_name(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn unassigned_private_use_and_noncharacters_are_refused() {
        for (raw, cp) in [
            ("a\u{E000}", 0xE000),
            ("a\u{FDD0}", 0xFDD0),
            ("a\u{FFFF}", 0xFFFF),
            ("a\u{10FFFD}", 0x10FFFD),
            ("a\u{378}", 0x378),
        ] {
            assert_eq!(refused(raw), NameError::Unassigned { code_point: cp }, "{raw:?}");
            assert_eq!(login_name(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn styled_copies_of_latin_and_common_characters_are_refused() {
        for (raw, cp) in [
            ("\u{FF41}dmin", 0xFF41),
            ("\u{1D5BA}dmin", 0x1D5BA),
            ("\u{24D0}dmin", 0x24D0),
            ("o\u{FB01}ce", 0xFB01),
            ("user\u{B2}", 0xB2),
            ("admin\u{FF11}", 0xFF11),
        ] {
            let err = refused(raw);
            assert_eq!(err, NameError::CompatibilityForm { code_point: cp }, "{raw:?}");
            assert_eq!(login_name(raw), None, "{raw:?}");
        }
        let message = refused("\u{1D5BA}dmin").to_string();
        assert!(message.contains("U+1D5BA") && message.contains("U+0061"), "{message}");
        assert!(refused("o\u{FB01}ce").to_string().contains("U+0066 U+0069"));
    }

    #[test]
    fn compatibility_characters_of_everyday_spelling_elsewhere_are_kept() {
        for name in ["น้ำ", "ເຂົາ\u{EB3}", "\u{587}", "ｶﾀｶﾅ"] {
            assert!(canonical_new_name(name).is_ok(), "{name:?}: {:?}", canonical_new_name(name));
        }
    }

    #[test]
    fn empty_long_and_padded_names_are_refused() {
        assert_eq!(refused(""), NameError::Empty);
        assert_eq!(refused(" admin"), NameError::SurroundingWhitespace);
        assert_eq!(refused("admin "), NameError::SurroundingWhitespace);
        assert_eq!(refused(" "), NameError::SurroundingWhitespace);
        assert!(canonical_new_name(&"a".repeat(MAX_NAME_BYTES)).is_ok());
        assert_eq!(refused(&"a".repeat(MAX_NAME_BYTES + 1)), NameError::TooLong { bytes: 257 });
        // 128 two-byte characters fit; one more does not.
        assert!(canonical_new_name(&"é".repeat(128)).is_ok());
        assert_eq!(refused(&"é".repeat(129)), NameError::TooLong { bytes: 258 });
        // The limit applies after NFC: 128 decomposed é (384 bytes) fit.
        assert!(canonical_new_name(&"e\u{301}".repeat(128)).is_ok());
    }

    #[test]
    fn case_and_normalization_variants_share_a_collision_key() {
        let key = |s: &str| collision_key(&canonical_new_name(s).unwrap_or_else(|e| panic!("{s:?}: {e}")));
        assert_eq!(key("USER"), key("user"));
        assert_eq!(key("USER"), "user");
        assert_eq!(key("Straße"), key("strasse"));
        assert_eq!(key("Straße"), key("STRASSE"));
        assert_eq!(key("cafe\u{301}"), key("CAF\u{c9}"));
        assert_eq!(key("ΣΩΚΡΆΤΗΣ"), key("σωκράτης"));
        assert_eq!(key("АДМИН"), key("админ"));
        assert_ne!(key("user"), key("users"));
        // Collision keys are themselves NFC.
        for s in ["ǰ", "Ǆ", "ΐ", "ﬀ"] {
            let k = collision_key(s);
            assert_eq!(k.nfc().collect::<String>(), k, "{s:?}");
        }
    }

    #[test]
    fn printable_ascii_logins_are_borrowed_untouched() {
        for raw in ["admin", "John.Doo", "first last", " padded ", "a@b.example", ""] {
            assert!(matches!(login_name(raw), Some(Cow::Borrowed(s)) if s == raw), "{raw:?}");
        }
        // NFC non-ASCII is borrowed as well; only NFD needs a new string.
        assert!(matches!(login_name("café"), Some(Cow::Borrowed("café"))));
        assert!(matches!(login_name("cafe\u{301}"), Some(Cow::Owned(_))));
        assert_eq!(login_name(&"é".repeat(MAX_LOGIN_INPUT_BYTES)), None);
    }

    #[test]
    fn login_does_not_apply_the_creation_only_rules() {
        // Unknown rather than refused: a mixed or padded name finds nothing.
        assert_eq!(login_name("аdmin").as_deref(), Some("аdmin"));
        assert_eq!(login_name(" admin").as_deref(), Some(" admin"));
    }

    #[test]
    fn canonical_names_are_fixed_points() {
        let samples = [
            "admin",
            "John.Doo",
            "cafe\u{301}",
            "CAFE\u{301}",
            "Straße",
            "\u{212B}",
            "e\u{301}\u{323}",
            "e\u{323}\u{301}",
            "\u{1100}\u{1161}\u{11A8}",
            "한국어",
            "Ελληνικά",
            "ἀ\u{345}",
            "αι\u{308}\u{301}",
            "Ǆemal",
            "ŉ",
            "ﾊﾝｶｸ",
            "ทำ",
            "नमस्ते",
            "مرحبا",
            "ǅ",
            "İstanbul",
            "a b c",
            "x\u{300}\u{301}\u{302}",
            "\u{FB2C}",
            "\u{0958}",
            "\u{1E9B}\u{323}",
        ];
        for raw in samples {
            let Ok(canonical) = canonical_new_name(raw) else { continue };
            assert_eq!(canonical_new_name(&canonical).as_ref(), Ok(&canonical), "{raw:?}");
            assert_eq!(login_name(&canonical).as_deref(), Some(canonical.as_str()), "{raw:?}");
            assert_eq!(login_name(raw).as_deref(), Some(canonical.as_str()), "{raw:?}");
            assert_eq!(collision_key(raw), collision_key(&canonical), "{raw:?}");
            let key = collision_key(&canonical);
            assert_eq!(collision_key(&key), key, "{raw:?}");
        }
        assert!(samples.iter().filter(|s| canonical_new_name(s).is_ok()).count() > 20);
    }

    #[test]
    fn errors_speak_to_the_operator() {
        assert_eq!(
            refused("ad\u{200B}min").to_string(),
            "the name holds U+200B, a control or format character (invisible, or changing how the \
             text around it is shown); names may not contain one"
        );
        assert_eq!(refused("ad\u{200B}min").code_point(), Some(0x200B));
        assert_eq!(refused("").code_point(), None);
        assert!(refused("a\u{10FFFD}").to_string().contains("U+10FFFD"));
    }
}
