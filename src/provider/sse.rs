//! Byte-safe SSE decoding. (Filled in by the provider work.)
