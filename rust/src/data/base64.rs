//! Standard base64 (RFC 4648, `+/`, `=` padding) for byte values in exports.
//!
//! Hand-written because the crate's regular dependencies are fixed; the
//! format is the one .NET `Convert.ToBase64String` writes. Decoding is
//! strict (no whitespace, padding required, unused bits zero) so that every
//! accepted text maps to exactly one byte array.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets =
            [n >> 18, n >> 12, n >> 6, n].map(|s| char::from(ALPHABET[(s & 0x3f) as usize]));
        let used = chunk.len() + 1;
        for (i, c) in sextets.into_iter().enumerate() {
            out.push(if i < used { c } else { '=' });
        }
    }
    out
}

fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    let input = text.as_bytes();
    if !input.len().is_multiple_of(4) {
        return Err(format!(
            "base64 text has length {}, which is not a multiple of 4",
            input.len()
        ));
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let groups = input.len() / 4;
    for (g, group) in input.chunks(4).enumerate() {
        let pad = group.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && g + 1 != groups) {
            return Err(format!(
                "misplaced '=' in base64 text at position {}",
                g * 4
            ));
        }
        let mut n = 0u32;
        for (i, &c) in group[..4 - pad].iter().enumerate() {
            let s = sextet(c).ok_or_else(|| {
                format!(
                    "invalid character {:?} in base64 text at position {}",
                    char::from(c),
                    g * 4 + i
                )
            })?;
            n |= s << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pad;
        // Bits past the last kept byte must be zero, or two texts would
        // decode to the same bytes.
        if n & (0x00ff_ffff >> (8 * keep)) != 0 {
            return Err(format!(
                "base64 text has non-zero padding bits at position {}",
                g * 4
            ));
        }
        out.extend_from_slice(&bytes[..keep]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        for len in 0..all.len() {
            assert_eq!(decode(&encode(&all[..len])).unwrap(), &all[..len]);
        }
    }

    proptest::proptest! {
        #[test]
        fn matches_the_base64_crate(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            use ::base64::Engine as _;
            let reference = ::base64::engine::general_purpose::STANDARD.encode(&bytes);
            proptest::prop_assert_eq!(encode(&bytes), reference.clone());
            proptest::prop_assert_eq!(decode(&reference).unwrap(), bytes);
        }

        #[test]
        fn accepts_exactly_what_the_base64_crate_accepts(text in "[A-Za-z0-9+/=]{0,12}") {
            use ::base64::Engine as _;
            let reference = ::base64::engine::general_purpose::STANDARD.decode(&text).ok();
            proptest::prop_assert_eq!(decode(&text).ok(), reference);
        }
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "Zg=", "Zg", "Z===", "Zm9v=g==", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "====", "Zg==Zg==",
            "é123",
        ] {
            assert!(decode(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
