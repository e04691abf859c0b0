//! Applications: the tenants that own clients, users and tokens.

use ring::rand::SystemRandom;

use super::platform_tokens::{self, TokenKind};
use super::DomainError;
use crate::store::Store;
use crate::tokens::secret::{self, Secret};

/// The application every installation starts with.
pub const DEFAULT_APP: &str = "default";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// Whether `/v1/auth/check` answers for this application.
    pub forward_auth: bool,
    /// The name the sign-in pages show instead of "tessera".
    pub display_name: Option<String>,
    /// The pages' accent colour, `#rrggbb`.
    pub accent_colour: Option<String>,
    /// The digest of the application's logo, when it has one.
    pub logo: Option<String>,
}

impl Application {
    /// The name people see on the sign-in pages.
    pub fn shown_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
}

/// An application just created, with its master token, shown only now.
#[derive(Debug)]
pub struct CreatedApp {
    pub app: Application,
    pub master_token: Secret,
}

/// Creates an application with a random id and its one master token.
pub async fn create(store: &Store, name: &str, now: i64) -> Result<CreatedApp, DomainError> {
    let name = super::valid_text("the application name", name, 200)?;
    let name = name.as_str();
    let rng = SystemRandom::new();
    let app = Application {
        id: secret::generate_id(&rng)?,
        name: name.to_owned(),
        created_at: now,
        forward_auth: false,
        display_name: None,
        accent_colour: None,
        logo: None,
    };
    let master_token = TokenKind::Master.new_value(&rng)?;
    let record = platform_tokens::master_record(&rng, &app.id, now)?;
    store.insert_app_with_master(&app, &record, &secret::hash(master_token.expose().as_bytes())).await?;
    Ok(CreatedApp { app, master_token })
}

/// The application `id`, or a not-found error naming it.
pub async fn require(store: &Store, id: &str) -> Result<Application, DomainError> {
    store.get_app(id).await?.ok_or_else(|| DomainError::NotFound(format!("application `{id}`")))
}

/// A branding change; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct BrandingChanges {
    pub display_name: Option<Option<String>>,
    pub accent_colour: Option<Option<String>>,
}

/// Changes the name and accent colour the sign-in pages show.
pub async fn change_branding(
    store: &Store,
    id: &str,
    changes: BrandingChanges,
) -> Result<Application, DomainError> {
    let app = require(store, id).await?;
    let display_name = match changes.display_name {
        Some(Some(name)) => Some(super::valid_text("the display name", &name, 100)?),
        Some(None) => None,
        None => app.display_name.clone(),
    };
    let accent_colour = match changes.accent_colour {
        Some(Some(colour)) => Some(accent_colour(&colour)?),
        Some(None) => None,
        None => app.accent_colour.clone(),
    };
    if !store.set_branding(id, display_name.as_deref(), accent_colour.as_deref()).await? {
        return Err(DomainError::NotFound(format!("application `{id}`")));
    }
    Ok(Application { display_name, accent_colour, ..app })
}

/// The smallest contrast (WCAG 2.1) the accent colour needs against white: it
/// is the colour of button labels' background and of text on the white card.
const MIN_ACCENT_CONTRAST: f64 = 4.5;

/// `colour` as `#rrggbb` (lowercase), when it is one and reads on white.
pub fn accent_colour(colour: &str) -> Result<String, DomainError> {
    let hex = colour.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let Some(hex) = hex else {
        return Err(DomainError::Invalid(format!("accent colour `{colour}` is not of the form #rrggbb")));
    };
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    let contrast = contrast_with_white(channel(0), channel(2), channel(4));
    if contrast < MIN_ACCENT_CONTRAST {
        return Err(DomainError::Unprocessable(format!(
            "accent colour {colour} has a contrast of {contrast:.1}:1 with white; \
             at least {MIN_ACCENT_CONTRAST}:1 keeps buttons and text readable"
        )));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// WCAG 2.1 contrast ratio of an sRGB colour with white.
fn contrast_with_white(r: u8, g: u8, b: u8) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    1.05 / (luminance + 0.05)
}

/// The largest logo accepted, in bytes.
pub const LOGO_MAX_BYTES: usize = 256 * 1024;

/// An application's logo image, checked to be what it says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    pub content_type: String,
    pub image: Vec<u8>,
    /// SHA-256 of the image, base64url: its ETag and the pages' cache key.
    pub digest: String,
}

/// The image formats a logo may have, by their first bytes. SVG is not among
/// them: it can carry scripts.
const LOGO_FORMATS: [(&str, &[u8]); 3] =
    [("image/png", b"\x89PNG\r\n\x1a\n"), ("image/jpeg", b"\xff\xd8\xff"), ("image/webp", b"RIFF")];

/// A logo from an upload declared as `content_type`.
pub fn logo(content_type: &str, image: Vec<u8>) -> Result<Logo, DomainError> {
    let declared = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let Some((name, magic)) = LOGO_FORMATS.iter().find(|(name, _)| *name == declared) else {
        return Err(DomainError::Invalid(format!(
            "a logo is image/png, image/jpeg or image/webp, not `{content_type}`"
        )));
    };
    if image.is_empty() || image.len() > LOGO_MAX_BYTES {
        return Err(DomainError::Invalid(format!("a logo is 1 to {LOGO_MAX_BYTES} bytes")));
    }
    let webp_ok = *name != "image/webp" || image.get(8..12) == Some(b"WEBP");
    if !image.starts_with(magic) || !webp_ok {
        return Err(DomainError::Invalid(format!("the uploaded bytes are not a {name} image")));
    }
    let digest = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &secret::hash(&image)[..16],
    );
    Ok(Logo { content_type: (*name).to_owned(), image, digest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accent_colours_must_read_on_white() {
        assert_eq!(accent_colour("#2457C5").unwrap(), "#2457c5");
        assert!(matches!(accent_colour("#ffee00"), Err(DomainError::Unprocessable(_))));
        assert!(matches!(accent_colour("2457c5"), Err(DomainError::Invalid(_))));
        assert!(matches!(accent_colour("#2457c"), Err(DomainError::Invalid(_))));
        assert!(accent_colour("#000000").is_ok());
        assert!((contrast_with_white(0, 0, 0) - 21.0).abs() < 0.01);
    }

    #[test]
    fn logos_are_what_they_claim_to_be() {
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        assert_eq!(logo("image/png", png.clone()).unwrap().content_type, "image/png");
        assert!(logo("image/jpeg", png.clone()).is_err());
        assert!(logo("image/svg+xml", b"<svg/>".to_vec()).is_err());
        assert!(logo("image/webp", b"RIFF\0\0\0\0WEBPVP8 ".to_vec()).is_ok());
        assert!(logo("image/webp", b"RIFF\0\0\0\0WAVE".to_vec()).is_err());
        assert!(logo("image/png", vec![]).is_err());
        let mut big = png;
        big.resize(LOGO_MAX_BYTES + 1, 0);
        assert!(logo("image/png", big).is_err());
    }
}
