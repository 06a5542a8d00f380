//! What ARM templates, Bicep and Terraform have in common: a small value tree (objects,
//! arrays, string literals with their exact spans, expressions) and the recognition of VM
//! images in it.
//!
//! Recognised (keys compared case-insensitively, as ARM does):
//! - `imageReference` (ARM, Bicep), `source_image_reference` / `storage_image_reference`
//!   (Terraform): `publisher` + `offer` + `sku` + `version`, or `id` (a gallery image or
//!   marketplace resource id);
//! - Terraform `source_image_id`;
//! - Managed DevOps Pools `fabricProfile.images[]`: `resourceId` and `wellKnownImageName`.
//!
//! A marketplace image is reported at its `version` value with the URN
//! `publisher:offer:sku:version` as text; an id at the id itself. A version (or id) that is an
//! expression is `dynamic`.

pub(super) mod scan;

use std::ops::Range;

use crate::facts::Facts;
use crate::model::{Kind, Reference, Site, VmImage};

/// A value of an infrastructure file, with source spans for literals.
#[derive(Debug, Clone)]
pub enum Val {
    /// `{ key: value … }` (a Terraform block body too).
    Object(Vec<(String, Val)>),
    /// `[ … ]` (repeated Terraform blocks are entries with the same key instead).
    Array(Vec<Val>),
    /// A string literal without interpolation: its raw content and the content's span.
    Str(String, Range<usize>),
    /// Anything computed (an ARM `[…]` expression, a Bicep or Terraform expression, an
    /// interpolated string), number or identifier: its source text and span.
    Expr(String, Range<usize>),
}

