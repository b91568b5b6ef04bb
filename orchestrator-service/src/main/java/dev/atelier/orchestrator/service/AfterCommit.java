package dev.atelier.orchestrator.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Runs actions once the current transaction has committed — metrics and the relay's wake-up must
 * not count or announce work that was rolled back. Without a transaction the action runs at once.
 */
@ApplicationScoped
public class AfterCommit {

  private static final Logger LOG = Logger.getLogger(AfterCommit.class);

  private final TransactionSynchronizationRegistry registry;

  AfterCommit(TransactionSynchronizationRegistry registry) {
    this.registry = registry;
  }

  public void run(Runnable action) {
    if (registry.getTransactionStatus() != Status.STATUS_ACTIVE) {
      action.run();
      return;
    }
    registry.registerInterposedSynchronization(
        new Synchronization() {
          @Override
          public void beforeCompletion() {}

          @Override
          public void afterCompletion(int status) {
            if (status == Status.STATUS_COMMITTED) {
              try {
                action.run();
              } catch (RuntimeException e) {
                LOG.warnf(e, "after-commit action failed");
              }
            }
          }
        });
  }

  /** Like {@link #run} but registers the action at most once per transaction under {@code key}. */
  public void runOnce(Object key, Runnable action) {
    if (registry.getTransactionStatus() == Status.STATUS_ACTIVE) {
      if (registry.getResource(key) != null) {
        return;
      }
      registry.putResource(key, Boolean.TRUE);
    }
    run(action);
  }

  /**
   * A list that lives as long as the current transaction: whatever the transaction adds to it under
   * {@code key} is passed to {@code onCommit} once, after it commits, and dropped if it rolls back.
   * Null without a transaction (the caller's work is then already committed).
   */
  @SuppressWarnings("unchecked")
  public <T> List<T> collect(Object key, Consumer<List<T>> onCommit) {
    if (registry.getTransactionStatus() != Status.STATUS_ACTIVE) {
      return null;
    }
    List<T> items = (List<T>) registry.getResource(key);
    if (items == null) {
      List<T> created = new ArrayList<>();
      registry.putResource(key, created);
      run(() -> onCommit.accept(created));
      items = created;
    }
    return items;
  }
}
