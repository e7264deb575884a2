//! Entity references (`meta`) and the cloud's date-time format.
//!
//! MoySklad links entities by `{"meta": {"href": …}}`. The href ends in
//! `/entity/{type}/{id}` or `/entity/{type}/syncid/{id}`; the operation's
//! syncid is the agent's idempotency key, so it is extracted here once.

use serde::{Deserialize, Serialize};

/// Metadata of an entity: its address and, when the cloud fills them in,
/// type and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `sync` or `native`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_type: Option<String>,
}

impl Meta {
    /// A bare reference by href.
    pub fn from_href(href: impl Into<String>) -> Meta {
        Meta {
            href: href.into(),
            media_type: None,
            entity_type: None,
            id: None,
            id_type: None,
        }
    }

    /// A reference `{base}/entity/{entity}/syncid/{id}`, as the agent writes
    /// for the shifts it opens.
    pub fn sync(base_url: &str, entity: &str, sync_id: &str) -> Meta {
        Meta {
            href: format!(
                "{}/entity/{entity}/syncid/{sync_id}",
                base_url.trim_end_matches('/')
            ),
            media_type: Some("application/json".into()),
            entity_type: Some(entity.into()),
            id: Some(sync_id.into()),
            id_type: Some("sync".into()),
        }
    }

    /// The entity type: `type` if given, else the path segment after
    /// `/entity/` in the href.
    pub fn entity(&self) -> Option<&str> {
        if let Some(t) = self.entity_type.as_deref() {
            return Some(t);
        }
        let path = self.href_path();
        let after = path.split("/entity/").nth(1)?;
        after.split('/').next().filter(|s| !s.is_empty())
    }

    /// The syncid: from `/syncid/{id}` in the href, or `id` when
    /// `idType` is `sync`.
    pub fn sync_id(&self) -> Option<&str> {
        let path = self.href_path();
        if let Some(rest) = path.split("/syncid/").nth(1) {
            let id = rest.split('/').next().unwrap_or("");
            if !id.is_empty() {
                return Some(id);
            }
        }
        match (self.id.as_deref(), self.id_type.as_deref()) {
            (Some(id), Some("sync")) if !id.is_empty() => Some(id),
            _ => None,
        }
    }

    /// The last path segment of the href (the id, native or sync).
    pub fn last_id(&self) -> Option<&str> {
        self.href_path()
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
    }

    fn href_path(&self) -> &str {
        self.href.split(['?', '#']).next().unwrap_or("")
    }
}

/// `{"meta": {...}}`: a link to another entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaRef {
    pub meta: Meta,
}

impl MetaRef {
    pub fn new(meta: Meta) -> MetaRef {
        MetaRef { meta }
    }
}

/// The cloud's `YYYY-MM-DD HH:MM:SS` (Moscow local time, no offset on the
/// wire), held as a civil date-time.
pub mod cloud_time {
    use jiff::civil::DateTime;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

    /// Parses the cloud format (also accepts an ISO `T` separator).
    pub fn parse(text: &str) -> Result<DateTime, String> {
        DateTime::strptime(FORMAT, text)
            .or_else(|_| text.parse::<DateTime>())
            .map_err(|_| format!("not a date-time (YYYY-MM-DD HH:MM:SS): {text:?}"))
    }

    /// Formats in the cloud format.
    pub fn format(t: &DateTime) -> String {
        t.strftime(FORMAT).to_string()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(D::Error::custom)
    }
    pub fn serialize<S: Serializer>(t: &DateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    /// `Option<DateTime>`.
    pub mod opt {
        use super::*;
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(s) => parse(&s).map(Some).map_err(D::Error::custom),
            }
        }
        pub fn serialize<S: Serializer>(t: &Option<DateTime>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&format(t)),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_id_and_entity_from_href() {
        let m = Meta::from_href(
            "https://online.moysklad.ru/api/posap/1.0/entity/retaildemand/syncid/388bd178-800c-11e6-8a84-bae5000000a2",
        );
        assert_eq!(m.entity(), Some("retaildemand"));
        assert_eq!(m.sync_id(), Some("388bd178-800c-11e6-8a84-bae5000000a2"));
        let native = Meta::from_href("https://x/api/posap/1.0/entity/product/81fdf852");
        assert_eq!(native.sync_id(), None);
        assert_eq!(native.last_id(), Some("81fdf852"));
    }

    #[test]
    fn sync_meta_round_trips() {
        let m = Meta::sync("http://127.0.0.1:1/api/posap/1.0/", "retailshift", "abc");
        assert_eq!(
            m.href,
            "http://127.0.0.1:1/api/posap/1.0/entity/retailshift/syncid/abc"
        );
        assert_eq!(m.sync_id(), Some("abc"));
        assert_eq!(m.entity(), Some("retailshift"));
    }

    #[test]
    fn time_parses_cloud_format() {
        let t = cloud_time::parse("2016-09-06 21:41:46").unwrap();
        assert_eq!(cloud_time::format(&t), "2016-09-06 21:41:46");
        assert!(cloud_time::parse("06.09.2016").is_err());
    }
}
