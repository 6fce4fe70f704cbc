//! Sets the linker flags a Node.js addon needs (undefined `napi_*` symbols are
//! resolved by the host process when the addon is loaded).

fn main() {
    napi_build::setup();
}
