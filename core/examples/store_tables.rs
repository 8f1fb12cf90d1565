//! What each table of a store file holds, and how much of the file is free pages: where a
//! store's bytes go.
//!
//! ```text
//! cargo run --release -p itinera-core --features redb --example store_tables -- STORE.redb
//! ```
//!
//! Reads a copy: redb takes the file's lock, so run it on a file no server has open.
#![allow(clippy::print_stdout)]

use std::error::Error;

use redb::{Database, ReadableDatabase, ReadableTableMetadata, TableHandle};

fn main() -> Result<(), Box<dyn Error>> {
    let Some(path) = std::env::args().nth(1) else {
        return Err("usage: store_tables STORE.redb".into());
    };
    let length = std::fs::metadata(&path)?.len();
    let database = Database::open(&path)?;
    let write = database.begin_write()?;
    let stats = write.stats()?;
    write.abort()?;
    let page = stats.page_size() as u64;
    println!("file {length} B, page {page} B");
    println!(
        "allocated {} B ({} pages), stored {} B, metadata {} B, fragmented {} B",
        stats.allocated_pages() * page,
        stats.allocated_pages(),
        stats.stored_bytes(),
        stats.metadata_bytes(),
        stats.fragmented_bytes()
    );
    println!();
    println!(
        "{:<24} {:>8} {:>12} {:>12} {:>12} {:>10}",
        "table", "rows", "stored B", "metadata B", "fragmented B", "pages"
    );
    let read = database.begin_read()?;
    for handle in read.list_tables()? {
        let name = handle.name().to_owned();
        let table = read.open_untyped_table(handle)?;
        let table_stats = table.stats()?;
        println!(
            "{:<24} {:>8} {:>12} {:>12} {:>12} {:>10}",
            name,
            table.len()?,
            table_stats.stored_bytes(),
            table_stats.metadata_bytes(),
            table_stats.fragmented_bytes(),
            table_stats.leaf_pages() + table_stats.branch_pages()
        );
    }
    Ok(())
}
