package dev.atelier.orchestrator;

import static dev.atelier.orchestrator.Api.awaitStatus;
import static dev.atelier.orchestrator.Api.submit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A progress stream of a workflow that goes on (here: waiting for an approval) ends after its
 * maximum duration, and a reconnect with the last id resumes it.
 */
@QuarkusTest
@TestProfile(EventStreamDurationTest.ShortStreams.class)
class EventStreamDurationTest {

  /** Streams of at most two seconds. */
  public static class ShortStreams implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("orchestrator.events.max-duration", "2s");
    }
  }

  @Test
  void aStreamOfAWaitingWorkflowEndsAfterItsMaximumDurationAndResumes() throws Exception {
    UUID id = submit("test-gate", "# Gate\nWaits for a person.");
    awaitStatus(id, "waiting_approval");
    long last;
    try (SseClient first = new SseClient(id, null)) {
      await().atMost(Duration.ofSeconds(10)).until(first::ended);
      assertThat(first.events).extracting(SseClient.Event::name).contains("step.waiting_approval");
      last = first.events.get(first.events.size() - 1).id();
    }
    try (SseClient resumed = new SseClient(id, last)) {
      await().atMost(Duration.ofSeconds(10)).until(resumed::ended);
      assertThat(resumed.events).isEmpty();
    }
    assertThat(Api.workflow(id).getString("status")).isEqualTo("waiting_approval");
  }
}
