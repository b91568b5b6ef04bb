package dev.atelier.worker.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.exception.HttpException;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Which gateway failures are waited out or asked again, and which fail the step's attempt. */
class GatewayChatTest {

  private final GatewayChat chat = new GatewayChat(null, new ObjectMapper());

  private static <T> T keyed(Supplier<T> call) {
    try (Scope ignored = LlmCallKey.storeIn(Context.current(), "step:1:abc:1").makeCurrent()) {
      return call.get();
    }
  }

  @Test
  void aConnectionLostUnderAKeyedCallIsInDoubtAndAskedAgainButNotAnUnkeyedOne() {
    RuntimeException reset = new RuntimeException(new SocketException("Connection reset"));

    assertThat(keyed(() -> chat.classify(reset))).isInstanceOf(CallInDoubtException.class);
    GatewayException unkeyed = chat.classify(reset);
    assertThat(unkeyed).isNotInstanceOf(CallInDoubtException.class);
    assertThat(unkeyed.retryable()).isTrue();
  }

  @Test
  void aTimedOutKeyedCallIsInDoubtAndAskedAgainButNotAnUnkeyedOne() {
    // Timeouts as the JDK, Vert.x and langchain4j report them.
    RuntimeException[] timeouts = {
      new RuntimeException(new SocketTimeoutException("Read timed out")),
      new RuntimeException(new java.util.concurrent.TimeoutException("120000ms exceeded")),
      new dev.langchain4j.exception.TimeoutException(new SocketTimeoutException("timed out"))
    };
    for (RuntimeException timeout : timeouts) {
      // The gateway goes on with a call whose caller left: asking another model would pay twice.
      assertThat(keyed(() -> chat.classify(timeout)))
          .as(timeout.toString())
          .isInstanceOf(CallInDoubtException.class);
      GatewayException unkeyed = chat.classify(timeout);
      assertThat(unkeyed).isNotInstanceOf(CallInDoubtException.class);
      assertThat(unkeyed.retryable()).isTrue();
    }
  }

  @Test
  void aProxysBareTimeoutOrBadGatewayIsInDoubtButTheGatewaysOwnErrorIsNot() {
    for (int status : new int[] {408, 502, 504}) {
      RuntimeException bare = new HttpException(status, "");
      assertThat(keyed(() -> chat.classify(bare)))
          .as("a proxy's bare " + status)
          .isInstanceOf(CallInDoubtException.class);
      assertThat(chat.classify(bare)).isNotInstanceOf(CallInDoubtException.class);
    }
    // The gateway's own 504 (its provider timed out) ends its call: another model may be tried.
    RuntimeException own =
        new HttpException(
            504,
            "{\"error\":{\"message\":\"provider timed out\",\"type\":\"server_error\","
                + "\"param\":null,\"code\":\"provider_timeout\"}}");
    GatewayException classified = keyed(() -> chat.classify(own));
    assertThat(classified).isNotInstanceOf(CallInDoubtException.class);
    assertThat(classified.retryable()).isTrue();
  }

  @Test
  void anAnswerThatCannotBeReadOrABugIsNotAskedAgainUnderItsKey() {
    RuntimeException unreadable =
        new RuntimeException(new JsonParseException(null, "Unexpected character"));
    RuntimeException bug = new IllegalArgumentException("messages must not be empty");

    for (RuntimeException e : new RuntimeException[] {unreadable, bug}) {
      GatewayException classified = keyed(() -> chat.classify(e));
      assertThat(classified).as(e.toString()).isNotInstanceOf(CallInDoubtException.class);
      assertThat(classified).isNotInstanceOf(GatewayUnreachableException.class);
    }
  }

  @Test
  void aKeyTheGatewayCannotLookUpIsWaitedForAsAGatewayNotTakingCalls() {
    RuntimeException unavailable =
        new HttpException(
            503,
            "{\"error\":{\"message\":\"The gateway cannot look up the Idempotency-Key now\","
                + "\"type\":\"server_error\",\"param\":null,\"code\":\"idempotency_unavailable\"}}");
    RuntimeException inUse =
        new HttpException(
            409,
            "{\"error\":{\"message\":\"still running\",\"type\":\"invalid_request_error\","
                + "\"param\":null,\"code\":\"idempotency_key_in_use\"}}");

    assertThat(keyed(() -> chat.classify(unavailable)))
        .isInstanceOf(GatewayUnreachableException.class);
    assertThat(keyed(() -> chat.classify(inUse)))
        .isInstanceOf(CallStillRunningException.class)
        .isInstanceOf(CallInDoubtException.class);
  }
}
