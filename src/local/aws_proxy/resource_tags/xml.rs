//! Just enough XML for the EC2 answers the proxy reads itself (a
//! DescribeTags page, an error): elements, their text, the five predefined
//! entities and character references, CDATA sections; comments and
//! processing instructions are skipped. Attributes are not kept and a
//! DTD is refused: neither answer has a use for them.

/// One element: its name (without a namespace prefix), its text, and its
/// child elements in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first element named `name` at any depth below this one.
    pub fn descendant(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.descendant(name)
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct XmlError(String);

fn error(text: impl Into<String>) -> XmlError {
    XmlError(text.into())
}

/// The document's root element.
pub fn parse(xml: &str) -> Result<Element, XmlError> {
    let mut open: Vec<Element> = Vec::new();
    let mut root = None;
    for token in tokens(xml)? {
        match token {
            Token::Open(name) if open.is_empty() && root.is_some() => {
                return Err(error(format!("a second root element <{name}>")))
            }
            Token::Open(name) => open.push(Element {
                name,
                ..Element::default()
            }),
            Token::Text(text) => {
                // Text outside the root element is whitespace in any answer.
                if let Some(element) = open.last_mut() {
                    element.text.push_str(&text);
                }
            }
            Token::Close(name) => {
                let element = open
                    .pop()
                    .ok_or_else(|| error(format!("</{name}> closes nothing")))?;
                if element.name != name {
                    return Err(error(format!("<{}> is closed by </{name}>", element.name)));
                }
                match open.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
        }
    }
    if let Some(element) = open.last() {
        return Err(error(format!("<{}> is not closed", element.name)));
    }
    root.ok_or_else(|| error("no element"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open(String),
    Close(String),
    Text(String),
}

fn tokens(xml: &str) -> Result<Vec<Token>, XmlError> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find('<') {
        push_text(&mut out, &rest[..at])?;
        rest = markup(&mut out, &rest[at..])?;
    }
    push_text(&mut out, rest)?;
    Ok(out)
}

fn push_text(out: &mut Vec<Token>, text: &str) -> Result<(), XmlError> {
    if !text.is_empty() {
        out.push(Token::Text(unescape(text)?));
    }
    Ok(())
}

/// Reads the markup at the start of `rest` (which starts with `<`) into
/// `out`; returns what follows it.
fn markup<'a>(out: &mut Vec<Token>, rest: &'a str) -> Result<&'a str, XmlError> {
    if let Some(body) = rest.strip_prefix("<![CDATA[") {
        let (text, after) = body
            .split_once("]]>")
            .ok_or_else(|| error("a CDATA section is not closed"))?;
        out.push(Token::Text(text.to_string()));
        return Ok(after);
    }
    for (open, close) in [("<!--", "-->"), ("<?", "?>")] {
        if let Some(body) = rest.strip_prefix(open) {
            return body
                .split_once(close)
                .map(|(_, after)| after)
                .ok_or_else(|| error(format!("{open} is not closed")));
        }
    }
    if rest.starts_with("<!") {
        return Err(error("a DTD or declaration is not expected"));
    }
    let end = tag_end(rest).ok_or_else(|| error("a tag is not closed"))?;
    let tag = &rest[1..end];
    if let Some(name) = tag.strip_prefix('/') {
        out.push(Token::Close(element_name(name)?));
    } else if let Some(inner) = tag.strip_suffix('/') {
        let name = element_name(inner)?;
        out.push(Token::Open(name.clone()));
        out.push(Token::Close(name));
    } else {
        out.push(Token::Open(element_name(tag)?));
    }
    Ok(&rest[end + 1..])
}

/// The index of the `>` that ends the tag at the start of `rest`: the
/// first outside a quoted attribute value (which may hold `>`).
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The element's name without attributes or namespace prefix.
fn element_name(tag: &str) -> Result<String, XmlError> {
    let qualified = tag.split_whitespace().next().unwrap_or_default();
    let local = qualified.rsplit(':').next().unwrap_or_default();
    if local.is_empty() {
        return Err(error(format!("a tag without a name: <{tag}>")));
    }
    Ok(local.to_string())
}

/// `text` with its entity and character references replaced.
fn unescape(text: &str) -> Result<String, XmlError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (reference, after) = rest[at + 1..]
            .split_once(';')
            .ok_or_else(|| error("an & that starts no reference"))?;
        out.push(referenced(reference)?);
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

fn referenced(reference: &str) -> Result<char, XmlError> {
    let number = match reference {
        "amp" => return Ok('&'),
        "lt" => return Ok('<'),
        "gt" => return Ok('>'),
        "quot" => return Ok('"'),
        "apos" => return Ok('\''),
        _ => match reference
            .strip_prefix("#x")
            .or(reference.strip_prefix("#X"))
        {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => reference.strip_prefix('#').and_then(|d| d.parse().ok()),
        },
    };
    number
        .and_then(char::from_u32)
        .ok_or_else(|| error(format!("an unknown reference &{reference};")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &str, text: &str) -> Element {
        Element {
            name: name.into(),
            text: text.into(),
            children: Vec::new(),
        }
    }

    #[test]
    fn elements_text_and_empty_elements_nest_without_prolog_prefixes_or_attributes() {
        let root = parse(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c --><a:R xmlns:a=\"x>y\"><k>v</k><e/><a:k2 at='1'>w</a:k2></a:R>\n",
        )
        .unwrap();
        assert_eq!(root.name, "R");
        assert_eq!(
            root.children,
            vec![leaf("k", "v"), leaf("e", ""), leaf("k2", "w")]
        );
        assert_eq!(root.child("e").map(|e| e.text.as_str()), Some(""));
    }

    #[test]
    fn entities_character_references_and_cdata_are_text() {
        let root =
            parse("<v>&amp;&lt;&gt;&quot;&apos; &#65;&#x42;&#X43; <![CDATA[<raw> &amp;]]></v>")
                .unwrap();
        assert_eq!(root.text, "&<>\"' ABC <raw> &amp;");
    }

    #[test]
    fn malformed_documents_are_errors_not_guesses() {
        for bad in [
            "<a><b></a>",
            "<a>",
            "</a>",
            "<a>&nbsp;</a>",
            "<a>& b</a>",
            "<a",
            "<a/><b/>",
            "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
            "",
            "<a>&#xD800;</a>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn descendant_searches_depth_first() {
        let root = parse("<R><Errors><Error><Code>C</Code></Error></Errors></R>").unwrap();
        let error = root.descendant("Error").unwrap();
        assert_eq!(error.child("Code").unwrap().text, "C");
        assert_eq!(root.children_named("Errors").count(), 1);
    }
}
