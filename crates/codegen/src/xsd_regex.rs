//! Translates XSD regular expressions (XML Schema Part 2, appendix F) into `regex` syntax.
//!
//! An XSD pattern facet matches the whole value, has no anchors (`^` and `$` are ordinary characters), no
//! lazy quantifiers, no backreferences and no group syntax but `(...)`; its character classes allow
//! subtraction (`[a-z-[aeiou]]`) and Unicode block escapes (`\p{IsGreek}`). [`translate`] parses the XSD
//! syntax strictly and writes a pattern for the Rust `regex` crate that matches exactly the same strings:
//! anchored, groups non-capturing, subtraction as `--`, blocks and the XML name escapes as explicit ranges.
//!
//! Where XSD 1.0 is loose or silent, xmlschema 4.3 (XSD 1.0 mode) decides: escaped punctuation outside
//! XSD's list (`\/`, `\$`) is the character itself, `}` alone is a literal, `-` may end a group before a
//! subtraction (`[a--[b]]`). We do not copy its bugs: outside a class it reads `\w` and `\s` as Python's
//! (`\w` matches `_` there but not in `[\w]`); it reads `[\n-\r]` as three characters rather than a range,
//! accepts `[\d-z]` (we refuse a `-` after a multi-character escape), lets `[\/]` match `\`, and knows
//! block names newer than XSD 1.0's table (we refuse those).

use std::fmt::Write as _;

/// How deep groups and class subtractions may nest (the translation is recursive).
const MAX_NESTING: usize = 100;

/// The XSD 1.0 block escapes (`\p{IsName}`): the Unicode 3.1 blocks of the table in XSD Part 2 F.1.1, with
/// its code point ranges. The surrogate blocks match nothing in a Rust string.
const BLOCKS: &[(&str, &[(u32, u32)])] = &[
    ("BasicLatin", &[(0x0000, 0x007F)]),
    ("Latin-1Supplement", &[(0x0080, 0x00FF)]),
    ("LatinExtended-A", &[(0x0100, 0x017F)]),
    ("LatinExtended-B", &[(0x0180, 0x024F)]),
    ("IPAExtensions", &[(0x0250, 0x02AF)]),
    ("SpacingModifierLetters", &[(0x02B0, 0x02FF)]),
    ("CombiningDiacriticalMarks", &[(0x0300, 0x036F)]),
    ("Greek", &[(0x0370, 0x03FF)]),
    ("Cyrillic", &[(0x0400, 0x04FF)]),
    ("Armenian", &[(0x0530, 0x058F)]),
    ("Hebrew", &[(0x0590, 0x05FF)]),
    ("Arabic", &[(0x0600, 0x06FF)]),
    ("Syriac", &[(0x0700, 0x074F)]),
    ("Thaana", &[(0x0780, 0x07BF)]),
    ("Devanagari", &[(0x0900, 0x097F)]),
    ("Bengali", &[(0x0980, 0x09FF)]),
    ("Gurmukhi", &[(0x0A00, 0x0A7F)]),
    ("Gujarati", &[(0x0A80, 0x0AFF)]),
    ("Oriya", &[(0x0B00, 0x0B7F)]),
    ("Tamil", &[(0x0B80, 0x0BFF)]),
    ("Telugu", &[(0x0C00, 0x0C7F)]),
    ("Kannada", &[(0x0C80, 0x0CFF)]),
    ("Malayalam", &[(0x0D00, 0x0D7F)]),
    ("Sinhala", &[(0x0D80, 0x0DFF)]),
    ("Thai", &[(0x0E00, 0x0E7F)]),
    ("Lao", &[(0x0E80, 0x0EFF)]),
    ("Tibetan", &[(0x0F00, 0x0FFF)]),
    ("Myanmar", &[(0x1000, 0x109F)]),
    ("Georgian", &[(0x10A0, 0x10FF)]),
    ("HangulJamo", &[(0x1100, 0x11FF)]),
    ("Ethiopic", &[(0x1200, 0x137F)]),
    ("Cherokee", &[(0x13A0, 0x13FF)]),
    ("UnifiedCanadianAboriginalSyllabics", &[(0x1400, 0x167F)]),
    ("Ogham", &[(0x1680, 0x169F)]),
    ("Runic", &[(0x16A0, 0x16FF)]),
    ("Khmer", &[(0x1780, 0x17FF)]),
    ("Mongolian", &[(0x1800, 0x18AF)]),
    ("LatinExtendedAdditional", &[(0x1E00, 0x1EFF)]),
    ("GreekExtended", &[(0x1F00, 0x1FFF)]),
    ("GeneralPunctuation", &[(0x2000, 0x206F)]),
    ("SuperscriptsandSubscripts", &[(0x2070, 0x209F)]),
    ("CurrencySymbols", &[(0x20A0, 0x20CF)]),
    ("CombiningMarksforSymbols", &[(0x20D0, 0x20FF)]),
    ("LetterlikeSymbols", &[(0x2100, 0x214F)]),
    ("NumberForms", &[(0x2150, 0x218F)]),
    ("Arrows", &[(0x2190, 0x21FF)]),
    ("MathematicalOperators", &[(0x2200, 0x22FF)]),
    ("MiscellaneousTechnical", &[(0x2300, 0x23FF)]),
    ("ControlPictures", &[(0x2400, 0x243F)]),
    ("OpticalCharacterRecognition", &[(0x2440, 0x245F)]),
    ("EnclosedAlphanumerics", &[(0x2460, 0x24FF)]),
    ("BoxDrawing", &[(0x2500, 0x257F)]),
    ("BlockElements", &[(0x2580, 0x259F)]),
    ("GeometricShapes", &[(0x25A0, 0x25FF)]),
    ("MiscellaneousSymbols", &[(0x2600, 0x26FF)]),
    ("Dingbats", &[(0x2700, 0x27BF)]),
    ("BraillePatterns", &[(0x2800, 0x28FF)]),
    ("CJKRadicalsSupplement", &[(0x2E80, 0x2EFF)]),
    ("KangxiRadicals", &[(0x2F00, 0x2FDF)]),
    ("IdeographicDescriptionCharacters", &[(0x2FF0, 0x2FFF)]),
    ("CJKSymbolsandPunctuation", &[(0x3000, 0x303F)]),
    ("Hiragana", &[(0x3040, 0x309F)]),
    ("Katakana", &[(0x30A0, 0x30FF)]),
    ("Bopomofo", &[(0x3100, 0x312F)]),
    ("HangulCompatibilityJamo", &[(0x3130, 0x318F)]),
    ("Kanbun", &[(0x3190, 0x319F)]),
    ("BopomofoExtended", &[(0x31A0, 0x31BF)]),
    ("EnclosedCJKLettersandMonths", &[(0x3200, 0x32FF)]),
    ("CJKCompatibility", &[(0x3300, 0x33FF)]),
    ("CJKUnifiedIdeographsExtensionA", &[(0x3400, 0x4DB5)]),
    ("CJKUnifiedIdeographs", &[(0x4E00, 0x9FFF)]),
    ("YiSyllables", &[(0xA000, 0xA48F)]),
    ("YiRadicals", &[(0xA490, 0xA4CF)]),
    ("HangulSyllables", &[(0xAC00, 0xD7A3)]),
    ("HighSurrogates", &[]),
    ("HighPrivateUseSurrogates", &[]),
    ("LowSurrogates", &[]),
    ("PrivateUse", &[(0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD)]),
    ("CJKCompatibilityIdeographs", &[(0xF900, 0xFAFF)]),
    ("AlphabeticPresentationForms", &[(0xFB00, 0xFB4F)]),
    ("ArabicPresentationForms-A", &[(0xFB50, 0xFDFF)]),
    ("CombiningHalfMarks", &[(0xFE20, 0xFE2F)]),
    ("CJKCompatibilityForms", &[(0xFE30, 0xFE4F)]),
    ("SmallFormVariants", &[(0xFE50, 0xFE6F)]),
    ("ArabicPresentationForms-B", &[(0xFE70, 0xFEFE)]),
    ("Specials", &[(0xFEFF, 0xFEFF), (0xFFF0, 0xFFFD)]),
    ("HalfwidthandFullwidthForms", &[(0xFF00, 0xFFEF)]),
    ("OldItalic", &[(0x10300, 0x1032F)]),
    ("Gothic", &[(0x10330, 0x1034F)]),
    ("Deseret", &[(0x10400, 0x1044F)]),
    ("ByzantineMusicalSymbols", &[(0x1D000, 0x1D0FF)]),
    ("MusicalSymbols", &[(0x1D100, 0x1D1FF)]),
    ("MathematicalAlphanumericSymbols", &[(0x1D400, 0x1D7FF)]),
    ("CJKUnifiedIdeographsExtensionB", &[(0x20000, 0x2A6D6)]),
    ("CJKCompatibilityIdeographsSupplement", &[(0x2F800, 0x2FA1F)]),
    ("Tags", &[(0xE0000, 0xE007F)]),
];

