fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "bindings".into());
    std::fs::create_dir_all(&out)?;
    interoptopus_csharp::RustLibrary::builder(syncpool::inventory())
        .dll_name("syncpool")
        .dispatch(interoptopus_csharp::dispatch::Dispatch::single_file("SyncPool.Native"))
        .build()
        .process()?
        .write_buffers_to(&out)?;
    Ok(())
}
