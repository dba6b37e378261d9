//! Replay scheduler for CAN frames: virtual clock or wall clock, filters, loops, sinks (channel, SocketCAN)
