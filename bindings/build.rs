//! Decides once where the Java KeyStore store (and its JNI entry point) is built: the
//! `jni_store` cfg. On Android always; with the `testing` feature also on every other
//! target but Apple's mobile systems (a desktop JVM runs the same JNI code over a PKCS12
//! file). Keep it in step with the `jni` dependencies in Cargo.toml.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(jni_store)");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let os = var("CARGO_CFG_TARGET_OS");
    let apple_mobile = var("CARGO_CFG_TARGET_VENDOR") == "apple" && os != "macos";
    let testing = std::env::var_os("CARGO_FEATURE_TESTING").is_some();
    if os == "android" || (testing && !apple_mobile) {
        println!("cargo::rustc-cfg=jni_store");
    }
}
