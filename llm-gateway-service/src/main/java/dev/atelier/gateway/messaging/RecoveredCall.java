package dev.atelier.gateway.messaging;

import java.math.BigDecimal;
import java.util.UUID;

/**
 * A call an earlier run of this gateway answered and journaled, read again at start-up because its
 * record was not confirmed: its budget settlement may have died with that run, so it is settled
 * again (settling is idempotent: a settled call has no reservation left).
 *
 * @param costUsd what the call cost, or null when unknown
 */
public record RecoveredCall(UUID callId, BigDecimal costUsd) {}