/// The general categories XSD 1.0 names (F.1.1), plus `Cs`, which xmlschema accepts too (it matches
/// nothing in a string).
const CATEGORIES: &[&str] = &[
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Ps", "Pe", "Pi",
    "Pf", "Po", "Z", "Zs", "Zl", "Zp", "S", "Sm", "Sc", "Sk", "So", "C", "Cc", "Cf", "Co", "Cn", "Cs",
];

/// XML 1.0 (fifth edition) NameStartChar, as class items (`\i`). xmlschema stops at U+FFFD; the fifth
/// edition, and we, also take U+10000..U+EFFFF.
const NAME_START: &str = r":A-Z_a-z\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{2FF}\x{370}-\x{37D}\x{37F}-\x{1FFF}\x{200C}-\x{200D}\x{2070}-\x{218F}\x{2C00}-\x{2FEF}\x{3001}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFFD}\x{10000}-\x{EFFFF}";
/// The characters NameChar adds to NameStartChar (`\c`).
const NAME_MORE: &str = r"\-.0-9\x{B7}\x{300}-\x{36F}\x{203F}-\x{2040}";

/// Translates the value of an XSD 1.0 pattern facet into a `regex` crate pattern matching exactly the same
/// strings, anchored at both ends (`^(?:...)$`).
///
/// The error names the construct and its position (in characters from 0).
pub fn translate(pattern: &str) -> Result<String, String> {
    let mut p = Parser { chars: pattern.chars().collect(), pos: 0, pattern, depth: 0 };
    let body = p.regexp()?;
    if let Some(c) = p.peek() {
        // `regexp` stops only at the end or at a ')' it has no group for.
        return Err(p.error(&format!("unbalanced {c:?}"), p.pos));
    }
    let out = format!("^(?:{body})$");
    // A safety net: the output must be valid `regex` syntax (it always is unless this module has a bug).
    regex_syntax::ParserBuilder::new()
        .nest_limit(1000)
        .build()
        .parse(&out)
        .map_err(|e| format!("XSD pattern {pattern:?} translated to {out:?}, which regex refuses: {e}"))?;
    Ok(out)
}

/// One piece of a character class.
enum Item {
    Char(char),
    Range(char, char),
    /// A class expression usable as a class item and as an atom (`\p{L}`, `[^\n\r]`).
    Set(String),
}

