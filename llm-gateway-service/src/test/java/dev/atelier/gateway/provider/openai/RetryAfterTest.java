package dev.atelier.gateway.provider.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class RetryAfterTest {

  @Test
  void secondsAndHttpDatesAreUnderstood() {
    assertThat(UpstreamErrors.parseRetryAfter("2")).isEqualTo(Duration.ofSeconds(2));
    String inTenSeconds =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(10));
    assertThat(UpstreamErrors.parseRetryAfter(inTenSeconds))
        .isBetween(Duration.ofSeconds(8), Duration.ofSeconds(10));
    assertThat(UpstreamErrors.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"))
        .isEqualTo(Duration.ZERO);
    assertThat(UpstreamErrors.parseRetryAfter("soon")).isNull();
    assertThat(UpstreamErrors.parseRetryAfter(null)).isNull();
  }

  @Test
  void aCooldownIsAtMostAnHour() {
    assertThat(UpstreamErrors.parseRetryAfter("3600")).isEqualTo(Duration.ofHours(1));
    assertThat(UpstreamErrors.parseRetryAfter("3000000000")).isEqualTo(Duration.ofHours(1));
    // Past what a long (and an Instant) holds.
    assertThat(UpstreamErrors.parseRetryAfter("9".repeat(40))).isEqualTo(Duration.ofHours(1));
    assertThat(UpstreamErrors.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT"))
        .isEqualTo(Duration.ofHours(1));
  }
}
