package dev.atelier.context.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.context.model.ArtifactSummary;
import dev.atelier.context.model.ArtifactVersion;
import dev.atelier.context.repository.ArtifactRepository;
import dev.atelier.contracts.Utf16;
import dev.atelier.kit.problem.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The latest artifacts of a workflow as a zip laid out like a project: the files that the
 * developer, tester and technical writer produced at their paths ({@code src/}, {@code tests/},
 * {@code docs/}, README at the root), every Markdown artifact under {@code docs/atelier/} and the
 * raw JSON artifacts under {@code .atelier/}.
 *
 * <p>Paths inside artifacts come from a model and are untrusted: a path that is absolute, climbs
 * with {@code ..}, holds a backslash or control character or is too long is left out of the zip
 * (and listed in {@code .atelier/bundle-skipped.txt}), so no entry can land outside the folder the
 * zip is extracted into. Files past {@link #MAX_ENTRIES} are left out the same way.
 */
@ApplicationScoped
public class ProjectBundle {

  static final int MAX_PATH_LENGTH = 240;
  static final String SKIPPED = ".atelier/bundle-skipped.txt";

  /** Where a bare file path of each known files-bearing artifact goes. */
  private static final Map<String, String> DEFAULT_DIRS =
      Map.of("code", "src", "test-plan", "tests", "docs", "docs");

  /** First segments that already place a file in a project: such paths are kept as they are. */
  private static final Set<String> TOP_LEVEL_DIRS =
      Set.of(
          "src",
          "test",
          "tests",
          "docs",
          "doc",
          "lib",
          "app",
          "cmd",
          "pkg",
          "internal",
          "scripts",
          "config",
          "resources",
          "public",
          "static",
          "bin");

  private static final Pattern DRIVE = Pattern.compile("^[A-Za-z]:.*");

  /** Artifacts listed at a time while writing: memory holds a page of summaries, not all. */
  private static final int PAGE = 500;

  private final ArtifactRepository repository;
  private final ObjectMapper mapper;

  ProjectBundle(ArtifactRepository repository, ObjectMapper mapper) {
    this.repository = repository;
    this.mapper = mapper;
  }

  /**
   * Checks that the workflow has artifacts and returns the writer of its zip. Artifacts are read
   * one at a time while writing, so memory holds one artifact and the zip's directory (at most
   * {@link #MAX_ENTRIES} entries), never the zip.
   *
   * @throws ProblemException 404 when the workflow has no artifacts
   */
  public StreamingOutput bundle(UUID workflowId) {
    if (repository.listLatest(workflowId, null, 1).items().isEmpty()) {
      throw new ProblemException(
          404, "not-found", "Not found", "workflow " + workflowId + " has no artifacts");
    }
    return out -> write(workflowId, out);
  }

  private void write(UUID workflowId, OutputStream out) throws IOException {
    Entries entries = new Entries(new ZipOutputStream(out, StandardCharsets.UTF_8));
    ArtifactRepository.HeadPosition after = null;
    List<ArtifactSummary> page;
    do {
      ArtifactRepository.LatestPage latest = repository.listLatest(workflowId, after, PAGE);
      page = latest.items();
      if (!page.isEmpty()) {
        after = latest.positions().get(page.size() - 1);
      }
      writePage(workflowId, page, entries);
    } while (page.size() == PAGE);
    entries.finish();
  }

  private void writePage(UUID workflowId, List<ArtifactSummary> latest, Entries entries)
      throws IOException {
    for (ArtifactSummary summary : latest) {
      Optional<ArtifactVersion> found =
          repository.findVersion(workflowId, summary.name(), summary.version());
      if (found.isEmpty()) {
        continue; // versions are never deleted; nothing to do if that ever changes
      }
      ArtifactVersion v = found.get();
      switch (v.kind()) {
        case JSON -> {
          entries.add(
              ".atelier/" + v.name() + ".json",
              mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(v.content()));
          addFiles(v, entries);
        }
        case MARKDOWN ->
            entries.add(
                "docs/atelier/" + (v.name().endsWith(".md") ? v.name() : v.name() + ".md"),
                utf8(v.content().textValue()));
        case TEXT ->
            entries.add(
                ".atelier/" + (v.name().contains(".") ? v.name() : v.name() + ".txt"),
                utf8(v.content().textValue()));
      }
    }
  }

  /** The {@code files: [{path, content}]} of a JSON artifact, each at its project path. */
  private static void addFiles(ArtifactVersion v, Entries entries) throws IOException {
    JsonNode files = v.content().path("files");
    if (!files.isArray()) {
      return;
    }
    for (JsonNode file : files) {
      JsonNode path = file.path("path");
      JsonNode content = file.path("content");
      String label =
          v.ref() + " " + abbreviated(path.isTextual() ? path.textValue() : path.toString());
      if (!path.isTextual() || !content.isTextual()) {
        entries.skip(label, "path and content must be strings");
        continue;
      }
      Optional<String> reason = unsafe(path.textValue());
      if (reason.isPresent()) {
        entries.skip(label, reason.get());
        continue;
      }
      String target = place(v.name(), path.textValue());
      if (target.length() > MAX_PATH_LENGTH) {
        entries.skip(label, "longer than " + MAX_PATH_LENGTH + " characters");
        continue;
      }
      entries.add(target, utf8(content.textValue()), label);
    }
  }

  /** Why a relative path from an artifact may not become a zip entry, if it may not. */
  static Optional<String> unsafe(String path) {
    if (path.isEmpty()) {
      return Optional.of("empty path");
    }
    if (path.length() > MAX_PATH_LENGTH) {
      return Optional.of("longer than " + MAX_PATH_LENGTH + " characters");
    }
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '\\' || Character.isISOControl(c)) {
        return Optional.of("backslash or control character");
      }
    }
    if (path.startsWith("/") || DRIVE.matcher(path).matches()) {
      return Optional.of("absolute path");
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        return Optional.of("empty, . or .. segment");
      }
    }
    return Optional.empty();
  }

  /** The project path of a (safe) file path from the named artifact. */
  static String place(String artifactName, String path) {
    if (artifactName.equals("docs") && path.equalsIgnoreCase("README.md")) {
      return path;
    }
    String first = path.contains("/") ? path.substring(0, path.indexOf('/')) : "";
    String dir = DEFAULT_DIRS.getOrDefault(artifactName, artifactName);
    if (first.equals(dir) || TOP_LEVEL_DIRS.contains(first.toLowerCase(Locale.ROOT))) {
      return path;
    }
    return dir + "/" + path;
  }

  /** At most {@value #MAX_LABEL} characters of {@code text}, never half a surrogate pair. */
  static String abbreviated(String text) {
    if (text.length() <= MAX_LABEL) {
      return text;
    }
    return text.substring(0, Utf16.cutAt(text, MAX_LABEL))
        + "\u2026 ("
        + text.length()
        + " characters)";
  }

  private static byte[] utf8(String text) {
    return text == null ? new byte[0] : text.getBytes(StandardCharsets.UTF_8);
  }

  /** Left-out files the skip record names; the others are counted. */
  static final int MAX_SKIPPED_LISTED = 1_000;

  /** The longest path a skip record shows. */
  static final int MAX_LABEL = 200;

  /**
   * Entries a bundle holds at most: a zip keeps a few hundred bytes per entry in memory until it
   * ends (its central directory), and an artifact of 1 MiB can name 35,000 empty files, so without
   * a bound a few such artifacts would take the service's heap. A project of this many files is
   * better fetched artifact by artifact.
   */
  public static final int MAX_ENTRIES = 10_000;

  /** The zip being written: no duplicate entry names, and a record of what was left out. */
  private static final class Entries {
    private final ZipOutputStream zip;
    private final Set<String> names = new HashSet<>();
    private final List<String> skipped = new ArrayList<>();
    private long notListed;

    Entries(ZipOutputStream zip) {
      this.zip = zip;
    }

    void add(String name, byte[] bytes) throws IOException {
      add(name, bytes, name);
    }

    void add(String name, byte[] bytes, String label) throws IOException {
      if (name.equals(SKIPPED)) {
        skip(label, "the bundle keeps " + SKIPPED + " for its record of what was left out");
        return;
      }
      if (names.size() >= MAX_ENTRIES) {
        skip(label, "the bundle holds at most " + MAX_ENTRIES + " files");
        return;
      }
      // Two artifacts may name the same file; the earlier artifact keeps it.
      if (!names.add(name)) {
        skip(label, "duplicate of an earlier entry " + name);
        return;
      }
      zip.putNextEntry(new ZipEntry(name));
      zip.write(bytes);
      zip.closeEntry();
    }

    void skip(String label, String reason) {
      // An artifact can name a million files that are all skipped: the record lists the first.
      if (skipped.size() < MAX_SKIPPED_LISTED) {
        skipped.add(label.replaceAll("\\p{Cntrl}", "?") + ": " + reason);
      } else {
        notListed++;
      }
    }

    /** Ends the zip without closing the response stream, which the HTTP layer owns. */
    void finish() throws IOException {
      if (!skipped.isEmpty()) {
        zip.putNextEntry(new ZipEntry(SKIPPED));
        zip.write(utf8(String.join("\n", skipped) + "\n"));
        if (notListed > 0) {
          zip.write(utf8("... and " + notListed + " more left out\n"));
        }
        zip.closeEntry();
      }
      zip.finish();
      zip.flush();
    }
  }
}