/// What an escape stands for.
enum Escape {
    Char(char),
    Set(String),
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    pattern: &'a str,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.chars.get(self.pos + k).copied()
    }

    fn error(&self, what: &str, at: usize) -> String {
        format!("{what} at position {at} in XSD pattern {:?}", self.pattern)
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error(&format!("more than {MAX_NESTING} nested groups or subtractions"), self.pos));
        }
        Ok(())
    }

    /// `regExp ::= branch ('|' branch)*`; stops at the end or before an unmatched `)`.
    fn regexp(&mut self) -> Result<String, String> {
        let mut out = self.branch()?;
        while self.peek() == Some('|') {
            self.pos += 1;
            out.push('|');
            out.push_str(&self.branch()?);
        }
        Ok(out)
    }

    /// `branch ::= piece*`
    fn branch(&mut self) -> Result<String, String> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            out.push_str(&self.atom()?);
            self.quantifier(&mut out)?;
        }
        Ok(out)
    }

    /// `quantifier ::= [?*+] | '{' quantity '}'`, at most one per atom.
    fn quantifier(&mut self, out: &mut String) -> Result<(), String> {
        let start = self.pos;
        match self.peek() {
            Some(c @ ('?' | '*' | '+')) => {
                self.pos += 1;
                out.push(c);
            }
            Some('{') => {
                self.pos += 1;
                let min = self
                    .number()
                    .ok_or_else(|| self.error("invalid quantifier (expected {n}, {n,} or {n,m})", start))?;
                let max = if self.peek() == Some(',') {
                    self.pos += 1;
                    if self.peek() == Some('}') { None } else { Some(self.number()) }
                } else {
                    Some(Some(min))
                };
                if self.peek() != Some('}') {
                    return Err(self.error("invalid quantifier (expected {n}, {n,} or {n,m})", start));
                }
                self.pos += 1;
                match max {
                    None => write!(out, "{{{min},}}"),
                    Some(Some(max)) if max == min => write!(out, "{{{min}}}"),
                    Some(Some(max)) if max > min => write!(out, "{{{min},{max}}}"),
                    Some(Some(_)) => return Err(self.error("quantifier {n,m} with n greater than m", start)),
                    Some(None) => return Err(self.error("invalid quantifier (expected {n}, {n,} or {n,m})", start)),
                }
                .map_err(|e| e.to_string())?;
            }
            _ => return Ok(()),
        }
        if let Some(c @ ('?' | '*' | '+' | '{')) = self.peek() {
            return Err(self.error(
                &format!("quantifier {c:?} after a quantifier (XSD has no lazy or possessive quantifiers)"),
                self.pos,
            ));
        }
        Ok(())
    }

    /// `[0-9]+` as a u32 (leading zeros allowed); `None` without digits or past `u32::MAX`.
    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        let mut n: Option<u32> = Some(0);
        while let Some(d) = self.peek().filter(char::is_ascii_digit).and_then(|c| c.to_digit(10)) {
            n = n.and_then(|n| n.checked_mul(10)?.checked_add(d));
            self.pos += 1;
        }
        if self.pos == start { None } else { n }
    }

    /// `atom ::= NormalChar | charClass | '(' regExp ')'`, as one `regex` atom.
    fn atom(&mut self) -> Result<String, String> {
        let at = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.error("unexpected end", at));
        };
        self.pos += 1;
        match c {
            '(' => {
                self.enter()?;
                let inner = self.regexp()?;
                self.depth -= 1;
                if self.peek() != Some(')') {
                    return Err(self.error("unclosed '('", at));
                }
                self.pos += 1;
                Ok(format!("(?:{inner})"))
            }
            '[' => {
                self.enter()?;
                let class = self.class(at)?;
                self.depth -= 1;
                Ok(class)
            }
            '.' => Ok(r"[^\n\r]".to_owned()),
            '\\' => Ok(match self.escape(at)? {
                Escape::Char(c) => literal(c),
                Escape::Set(s) => s,
            }),
            '?' | '*' | '+' | '{' => Err(self.error(&format!("quantifier {c:?} without anything to repeat"), at)),
            ']' => Err(self.error("unexpected ']' (escape it as \\])", at)),
            ')' => Err(self.error("unbalanced ')'", at)),
            // `^`, `$` and `}` are ordinary characters in XSD.
            c => Ok(literal(c)),
        }
    }

    /// After a `\` at `at`: a single-character escape, a multi-character escape or `\p{..}`/`\P{..}`.
    fn escape(&mut self, at: usize) -> Result<Escape, String> {
        let Some(c) = self.peek() else {
            return Err(self.error("'\\' at the end of the pattern", at));
        };
        self.pos += 1;
        Ok(match c {
            'n' => Escape::Char('\n'),
            'r' => Escape::Char('\r'),
            't' => Escape::Char('\t'),
            's' => Escape::Set(r"[\t\n\r ]".to_owned()),
            'S' => Escape::Set(r"[^\t\n\r ]".to_owned()),
            'd' => Escape::Set(r"\p{Nd}".to_owned()),
            'D' => Escape::Set(r"\P{Nd}".to_owned()),
            'w' => Escape::Set(r"[^\p{P}\p{Z}\p{C}]".to_owned()),
            'W' => Escape::Set(r"[\p{P}\p{Z}\p{C}]".to_owned()),
            'i' => Escape::Set(format!("[{NAME_START}]")),
            'I' => Escape::Set(format!("[^{NAME_START}]")),
            'c' => Escape::Set(format!("[{NAME_START}{NAME_MORE}]")),
            'C' => Escape::Set(format!("[^{NAME_START}{NAME_MORE}]")),
            'p' | 'P' => Escape::Set(self.property(c == 'P', at)?),
            // XSD 1.0's single-character escapes are \ | . ? * + ( ) { } - [ ] ^; xmlschema also takes any
            // other escaped punctuation as the character itself (`\/`, `\$`, `\:`), and so do we.
            c if c.is_ascii_alphanumeric() => {
                return Err(self.error(&format!("unknown escape \\{c}"), at));
            }
            c if c.is_whitespace() || c.is_control() => {
                return Err(self.error(&format!("unknown escape \\{c:?}"), at));
            }
            c => Escape::Char(c),
        })
    }

    /// `\p{Name}` / `\P{Name}` after the `p` or `P`: a category or an `Is` block.
    fn property(&mut self, negated: bool, at: usize) -> Result<String, String> {
        if self.peek() != Some('{') {
            return Err(self.error("expected '{' after \\p or \\P", at));
        }
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|c| c != '}') {
            self.pos += 1;
        }
        if self.peek() != Some('}') {
            return Err(self.error("unterminated \\p{...}", at));
        }
        let name: String = self.chars.get(start..self.pos).unwrap_or(&[]).iter().collect();
        self.pos += 1;
        if let Some(block) = name.strip_prefix("Is") {
            let Some((_, ranges)) = BLOCKS.iter().find(|(n, _)| *n == block) else {
                return Err(
                    self.error(&format!("unknown Unicode block {name:?} (XSD 1.0 knows the Unicode 3.1 blocks)"), at)
                );
            };
            return Ok(block_class(ranges, negated));
        }
        if !CATEGORIES.contains(&name.as_str()) {
            return Err(self.error(&format!("unknown Unicode category {name:?}"), at));
        }
        if name == "Cs" {
            // Surrogates: `regex` has no such class, and no Rust string holds one.
            return Ok(block_class(&[], negated));
        }
        Ok(format!("\\{}{{{name}}}", if negated { 'P' } else { 'p' }))
    }

    /// A character class after its `[` at `at`: `[^? items (-[ class ])? ]`.
    fn class(&mut self, at: usize) -> Result<String, String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut items: Vec<Item> = Vec::new();
        let mut subtraction = None;
        loop {
            let here = self.pos;
            let Some(c) = self.peek() else {
                return Err(self.error("unterminated character class", at));
            };
            match c {
                ']' => {
                    if items.is_empty() {
                        return Err(self.error("empty character class", here));
                    }
                    self.pos += 1;
                    break;
                }
                '[' => return Err(self.error("'[' in a character class (escape it as \\[)", here)),
                '-' if self.peek_at(1) == Some('[') => {
                    if items.is_empty() {
                        return Err(self.error("empty character class before a subtraction", here));
                    }
                    let sub_at = self.pos + 1;
                    self.pos += 2;
                    self.enter()?;
                    subtraction = Some(self.class(sub_at)?);
                    self.depth -= 1;
                    if self.peek() != Some(']') {
                        return Err(self.error("a class subtraction must end its class", self.pos));
                    }
                    self.pos += 1;
                    break;
                }
                '-' if items.is_empty()
                    || self.peek_at(1) == Some(']')
                    || (self.peek_at(1) == Some('-') && self.peek_at(2) == Some('[')) =>
                {
                    // A '-' is literal first or last in a positive group (last also before a subtraction:
                    // `[a--[b]]` is {a, -} minus {b}, as xmlschema reads it).
                    self.pos += 1;
                    items.push(Item::Char('-'));
                }
                '-' => {
                    return Err(self.error("unescaped '-' in a character class (only first or last, else \\-)", here));
                }
                _ => {
                    let first = self.class_char(here)?;
                    let starts_range = self.peek() == Some('-')
                        && !matches!(self.peek_at(1), Some(']' | '[') | None)
                        && !(self.peek_at(1) == Some('-') && self.peek_at(2) == Some('['));
                    match first {
                        Escape::Set(s) => items.push(Item::Set(s)),
                        Escape::Char(a) if starts_range => {
                            self.pos += 1;
                            let end_at = self.pos;
                            if self.peek() == Some('-') {
                                return Err(self.error("unescaped '-' as the end of a range", end_at));
                            }
                            let Escape::Char(b) = self.class_char(end_at)? else {
                                return Err(self.error("a range must end with a single character", end_at));
                            };
                            if a > b {
                                return Err(self.error(&format!("range {a:?}-{b:?} is reversed"), here));
                            }
                            items.push(Item::Range(a, b));
                        }
                        Escape::Char(a) => items.push(Item::Char(a)),
                    }
                }
            }
        }
        let mut out = String::from("[");
        if negated {
            out.push('^');
        }
        for item in &items {
            match item {
                Item::Char(c) => out.push_str(&literal(*c)),
                Item::Range(a, b) => {
                    out.push_str(&literal(*a));
                    out.push('-');
                    out.push_str(&literal(*b));
                }
                Item::Set(s) => out.push_str(s),
            }
        }
        out.push(']');
        Ok(match subtraction {
            // XSD subtracts from the (possibly negated) group: [^a-[b]] is ([^a]) minus [b].
            Some(sub) => format!("[{out}--{sub}]"),
            None => out,
        })
    }

    /// One character of a class (not `[`, `]` or an unescaped `-`, which the caller handled): a character or
    /// an escape.
    fn class_char(&mut self, at: usize) -> Result<Escape, String> {
        let Some(c) = self.peek() else {
            return Err(self.error("unterminated character class", at));
        };
        match c {
            '[' => Err(self.error("'[' in a character class (escape it as \\[)", at)),
            ']' => Err(self.error("unexpected ']' (a range needs an end)", at)),
            '\\' => {
                self.pos += 1;
                self.escape(at)
            }
            c => {
                self.pos += 1;
                Ok(Escape::Char(c))
            }
        }
    }
}

