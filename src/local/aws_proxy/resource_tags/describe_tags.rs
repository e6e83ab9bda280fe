//! EC2's `DescribeTags` for one resource, as the proxy asks it (query
//! protocol, a form body) and reads the answer: a `<tagSet>` of items
//! (resource id, type, key, value) and, when there is more, a
//! `<nextToken>`.

use super::xml::{self, Element};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// What a form value leaves unencoded (RFC 3986's unreserved characters).
const FORM_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The form body that asks for the tags of resource `id`, from the page
/// `next_token` names on.
pub fn form(id: &str, next_token: Option<&str>) -> String {
    let mut form = format!(
        "Action=DescribeTags&Version=2016-11-15&Filter.1.Name=resource-id&Filter.1.Value.1={}",
        utf8_percent_encode(id, FORM_VALUE)
    );
    if let Some(token) = next_token {
        form.push_str("&NextToken=");
        form.extend(utf8_percent_encode(token, FORM_VALUE));
    }
    form
}

/// One page of the answer: the tags of the resource asked about (key,
/// value; in the answer's order), and the token of the next page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub tags: Vec<(String, String)>,
    pub next_token: Option<String>,
}

/// The page `xml` holds, keeping the items of resource `id` only (a
/// filter the service ignored must not lend one resource another's tags).
pub fn page(xml: &str, id: &str) -> Result<Page, String> {
    let root = xml::parse(xml).map_err(|e| e.to_string())?;
    if root.name != "DescribeTagsResponse" {
        return Err(format!("<{}> is not a DescribeTags answer", root.name));
    }
    let tag_set = root.child("tagSet").ok_or("the answer has no <tagSet>")?;
    let mut tags = Vec::new();
    for item in tag_set.children_named("item") {
        if text(item, "resourceId") == Some(id) {
            let key = text(item, "key").ok_or("an item of the resource has no <key>")?;
            tags.push((
                key.to_string(),
                text(item, "value").unwrap_or_default().to_string(),
            ));
        }
    }
    let next_token = text(&root, "nextToken")
        .filter(|t| !t.trim().is_empty())
        .map(str::to_string);
    Ok(Page { tags, next_token })
}

/// `Code: Message` of an EC2 error answer
/// (`<Response><Errors><Error><Code>…`), when it is one.
pub fn error(xml: &str) -> Option<String> {
    let root = xml::parse(xml).ok()?;
    let error = if root.name == "Error" {
        &root
    } else {
        root.descendant("Error")?
    };
    let code = text(error, "Code")?;
    Some(match text(error, "Message") {
        Some(message) => format!("{code}: {message}"),
        None => code.to_string(),
    })
}

fn text<'e>(element: &'e Element, child: &str) -> Option<&'e str> {
    element.child(child).map(|c| c.text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(resource: &str, key: &str, value: &str) -> String {
        format!("<item><resourceId>{resource}</resourceId><resourceType>instance</resourceType><key>{key}</key><value>{value}</value></item>")
    }

    fn answer(items: &[String], next_token: Option<&str>) -> String {
        let next = next_token
            .map(|t| format!("<nextToken>{t}</nextToken>"))
            .unwrap_or_default();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeTagsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n  <requestId>7a62c49f</requestId>\n  <tagSet>{}</tagSet>{next}\n</DescribeTagsResponse>",
            items.concat()
        )
    }

    #[test]
    fn the_form_asks_for_one_resource_and_carries_the_next_token_encoded() {
        assert_eq!(
            form("i-1", None),
            "Action=DescribeTags&Version=2016-11-15&Filter.1.Name=resource-id&Filter.1.Value.1=i-1"
        );
        assert!(form("i-1", Some("a+b/c=")).ends_with("&NextToken=a%2Bb%2Fc%3D"));
    }

    #[test]
    fn several_items_of_the_resource_are_its_tags_and_other_resources_items_are_ignored() {
        let xml = answer(
            &[
                item("i-1", "fleet-console", "managed"),
                item("i-2", "fleet-console", "other"),
                item("i-1", "Name", "web 1"),
                item("i-10", "Name", "not i-1"),
            ],
            None,
        );
        assert_eq!(
            page(&xml, "i-1").unwrap(),
            Page {
                tags: vec![
                    ("fleet-console".into(), "managed".into()),
                    ("Name".into(), "web 1".into())
                ],
                next_token: None,
            }
        );
    }

    #[test]
    fn entities_are_unescaped_and_an_empty_value_is_empty() {
        let xml = answer(
            &[
                item("i-1", "a&amp;b", "&lt;x&gt; &quot;q&quot; &apos;s&apos;"),
                "<item><resourceId>i-1</resourceId><key>empty</key><value/></item>".into(),
            ],
            None,
        );
        assert_eq!(
            page(&xml, "i-1").unwrap().tags,
            vec![
                ("a&b".into(), "<x> \"q\" 's'".into()),
                ("empty".into(), String::new())
            ]
        );
    }

    #[test]
    fn a_next_token_is_kept_and_an_empty_one_ends_the_pages() {
        let xml = answer(&[item("i-1", "k", "v")], Some("page2&amp;more"));
        assert_eq!(
            page(&xml, "i-1").unwrap().next_token.as_deref(),
            Some("page2&more")
        );
        let xml = answer(&[], Some(""));
        assert_eq!(page(&xml, "i-1").unwrap(), Page::default());
    }

    #[test]
    fn an_answer_of_another_shape_is_an_error() {
        assert!(page("<DescribeInstancesResponse/>", "i-1").is_err());
        assert!(page("<DescribeTagsResponse/>", "i-1").is_err());
        assert!(page("<DescribeTagsResponse><tagSet><item>", "i-1").is_err());
        let keyless = answer(
            &["<item><resourceId>i-1</resourceId><value>v</value></item>".into()],
            None,
        );
        assert!(page(&keyless, "i-1").is_err());
        assert!(page("not xml", "i-1").is_err());
    }

    #[test]
    fn an_ec2_error_is_its_code_and_message() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation. User: arn:aws:iam::1:user/dev is not authorized to perform: ec2:DescribeTags</Message></Error></Errors><RequestID>r</RequestID></Response>";
        assert_eq!(
            error(xml).unwrap(),
            "UnauthorizedOperation: You are not authorized to perform this operation. User: arn:aws:iam::1:user/dev is not authorized to perform: ec2:DescribeTags"
        );
        assert_eq!(
            error("<ErrorResponse><Error><Code>ExpiredToken</Code></Error></ErrorResponse>")
                .unwrap(),
            "ExpiredToken"
        );
        assert_eq!(error("<html>502</html>"), None);
    }
}
