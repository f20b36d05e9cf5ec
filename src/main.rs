fn main() {
    println!("{}", xml2bq::schema::TABLES[0].bigquery_schema);
}
