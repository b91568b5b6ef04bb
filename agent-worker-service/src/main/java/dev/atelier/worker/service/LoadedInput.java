package dev.atelier.worker.service;

/**
 * An input artifact as it goes into a prompt.
 *
 * @param text the content: a string as is, JSON pretty-printed
 */
public record LoadedInput(String name, int version, String text) {}
