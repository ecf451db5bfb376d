//! Gives libkcp.so its SONAME, libkcp.so.MAJOR, so programs linked against
//! one major version refuse to load another (`make install` lays out
//! libkcp.so.MAJOR.MINOR.PATCH and the two links).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libkcp.so.{major}");
    }
}
