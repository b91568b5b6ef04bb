package dev.atelier.gateway.provider;

import dev.atelier.gateway.service.ChatRequest;
import io.opentelemetry.context.Context;

/**
 * One call to a provider.
 *
 * @param upstreamModel the model name the provider knows
 * @param trace the context of the call's {@code chat} span, parent of the upstream HTTP span
 */
public record ProviderCall(ChatRequest request, String upstreamModel, Context trace) {}
