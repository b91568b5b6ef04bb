package dev.atelier.gateway.config;

import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;

/** The clock budget periods are computed from; tests replace it to cross midnight at will. */
public class Clocks {

  @Produces
  @Singleton
  @DefaultBean
  Clock utc() {
    return Clock.systemUTC();
  }
}
