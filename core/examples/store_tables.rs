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

use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
};

/// The tables whose rows are worth listing one by one, as the store defines them.
const CHUNKS: TableDefinition<'static, &'static [u8; 24], &'static [u8]> =
    TableDefinition::new("document_chunks");
const VALUES: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("values");
const SYNC_STATES: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("sync_states");

fn main() -> Result<(), Box<dyn Error>> {
    let Some(path) = std::env::args().nth(1) else {
        return Err("usage: store_tables STORE.redb [--rows]".into());
    };
    let rows = std::env::args().nth(2).as_deref() == Some("--rows");
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
    if rows {
        print_rows(&read)?;
    }
    Ok(())
}

/// Each chunk (document, sequence, bytes), each key–value row and each sync state's size.
fn print_rows(read: &redb::ReadTransaction) -> Result<(), Box<dyn Error>> {
    println!();
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for entry in read.open_table(CHUNKS)?.iter()? {
        let (key, value) = entry?;
        let key = key.value();
        let mut sequence = [0u8; 8];
        sequence.copy_from_slice(&key[16..]);
        println!(
            "chunk {} #{} {} B",
            hex(&key[..16]),
            u64::from_be_bytes(sequence),
            value.value().len()
        );
    }
    for entry in read.open_table(VALUES)?.iter()? {
        let (key, value) = entry?;
        println!("value {} {} B", key.value(), value.value().len());
    }
    for entry in read.open_table(SYNC_STATES)?.iter()? {
        let (key, value) = entry?;
        let key = key.value();
        println!(
            "sync state {} {} {} B",
            hex(&key[..16.min(key.len())]),
            String::from_utf8_lossy(key.get(16..).unwrap_or_default()),
            value.value().len()
        );
    }
    Ok(())
}
