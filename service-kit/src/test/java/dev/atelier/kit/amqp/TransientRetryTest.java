package dev.atelier.kit.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ConnectException;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TransientRetryTest {

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final TransientRetry retry =
      new TransientRetry(Duration.ofMillis(1), Duration.ofMillis(4), meters);

  @Test
  void takesUnreachableRestartingOrBusyDatabasesAndDeadlocksForTransient() {
    assertThat(TransientRetry.isTransient(new SQLException("I/O error", "08006"))).isTrue();
    assertThat(TransientRetry.isTransient(new SQLException("refused", "08001"))).isTrue();
    assertThat(TransientRetry.isTransient(new SQLException("admin shutdown", "57P01"))).isTrue();
    assertThat(TransientRetry.isTransient(new SQLException("starting up", "57P03"))).isTrue();
    assertThat(TransientRetry.isTransient(new SQLException("too many clients", "53300"))).isTrue();
    assertThat(TransientRetry.isTransient(new SQLException("deadlock", "40P01"))).isTrue();
    assertThat(TransientRetry.isTransient(new SQLException("serialization", "40001"))).isTrue();
    assertThat(TransientRetry.isTransient(new SQLTransientConnectionException("gone"))).isTrue();
    assertThat(
            TransientRetry.isTransient(
                new SQLException("Acquisition timeout", new TimeoutException())))
        .isTrue();
    // As Agroal 3 throws it when the pool stays exhausted: no SQLState, no cause.
    assertThat(TransientRetry.isTransient(new SQLException("Sorry, acquisition timeout!")))
        .isTrue();
    // Wrapped, as repositories and transactions wrap them.
    assertThat(
            TransientRetry.isTransient(
                new IllegalStateException(
                    "cannot update", new RuntimeException(new ConnectException("refused")))))
        .isTrue();
    BatchUpdateException batch = new BatchUpdateException("Batch entry 0 aborted", new int[0]);
    batch.setNextException(new SQLException("terminating connection", "57P01"));
    assertThat(TransientRetry.isTransient(batch)).isTrue();
  }

  @Test
  void takesBadDataBrokenConstraintsAndBugsForLasting() {
    assertThat(TransientRetry.isTransient(new SQLException("duplicate key", "23505"))).isFalse();
    assertThat(TransientRetry.isTransient(new SQLException("invalid byte 0x00", "22021")))
        .isFalse();
    assertThat(TransientRetry.isTransient(new SQLException("database dropped", "57P04"))).isFalse();
    assertThat(TransientRetry.isTransient(new SQLException("no state"))).isFalse();
    assertThat(TransientRetry.isTransient(new IllegalStateException("a bug"))).isFalse();
    assertThat(TransientRetry.isTransient(new InterruptedException())).isFalse();
    RuntimeException cyclic = new RuntimeException("a");
    RuntimeException other = new RuntimeException("b", cyclic);
    cyclic.initCause(other);
    assertThat(TransientRetry.isTransient(cyclic)).isFalse();
  }

  @Test
  void runsATransientFailureAgainUntilItSucceeds() throws Exception {
    AtomicInteger calls = new AtomicInteger();

    retry.run(
        "q",
        "a test message",
        () -> {
          if (calls.incrementAndGet() < 20) {
            throw new SQLException("refused", "08001");
          }
        },
        () -> false);

    assertThat(calls).hasValue(20);
  }

  @Test
  void rethrowsALastingFailureAtOnce() {
    AtomicInteger calls = new AtomicInteger();

    assertThatThrownBy(
            () ->
                retry.run(
                    "q",
                    "a test message",
                    () -> {
                      calls.incrementAndGet();
                      throw new SQLException("duplicate key", "23505");
                    },
                    () -> false))
        .hasMessage("duplicate key");
    assertThat(calls).hasValue(1);
  }

  @Test
  void givesUpWithTheTransientFailureWhenTheCallerStops() {
    AtomicInteger calls = new AtomicInteger();

    assertThatThrownBy(
            () ->
                retry.run(
                    "q",
                    "a test message",
                    () -> {
                      calls.incrementAndGet();
                      throw new SQLException("refused", "08001");
                    },
                    () -> calls.get() >= 3))
        .hasMessage("refused");
    assertThat(calls).hasValue(3);
    assertThat(meters.get("atelier.messaging.handlers.held").tag("queue", "q").gauge().value())
        .isZero();
  }

  @Test
  void refusesADelayThatCannotGrow() {
    assertThatThrownBy(() -> new TransientRetry(Duration.ZERO, Duration.ofSeconds(1), meters))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> new TransientRetry(Duration.ofSeconds(2), Duration.ofSeconds(1), meters))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
