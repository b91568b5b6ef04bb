package dev.atelier.orchestrator.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
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
}