/// A character as a `regex` atom or class item: the meta characters (which include `-`, `&`, `~`, `[`, `]`,
/// `^`) escaped, so that XSD's literal `&&`, `~~` or `--` never become `regex` class operators; controls,
/// spaces other than U+0020 and other invisible characters as `\x{..}`.
fn literal(c: char) -> String {
    if regex_syntax::is_meta_character(c) {
        format!("\\{c}")
    } else if c.is_ascii_graphic() || c == ' ' || (!c.is_ascii() && c.is_alphanumeric()) {
        c.to_string()
    } else {
        format!("\\x{{{:X}}}", u32::from(c))
    }
}

/// A block as a class (`[^...]` for `\P`); an empty block matches nothing.
fn block_class(ranges: &[(u32, u32)], negated: bool) -> String {
    if ranges.is_empty() {
        return if negated { r"[\x{0}-\x{10FFFF}]".to_owned() } else { r"[^\x{0}-\x{10FFFF}]".to_owned() };
    }
    let mut s = String::from(if negated { "[^" } else { "[" });
    for (lo, hi) in ranges {
        let _ = write!(s, "\\x{{{lo:X}}}-\\x{{{hi:X}}}");
    }
    s.push(']');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn re(pattern: &str) -> Regex {
        let t = translate(pattern).unwrap_or_else(|e| panic!("{e}"));
        Regex::new(&t).unwrap_or_else(|e| panic!("{pattern:?} -> {t:?}: {e}"))
    }

    /// Asserts which samples the pattern matches (whole value).
    fn check(pattern: &str, yes: &[&str], no: &[&str]) {
        let r = re(pattern);
        for s in yes {
            assert!(r.is_match(s), "{pattern:?} ({}) should match {s:?}", r.as_str());
        }
        for s in no {
            assert!(!r.is_match(s), "{pattern:?} ({}) should not match {s:?}", r.as_str());
        }
    }

    fn fails(pattern: &str, expected: &str) {
        match translate(pattern) {
            Ok(t) => panic!("{pattern:?} translated to {t:?}, expected an error about {expected:?}"),
            Err(e) => assert!(e.contains(expected), "{pattern:?}: {e}"),
        }
    }

    #[test]
    fn real_world_patterns() {
        check(r"\d{3}-[A-Z]{2}", &["123-AB", "٣٤٥-XY"], &["123-ab", "1234-AB", "123-AB\n", "x123-AB"]);
        check(r"[A-Z]{2}\d{1,2} \d[A-Z]{2}", &["SW1 1AA", "EC12 3XY"], &["SW1  1AA", "sw1 1aa", "SW123 1AA"]);
        check(
            r"[A-Z]{6,6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3,3}){0,1}",
            &["DEUTDEFF", "DEUTDEFF500", "NEDSZAJJXXX"],
            &["DEUTDEF", "DEUTDE1F", "DEUTDEFO", "DEUTDEFF5", "DEUTDEFF5000"],
        );
        check(
            r"[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}",
            &["DE89370400440532013000", "GB29NWBK60161331926819"],
            &["DE8", "de89370400440532013000"],
        );
        check(r"[+]{0,1}[0-9]{1,15}", &["+4912345", "12", "123456789012345"], &["++1", "", "1234567890123456", "+"]);
        check(r"\+[0-9]{1,3}-[0-9()+\-]{1,30}", &["+49-(0)30-1234", "+1-555"], &["49-123", "+49-12 34", "+1234-5"]);
        check(r"[a-zA-Z0-9]{4}", &["ab12", "ZZZZ"], &["abc", "abcde", "ab-1", "ábcd"]);
        check(r"\i\c*", &["a", "_x-1.2", ":a", "é·"], &["1a", "-a", "", "a b"]);
        check(r"[\i-[:]][\c-[:]]*", &["a", "_x-1.2", "é"], &[":a", "a:b", "1a", ""]);
        check(r"[^:]*", &["", "abc", "é"], &[":", "a:b"]);
        check(r"\p{IsBasicLatin}+", &["abc ~\u{7f}", "\u{0}"], &["é", "", "ab\u{80}"]);
        check(r".*", &["", "anything at all é", "\t"], &["a\nb", "\r"]);
        check(r"a|b|", &["a", "b", ""], &["ab", "c"]);
        check(r"(\d+(\.\d*)?)|(\.\d+)", &["1", "1.", "1.25", ".5"], &[".", "", "1.2.3", "a"]);
        check(r"[-+]?\d+(\.\d+)?", &["-1", "+2.5", "30"], &["1.", "+", "--1"]);
        check(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", &["2024-01-31"], &["2024-1-31"]);
        check(r"[a-z]{2,}@[a-z]+\.[a-z]{2,4}", &["ab@cd.com"], &["a@cd.com", "ab@cd.comxx"]);
        check(r"\c+", &["a-b.c:d_1·"], &["a b", ""]);
        check(r"(\p{L}|\p{N}|\s)*", &["héllo wörld 42", ""], &["hi!", "a_b"]);
    }

    #[test]
    fn anchors_and_dot_are_xsd() {
        check(r"^a$", &["^a$"], &["a"]);
        check(r"a^b", &["a^b"], &["ab"]);
        check(r"a}", &["a}"], &["a"]);
        check(r"}", &["}"], &[""]);
        check(r"a.c", &["abc", "a c", "aéc", "a\tc"], &["a\nc", "a\rc", "ac"]);
        check(r"", &[""], &["a"]);
        check(r"()", &[""], &["a"]);
        check(r"|", &[""], &["|"]);
        check(r"a\|b", &["a|b"], &["a", "b"]);
        check(r"#x41", &["#x41"], &["A"]);
        check(r"a b", &["a b"], &["ab"]);
    }

    #[test]
    fn quantifiers() {
        check(r"a{0}", &[""], &["a"]);
        check(r"a{2}", &["aa"], &["a", "aaa"]);
        check(r"a{2,}", &["aa", "aaaa"], &["a"]);
        check(r"a{1,3}", &["a", "aaa"], &["", "aaaa"]);
        check(r"a{02}", &["aa"], &["a"]);
        check(r"a{0,0}", &[""], &["a"]);
        check(r"(ab)+c?", &["ab", "ababc"], &["abb", "c"]);
        check(r"x*", &["", "xxx"], &["y"]);
        check(r"\d?", &["", "7"], &["77"]);
        fails(r"a{,2}", "invalid quantifier");
        fails(r"a{2,1}", "n greater than m");
        fails(r"a{", "invalid quantifier");
        fails(r"a{2", "invalid quantifier");
        fails(r"a{ 2}", "invalid quantifier");
        fails(r"a{2 }", "invalid quantifier");
        fails(r"a{x}", "invalid quantifier");
        fails(r"a{99999999999}", "invalid quantifier");
        fails(r"{", "without anything to repeat");
        fails(r"*a", "without anything to repeat");
        fails(r"a|*", "without anything to repeat");
        fails(r"(+)", "without anything to repeat");
        fails(r"a**", "after a quantifier");
        fails(r"a+?", "after a quantifier");
        fails(r"a??", "after a quantifier");
        fails(r"x{1}{2}", "after a quantifier");
        fails(r"a{1}*", "after a quantifier");
    }

    #[test]
    fn groups_and_errors() {
        fails(r"(?:a)", "without anything to repeat");
        fails(r"(a", "unclosed '('");
        fails(r"(", "unclosed '('");
        fails(r"a)", "unbalanced");
        fails(r"a]", "unexpected ']'");
        fails(r"[ab]]", "unexpected ']'");
        fails(r"\1", "unknown escape \\1");
        fails(r"(a)\1", "unknown escape");
        fails(r"\b", "unknown escape");
        fails(r"\A", "unknown escape");
        fails(r"\u0041", "unknown escape");
        fails(r"\x41", "unknown escape");
        fails(r"\a", "unknown escape");
        fails(r"\", "at the end");
        fails(r"[\]", "unterminated character class");
        fails(r"[a", "unterminated character class");
        fails(&"(".repeat(200), "nested");
        fails(&format!("{}a{}", "[a-".repeat(150), "]".repeat(150)), "nested");
        let e = translate("ab(").unwrap_err();
        assert!(e.contains("position 2"), "{e}");
        check(&format!("{}a{}", "(".repeat(50), ")".repeat(50)), &["a"], &[""]);
    }

    #[test]
    fn escapes() {
        check(r"\n\r\t", &["\n\r\t"], &["nrt"]);
        check(r"\\\|\.\-\^\?\*\+\{\}\(\)\[\]", &[r"\|.-^?*+{}()[]"], &[""]);
        // Escaped punctuation outside XSD's list: the character itself, as in xmlschema.
        check(r"\$\/\:", &["$/:"], &[r"\$\/\:"]);
        check(r"\s", &[" ", "\t", "\n", "\r"], &["\u{a0}", "\u{c}", "\u{2003}", "a"]);
        check(r"\S", &["a", "\u{a0}"], &[" ", "\n"]);
        check(r"\d", &["0", "٣", "１"], &["a", "½", "Ⅷ"]);
        check(r"\D", &["a", "½"], &["0"]);
        // \w: everything but punctuation, separators and other (so symbols like $ are word characters,
        // and _ is not: xmlschema's [\w] agrees, its bare \w is Python's).
        check(r"\w", &["a", "$", "+", "^", "`", "é", "٣", "\u{301}"], &["_", "-", " ", ".", "\u{0}", "\u{200b}"]);
        check(r"\W", &["_", "-", " "], &["a", "$"]);
        check(r"\i", &[":", "a", "_", "\u{10000}"], &["1", "-", "\u{B7}"]);
        check(r"\I", &["1", "-"], &["a", ":"]);
        check(r"\c", &["-", ".", "·", "1", "a", "\u{300}"], &[" ", "!", "\u{2190}"]);
        check(r"\C", &[" ", "!"], &["a", "-"]);
        check(r"\p{Lu}*", &["AB", ""], &["Ab"]);
        check(r"\P{L}", &["1", " "], &["a"]);
        check(r"\p{Co}", &["\u{E000}"], &["a"]);
        check(r"\p{Cn}", &["\u{378}"], &["a"]);
        check(r"\p{Cs}*", &[""], &["a"]);
        check(r"\p{Sc}", &["$", "€"], &["a"]);
        fails(r"\p{Lx}", "unknown Unicode category");
        fails(r"\p{isGreek}", "unknown Unicode category");
        fails(r"\p{Is}", "unknown Unicode block");
        fails(r"\p{IsCyrillicSupplementary}", "unknown Unicode block"); // Unicode 3.2, not in XSD 1.0
        fails(r"\p", "expected '{'");
        fails(r"\pL", "expected '{'");
        fails(r"\p{L", "unterminated");
    }

    #[test]
    fn blocks() {
        check(r"\p{IsGreek}", &["α", "Ω", "\u{3FF}"], &["a", "ἀ"]);
        check(r"\p{IsGreekExtended}", &["ἀ"], &["α"]);
        check(r"\p{IsLatin-1Supplement}", &["é", "\u{80}"], &["e", "Ā"]);
        check(r"\p{IsLatinExtended-A}", &["Ā"], &["é"]);
        check(r"\p{IsArabicPresentationForms-A}", &["\u{FB50}"], &["\u{FE70}"]);
        check(r"\p{IsSpecials}", &["\u{FFF0}", "\u{FEFF}"], &["\u{FFFE}"]);
        check(r"\p{IsPrivateUse}", &["\u{E000}", "\u{F0000}", "\u{10FFFD}"], &["a", "\u{FFFFE}"]);
        check(r"\p{IsCJKUnifiedIdeographsExtensionA}", &["\u{4DB5}"], &["\u{4DB6}"]);
        check(r"\p{IsCJKUnifiedIdeographsExtensionB}", &["𠀀"], &["a"]);
        check(r"\p{IsHighSurrogates}?", &[""], &["a", "\u{FFFD}"]);
        check(r"\P{IsLowSurrogates}", &["a", "\u{10FFFF}"], &[""]);
        check(r"\P{IsBasicLatin}", &["é"], &["a"]);
        check(r"[\p{IsBasicLatin}-[a-z]]", &["A", "~"], &["a", "é"]);
        check(r"[\P{IsGreek}]", &["a"], &["α"]);
        for (name, _) in BLOCKS {
            re(&format!(r"\p{{Is{name}}}\P{{Is{name}}}[\p{{Is{name}}}a]"));
        }
        assert_eq!(BLOCKS.len(), 96);
    }

    #[test]
    fn classes() {
        check(r"[a-]", &["a", "-"], &["b"]);
        check(r"[-a]", &["a", "-"], &["b"]);
        check(r"[-]", &["-"], &["a"]);
        check(r"[--]", &["-"], &["a"]);
        check(r"[+-]", &["+", "-"], &[","]);
        check(r"[-a-c]", &["-", "b"], &["d"]);
        check(r"[a-c-]", &["-", "b"], &["d"]);
        check(r"[^-]", &["a"], &["-"]);
        check(r"[^-a]", &["b"], &["-", "a"]);
        check(r"[a\-z]", &["a", "-", "z"], &["b"]);
        check(r"[\--/]", &["-", ".", "/"], &[","]);
        check(r"[!-\-]", &["!", ",", "-"], &["."]);
        check(r"[\]-a]", &["]", "^", "a"], &["b"]);
        check(r"[\\-a]", &["\\", "_", "a"], &["b"]);
        check(r"[a^]", &["a", "^"], &["b"]);
        check(r"[^^]", &["a"], &["^"]);
        check(r"[\^]", &["^"], &["a"]);
        check(r"[.]", &["."], &["a"]);
        check(r"[|]", &["|"], &["a"]);
        check(r"[*+?{}()]", &["*", "{", ")"], &["a"]);
        check(r"[\n-\r]", &["\n", "\u{b}", "\r"], &["a"]);
        check(r"[\[]", &["["], &["]"]);
        check(r"[\]]", &["]"], &["["]);
        check(r"[\s\d]", &[" ", "5"], &["a"]);
        check(r"[\S]", &["a"], &[" "]);
        check(r"[\p{L}]", &["a"], &["1"]);
        check(r"[\P{L}]", &["1"], &["a"]);
        check(r"[\w]", &["$", "a"], &["_", "-"]);
        check(r"[\W]", &["_"], &["$"]);
        // Characters that are class operators in `regex` but literal in XSD.
        check(r"[a&&b]", &["a", "&", "b"], &["c"]);
        check(r"[a~~b]", &["a", "~", "b"], &["c"]);
        check(r"[&]", &["&"], &["a"]);
        check(r"[a&]+", &["a&&a"], &["b"]);
        check(r"[#x]", &["#", "x"], &["a"]);
        check(r"[é-ü]", &["é", "ö"], &["e", "ÿ"]);
        fails(r"[\u{1}]", "unknown escape");
        fails(r"[a-b-c]", "unescaped '-'");
        fails(r"[a-z-A-Z]", "unescaped '-'");
        fails(r"[--a]", "unescaped '-'");
        fails(r"[a--]", "unescaped '-' as the end of a range");
        fails(r"[---]", "unescaped '-'");
        fails(r"[\d-z]", "unescaped '-'");
        fails(r"[a-\d]", "a range must end with a single character");
        fails(r"[z-a]", "reversed");
        fails(r"[]", "empty character class");
        fails(r"[^]", "empty character class");
        fails(r"[]a]", "empty character class");
        fails(r"[a[]", "'[' in a character class");
        fails(r"[a-z&&[b]]", "'[' in a character class");
        fails(r"[a-[]", "empty character class");
    }

    #[test]
    fn subtraction() {
        check(r"[a-z-[aeiou]]", &["b", "z"], &["a", "u", "A"]);
        check(r"[a-z-[^aeiou]]", &["a", "u"], &["b"]);
        check(r"[^a-z-[0-9]]", &["A", "-"], &["0", "a"]);
        check(r"[a-z-[b-y-[m]]]", &["a", "m", "z"], &["b", "l", "y"]);
        check(r"[\w-[\d]]+", &["ab"], &["a1"]);
        check(r"[\p{L}-[\p{Lu}]]", &["a"], &["A"]);
        check(r"[a-[b]]", &["a"], &["b"]);
        check(r"[ab-[b]]", &["a"], &["b"]);
        check(r"[a&-[&]]", &["a"], &["&"]);
        check(r"[\d--[1]]", &["0", "-"], &["1", "a"]);
        check(r"[a--[b]]", &["a", "-"], &["b"]);
        check(r"[--[a]]", &["-"], &["a"]);
        fails(r"[a-z-[aeiou]x]", "subtraction must end its class");
        fails(r"[a-z-[aeiou]-[x]]", "subtraction must end its class");
        fails(r"[-[a]]", "empty character class before a subtraction");
        fails(r"[^-[a]]", "empty character class before a subtraction");
        fails(r"[a-[]]", "empty character class");
    }

    #[test]
    fn huge_counts_translate() {
        // `a{1,1000000}` is valid XSD (xmlschema takes it); compiling it needs `RegexBuilder::size_limit`
        // above regex's default 10 MiB, which is the generated code's business.
        assert_eq!(translate("a{1,1000000}").unwrap(), "^(?:a{1,1000000})$");
        assert_eq!(translate("a{4294967295}").unwrap(), "^(?:a{4294967295})$");
    }

    #[test]
    fn output_shape() {
        assert_eq!(translate(r"\d{3}-[A-Z]{2}").unwrap(), r"^(?:\p{Nd}{3}\-[A-Z]{2})$");
        assert_eq!(translate(r"a|(b)").unwrap(), r"^(?:a|(?:b))$");
        assert_eq!(translate(r"[a-z-[aeiou]]").unwrap(), r"^(?:[[a-z]--[aeiou]])$");
        assert_eq!(translate(r"^$.").unwrap(), r"^(?:\^\$[^\n\r])$");
    }

    /// Verdicts of xmlschema 4.3 (XMLSchema10, `xs:pattern` on `xs:string`) on these patterns and samples;
    /// the comments mark where we knowingly differ.
    #[test]
    fn agrees_with_xmlschema() {
        let cases: &[(&str, &[(&str, bool)])] = &[
            (r"[a-]", &[("a", true), ("-", true), ("b", false)]),
            (r"[a\-z]", &[("-", true), ("b", false)]),
            (r"[0-9()+\-]", &[("-", true)]),
            (r"[a-z-[aeiou]]", &[("a", false), ("b", true)]),
            (r"[^-a]", &[("-", false), ("b", true)]),
            (r"[a-[b]]", &[("a", true), ("b", false)]),
            (r"[^a-z-[0-9]]", &[("0", false), ("A", true), ("a", false)]),
            (r"[a-z-[^aeiou]]", &[("a", true), ("b", false)]),
            (r"[\w-[\d]]+", &[("a1", false), ("ab", true)]),
            (r"[\w]", &[("$", true), ("_", false), ("a", true), ("-", false)]),
            (r"[\W]", &[("$", false), ("_", true)]),
            (r"\i", &[(":", true), ("a", true), ("1", false)]),
            (r"\c", &[("-", true), (".", true), ("·", true)]),
            (r"[\i-[:]]", &[(":", false), ("a", true)]),
            (r"\P{IsBasicLatin}", &[("a", false), ("é", true)]),
            (r"[\p{IsBasicLatin}-[a-z]]", &[("a", false), ("A", true)]),
            (r"\p{IsGreek}", &[("α", true)]),
            (r"\p{IsCJKUnifiedIdeographsExtensionB}", &[("𠀀", true)]),
            (r"\p{IsPrivateUse}", &[("\u{F0000}", true)]),
            (r"^a$", &[("^a$", true), ("a", false)]),
            (r"a}", &[("a}", true)]),
            (r"a{0}", &[("", true)]),
            (r"a{02}", &[("aa", true)]),
            (r"a{1,1000}", &[("a", true)]),
            (r"[a~~b]", &[("~", true), ("a", true)]),
            (r"[a&&b]", &[("&", true)]),
            (r"[--]", &[("-", true)]),
            (r"[\]-a]", &[("a", true)]),
            (r"[\\-a]", &[("\\", true), ("b", false)]),
            (r"\é", &[("é", true)]),
            (r"\$", &[("$", true)]),
            (r"\:", &[(":", true)]),
            (r"a|", &[("", true)]),
            (r"[#x41]", &[("#", true)]),
            (r"\p{Lu}*", &[("AB", true)]),
            (r"\p{IsSpecials}", &[("\u{FFF0}", true)]), // xmlschema (modern blocks): U+FEFF not; XSD 1.0: yes
        ];
        for (pattern, samples) in cases {
            let r = re(pattern);
            for (s, want) in *samples {
                assert_eq!(r.is_match(s), *want, "{pattern:?} on {s:?} ({})", r.as_str());
            }
        }
        // Refused by both.
        for bad in [
            r"[a-b-c]",
            r"[--a]",
            r"[a--]",
            r"[]",
            r"[a-[b]x]",
            r"[z-a]",
            r"[a-\d]",
            r"[]a]",
            r"[a[]",
            "a{",
            "{",
            "a{2",
            "a{,2}",
            r"\u0041",
            r"\x41",
            "a**",
            "a+?",
            "a??",
            "(?:a)",
            r"\1",
            r"(a)\1",
            r"\p{Lx}",
            r"\p{isGreek}",
            r"[a-z-[aeiou]-[x]]",
            r"[a-z-[aeiou]x]",
            "[^]",
            "a{2,1}",
            "x{1}{2}",
            "a{1}*",
            r"\p{Is}",
            r"\p",
            r"\pL",
            r"\",
            r"[\]",
            r"[a\]",
            "a{ 2}",
            "a{2 }",
            r"[---]",
            r"[-[a]]",
            r"[^-[a]]",
            r"[ab]]",
            "a]",
            "a)",
            "(",
            r"[a-z&&[b]]",
            r"\p{Is-Greek}",
            r"[a-\\]",
        ] {
            assert!(translate(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn no_panic_on_any_input() {
        let alphabet: Vec<char> = r"ab-[]^\{}(),|.?*+01pPIsdwiDc:é𐀀&~$ ".chars().collect();
        let seeds = [r"[a-z-[aeiou]]", r"\p{IsGreek}+", r"(\d+(\.\d*)?)|(\.\d+)", r"[^\i-[:]]{1,3}", r"a{2,5}"];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut translated = 0;
        for round in 0..6_000u64 {
            let mut chars: Vec<char> = if round % 4 == 0 {
                (0..next() % 12).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect()
            } else {
                seeds[(next() % seeds.len() as u64) as usize].chars().collect()
            };
            for _ in 0..=next() % 3 {
                let at = (next() % (chars.len() as u64 + 1)) as usize;
                let c = alphabet[(next() % alphabet.len() as u64) as usize];
                match next() % 3 {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 if at < chars.len() => chars[at] = c,
                    _ => chars.insert(at, c),
                }
            }
            let pattern: String = chars.into_iter().collect();
            if let Ok(t) = translate(&pattern) {
                translated += 1;
                assert!(Regex::new(&t).is_ok(), "{pattern:?} -> {t:?}");
            }
        }
        assert!(translated > 300, "{translated}");
    }
}
