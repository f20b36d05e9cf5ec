//! The schema reader on the real-world schemas of ../shared/realworld (skipped when absent).

use std::collections::BTreeMap;
use std::path::PathBuf;
use xml2bq_codegen::xsd::{load, resolve};

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/realworld");
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

#[test]
fn real_world_schemas_resolve() {
    let Some(root) = shared() else { return };
    for (case, file) in [
        ("gpx-1.1", "gpx.xsd"),
        ("ms-customers-orders-ns", "CustomersOrders.xsd"),
        ("sitemap-0.9", "sitemap.xsd"),
        ("sitemap-0.9", "siteindex.xsd"),
        ("w3c-primer-ipo", "ipo.xsd"),
        ("w3c-primer-po", "po0_0.xsd"),
    ] {
        let set = load::load(&[root.join(case).join(file)], &BTreeMap::new()).unwrap_or_else(|e| panic!("{case}: {e}"));
        let s = resolve::resolve(&set).unwrap_or_else(|e| panic!("{case}: {e}"));
        let roots: Vec<String> = s.roots.iter().map(|&e| s.elements[e].name.to_string()).collect();
        eprintln!(
            "{case}/{file}: {} docs, {} elements, {} complex, {} simple, roots {roots:?}",
            set.docs.len(),
            s.elements.len(),
            s.complex.len(),
            s.simple.len()
        );
        assert!(!roots.is_empty());
    }
}
