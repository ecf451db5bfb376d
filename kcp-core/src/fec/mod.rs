//! kcp-go's forward error correction: Reed-Solomon shards with its header and rules.
