package dev.atelier.tracking.model;

import java.util.List;

/**
 * One page of a keyset-paginated list.
 *
 * @param nextCursor pass as {@code cursor} to get the next page; {@code null} on the last page
 */
public record Page<T>(List<T> items, String nextCursor) {}
