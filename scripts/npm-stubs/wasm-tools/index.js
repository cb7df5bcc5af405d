throw new Error('@napi-rs/wasm-tools is stubbed out (scripts/npm-stubs): cross and wasm builds are not supported here');
