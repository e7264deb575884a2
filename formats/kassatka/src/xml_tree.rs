//! A small element tree read from XML with quick-xml, for the two Kassatka
//! document shapes (`ProductsGroups`, `Documents`).
//!
//! Both shapes are tiny and regular, so building a tree first and then
//! walking it with precise, field-naming errors is clearer than streaming.
//! The builder is iterative (no recursion) and caps the nesting depth, so a
//! hostile body can neither overflow the stack nor make it panic.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use thiserror::Error;

/// Deeper nesting than this is refused; Kassatka's documents need 4 levels.
const MAX_DEPTH: usize = 32;

/// One XML element: its name, attributes, text and child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    /// Concatenated text content (entities resolved, not trimmed).
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The value of attribute `name`, if present.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child element called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All child elements called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Why a body is not well-formed XML.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XmlError {
    #[error("the body is not UTF-8 (invalid byte at offset {0})")]
    NotUtf8(usize),
    #[error("malformed XML at byte {position}: {message}")]
    Syntax { position: u64, message: String },
    #[error("no root element")]
    NoRoot,
    #[error("unclosed element <{0}>")]
    Unclosed(String),
    #[error("content after the root element at byte {0}")]
    TrailingContent(u64),
    #[error("elements nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
}

/// Parses `bytes` (UTF-8, optional BOM) into its root element.
pub fn parse(bytes: &[u8]) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| XmlError::NotUtf8(e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| XmlError::Syntax {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(XmlError::TrailingContent(position));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(element_from(&start, position)?);
            }
            Event::Empty(start) => {
                let element = element_from(&start, position)?;
                attach(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start.
                let Some(element) = stack.pop() else {
                    return Err(XmlError::Syntax {
                        position,
                        message: "closing tag without an opening one".into(),
                    });
                };
                attach(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                push_text(&mut stack, &content, position)?;
            }
            Event::CData(c) => {
                let content = c.xml10_content();
                push_text(&mut stack, &content, position)?;
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| XmlError::UnknownEntity(r.to_string()))?
                        .to_string(),
                    Err(e) => {
                        return Err(XmlError::Syntax {
                            position,
                            message: e.to_string(),
                        });
                    }
                };
                push_text(&mut stack, &resolved, position)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.pop() {
        return Err(XmlError::Unclosed(open.name));
    }
    root.ok_or(XmlError::NoRoot)
}

fn element_from(
    start: &quick_xml::events::BytesStart<'_>,
    position: u64,
) -> Result<Element, XmlError> {
    let syntax = |message: String| XmlError::Syntax { position, message };
    let name = AsRef::<str>::as_ref(&start.name()).to_string();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| syntax(e.to_string()))?;
        let key = AsRef::<str>::as_ref(&attribute.key).to_string();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| syntax(e.to_string()))?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Element {
        name,
        attributes,
        ..Element::default()
    })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn push_text(stack: &mut [Element], text: &str, position: u64) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            parent.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::Syntax {
            position,
            message: "text outside the root element".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_attributes_text_and_entities() {
        let root = parse(
            "<?xml version=\"1.0\"?><a x=\"1 &amp; 2\"><b>т&#1077;кст &lt;&gt;</b><c/></a>"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attribute("x"), Some("1 & 2"));
        assert_eq!(root.child("b").unwrap().text, "текст <>");
        assert!(root.child("c").is_some());
    }

    #[test]
    fn rejects_broken_bodies() {
        assert!(matches!(parse(b"<a><b></a>"), Err(XmlError::Syntax { .. })));
        assert_eq!(parse(b"<a>"), Err(XmlError::Unclosed("a".into())));
        assert_eq!(parse(b"   "), Err(XmlError::NoRoot));
        assert!(matches!(
            parse(b"<a/><b/>"),
            Err(XmlError::TrailingContent(_))
        ));
        assert_eq!(parse(b"<a>\xff</a>"), Err(XmlError::NotUtf8(3)));
        assert_eq!(
            parse(b"<a>&nbsp;</a>"),
            Err(XmlError::UnknownEntity("nbsp".into()))
        );
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn never_panics_on_xmlish(text in "[<>/a-c =\"'&;#x0-9!?\\[\\]-]{0,120}") {
            let _ = parse(text.as_bytes());
        }
    }
}
