//! Vehicle decoders: DBC-driven (YAML definitions) and the hand-written Tesla Roadster
