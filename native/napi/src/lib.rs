use napi_derive::napi;

#[napi]
pub fn core_version() -> String {
    tsdb_core::version().to_string()
}
