package dev.atelier.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every service with a database keeps row values out of its driver's exception messages (which its
 * consumers and mappers log): {@code logServerErrorDetail=false}. orchestrator-service's
 * DatabaseErrorsTest shows what the setting does; this checks that no service goes without it.
 */
class DatasourceConfigTest {

  private static final Path ROOT = ServiceProcess.root().toAbsolutePath().normalize();

  @Test
  void everyServiceWithADatabaseQuotesNoRowValuesInErrors() throws IOException {
    List<Path> withDatabase;
    try (Stream<Path> modules = Files.list(ROOT)) {
      withDatabase =
          modules
              .map(m -> m.resolve("src/main/resources/application.properties"))
              .filter(Files::isRegularFile)
              .filter(p -> load(p).getProperty("quarkus.datasource.db-kind") != null)
              .sorted()
              .toList();
    }

    assertThat(withDatabase)
        .extracting(p -> ROOT.relativize(p).getName(0).toString())
        .containsExactly(
            "context-service", "llm-gateway-service", "orchestrator-service", "tracking-service");
    for (Path file : withDatabase) {
      assertThat(
              load(file)
                  .getProperty(
                      "quarkus.datasource.jdbc.additional-jdbc-properties.logServerErrorDetail"))
          .as("logServerErrorDetail in %s", ROOT.relativize(file))
          .isEqualTo("false");
    }
  }

  private static Properties load(Path file) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(file)) {
      properties.load(in);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file, e);
    }
    return properties;
  }
}
