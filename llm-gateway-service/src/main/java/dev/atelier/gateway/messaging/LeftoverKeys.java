package dev.atelier.gateway.messaging;

import java.util.List;

/**
 * The Idempotency-Keys an earlier process on this gateway's record journal directory held when it
 * died, found at start-up ({@link HeldKeys}): that process is dead (the directory's lock is this
 * one's), so its calls will never answer and their keys can be let go. Fired off the start-up
 * thread, once.
 *
 * @param marks the payloads the holder marked them with
 */
public record LeftoverKeys(List<byte[]> marks) {}
