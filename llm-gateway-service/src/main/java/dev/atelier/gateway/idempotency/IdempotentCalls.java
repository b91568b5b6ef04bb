package dev.atelier.gateway.idempotency;

import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.gateway.messaging.CallMark;
import dev.atelier.gateway.messaging.HeldKeys;
import dev.atelier.gateway.messaging.LeftoverKeys;
import dev.atelier.kit.db.Plans;
import dev.atelier.kit.timers.Timers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * Calls made with an {@code Idempotency-Key} (table {@code idempotent_call}): the first call with a
 * key claims it and, when it answers, leaves its answer; a repeat with the same key and the same
 * request body gets that answer back without a provider being called or paid again. Keys belong to
 * the team that made the call.
 *
 * <p>What a repeat finds:
 *
 * <ul>
 *   <li>an answer: {@link Replay};
 *   <li>the call still running (no answer yet, its claim renewed less than the takeover time ago):
 *       {@link InUse}, answered 409 with {@code Retry-After};
 *   <li>a call with another body under the key: {@link KeyReused}, answered 422 (a client bug: the
 *       key names a different call);
 *   <li>nothing, a failed call (its claim is deleted when it fails), or a claim not renewed for the
 *       takeover time (its replica died mid-call): {@link Claimed}, and the call is made.
 * </ul>
 *
 * <p>A replica renews the claims of the calls it is making every sixth of the takeover time ({@link
 * #renewRunning}), so a live call keeps its key however long it runs, up to the retention time. It
 * also marks them in its record journal directory ({@link HeldKeys}), so a gateway restarted on
 * that directory deletes the dead one's unanswered claims as it starts ({@link #onLeftoverKeys}):
 * their repeats need not wait for the takeover time.
 *
 * <p>Blocking (database): never on an event-loop thread. Each statement is its own transaction on
 * an unlogged table: no WAL flush is waited for.
 */
@ApplicationScoped
public class IdempotentCalls {

  private static final Logger LOG = Logger.getLogger(IdempotentCalls.class);

  /** The shortest takeover time taken: claims are renewed every sixth of it. */
  static final Duration MIN_TAKEOVER = Duration.ofSeconds(3);

  /** The longest key taken, as Stripe's API does. */
  public static final int MAX_KEY_LENGTH = 255;

  private final DataSource dataSource;
  private final HeldKeys heldKeys;
  private final GatewayConfig.Idempotency config;
  private final Counter replayed;
  private final Counter inUse;
  private final Counter keyReused;
  private final Counter stored;
  private final Counter tooLarge;
  private final Set<Claimed> running = ConcurrentHashMap.newKeySet();
  private ScheduledExecutorService housekeeper;
  private ScheduledExecutorService renewer;
  private volatile boolean stopped;

  IdempotentCalls(
      DataSource dataSource, GatewayConfig config, MeterRegistry registry, HeldKeys heldKeys) {
    this.dataSource = dataSource;
    this.heldKeys = heldKeys;
    this.config = config.idempotency();
    String name = "atelier.llm.idempotent.repeats";
    String help = "Requests with an Idempotency-Key already used, by what they were answered";
    this.replayed =
        Counter.builder(name).description(help).tag("outcome", "replayed").register(registry);
    this.inUse =
        Counter.builder(name).description(help).tag("outcome", "in_use").register(registry);
    this.keyReused =
        Counter.builder(name).description(help).tag("outcome", "key_reused").register(registry);
    this.stored =
        Counter.builder("atelier.llm.idempotent.answers.stored")
            .description("Answers kept for repeats of their call (Idempotency-Key)")
            .register(registry);
    this.tooLarge =
        Counter.builder("atelier.llm.idempotent.answers.too.large")
            .description(
                "Answers not kept for repeats because they exceed"
                    + " GATEWAY_IDEMPOTENCY_MAX_ANSWER_BYTES; a repeat is a new call")
            .register(registry);
  }

  void onStart(@Observes StartupEvent event) {
    if (config.takeover().compareTo(MIN_TAKEOVER) < 0) {
      throw new IllegalStateException(
          "GATEWAY_IDEMPOTENCY_TAKEOVER must be at least "
              + MIN_TAKEOVER.toSeconds()
              + " s (claims are renewed every sixth of it); it is "
              + config.takeover());
    }
    long every = Math.max(1_000, Math.min(60_000, config.retention().toMillis() / 4));
    housekeeper =
        Timers.every(
            "idempotent-call-housekeeper", Duration.ofMillis(every), () -> deleteExpired());
    renewer =
        Timers.every(
            "idempotent-call-renewal", config.takeover().dividedBy(6), () -> renewRunning());
  }

  void onStop(@Observes ShutdownEvent event) {
    stopped = true;
    if (housekeeper != null) {
      housekeeper.shutdownNow();
    }
    if (renewer != null) {
      renewer.shutdownNow();
    }
  }

  /**
   * The key of an {@code Idempotency-Key} header: {@code null} when absent.
   *
   * @throws IllegalArgumentException when it is empty, longer than {@value #MAX_KEY_LENGTH}
   *     characters, or holds anything but printable ASCII
   */
  public static String key(String header) {
    if (header == null) {
      return null;
    }
    if (header.isEmpty() || header.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException(
          "Idempotency-Key must be 1 to " + MAX_KEY_LENGTH + " characters long");
    }
    for (int i = 0; i < header.length(); i++) {
      char c = header.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException(
            "Idempotency-Key may hold printable ASCII characters only, without spaces");
      }
    }
    return header;
  }

  /** What a call with a key found. */
  public sealed interface Begun permits Claimed, Replay, InUse, KeyReused {}

  /**
   * The key is this call's: make it, then {@link #answered} or {@link #failed} (whichever first;
   * the other is then a no-op). Until then this replica renews the claim; a claim that neither
   * answers nor fails stops being renewed after the retention time and is then taken over.
   */
  public final class Claimed implements Begun {
    private final String team;
    private final String key;
    private final UUID claimId = UUID.randomUUID();
    private final long claimedAt = System.nanoTime();
    private final AtomicBoolean settled = new AtomicBoolean();
    // Marked before the claim is written: a kill at any point leaves it to be let go at restart.
    private final CallMark held;

    private Claimed(String team, String key) {
      this.team = team;
      this.key = key;
      this.held = heldKeys.hold(claimId, heldMark(team, key, claimId));
    }

    /** Keeps the answer of call {@code callId} for repeats. Blocking. */
    public void answered(byte[] answer, UUID callId) {
      if (!settled.compareAndSet(false, true)) {
        return;
      }
      running.remove(this);
      try {
        if (answer.length > config.maxAnswerBytes()) {
          tooLarge.increment();
          forget(this);
        } else {
          keep(answer, callId);
        }
      } finally {
        // Settled: a restart must not free the key now (an answer kept, or a new call's claim).
        held.clear();
      }
    }

    private void keep(byte[] answer, UUID callId) {
      try (Connection c = dataSource.getConnection();
          PreparedStatement ps =
              Plans.planEachExecution(
                  c.prepareStatement(
                      "update idempotent_call set answer = ?, call_id = ?"
                          + " where team = ? and idem_key = ? and claim_id = ?"))) {
        ps.setBytes(1, answer);
        ps.setObject(2, callId);
        ps.setString(3, team);
        ps.setString(4, key);
        ps.setObject(5, claimId);
        if (ps.executeUpdate() == 1) {
          stored.increment();
        }
      } catch (SQLException e) {
        // The claim stays and is taken over after the takeover time; until then repeats get 409.
        LOG.warnf(
            "could not keep the answer of an idempotent call of team %s: %s", team, e.getMessage());
      }
    }

    /** The call failed or was never made: a repeat makes it. Blocking. */
    public void failed() {
      if (settled.compareAndSet(false, true)) {
        running.remove(this);
        try {
          forget(this);
        } finally {
          held.clear();
        }
      }
    }
  }

  /** An earlier call's answer, and its call id (null when not known). */
  public record Replay(byte[] answer, UUID callId) implements Begun {}

  /** The key's call is running. */
  public record InUse(Duration retryAfter) implements Begun {}

  /** The key was used for a call with a different body. */
  public record KeyReused() implements Begun {}

  /** SHA-256 of a request body. */
  public static byte[] sha256(byte[] body) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(body);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Claims {@code key} for {@code team}'s call with this body, or finds what an earlier call with
   * it left. Blocking.
   */
  public Begun begin(String team, String key, byte[] requestSha256) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      // A claim deleted or taken over between two statements: look again (bounded: each round
      // follows another call's progress).
      for (int round = 0; round < 5; round++) {
        Claimed claim = new Claimed(team, key);
        Begun found = null;
        try {
          found = claimOrFind(c, claim, requestSha256);
        } finally {
          if (found != claim) {
            claim.held.clear();
          }
        }
        if (found != null) {
          return found;
        }
      }
      inUse.increment();
      return new InUse(Duration.ofSeconds(1));
    }
  }

  /**
   * Claims the key for {@code claim}, or finds what holds it; null when it was let go between two
   * statements (look again).
   */
  private Begun claimOrFind(Connection c, Claimed claim, byte[] requestSha256) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into idempotent_call (team, idem_key, request_sha256, claim_id, started_at)"
                + " values (?, ?, ?, ?, clock_timestamp()) on conflict do nothing")) {
      ps.setString(1, claim.team);
      ps.setString(2, claim.key);
      ps.setBytes(3, requestSha256);
      ps.setObject(4, claim.claimId);
      if (ps.executeUpdate() == 1) {
        return running(claim);
      }
    }
    try (PreparedStatement ps =
        Plans.planEachExecution(
            c.prepareStatement(
                "select request_sha256, claim_id, call_id, answer, clock_timestamp()"
                    + " - coalesce(renewed_at, started_at) > ? * interval '1 millisecond'"
                    + " from idempotent_call where team = ? and idem_key = ?"))) {
      ps.setLong(1, config.takeover().toMillis());
      ps.setString(2, claim.team);
      ps.setString(3, claim.key);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null; // failed and forgotten meanwhile
        }
        if (!Arrays.equals(rs.getBytes(1), requestSha256)) {
          keyReused.increment();
          return new KeyReused();
        }
        byte[] answer = rs.getBytes(4);
        if (answer != null) {
          replayed.increment();
          return new Replay(answer, rs.getObject(3, UUID.class));
        }
        if (!rs.getBoolean(5)) {
          inUse.increment();
          return new InUse(Duration.ofSeconds(1));
        }
        if (takeOver(c, claim, rs.getObject(2, UUID.class), requestSha256)) {
          LOG.infof(
              "taking over the idempotent call of team %s whose claim was not renewed for %s"
                  + " (its replica died mid-call, or could not keep its answer)",
              claim.team, config.takeover());
          return running(claim);
        }
        return null; // renewed or taken over meanwhile
      }
    }
  }

  private boolean takeOver(Connection c, Claimed claim, UUID stale, byte[] requestSha256)
      throws SQLException {
    try (PreparedStatement ps =
        Plans.planEachExecution(
            c.prepareStatement(
                "update idempotent_call set claim_id = ?, request_sha256 = ?,"
                    + " started_at = clock_timestamp(), renewed_at = null"
                    + " where team = ? and idem_key = ? and claim_id = ? and answer is null"
                    // Still stale: a renewal committed since the look-up keeps the claim its own.
                    + " and coalesce(renewed_at, started_at)"
                    + " < clock_timestamp() - ? * interval '1 millisecond'"))) {
      ps.setObject(1, claim.claimId);
      ps.setBytes(2, requestSha256);
      ps.setString(3, claim.team);
      ps.setString(4, claim.key);
      ps.setObject(5, stale);
      ps.setLong(6, config.takeover().toMillis());
      return ps.executeUpdate() == 1;
    }
  }

  private Claimed running(Claimed claim) {
    running.add(claim);
    return claim;
  }

  /**
   * Renews the claims of the calls this replica is making, so that no repeat takes them over; a
   * claim held longer than the retention time (a call that never settled) is no longer renewed, nor
   * one another replica took over. Blocking; returns how many were renewed.
   */
  public int renewRunning() {
    List<Claimed> claims = new ArrayList<>(running.size());
    long now = System.nanoTime();
    for (Claimed claim : running) {
      if (now - claim.claimedAt > config.retention().toNanos()) {
        running.remove(claim);
        claim.held.clear();
        LOG.warnf(
            "an idempotent call of team %s has run longer than %s; its key is no longer held",
            claim.team, config.retention());
      } else {
        claims.add(claim);
      }
    }
    if (claims.isEmpty()) {
      return 0;
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update idempotent_call set renewed_at = clock_timestamp()"
                    + " where team = ? and idem_key = ? and claim_id = ? and answer is null")) {
      for (Claimed claim : claims) {
        ps.setString(1, claim.team);
        ps.setString(2, claim.key);
        ps.setObject(3, claim.claimId);
        ps.addBatch();
      }
      int[] counts = ps.executeBatch();
      int renewed = 0;
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] == 0) {
          // Answered or failed meanwhile, or taken over: either way no longer this replica's.
          running.remove(claims.get(i));
          claims.get(i).held.clear();
        } else {
          renewed++;
        }
      }
      return renewed;
    } catch (SQLException e) {
      LOG.warnf(
          "could not renew the claims of %d running idempotent calls (taken over if this lasts"
              + " %s): %s",
          claims.size(), config.takeover(), e.getMessage());
      return 0;
    }
  }

  /** What {@link HeldKeys} keeps of a claim: team and key (length-prefixed) and the claim id. */
  public static byte[] heldMark(String team, String key, UUID claimId) {
    byte[] t = team.getBytes(StandardCharsets.UTF_8);
    byte[] k = key.getBytes(StandardCharsets.US_ASCII);
    return ByteBuffer.allocate(4 + t.length + 4 + k.length + 16)
        .putInt(t.length)
        .put(t)
        .putInt(k.length)
        .put(k)
        .putLong(claimId.getMostSignificantBits())
        .putLong(claimId.getLeastSignificantBits())
        .array();
  }

  /**
   * Deletes the unanswered claims an earlier process on this gateway's journal directory held when
   * it died: a repeat of one of its calls is made at once instead of after the takeover time. A
   * database that cannot be reached is tried again, with backoff, until the takeover time has
   * passed, when the claims would be taken over anyway.
   */
  void onLeftoverKeys(@Observes LeftoverKeys leftover) {
    releaseLeftovers(leftover.marks(), System.nanoTime() + config.takeover().toNanos(), 0);
  }

  private void releaseLeftovers(List<byte[]> marks, long until, int retries) {
    if (stopped) {
      return;
    }
    try {
      int released = release(marks);
      LOG.infof(
          "%d Idempotency-Key(s) held by an earlier process of this gateway when it stopped, %d of"
              + " them by calls that never answered: let go, their repeats are made again",
          marks.size(), released);
    } catch (SQLException | RuntimeException e) {
      long delayMs =
          Math.min(LEFTOVER_RETRY_MAX_MS, LEFTOVER_RETRY_FIRST_MS << Math.min(retries, 5));
      if (System.nanoTime() + delayMs * 1_000_000 < until) {
        LOG.warnf(
            "could not let go of the %d Idempotency-Key(s) an earlier process of this gateway"
                + " held; trying again in %d ms: %s",
            marks.size(), delayMs, e.toString());
        CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS)
            .execute(() -> releaseLeftovers(marks, until, retries + 1));
      } else {
        LOG.warnf(
            "could not let go of the %d Idempotency-Key(s) an earlier process of this gateway held"
                + " (taken over once unrenewed for %s): %s",
            marks.size(), config.takeover(), e.toString());
      }
    }
  }

  private static final long LEFTOVER_RETRY_FIRST_MS = 250;
  private static final long LEFTOVER_RETRY_MAX_MS = 5_000;

  /**
   * Deletes the unanswered claims {@link #heldMark marked} in {@code marks}; how many. Blocking.
   */
  int release(List<byte[]> marks) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "delete from idempotent_call"
                    + " where team = ? and idem_key = ? and claim_id = ? and answer is null")) {
      for (byte[] mark : marks) {
        ByteBuffer b = ByteBuffer.wrap(mark);
        try {
          String team = lengthPrefixed(b, StandardCharsets.UTF_8);
          String key = lengthPrefixed(b, StandardCharsets.US_ASCII);
          if (b.remaining() != 16) {
            throw new IllegalArgumentException(b.remaining() + " bytes where a claim id's 16 are");
          }
          ps.setString(1, team);
          ps.setString(2, key);
          ps.setObject(3, new UUID(b.getLong(), b.getLong()));
          ps.addBatch();
        } catch (RuntimeException e) { // not a mark of this version: its claim is taken over
          LOG.warnf("a held-key mark cannot be read (%s); skipped", e.toString());
        }
      }
      int released = 0;
      for (int n : ps.executeBatch()) {
        released += Math.max(n, 0);
      }
      return released;
    }
  }

  /** A string written as its length and bytes; the length checked before anything is allocated. */
  private static String lengthPrefixed(ByteBuffer b, java.nio.charset.Charset charset) {
    int length = b.getInt();
    if (length < 0 || length > b.remaining()) {
      throw new IllegalArgumentException("a length of " + length + " in a mark of " + b.capacity());
    }
    byte[] bytes = new byte[length];
    b.get(bytes);
    return new String(bytes, charset);
  }

  private void forget(Claimed claim) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            Plans.planEachExecution(
                c.prepareStatement(
                    "delete from idempotent_call"
                        + " where team = ? and idem_key = ? and claim_id = ? and answer is null"))) {
      ps.setString(1, claim.team);
      ps.setString(2, claim.key);
      ps.setObject(3, claim.claimId);
      ps.executeUpdate();
    } catch (SQLException e) {
      LOG.warnf(
          "could not release the Idempotency-Key of a failed call of team %s (repeats get 409"
              + " until it is taken over): %s",
          claim.team, e.getMessage());
    }
  }

  /**
   * Deletes calls claimed longer ago than the retention time (or the takeover time, if longer),
   * except those still running (their claim renewed within the takeover time); returns how many.
   */
  public int deleteExpired() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            Plans.planEachExecution(
                c.prepareStatement(
                    "delete from idempotent_call"
                        + " where started_at < clock_timestamp() - ? * interval '1 millisecond'"
                        + " and (answer is not null or coalesce(renewed_at, started_at)"
                        + " < clock_timestamp() - ? * interval '1 millisecond')"))) {
      ps.setLong(1, Math.max(config.retention().toMillis(), config.takeover().toMillis()));
      ps.setLong(2, config.takeover().toMillis());
      return ps.executeUpdate();
    } catch (SQLException | RuntimeException e) {
      LOG.warnf("could not delete expired idempotent calls: %s", e.getMessage());
      return 0;
    }
  }
}
