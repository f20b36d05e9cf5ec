//! Generates the record types, decoders and schemas from `xsd/*.xsd` into `OUT_DIR`.

#[path = "codegen/mod.rs"]
mod codegen;

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=xsd");
    println!("cargo:rerun-if-changed=codegen");
    let mut xsds: Vec<PathBuf> = std::fs::read_dir("xsd")
        .expect("the xsd/ folder must exist")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xsd"))
        .collect();
    xsds.sort();
    let [xsd] = xsds.as_slice() else {
        panic!("xsd/ must hold exactly one .xsd file, found {}: {xsds:?}", xsds.len());
    };
    println!("cargo:rerun-if-changed={}", xsd.display());
    let text = std::fs::read_to_string(xsd).unwrap_or_else(|e| panic!("cannot read {}: {e}", xsd.display()));
    let code = codegen::generate(&text).unwrap_or_else(|e| panic!("{}: {e}", xsd.display()));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out_dir.join("schema_gen.rs"), code).expect("write generated code");
    // A variant schema for the tests: the generator's whole subset, compiled and run.
    let variant = "tests/fixtures/variant.xsd";
    println!("cargo:rerun-if-changed={variant}");
    if let Ok(text) = std::fs::read_to_string(variant) {
        let code = codegen::generate(&text).unwrap_or_else(|e| panic!("{variant}: {e}"));
        std::fs::write(out_dir.join("variant_gen.rs"), code).expect("write generated code");
    }
    println!("cargo:rustc-env=XML2BQ_XSD={}", xsd.file_name().unwrap().to_string_lossy());
}
