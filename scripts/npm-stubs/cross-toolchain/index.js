throw new Error('@napi-rs/cross-toolchain is stubbed out (scripts/npm-stubs): cross and wasm builds are not supported here');