impl Val {
    fn get(&self, key: &str) -> Option<&Val> {
        match self {
            Val::Object(entries) => entries
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn text_span(&self) -> Option<(&str, Range<usize>)> {
        match self {
            Val::Str(t, s) | Val::Expr(t, s) => Some((t, s.clone())),
            _ => None,
        }
    }
}

/// Every VM image reference in `root`.
pub fn images(root: &Val, out: &mut Vec<Reference>) {
    walk(root, None, out);
}

fn walk(val: &Val, parent: Option<&str>, out: &mut Vec<Reference>) {
    match val {
        Val::Object(entries) => {
            let key_is = |names: &[&str]| {
                parent.is_some_and(|p| names.iter().any(|n| p.eq_ignore_ascii_case(n)))
            };
            if key_is(&[
                "imageReference",
                "source_image_reference",
                "storage_image_reference",
            ]) {
                image_object(val, out);
            }
            if key_is(&["images"]) {
                pool_image(val, out);
            }
            for (k, v) in entries {
                if k.eq_ignore_ascii_case("source_image_id") {
                    id_value(v, out);
                }
                walk(v, Some(k), out);
            }
        }
        Val::Array(items) => items.iter().for_each(|i| walk(i, parent, out)),
        Val::Str(..) | Val::Expr(..) => {}
    }
}

/// An `imageReference`-like object.
fn image_object(obj: &Val, out: &mut Vec<Reference>) {
    if let Some(id) = obj.get("id") {
        id_value(id, out);
        return;
    }
    let part = |k: &str| obj.get(k).and_then(Val::text_span);
    let (Some(publisher), Some(offer), Some(sku)) = (part("publisher"), part("offer"), part("sku"))
    else {
        return;
    };
    let urn = |version: &str| format!("{}:{}:{}:{version}", publisher.0, offer.0, sku.0);
    match obj.get("version") {
        Some(Val::Str(version, span)) => out.push(Reference::infra_vm(
            span.clone(),
            &urn(version),
            VmImage {
                key: Facts::vm_marketplace_key(publisher.0, offer.0, sku.0),
                version: Some(version.clone()),
                version_span: span.clone(),
                insert_prefix: "",
            },
        )),
        Some(Val::Expr(text, span)) => out.push(Reference::other(
            span.clone(),
            text,
            Kind::Dynamic,
            Site::InfraVmImage,
        )),
        // No version to pin in place: listed, but no version rule applies.
        _ => out.push(Reference::other(
            sku.1.clone(),
            &format!("{}:{}:{}", publisher.0, offer.0, sku.0),
            Kind::Vm,
            Site::InfraVmImage,
        )),
    }
}

/// A Managed DevOps Pools `fabricProfile.images[]` item.
fn pool_image(obj: &Val, out: &mut Vec<Reference>) {
    if let Some(id) = obj.get("resourceId") {
        id_value(id, out);
    }
    match obj.get("wellKnownImageName") {
        Some(Val::Str(name, span)) if !name.is_empty() => out.push(Reference::other(
            span.clone(),
            name,
            Kind::Vm,
            Site::InfraVmImage,
        )),
        Some(Val::Expr(text, span)) => out.push(Reference::other(
            span.clone(),
            text,
            Kind::Dynamic,
            Site::InfraVmImage,
        )),
        _ => {}
    }
}

/// An image id value: a literal gallery or marketplace id, or an expression.
fn id_value(val: &Val, out: &mut Vec<Reference>) {
    match val {
        Val::Str(text, span) => {
            if let Some(r) = image_id(text, span.clone()) {
                out.push(r);
            }
        }
        Val::Expr(text, span) => out.push(Reference::other(
            span.clone(),
            text,
            Kind::Dynamic,
            Site::InfraVmImage,
        )),
        _ => {}
    }
}

/// A gallery image id (`…/galleries/G/images/I[/versions/V]`) or a marketplace image resource
/// id (`…/Publishers/P/ArtifactTypes/VMImage/Offers/O/Skus/S[/versions/V]`) at `span`; other
/// ids (managed images, community galleries) have no version to pin and give `None`.
pub fn image_id(text: &str, span: Range<usize>) -> Option<Reference> {
    let lower = text.to_ascii_lowercase();
    let segments: Vec<(usize, &str)> = segments(&lower);
    let find = |name: &str| segments.iter().position(|(_, s)| *s == name);
    let (key, base_end) = if let Some(g) = find("galleries") {
        let i = g + 2;
        if segments.get(i).map(|(_, s)| *s) != Some("images") || i + 1 >= segments.len() {
            return None;
        }
        let (start, name) = segments[i + 1];
        (
            Facts::vm_gallery_key(&text[..start + name.len()]),
            start + name.len(),
        )
    } else if let Some(p) = find("publishers") {
        let at = |offset: usize, name: &str| {
            segments
                .get(p + offset)
                .filter(|(_, s)| *s == name)
                .and_then(|_| segments.get(p + offset + 1))
                .map(|(start, s)| (&text[*start..start + s.len()], start + s.len()))
        };
        let (publisher, _) = segments
            .get(p + 1)
            .map(|(st, s)| (&text[*st..st + s.len()], 0))?;
        at(2, "artifacttypes")?;
        let (offer, _) = at(4, "offers")?;
        let (sku, end) = at(6, "skus")?;
        (Facts::vm_marketplace_key(publisher, offer, sku), end)
    } else {
        return None;
    };
    let rest = &text[base_end..];
    let (version, version_span, insert_prefix) = if rest.is_empty() || rest == "/" {
        (
            None,
            span.start + text.len()..span.start + text.len(),
            if rest.is_empty() {
                "/versions/"
            } else {
                "versions/"
            },
        )
    } else {
        let tail = rest.strip_prefix('/')?;
        let (head, v) = tail.split_once('/').unwrap_or((tail, ""));
        if !head.eq_ignore_ascii_case("versions") || v.contains('/') {
            return None;
        }
        let start = span.start + text.len() - v.len();
        if v.is_empty() {
            let prefix = if tail.ends_with('/') { "" } else { "/" };
            (None, start..start, prefix)
        } else {
            (Some(v.to_string()), start..start + v.len(), "")
        }
    };
    Some(Reference::infra_vm(
        span,
        text,
        VmImage {
            key,
            version,
            version_span,
            insert_prefix,
        },
    ))
}

/// The `/`-separated segments of an id with their byte offsets.
fn segments(id: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for part in id.split('/') {
        if !part.is_empty() {
            out.push((at, part));
        }
        at += part.len() + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(text: &str) -> VmImage {
        image_id(text, 10..10 + text.len())
            .and_then(|r| r.vm_image)
            .expect("an image id")
    }

    #[test]
    fn gallery_ids() {
        // A resource group named `images` must not be mistaken for the `images` segment.
        let id = "/subscriptions/s/resourceGroups/images/providers/Microsoft.Compute/galleries/G/images/Img";
        let unversioned = vm(id);
        assert_eq!(unversioned.version, None);
        assert_eq!(unversioned.version_span, 10 + id.len()..10 + id.len());
        assert_eq!(unversioned.insert_prefix, "/versions/");
        assert!(unversioned.key.ends_with("/galleries/g/images/img"));
        let versioned = vm(&format!("{id}/versions/1.10.0"));
        assert_eq!(versioned.version.as_deref(), Some("1.10.0"));
        assert_eq!(
            versioned.version_span,
            10 + id.len() + 10..10 + id.len() + 16
        );
        assert_eq!(versioned.key, unversioned.key);
        // After the image's name only `versions/V` may follow.
        for other in ["other/1.10.0", "versions/1.10.0/extra", "versions/a/b"] {
            assert!(
                image_id(&format!("{id}/{other}"), 0..5).is_none(),
                "{other}"
            );
        }
        assert!(image_id(
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/images/managed",
            0..5
        )
        .is_none());
    }

    /// Where a version goes in an id that has none: after `/versions/`, whatever part of it
    /// the id already ends with.
    #[test]
    fn unversioned_ids_say_where_the_version_goes() {
        let id =
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/G/images/Img";
        for (tail, prefix) in [
            ("", "/versions/"),
            ("/", "versions/"),
            ("/versions", "/"),
            ("/versions/", ""),
        ] {
            let text = format!("{id}{tail}");
            let v = vm(&text);
            assert_eq!(v.version, None, "{tail}");
            assert_eq!(v.insert_prefix, prefix, "{tail}");
            assert_eq!(v.version_span, 10 + text.len()..10 + text.len(), "{tail}");
        }
    }

    #[test]
    fn marketplace_resource_ids() {
        let id = "/Subscriptions/s/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/versions/latest";
        let v = vm(id);
        assert_eq!(v.key, "canonical:ubuntu-24_04-lts:server");
        assert_eq!(v.version.as_deref(), Some("latest"));
        assert_eq!(
            &id[v.version_span.start - 10..v.version_span.end - 10],
            "latest"
        );
    }
}
