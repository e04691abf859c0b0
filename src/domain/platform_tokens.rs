//! Platform tokens: opaque secrets whose prefix names their kind (`tsm_` master,
//! `tsb_` mobile, `tsa_` API, `tsi_` install, `tsr_` refresh), so a leaked one is
//! recognisable, and whose SHA-256 finds them.

/// The kinds of opaque token, with their prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Master,
    Mobile,
    Api,
    Install,
    Refresh,
}

impl TokenKind {
    pub const ALL: [TokenKind; 5] =
        [TokenKind::Master, TokenKind::Mobile, TokenKind::Api, TokenKind::Install, TokenKind::Refresh];

    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Master => "tsm_",
            TokenKind::Mobile => "tsb_",
            TokenKind::Api => "tsa_",
            TokenKind::Install => "tsi_",
            TokenKind::Refresh => "tsr_",
        }
    }

    /// The name stored with the token and answered as introspection's `token_kind`.
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Master => "master",
            TokenKind::Mobile => "mobile",
            TokenKind::Api => "api",
            TokenKind::Install => "install",
            TokenKind::Refresh => "refresh_token",
        }
    }

    /// The kind a presented value claims by its prefix.
    pub fn of(presented: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|k| presented.starts_with(k.prefix()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_name_the_kind() {
        assert_eq!(TokenKind::of("tsm_abc"), Some(TokenKind::Master));
        assert_eq!(TokenKind::of("tsb_abc"), Some(TokenKind::Mobile));
        assert_eq!(TokenKind::of("tsr_abc"), Some(TokenKind::Refresh));
        assert_eq!(TokenKind::of("eyJhbGciOi"), None);
    }
}
