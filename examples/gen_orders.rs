//! Generates a large, deterministic customer-orders XML file for benchmarks.
//!
//! `cargo run --release --example gen_orders -- --mb 100 --seed 1 --out bench-data/100mb.xml`
//!
//! Variety like real exports: optional Fax present or not, empty `<Region/>`,
//! entities and CDATA in names, non-Latin text, varied decimals and dates, and about
//! one customer per five orders. Same seed and size, same bytes.

mod generate;

use generate::{Args, Rng};
use std::io::Write;

const COMPANIES: &[&str] = &[
    "Great Lakes Food Market",
    "Hungry Coyote Import Store",
    "Lazy K Kountry Store",
    "Let's Stop N Shop",
    "O'Reilly &amp; Daughters",
    "Müller Feinkost GmbH",
    "東京トレーディング株式会社",
    "Ελληνικά Τρόφιμα",
    "<![CDATA[Smith & Sons <Wholesale>]]>",
    "Café &#x263A; Olé",
];
const NAMES: &[&str] = &["Howard Snyder", "Yoshi Latimer", "John Steel", "Jaime Yorres", "Zoë Ångström", "李小龍"];
const TITLES: &[&str] = &["Marketing Manager", "Sales Representative", "Owner", "Accounting Manager"];
const CITIES: &[(&str, &str, &str)] = &[
    ("Eugene", "OR", "USA"),
    ("Elgin", "OR", "USA"),
    ("Walla Walla", "WA", "USA"),
    ("San Francisco", "CA", "USA"),
    ("München", "", "Germany"),
    ("東京", "", "Japan"),
];

fn main() {
    let args = Args::parse(|mb| format!("bench-data/{mb}mb.xml"));
    let mut w = args.create();
    let Args { mb, seed, out } = args;
    let target = mb * 1_000_000;
    let mut rng = Rng(seed);
    writeln!(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Root>\n  <Customers>").unwrap();
    let mut ids = Vec::new();
    // Customers take about a sixth of the file.
    let mut i = 0u64;
    while w.n < target / 6 {
        let id = format!("C{i:07}");
        let (city, region, country) = CITIES[rng.below(CITIES.len() as u64) as usize];
        writeln!(w, "    <Customer CustomerID=\"{id}\">").unwrap();
        writeln!(w, "      <CompanyName>{}</CompanyName>", rng.pick(COMPANIES)).unwrap();
        writeln!(w, "      <ContactName>{}</ContactName>", rng.pick(NAMES)).unwrap();
        writeln!(w, "      <ContactTitle>{}</ContactTitle>", rng.pick(TITLES)).unwrap();
        writeln!(w, "      <Phone>({}) 555-{:04}</Phone>", 200 + rng.below(800), rng.below(10000)).unwrap();
        if rng.below(2) == 0 {
            writeln!(w, "      <Fax>({}) 555-{:04}</Fax>", 200 + rng.below(800), rng.below(10000)).unwrap();
        }
        writeln!(w, "      <FullAddress>").unwrap();
        writeln!(w, "        <Address>{} Baker Blvd.</Address>", 1 + rng.below(9999)).unwrap();
        writeln!(w, "        <City>{city}</City>").unwrap();
        if region.is_empty() {
            writeln!(w, "        <Region/>").unwrap();
        } else {
            writeln!(w, "        <Region>{region}</Region>").unwrap();
        }
        writeln!(w, "        <PostalCode>{:05}</PostalCode>", rng.below(100_000)).unwrap();
        writeln!(w, "        <Country>{country}</Country>").unwrap();
        writeln!(w, "      </FullAddress>\n    </Customer>").unwrap();
        ids.push(id);
        i += 1;
    }
    writeln!(w, "  </Customers>\n  <Orders>").unwrap();
    while w.n < target {
        let id = &ids[rng.below(ids.len() as u64) as usize];
        let (y, m, d) = (1996 + rng.below(28), 1 + rng.below(12), 1 + rng.below(28));
        let (city, region, country) = CITIES[rng.below(CITIES.len() as u64) as usize];
        writeln!(w, "    <Order>\n      <CustomerID>{id}</CustomerID>").unwrap();
        writeln!(w, "      <EmployeeID>{}</EmployeeID>", 1 + rng.below(9)).unwrap();
        writeln!(w, "      <OrderDate>{y}-{m:02}-{d:02}T{:02}:{:02}:00</OrderDate>", rng.below(24), rng.below(60))
            .unwrap();
        writeln!(w, "      <RequiredDate>{y}-{m:02}-{:02}T00:00:00</RequiredDate>", (d + 14).min(28)).unwrap();
        if rng.below(10) == 0 {
            writeln!(w, "      <ShipInfo>").unwrap();
        } else {
            writeln!(w, "      <ShipInfo ShippedDate=\"{y}-{m:02}-{:02}T00:00:00\">", (d + 3).min(28)).unwrap();
        }
        writeln!(w, "        <ShipVia>{}</ShipVia>", 1 + rng.below(3)).unwrap();
        writeln!(w, "        <Freight>{}.{:02}</Freight>", rng.below(1000), rng.below(100)).unwrap();
        writeln!(w, "        <ShipName>{}</ShipName>", rng.pick(COMPANIES)).unwrap();
        writeln!(w, "        <ShipAddress>{} Polk St. Suite {}</ShipAddress>", 1 + rng.below(999), rng.below(20))
            .unwrap();
        writeln!(w, "        <ShipCity>{city}</ShipCity>\n        <ShipRegion>{region}</ShipRegion>").unwrap();
        writeln!(w, "        <ShipPostalCode>{:05}</ShipPostalCode>", rng.below(100_000)).unwrap();
        writeln!(w, "        <ShipCountry>{country}</ShipCountry>\n      </ShipInfo>\n    </Order>").unwrap();
    }
    writeln!(w, "  </Orders>\n</Root>").unwrap();
    w.inner.flush().unwrap();
    eprintln!("wrote {out}: {} bytes, {} customers", w.n, ids.len());
}
