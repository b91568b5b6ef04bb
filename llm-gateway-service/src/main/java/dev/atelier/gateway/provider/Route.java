package dev.atelier.gateway.provider;

/**
 * Where a requested model goes.
 *
 * @param upstreamModel the name the provider knows the model by
 */
public record Route(Provider provider, String upstreamModel) {}
