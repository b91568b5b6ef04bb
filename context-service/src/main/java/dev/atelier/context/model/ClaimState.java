package dev.atelier.context.model;

import java.time.Instant;

/**
 * The answer to a {@link StepClaim}.
 *
 * @param granted whether the asker holds the lease now
 * @param holder who holds it (the asker when granted); null if it was released as it was asked
 * @param expiresAt when the holder's lease runs out unless renewed
 */
public record ClaimState(boolean granted, String holder, Instant expiresAt) {}
