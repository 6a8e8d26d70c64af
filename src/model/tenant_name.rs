//! Tenant names: `[a-z0-9][a-z0-9_-]{0,63}` (DESIGN.md). A tenant name is also
//! its directory name, so the grammar keeps it a safe, portable path component.

use crate::error::{Error, Result};

/// Checks a tenant name against `[a-z0-9][a-z0-9_-]{0,63}`.
pub fn validate_tenant_name(name: &str) -> Result<()> {
    let bytes = name.as_bytes();
    let first_ok = bytes
        .first()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest_ok = bytes
        .iter()
        .skip(1)
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-');
    if first_ok && rest_ok && bytes.len() <= 64 {
        Ok(())
    } else {
        Err(Error::invalid(
            "tenant name",
            format!("{name:?} does not match [a-z0-9][a-z0-9_-]{{0,63}}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_grammar_and_rejects_the_rest() {
        assert!(validate_tenant_name("acme").is_ok());
        assert!(validate_tenant_name("0-a_b").is_ok());
        assert!(validate_tenant_name(&"a".repeat(64)).is_ok());
        assert!(validate_tenant_name(&"a".repeat(65)).is_err());
        for bad in ["", "-a", "_a", "A", "a/b", "..", "a.b", "é"] {
            assert!(validate_tenant_name(bad).is_err(), "{bad}");
        }
    }
}
