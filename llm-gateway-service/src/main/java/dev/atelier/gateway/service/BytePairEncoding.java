package dev.atelier.gateway.service;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OpenAI byte-pair encoding (o200k_base, cl100k_base) held compactly: every token's bytes in one
 * array, and an open-addressing table from byte sequence to rank. o200k_base takes about 5 MB this
 * way, where a map of boxed keys and values takes some 60 MB of heap — most of a gateway's live
 * heap. Counts are the same as tiktoken's (and jtokkit's, which the tests compare against): the
 * text is split by the encoding's pattern, each piece is looked up whole, and a piece that is no
 * token is merged pair by pair, always merging the adjacent pair of lowest rank first.
 *
 * <p>Merging by scanning every pair for the lowest is quadratic in a piece's length, and one piece
 * can be a whole request (a quarter megabyte of "aaaa..." took tens of seconds). Longer pieces are
 * merged with a heap instead (same merges, n log n), in slices of at most {@value #MAX_PIECE} bytes
 * so that memory stays bounded too; only a piece longer than that may count differently from
 * tiktoken, by a token or so per slice.
 *
 * <p>The vocabularies are the {@code .tiktoken} files that jtokkit ships (base64 of the token's
 * bytes, space, rank); this class reads them once and keeps no jtokkit structure. Thread-safe:
 * immutable after construction.
 */
final class BytePairEncoding {

  /** tiktoken's o200k_base split pattern. */
  static final String O200K_PATTERN =
      String.join(
          "|",
          "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
              + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
          "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
              + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
          "\\p{N}{1,3}",
          " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
          "\\s*[\\r\\n]+",
          "\\s+(?!\\S)",
          "\\s+");

  /** tiktoken's cl100k_base split pattern. */
  static final String CL100K_PATTERN =
      "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}"
          + "| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

  /** Pieces up to this many bytes are merged by scanning, which is fastest when short. */
  private static final int SCAN_MAX = 128;

  /** Longer pieces are merged in slices of at most this many bytes. */
  static final int MAX_PIECE = 65_536;

  private final String name;
  private final Pattern pattern;
  private final byte[] bytes; // the bytes of every token, by rank
  private final int[] starts; // token r is bytes[starts[r], starts[r + 1]); -1 marks an unused rank
  private final int[] table; // rank + 1 at the slot of its bytes' hash, 0 when empty
  private final int mask;

  private BytePairEncoding(String name, Pattern pattern, byte[] bytes, int[] starts, int[] table) {
    this.name = name;
    this.pattern = pattern;
    this.bytes = bytes;
    this.starts = starts;
    this.table = table;
    this.mask = table.length - 1;
  }

  static BytePairEncoding o200k() {
    return load("o200k_base", O200K_PATTERN);
  }

  static BytePairEncoding cl100k() {
    return load("cl100k_base", CL100K_PATTERN);
  }

  String name() {
    return name;
  }

  /** Tokens of {@code text}, special-token strings counted as ordinary text. */
  int count(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    int total = 0;
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      byte[] piece = m.group().getBytes(StandardCharsets.UTF_8);
      total += rank(piece, 0, piece.length) >= 0 ? 1 : merge(piece, null);
    }
    return total;
  }

  /**
   * The longest prefix of {@code text} that is at most {@code maxTokens} tokens, cut at a token
   * boundary and never inside a character.
   */
  String truncate(String text, int maxTokens) {
    if (text == null || text.isEmpty() || maxTokens <= 0) {
      return maxTokens <= 0 ? "" : text;
    }
    IntList ranks = new IntList();
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      byte[] piece = m.group().getBytes(StandardCharsets.UTF_8);
      int whole = rank(piece, 0, piece.length);
      if (whole >= 0) {
        ranks.add(whole);
      } else {
        merge(piece, ranks);
      }
      if (ranks.size > maxTokens) {
        break;
      }
    }
    if (ranks.size <= maxTokens) {
      return text;
    }
    int keep = maxTokens;
    // Drop trailing tokens that end inside a multi-byte character.
    while (keep > 0) {
      byte[] prefix = decode(ranks.values, keep);
      if (completeUtf8(prefix)) {
        return new String(prefix, StandardCharsets.UTF_8);
      }
      keep--;
    }
    return "";
  }

  private byte[] decode(int[] ranks, int n) {
    int length = 0;
    for (int i = 0; i < n; i++) {
      length += starts[ranks[i] + 1] - starts[ranks[i]];
    }
    byte[] out = new byte[length];
    int at = 0;
    for (int i = 0; i < n; i++) {
      int from = starts[ranks[i]];
      int len = starts[ranks[i] + 1] - from;
      System.arraycopy(bytes, from, out, at, len);
      at += len;
    }
    return out;
  }

  private static boolean completeUtf8(byte[] b) {
    int i = b.length - 1;
    int continuation = 0;
    while (i >= 0 && (b[i] & 0xC0) == 0x80 && continuation < 3) {
      i--;
      continuation++;
    }
    if (i < 0) {
      return continuation == 0;
    }
    int lead = b[i] & 0xFF;
    int needed = lead < 0x80 ? 0 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    return needed == continuation;
  }

  /**
   * Byte-pair merges of a piece that is not a token as a whole: start from single bytes and merge
   * the adjacent pair of lowest rank until no pair is a token. Returns the token count; adds the
   * ranks to {@code out} when given.
   */
  private int merge(byte[] piece, IntList out) {
    if (piece.length <= SCAN_MAX) {
      return scanMerge(piece, out);
    }
    int total = 0;
    for (int from = 0; from < piece.length; ) {
      int to = Math.min(piece.length, from + MAX_PIECE);
      while (to < piece.length && (piece[to] & 0xC0) == 0x80) {
        to--; // never cut inside a character
      }
      total += heapMerge(piece, from, to, out);
      from = to;
    }
    return total;
  }

  private int scanMerge(byte[] piece, IntList out) {
    int n = piece.length;
    // bounds[0..parts] are the starts of the current parts, bounds[parts] == n.
    int[] bounds = new int[n + 1];
    for (int i = 0; i <= n; i++) {
      bounds[i] = i;
    }
    int parts = n;
    // pairRank[i]: rank of parts i and i+1 joined, or MAX_VALUE.
    int[] pairRank = new int[Math.max(n, 1)];
    for (int i = 0; i + 1 < parts; i++) {
      pairRank[i] = rankOrMax(piece, bounds[i], bounds[i + 2]);
    }
    while (parts > 1) {
      int best = Integer.MAX_VALUE;
      int at = -1;
      for (int i = 0; i + 1 < parts; i++) {
        if (pairRank[i] < best) {
          best = pairRank[i];
          at = i;
        }
      }
      if (at < 0) {
        break;
      }
      // Join parts at and at+1: drop boundary at+1.
      System.arraycopy(bounds, at + 2, bounds, at + 1, parts - at - 1);
      System.arraycopy(pairRank, at + 1, pairRank, at, parts - at - 2);
      parts--;
      if (at + 1 < parts) {
        pairRank[at] = rankOrMax(piece, bounds[at], bounds[at + 2]);
      }
      if (at > 0) {
        pairRank[at - 1] = rankOrMax(piece, bounds[at - 1], bounds[at + 1]);
      }
    }
    if (out != null) {
      for (int i = 0; i < parts; i++) {
        int r = rank(piece, bounds[i], bounds[i + 1]);
        if (r < 0) {
          throw new IllegalStateException(name + ": byte sequence without a rank");
        }
        out.add(r);
      }
    }
    return parts;
  }

  /**
   * The merges of {@link #scanMerge} on {@code piece[from, to)}, with the lowest pair (leftmost
   * among equals) taken from a heap of (rank, start) instead of a scan. A heap entry that no longer
   * matches its pair (merged away or re-ranked) is skipped when it surfaces.
   */
  private int heapMerge(byte[] piece, int from, int to, IntList out) {
    int n = to - from;
    // Parts are named by their first byte (relative to from); next[i] is where part i ends.
    int[] next = new int[n];
    int[] prev = new int[n];
    int[] pair = new int[n]; // rank of part i joined with the part after it, or MAX_VALUE
    LongHeap heap = new LongHeap(n);
    for (int i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
      pair[i] = i + 1 < n ? rankOrMax(piece, from + i, from + i + 2) : Integer.MAX_VALUE;
      if (pair[i] != Integer.MAX_VALUE) {
        heap.push(pair[i], i);
      }
    }
    int parts = n;
    while (!heap.isEmpty()) {
      long top = heap.pop();
      int rank = (int) (top >>> 32);
      int at = (int) top;
      if (next[at] < 0 || pair[at] != rank) {
        continue;
      }
      int joined = next[at];
      int after = next[joined];
      next[at] = after;
      next[joined] = -1;
      if (after < n) {
        prev[after] = at;
      }
      parts--;
      pair[at] = after < n ? rankOrMax(piece, from + at, from + next[after]) : Integer.MAX_VALUE;
      if (pair[at] != Integer.MAX_VALUE) {
        heap.push(pair[at], at);
      }
      int before = prev[at];
      if (before >= 0) {
        pair[before] = rankOrMax(piece, from + before, from + after);
        if (pair[before] != Integer.MAX_VALUE) {
          heap.push(pair[before], before);
        }
      }
    }
    if (out != null) {
      for (int i = 0; i < n; i = next[i]) {
        int r = rank(piece, from + i, from + next[i]);
        if (r < 0) {
          throw new IllegalStateException(name + ": byte sequence without a rank");
        }
        out.add(r);
      }
    }
    return parts;
  }

  private int rankOrMax(byte[] src, int from, int to) {
    int r = rank(src, from, to);
    return r < 0 ? Integer.MAX_VALUE : r;
  }

  /** The rank of {@code src[from, to)}, or -1 when it is no token. */
  private int rank(byte[] src, int from, int to) {
    int slot = hash(src, from, to) & mask;
    while (true) {
      int entry = table[slot];
      if (entry == 0) {
        return -1;
      }
      int r = entry - 1;
      int start = starts[r];
      if (starts[r + 1] - start == to - from
          && Arrays.equals(bytes, start, starts[r + 1], src, from, to)) {
        return r;
      }
      slot = (slot + 1) & mask;
    }
  }

  private static int hash(byte[] src, int from, int to) {
    int h = 0x811C9DC5;
    for (int i = from; i < to; i++) {
      h = (h ^ src[i]) * 0x01000193;
    }
    return h ^ (h >>> 16);
  }

  private static BytePairEncoding load(String name, String regex) {
    String resource = "/com/knuddels/jtokkit/" + name + ".tiktoken";
    byte[][] tokens = new byte[0][];
    int maxRank = -1;
    int count = 0;
    try (InputStream in = BytePairEncoding.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            "tokenizer vocabulary " + resource + " not on the classpath");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      Base64.Decoder base64 = Base64.getDecoder();
      for (String line; (line = reader.readLine()) != null; ) {
        int space = line.indexOf(' ');
        if (space <= 0) {
          continue;
        }
        int rank = Integer.parseInt(line, space + 1, line.length(), 10);
        if (rank >= tokens.length) {
          tokens = Arrays.copyOf(tokens, Math.max(rank + 1, tokens.length * 2 + 1024));
        }
        tokens[rank] = base64.decode(line.substring(0, space));
        maxRank = Math.max(maxRank, rank);
        count++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
    int[] starts = new int[maxRank + 2];
    int total = 0;
    for (int r = 0; r <= maxRank; r++) {
      total += tokens[r] == null ? 0 : tokens[r].length;
    }
    byte[] bytes = new byte[total];
    int at = 0;
    for (int r = 0; r <= maxRank; r++) {
      starts[r] = at;
      if (tokens[r] != null) {
        System.arraycopy(tokens[r], 0, bytes, at, tokens[r].length);
        at += tokens[r].length;
      }
    }
    starts[maxRank + 1] = at;
    int size = Integer.highestOneBit(Math.max(count, 1) * 2 - 1) << 1; // load factor <= 0.5
    int[] table = new int[size];
    for (int r = 0; r <= maxRank; r++) {
      if (tokens[r] == null) {
        continue;
      }
      int slot = hash(tokens[r], 0, tokens[r].length) & (size - 1);
      while (table[slot] != 0) {
        slot = (slot + 1) & (size - 1);
      }
      table[slot] = r + 1;
    }
    return new BytePairEncoding(
        name, Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS), bytes, starts, table);
  }

  /** A min-heap of (rank, start) packed in longs: rank first, then the leftmost start. */
  private static final class LongHeap {
    long[] values;
    int size;

    LongHeap(int capacity) {
      values = new long[Math.max(capacity, 16)];
    }

    boolean isEmpty() {
      return size == 0;
    }

    void push(int rank, int start) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      long v = ((long) rank << 32) | start;
      int i = size++;
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (values[parent] <= v) {
          break;
        }
        values[i] = values[parent];
        i = parent;
      }
      values[i] = v;
    }

    long pop() {
      long top = values[0];
      long last = values[--size];
      int i = 0;
      while (true) {
        int child = 2 * i + 1;
        if (child >= size) {
          break;
        }
        if (child + 1 < size && values[child + 1] < values[child]) {
          child++;
        }
        if (values[child] >= last) {
          break;
        }
        values[i] = values[child];
        i = child;
      }
      if (size > 0) {
        values[i] = last;
      }
      return top;
    }
  }

  /** A growable int array, to avoid boxing ranks. */
  private static final class IntList {
    int[] values = new int[64];
    int size;

    void add(int v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }
  }
}
